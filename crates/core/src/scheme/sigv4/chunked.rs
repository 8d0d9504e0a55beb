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
//!
//! The trailer form (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`, the
//! trailing header named by `x-amz-trailer`) ends the final chunk's line
//! with the trailing headers instead of an empty line, then their
//! signature, then an empty line:
//!
//! ```text
//! 0;chunk-signature=<64 hex>\r\n
//! x-amz-checksum-sha256:<base64>\r\n
//! x-amz-trailer-signature:<64 hex>\r\n
//! \r\n
//! ```
//!
//! The trailer's string to sign: `AWS4-HMAC-SHA256-TRAILER`, `X-Amz-Date`,
//! the scope, the final chunk's signature, the SHA-256 of the trailing
//! headers written `name:value\n`, sorted. The reference checks trailing
//! SHA-256 checksums (`x-amz-checksum-sha256`) only.

use std::io::Write as _;

use crate::Rejection;
use crate::crypto::{Algorithm, MacKey, TagEncoding, constant_time_eq, sha256};

/// `x-amz-content-sha256` of a chunk-signed body.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// `x-amz-content-sha256` of a chunk-signed body with a signed trailer.
pub const STREAMING_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// The trailing checksum the reference writes and checks.
pub const CHECKSUM_SHA256: &str = "x-amz-checksum-sha256";
/// The trailing header that holds the trailer's signature.
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// A signed trailer with the data's SHA-256 (`x-amz-checksum-sha256`),
    /// or with this one in its place (base64).
    pub trailer: Option<Trailer>,
}

/// A trailing checksum, as a plan writes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trailer {
    /// The checksum written (base64), where it is not the data's SHA-256.
    pub checksum: Option<String>,
}

impl ChunkPlan {
    /// Chunks of `chunk_size` bytes, signed and framed as the rules say.
    pub fn new(chunk_size: usize) -> ChunkPlan {
        ChunkPlan {
            chunk_size: chunk_size.max(1),
            chained: true,
            final_chunk: true,
            decoded_length: None,
            trailer: None,
        }
    }

