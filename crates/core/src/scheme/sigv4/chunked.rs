//! SigV4's chunked uploads (`x-amz-content-sha256:
//! STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, `Content-Encoding: aws-chunked`):
//! the body is a series of chunks, each signed, each signature chained to
//! the one before it, the first to the request's own (the *seed*), ending
//! with an empty chunk.
//!
//! ```text
//! 10000;chunk-signature=<64 hex>\r\n<65536 bytes>\r\n
//! 400;chunk-signature=<64 hex>\r\n<1024 bytes>\r\n
//! 0;chunk-signature=<64 hex>\r\n\r\n
//! ```
//!
//! Each chunk's string to sign: `AWS4-HMAC-SHA256-PAYLOAD`, `X-Amz-Date`,
//! the credential scope, the previous signature, the SHA-256 of nothing,
//! the SHA-256 of the chunk's data, joined by `\n`; its key is the
//! request's signing key.

use crate::Rejection;
use crate::crypto::{Algorithm, MacKey, TagEncoding, constant_time_eq, sha256};

/// `x-amz-content-sha256` of a chunk-signed body.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

/// The SHA-256 of nothing, in hex: every chunk's string to sign holds it.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn malformed(detail: &'static str) -> Rejection {
    Rejection::MalformedHeader {
        header: "content-encoding".into(),
        detail,
    }
}

/// How a chunked upload is framed and signed: as a signer must
/// ([`ChunkPlan::new`]), or with one deviation, as a verifier that gets
/// the chain wrong computes it (for testing verifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPlan {
    /// The data in chunks of this many bytes (the last may be shorter).
    pub chunk_size: usize,
    /// Each chunk signed after the one before it (the first after the
    /// seed); `false`: every chunk after the seed.
    pub chained: bool,
    /// Whether the final empty chunk ends the body.
    pub final_chunk: bool,
    /// The `x-amz-decoded-content-length` written (and signed), where it is
    /// not the data's length.
    pub decoded_length: Option<u64>,
}

impl ChunkPlan {
    /// Chunks of `chunk_size` bytes, signed and framed as the rules say.
    pub fn new(chunk_size: usize) -> ChunkPlan {
        ChunkPlan {
            chunk_size: chunk_size.max(1),
            chained: true,
            final_chunk: true,
            decoded_length: None,
        }
    }

    /// The data's chunks in order, with the final empty one where the plan
    /// has it.
    fn split<'d>(&self, data: &'d [u8]) -> impl Iterator<Item = &'d [u8]> + use<'d> {
        let last = self.final_chunk.then_some(&[][..]);
        data.chunks(self.chunk_size.max(1)).chain(last)
    }

    /// The length of the aws-chunked body of `len` bytes of data.
    pub fn encoded_len(&self, len: usize) -> usize {
        let size = self.chunk_size.max(1);
        let framing = |size: usize| format!("{size:x}").len() + ";chunk-signature=".len() + 64 + 4;
        let full = len / size;
        let rest = len % size;
        full * (size + framing(size))
            + if rest > 0 { rest + framing(rest) } else { 0 }
            + if self.final_chunk { framing(0) } else { 0 }
    }
}

/// The signature of one chunk of `data`, after the signature `previous`.
pub fn chunk_signature(
    key: &MacKey,
    amz_date: &str,
    scope: &str,
    previous: &str,
    data: &[u8],
) -> String {
    let data_hash = base16ct::lower::encode_string(&sha256(data));
    let string_to_sign = [
        "AWS4-HMAC-SHA256-PAYLOAD",
        amz_date,
        scope,
        previous,
        EMPTY_SHA256,
        &data_hash,
    ]
    .join("\n");
    TagEncoding::LowerHex.encode(
        key.sign(Algorithm::Sha256, string_to_sign.as_bytes())
            .as_bytes(),
    )
}

/// `data` as an aws-chunked body framed and signed as `plan` says, the
/// first chunk after `seed`.
pub fn encode(
    key: &MacKey,
    amz_date: &str,
    scope: &str,
    seed: &str,
    data: &[u8],
    plan: &ChunkPlan,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(plan.encoded_len(data.len()));
    let mut previous = seed.to_owned();
    for chunk in plan.split(data) {
        let signature = chunk_signature(key, amz_date, scope, &previous, chunk);
        out.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        if plan.chained {
            previous = signature;
        }
    }
    out
}

/// One chunk of an aws-chunked body, as framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'b> {
    /// Its data.
    pub data: &'b [u8],
    /// The signature its line carries (its text, unchecked).
    pub signature: &'b str,
}

/// The chunks of an aws-chunked body, in order, as framed: each line, its
/// data and the CRLF after it, until the body ends (after the final empty
/// chunk, or wherever it ends); an error for broken framing.
pub fn frames(body: &[u8]) -> impl Iterator<Item = Result<Chunk<'_>, Rejection>> {
    let mut rest = body;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let chunk = next_chunk(rest);
        rest = match &chunk {
            Ok((_, after)) => after,
            Err(_) => &[],
        };
        Some(chunk.map(|(chunk, _)| chunk))
    })
}

