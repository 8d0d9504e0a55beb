//! `Content-Digest` (RFC 9530): a dictionary of the body's hashes,
//! `sha-256=:…:, sha-512=:…:`, which a signature covers in place of the body.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sfv::GenericBareItem;
use sha2::Digest as _;

use super::borrowed::{Dictionary, Item, Member};
use crate::Rejection;
use crate::request::Request;

/// The header.
pub const CONTENT_DIGEST: http::HeaderName = http::HeaderName::from_static("content-digest");

/// The value a signer writes for `body`: its SHA-256.
pub fn content_digest(body: &[u8]) -> String {
    written(&crate::crypto::sha256(body))
}

/// The value a signer writes for a body whose SHA-256 is `hash`.
pub(super) fn written(hash: &[u8; 32]) -> String {
    let mut value = String::with_capacity(56);
    value.push_str("sha-256=:");
    STANDARD.encode_string(hash, &mut value);
    value.push(':');
    value
}

fn malformed(detail: &'static str) -> Rejection {
    Rejection::MalformedHeader {
        header: CONTENT_DIGEST.as_str().into(),
        detail,
    }
}

/// Checks `Content-Digest`, where the request has one, against the body:
/// every algorithm known here (`sha-256`, `sha-512`) must match, and at
/// least one must be there. (The unknown ones are ignored, as RFC 9530
/// allows; only a digest that is checked protects the body.)
pub fn check(req: &Request) -> Result<(), Rejection> {
    let Some(text) = super::fields::combined(req, &CONTENT_DIGEST)? else {
        return Ok(());
    };
    let dict = Dictionary::parse(&text).map_err(|_| malformed("not a structured dictionary"))?;
    let mut checked = false;
    for (algorithm, member) in &dict.members {
        let Member::Item(Item {
            bare: GenericBareItem::ByteSequence(declared),
            ..
        }) = member
        else {
            return Err(malformed("a digest is not a byte sequence"));
        };
        let actual: Vec<u8> = match algorithm.as_str() {
            "sha-256" => crate::crypto::body_sha256(req.body()).to_vec(),
            "sha-512" => sha2::Sha512::digest(req.body()).to_vec(),
            _ => continue,
        };
        checked = true;
        if !crate::crypto::constant_time_eq(declared, &actual) {
            return Err(Rejection::BodyHashMismatch);
        }
    }
    if checked {
        Ok(())
    } else {
        Err(malformed("no sha-256 or sha-512 digest"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(digest: &str, body: &'static str) -> Request {
        http::Request::builder()
            .header("content-digest", digest)
            .body(bytes::Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    #[test]
    fn the_rfcs_digests_match_their_bodies() {
        // RFC 9421 appendix B.2, the test request's body and digest.
        let digest = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
        assert_eq!(check(&request(digest, r#"{"hello": "world"}"#)), Ok(()));
        assert_eq!(
            check(&request(digest, r#"{"hello": "World"}"#)),
            Err(Rejection::BodyHashMismatch)
        );
        let ours = content_digest(b"abc");
        assert_eq!(check(&request(&ours, "abc")), Ok(()));
        assert!(check(&request("md5=:AAAA:", "abc")).is_err());
        assert!(check(&request("sha-256=abc", "abc")).is_err());
    }
}