    /// `x-amz-content-sha256` of an upload framed so.
    pub fn payload_hash(&self) -> &'static str {
        if self.trailer.is_some() {
            STREAMING_PAYLOAD_TRAILER
        } else {
            STREAMING_PAYLOAD
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
        let trailer = format!("{CHECKSUM_SHA256}:").len()
            + 44
            + 2
            + format!("{TRAILER_SIGNATURE}:").len()
            + 64
            + 2;
        let last = match (self.final_chunk, &self.trailer) {
            (false, _) => 0,
            (true, None) => framing(0),
            // The final line, then the trailer in place of an empty line.
            (true, Some(_)) => framing(0) - 2 + trailer + 2,
        };
        full * (size + framing(size)) + if rest > 0 { rest + framing(rest) } else { 0 } + last
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
    let mut data_hash = [0u8; 64];
    let data_hash = base16ct::lower::encode(&sha256(data), &mut data_hash)
        .expect("64 bytes hold a hex SHA-256");
    // The string to sign, its lines written straight into the HMAC.
    let Ok(tag) = key.sign_streamed::<std::convert::Infallible>(Algorithm::Sha256, |out| {
        for (i, line) in [
            b"AWS4-HMAC-SHA256-PAYLOAD".as_slice(),
            amz_date.as_bytes(),
            scope.as_bytes(),
            previous.as_bytes(),
            EMPTY_SHA256.as_bytes(),
            data_hash,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.put(b"\n");
            }
            out.put(line);
        }
        Ok(())
    });
    TagEncoding::LowerHex.encode(tag.as_bytes())
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
        write!(out, "{:x};chunk-signature={signature}\r\n", chunk.len())
            .expect("a Vec takes every write");
        let last = chunk.is_empty();
        if plan.chained || last {
            previous = signature;
        }
        if let (true, Some(trailer)) = (last, &plan.trailer) {
            let checksum = trailer
                .checksum
                .clone()
                .unwrap_or_else(|| TagEncoding::Base64.encode(&sha256(data)));
            let headers = [(CHECKSUM_SHA256, checksum.as_str())];
            let signature = trailer_signature(key, amz_date, scope, &previous, &headers);
            for (name, value) in headers
                .into_iter()
                .chain([(TRAILER_SIGNATURE, signature.as_str())])
            {
                out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
            }
        } else {
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The signature of a trailer of `headers` after the final chunk's
/// signature `previous`.
pub fn trailer_signature(
    key: &MacKey,
    amz_date: &str,
    scope: &str,
    previous: &str,
    headers: &[(&str, &str)],
) -> String {
    let mut sorted = headers.to_vec();
    sorted.sort_unstable();
    let canonical: String = sorted
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let hash = base16ct::lower::encode_string(&sha256(canonical.as_bytes()));
    let string_to_sign = ["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous, &hash].join("\n");
    TagEncoding::LowerHex.encode(
        key.sign(Algorithm::Sha256, string_to_sign.as_bytes())
            .as_bytes(),
    )
}

/// One chunk of an aws-chunked body, as framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'b> {
    /// Its data.
    pub data: &'b [u8],
    /// The signature its line carries (its text, unchecked).
    pub signature: &'b str,
}

/// An aws-chunked body as framed: its chunks in order, the final empty one
/// included where there is one, and what follows that one's line (an
/// empty line, or a trailer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed<'b> {
    /// The chunks.
    pub chunks: Vec<Chunk<'b>>,
    /// After the final empty chunk's line, if the body has one.
    pub after_final: Option<&'b [u8]>,
}

impl<'b> Framed<'b> {
    /// Reads the framing of `body`: each chunk's line, its data and the
    /// CRLF after it, until the final empty chunk or the body's end; an
    /// error for broken framing.
    pub fn read(body: &'b [u8]) -> Result<Framed<'b>, Rejection> {
        let mut framed = Framed {
            chunks: Vec::new(),
            after_final: None,
        };
        let mut rest = body;
        while !rest.is_empty() {
            let (chunk, after) = next_chunk(rest)?;
            framed.chunks.push(chunk);
            if chunk.data.is_empty() {
                framed.after_final = Some(after);
                break;
            }
            rest = after;
        }
        Ok(framed)
    }

    /// The data of its chunks, in order.
    pub fn data(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|c| c.data).copied().collect()
    }
}

/// A trailer as read: its headers (without the signature) and the
/// signature it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailers<'b> {
    /// `name: value`, names in lower case, as they came.
    pub headers: Vec<(String, &'b str)>,
    /// `x-amz-trailer-signature`.
    pub signature: Option<&'b str>,
}

impl<'b> Trailers<'b> {
    /// Reads what follows the final chunk's line in the trailer form:
    /// `name:value` lines each ended by CRLF, then an empty line.
    pub fn read(after_final: &'b [u8]) -> Result<Trailers<'b>, Rejection> {
        let text = std::str::from_utf8(after_final)
            .map_err(|_| malformed("an aws-chunked trailer is not text"))?;
        let lines = text.strip_suffix("\r\n\r\n").ok_or(malformed(
            "an aws-chunked trailer does not end with an empty line",
        ))?;
        let mut trailers = Trailers {
            headers: Vec::new(),
            signature: None,
        };
        for line in lines.split("\r\n") {
            let (name, value) = line
                .split_once(':')
                .ok_or(malformed("an aws-chunked trailer line is not name:value"))?;
            let name = name.to_ascii_lowercase();
            if name == TRAILER_SIGNATURE {
                if trailers.signature.replace(value.trim()).is_some() {
                    return Err(malformed("two aws-chunked trailer signatures"));
                }
            } else {
                trailers.headers.push((name, value.trim()));
            }
        }
        Ok(trailers)
    }

    /// The value of trailing header `name`.
    pub fn get(&self, name: &str) -> Option<&'b str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// The headers, borrowed, for [`trailer_signature`].
    pub fn signed(&self) -> Vec<(&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), *v)).collect()
    }
}

/// The chunk `rest` starts with, and what follows it (for an empty chunk,
/// what follows its line: the empty line, or a trailer).
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
    if size == 0 {
        let data = &rest[data_start..data_start];
        return Ok((Chunk { data, signature }, &rest[data_start..]));
    }
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
    Ok(Framed::read(body)?.data())
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

/// What a chunked upload is checked against: the request's signing key,
/// date and scope, its own signature (the seed), its
/// `x-amz-decoded-content-length`, and the trailing checksum it names
/// (`x-amz-trailer`) in the trailer form.
pub(super) struct Expected<'a> {
    pub key: &'a MacKey,
    pub amz_date: &'a str,
    pub scope: &'a str,
    pub seed: &'a str,
    pub decoded_length: u64,
    pub trailer: Option<&'a str>,
}

/// Checks every chunk of the aws-chunked `body`: each signature in its
/// chain from the seed, the framing, the final empty chunk, nothing after
/// it but an empty line (or, in the trailer form, the trailer: its
/// signature after the final chunk's, the checksum it names that of the
/// data), and the decoded length against `x-amz-decoded-content-length`.
pub(super) fn verify(body: &[u8], expected: &Expected<'_>) -> Result<(), Rejection> {
    let framed = Framed::read(body)?;
    let mut previous = expected.seed.to_owned();
    let mut total: u64 = 0;
    for chunk in &framed.chunks {
        let signature = chunk_signature(
            expected.key,
            expected.amz_date,
            expected.scope,
            &previous,
            chunk.data,
        );
        if !signature_matches(chunk.signature, &signature)? {
            return Err(Rejection::BadSignature);
        }
        total = total.saturating_add(chunk.data.len() as u64);
        previous = signature;
    }
    let after_final = framed.after_final.ok_or(malformed(
        "an aws-chunked body without its final empty chunk",
    ))?;
    match expected.trailer {
        None if after_final != b"\r\n" => {
            return Err(malformed("bytes after the final aws-chunked chunk"));
        }
        None => {}
        Some(named) => verify_trailer(&framed, after_final, named, &previous, expected)?,
    }
    let decoded_length = expected.decoded_length;
    if total != decoded_length {
        return Err(Rejection::MalformedHeader {
            header: "x-amz-decoded-content-length".into(),
            detail: "not the length of the decoded chunks",
        });
    }
    Ok(())
}

