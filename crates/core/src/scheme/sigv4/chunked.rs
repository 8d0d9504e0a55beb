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

/// `data` as an aws-chunked body of chunks of `chunk_size` bytes (and the
/// final empty one), each signed after the one before, the first after
/// `seed`.
pub fn encode(
    key: &MacKey,
    amz_date: &str,
    scope: &str,
    seed: &str,
    data: &[u8],
    chunk_size: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 128);
    let mut previous = seed.to_owned();
    let chunks = data
        .chunks(chunk_size.max(1))
        .chain(std::iter::once(&[][..]));
    for chunk in chunks {
        let signature = chunk_signature(key, amz_date, scope, &previous, chunk);
        out.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        previous = signature;
    }
    out
}

/// The length an aws-chunked body of `len` bytes in `chunk_size` chunks has.
pub fn encoded_len(len: usize, chunk_size: usize) -> usize {
    let chunk_size = chunk_size.max(1);
    let framing = |size: usize| format!("{size:x}").len() + ";chunk-signature=".len() + 64 + 4;
    let full = len / chunk_size;
    let rest = len % chunk_size;
    full * (chunk_size + framing(chunk_size))
        + if rest > 0 { rest + framing(rest) } else { 0 }
        + framing(0)
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
    let mut rest = body;
    let mut previous = seed.to_owned();
    let mut total: u64 = 0;
    loop {
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
        let decoded = TagEncoding::LowerHex
            .decode_tag(signature)
            .ok()
            .filter(|t| t.as_bytes().len() == 32)
            .ok_or(Rejection::MalformedSignature)?;
        let expected = chunk_signature(key, amz_date, scope, &previous, data);
        let expected_bytes = TagEncoding::LowerHex
            .decode(&expected)
            .expect("a hex signature decodes");
        if !constant_time_eq(decoded.as_bytes(), &expected_bytes) {
            return Err(Rejection::BadSignature);
        }
        total = total.saturating_add(size as u64);
        rest = &rest[data_start + size + 2..];
        previous = expected;
        if size == 0 {
            break;
        }
    }
    if !rest.is_empty() {
        return Err(malformed("bytes after the final aws-chunked chunk"));
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
            let body = encode(&key, "20130524T000000Z", scope, &seed, &data, chunk);
            assert_eq!(body.len(), encoded_len(len, chunk), "{len}/{chunk}");
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
}