/// The chunk `rest` starts with, and what follows it.
fn next_chunk(rest: &[u8]) -> Result<(Chunk<'_>, &[u8]), Rejection> {
    let line_end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or(malformed("an aws-chunked chunk without its line"))?;
    let line = std::str::from_utf8(&rest[..line_end])
        .map_err(|_| malformed("an aws-chunked chunk line is not ASCII"))?;
    let (size, signature) = line
        .split_once(";chunk-signature=")
        .ok_or(malformed("an aws-chunked chunk without its signature"))?;
    if size.is_empty() || size.len() > 15 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("an aws-chunked chunk size is not hex"));
    }
    let size = usize::from_str_radix(size, 16).map_err(|_| malformed("a chunk size"))?;
    let data_start = line_end + 2;
    let data = rest
        .get(data_start..data_start.saturating_add(size))
        .ok_or(malformed("an aws-chunked chunk is shorter than its size"))?;
    if rest.get(data_start + size..data_start + size + 2) != Some(b"\r\n") {
        return Err(malformed("an aws-chunked chunk does not end with CRLF"));
    }
    Ok((Chunk { data, signature }, &rest[data_start + size + 2..]))
}

/// The data of the aws-chunked `body`, without its framing (its
/// signatures unchecked): what a store keeps of a verified upload.
pub fn decode(body: &[u8]) -> Result<Vec<u8>, Rejection> {
    let mut data = Vec::with_capacity(body.len());
    for chunk in frames(body) {
        data.extend_from_slice(chunk?.data);
    }
    Ok(data)
}

/// Whether the received chunk `signature` is the `expected` one.
pub fn signature_matches(signature: &str, expected: &str) -> Result<bool, Rejection> {
    let decoded = TagEncoding::LowerHex
        .decode_tag(signature)
        .ok()
        .filter(|t| t.as_bytes().len() == 32)
        .ok_or(Rejection::MalformedSignature)?;
    let expected = TagEncoding::LowerHex
        .decode(expected)
        .expect("a hex signature decodes");
    Ok(constant_time_eq(decoded.as_bytes(), &expected))
}

/// Checks every chunk of the aws-chunked `body`: each signature in its
/// chain from `seed`, the framing, the final empty chunk, nothing after
/// it, and the decoded length against `x-amz-decoded-content-length`.
pub(super) fn verify(
    body: &[u8],
    key: &MacKey,
    amz_date: &str,
    scope: &str,
    seed: &str,
    decoded_length: u64,
) -> Result<(), Rejection> {
    let mut previous = seed.to_owned();
    let mut total: u64 = 0;
    let mut ended = false;
    for chunk in frames(body) {
        if ended {
            return Err(malformed("bytes after the final aws-chunked chunk"));
        }
        let chunk = chunk?;
        let expected = chunk_signature(key, amz_date, scope, &previous, chunk.data);
        if !signature_matches(chunk.signature, &expected)? {
            return Err(Rejection::BadSignature);
        }
        total = total.saturating_add(chunk.data.len() as u64);
        previous = expected;
        ended = chunk.data.is_empty();
    }
    if !ended {
        return Err(malformed(
            "an aws-chunked body without its final empty chunk",
        ));
    }
    if total != decoded_length {
        return Err(Rejection::MalformedHeader {
            header: "x-amz-decoded-content-length".into(),
            detail: "not the length of the decoded chunks",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_bodies_verify_and_have_the_length_said() {
        let key = MacKey::new(b"k");
        let scope = "20130524/us-east-1/s3/aws4_request";
        let seed = "00".repeat(32);
        for (len, chunk) in [(0, 8), (5, 8), (8, 8), (20, 8), (66_560, 65_536)] {
            let data = vec![b'a'; len];
            let plan = ChunkPlan::new(chunk);
            let body = encode(&key, "20130524T000000Z", scope, &seed, &data, &plan);
            assert_eq!(body.len(), plan.encoded_len(len), "{len}/{chunk}");
            assert_eq!(decode(&body).unwrap(), data);
            assert_eq!(
                verify(&body, &key, "20130524T000000Z", scope, &seed, len as u64),
                Ok(())
            );
            assert!(
                verify(
                    &body,
                    &key,
                    "20130524T000000Z",
                    scope,
                    &seed,
                    len as u64 + 1
                )
                .is_err()
            );
            let mut tampered = body.clone();
            let at = body
                .windows(16)
                .position(|w| w == b"chunk-signature=")
                .unwrap()
                + 16;
            tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
            assert!(
                verify(
                    &tampered,
                    &key,
                    "20130524T000000Z",
                    scope,
                    &seed,
                    len as u64
                )
                .is_err()
            );
        }
    }

    #[test]
    fn a_chain_from_the_seed_alone_or_without_its_end_does_not_verify() {
        let key = MacKey::new(b"k");
        let scope = "20130524/us-east-1/s3/aws4_request";
        let seed = "00".repeat(32);
        let data = vec![b'a'; 20];
        let verifies = |plan: ChunkPlan| {
            let body = encode(&key, "20130524T000000Z", scope, &seed, &data, &plan);
            assert_eq!(body.len(), plan.encoded_len(data.len()));
            verify(&body, &key, "20130524T000000Z", scope, &seed, 20).is_ok()
        };
        assert!(verifies(ChunkPlan::new(8)));
        assert!(!verifies(ChunkPlan {
            chained: false,
            ..ChunkPlan::new(8)
        }));
        assert!(!verifies(ChunkPlan {
            final_chunk: false,
            ..ChunkPlan::new(8)
        }));
    }
}