/// The trailer after the final chunk (whose signature is `previous`): its
/// signature, and the checksum `named` (`x-amz-checksum-sha256`, the only
/// one checked) that of the data.
fn verify_trailer(
    framed: &Framed<'_>,
    after_final: &[u8],
    named: &str,
    previous: &str,
    expected: &Expected<'_>,
) -> Result<(), Rejection> {
    let trailers = Trailers::read(after_final)?;
    let signature = trailers
        .signature
        .ok_or(Rejection::MissingHeader(TRAILER_SIGNATURE.into()))?;
    let computed = trailer_signature(
        expected.key,
        expected.amz_date,
        expected.scope,
        previous,
        &trailers.signed(),
    );
    if !signature_matches(signature, &computed)? {
        return Err(Rejection::BadSignature);
    }
    if named != CHECKSUM_SHA256 {
        return Err(Rejection::MalformedHeader {
            header: "x-amz-trailer".into(),
            detail: "only x-amz-checksum-sha256 trailers are verified",
        });
    }
    let checksum = trailers
        .get(CHECKSUM_SHA256)
        .ok_or(Rejection::MissingHeader(CHECKSUM_SHA256.into()))?;
    if checksum_matches(checksum, &framed.data()) {
        Ok(())
    } else {
        Err(Rejection::BodyHashMismatch)
    }
}

/// Whether `checksum` (base64) is the SHA-256 of `data`.
pub fn checksum_matches(checksum: &str, data: &[u8]) -> bool {
    TagEncoding::Base64
        .decode(checksum)
        .is_ok_and(|c| constant_time_eq(&c, &sha256(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "20130524T000000Z";
    const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";

    fn verifies(body: &[u8], key: &MacKey, seed: &str, len: u64, trailer: bool) -> bool {
        let expected = Expected {
            key,
            amz_date: DATE,
            scope: SCOPE,
            seed,
            decoded_length: len,
            trailer: trailer.then_some(CHECKSUM_SHA256),
        };
        verify(body, &expected).is_ok()
    }

    #[test]
    fn encoded_bodies_verify_and_have_the_length_said() {
        let key = MacKey::new(b"k");
        let seed = "00".repeat(32);
        for trailer in [None, Some(Trailer::default())] {
            for (len, chunk) in [(0, 8), (5, 8), (8, 8), (20, 8), (66_560, 65_536)] {
                let data = vec![b'a'; len];
                let plan = ChunkPlan {
                    trailer: trailer.clone(),
                    ..ChunkPlan::new(chunk)
                };
                let with = trailer.is_some();
                let body = encode(&key, DATE, SCOPE, &seed, &data, &plan);
                assert_eq!(body.len(), plan.encoded_len(len), "{len}/{chunk}");
                assert_eq!(decode(&body).unwrap(), data);
                assert!(verifies(&body, &key, &seed, len as u64, with));
                assert!(!verifies(&body, &key, &seed, len as u64 + 1, with));
                assert!(!verifies(&body, &key, &seed, len as u64, !with));
                let mut tampered = body.clone();
                let at = body
                    .windows(16)
                    .position(|w| w == b"chunk-signature=")
                    .unwrap()
                    + 16;
                tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
                assert!(!verifies(&tampered, &key, &seed, len as u64, with));
            }
        }
    }

    #[test]
    fn a_chain_from_the_seed_alone_or_without_its_end_does_not_verify() {
        let key = MacKey::new(b"k");
        let seed = "00".repeat(32);
        let data = vec![b'a'; 20];
        let check = |plan: ChunkPlan| {
            let body = encode(&key, DATE, SCOPE, &seed, &data, &plan);
            assert_eq!(body.len(), plan.encoded_len(data.len()));
            verifies(&body, &key, &seed, 20, plan.trailer.is_some())
        };
        assert!(check(ChunkPlan::new(8)));
        assert!(!check(ChunkPlan {
            chained: false,
            ..ChunkPlan::new(8)
        }));
        assert!(!check(ChunkPlan {
            final_chunk: false,
            ..ChunkPlan::new(8)
        }));
        assert!(!check(ChunkPlan {
            trailer: Some(Trailer {
                checksum: Some(TagEncoding::Base64.encode(&sha256(b"other"))),
            }),
            ..ChunkPlan::new(8)
        }));
    }
}
