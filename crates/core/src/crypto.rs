//! HMAC, body hashes, tag encodings and constant-time tag comparison.
//!
//! Every scheme signs with HMAC-SHA256 or HMAC-SHA512 (HMAC-SHA1 only where
//! a provider requires it: Twilio) and transports the tag as lower-case hex
//! or standard base64. Those primitives live here, once, so
//! no scheme carries its own copy of the HMAC or encoding code.
//!
//! A [`MacKey`] keeps the HMAC state *after* the key has been absorbed, for
//! both hash functions. Computing a tag clones that state instead of hashing
//! the key pads again, which saves two compression-function calls per
//! verification on the hot path.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

/// The hash function underneath the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// HMAC-SHA256, 32-byte tags. The default of every scheme.
    #[default]
    Sha256,
    /// HMAC-SHA512, 64-byte tags (`authorization`, `ia-json`).
    Sha512,
    /// HMAC-SHA1, 20-byte tags: only for a profile whose provider requires
    /// it (Twilio).
    Sha1,
}

impl Algorithm {
    /// Length in bytes of a tag made with this algorithm.
    pub const fn tag_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
            Algorithm::Sha1 => 20,
        }
    }

    /// The name `authorization` puts in its `algorithm` parameter.
    pub const fn http_signature_name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "HMAC-SHA256",
            Algorithm::Sha512 => "HMAC-SHA512",
            Algorithm::Sha1 => "HMAC-SHA1",
        }
    }

    /// Parses the `algorithm` parameter of `authorization` (exact match).
    pub fn from_http_signature_name(name: &str) -> Option<Self> {
        match name {
            "HMAC-SHA256" => Some(Algorithm::Sha256),
            "HMAC-SHA512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

/// The most bytes a tag (or a hash) can have: HMAC-SHA512's 64.
pub const MAX_TAG_LEN: usize = 64;

/// A tag's raw bytes, held inline: as computed (32 or 64 bytes), or as
/// received and decoded (any length up to [`MAX_TAG_LEN`]; its length is
/// checked where it is compared).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    bytes: [u8; MAX_TAG_LEN],
    len: usize,
}

impl Tag {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// A tag holding `bytes`, if they fit.
    pub fn from_slice(bytes: &[u8]) -> Option<Tag> {
        let mut tag = Tag::default();
        tag.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        tag.len = bytes.len();
        Some(tag)
    }
}

impl Default for Tag {
    /// The empty tag.
    fn default() -> Self {
        Tag {
            bytes: [0; MAX_TAG_LEN],
            len: 0,
        }
    }
}

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tag({})", TagEncoding::LowerHex.encode(self.as_bytes()))
    }
}

/// Where the bytes of a canonical string go: into a buffer, to show or
/// store them, or straight into a MAC ([`MacKey::verify_streamed`]), so that verifying
/// never copies a body into a canonical string first.
pub trait ByteSink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl ByteSink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A hash being computed (SigV4's canonical request, hashed as it is written).
impl ByteSink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        sha2::Digest::update(self, bytes);
    }
}

/// An HMAC key with its keyed state precomputed for each hash function.
///
/// Deliberately not `Debug`-printable with its contents: secrets never reach
/// logs or reports.
#[derive(Clone)]
pub struct MacKey {
    sha256: Hmac<Sha256>,
    sha512: Hmac<Sha512>,
    sha1: Hmac<Sha1>,
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey([redacted])")
    }
}

/// A MAC being computed, as a [`ByteSink`]: what is put in is absorbed.
struct Absorb<'m, M: Mac>(&'m mut M);

impl<M: Mac> ByteSink for Absorb<'_, M> {
    fn put(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl MacKey {
    /// Absorbs `secret` into fresh HMAC states. HMAC accepts keys of any
    /// length, so this cannot fail.
    pub fn new(secret: &[u8]) -> Self {
        MacKey {
            sha256: <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
                .expect("HMAC accepts keys of any length"),
            sha512: <Hmac<Sha512> as KeyInit>::new_from_slice(secret)
                .expect("HMAC accepts keys of any length"),
            sha1: <Hmac<Sha1> as KeyInit>::new_from_slice(secret)
                .expect("HMAC accepts keys of any length"),
        }
    }

    /// The tag of what `write` writes, computed as it is written (a body
    /// is hashed where it lies, never copied into a message first). The
    /// keyed state is copied, not the key hashed again.
    pub fn sign_streamed<E>(
        &self,
        algorithm: Algorithm,
        write: impl FnOnce(&mut dyn ByteSink) -> Result<(), E>,
    ) -> Result<Tag, E> {
        let mut tag = Tag::default();
        match algorithm {
            Algorithm::Sha256 => {
                let mut mac = self.sha256.clone();
                write(&mut Absorb(&mut mac))?;
                tag.bytes[..32].copy_from_slice(&mac.finalize().into_bytes());
                tag.len = 32;
            }
            Algorithm::Sha512 => {
                let mut mac = self.sha512.clone();
                write(&mut Absorb(&mut mac))?;
                tag.bytes.copy_from_slice(&mac.finalize().into_bytes());
                tag.len = 64;
            }
            Algorithm::Sha1 => {
                let mut mac = self.sha1.clone();
                write(&mut Absorb(&mut mac))?;
                tag.bytes[..20].copy_from_slice(&mac.finalize().into_bytes());
                tag.len = 20;
            }
        }
        Ok(tag)
    }

    /// Checks `tag` against the tag of what `write` writes, in constant
    /// time. A tag of the wrong length is rejected before any comparison
    /// (the length is public); a truncated tag is never accepted.
    ///
    /// (The MAC's state stays in this function's frame: passed around by
    /// value, the SHA-512 state made every verification copy half a
    /// kilobyte several times: measured.)
    pub fn verify_streamed<E>(
        &self,
        algorithm: Algorithm,
        tag: &[u8],
        write: impl FnOnce(&mut dyn ByteSink) -> Result<(), E>,
    ) -> Result<bool, E> {
        Ok(match algorithm {
            Algorithm::Sha256 => {
                let mut mac = self.sha256.clone();
                write(&mut Absorb(&mut mac))?;
                mac.verify_slice(tag).is_ok()
            }
            Algorithm::Sha512 => {
                let mut mac = self.sha512.clone();
                write(&mut Absorb(&mut mac))?;
                mac.verify_slice(tag).is_ok()
            }
            Algorithm::Sha1 => {
                let mut mac = self.sha1.clone();
                write(&mut Absorb(&mut mac))?;
                mac.verify_slice(tag).is_ok()
            }
        })
    }

    /// Computes the tag of `message`.
    pub fn sign(&self, algorithm: Algorithm, message: &[u8]) -> Tag {
        let Ok(tag) = self.sign_streamed::<std::convert::Infallible>(algorithm, |out| {
            out.put(message);
            Ok(())
        });
        tag
    }

    /// Checks `tag` against the tag of `message` in constant time (see
    /// [`verify_streamed`](Self::verify_streamed)).
    pub fn verify(&self, algorithm: Algorithm, message: &[u8], tag: &[u8]) -> bool {
        let Ok(valid) = self.verify_streamed::<std::convert::Infallible>(algorithm, tag, |out| {
            out.put(message);
            Ok(())
        });
        valid
    }
}

/// Whether `a` and `b` are equal, compared in constant time (for equal
/// lengths; a length is public).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// `N` bytes from the operating system's random number generator (new
/// secrets, key ids, the nonce store's PRF key).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// SHA-256 of `data` (the body hash of `authorization` and `a2a`).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Bodies at least this long have their hash remembered, within
/// [`remembering_body_hashes`]; a shorter one costs less to hash again.
const REMEMBERED_BODY_LEN: usize = 64;

/// How many bodies' hashes are remembered at once.
const REMEMBERED_BODIES: usize = 4;

/// Bodies and their SHA-256. Each entry holds its body, so no other
/// bytes can take its address while it is here.
type BodyHashes = Vec<(bytes::Bytes, [u8; 32])>;

thread_local! {
    /// The bodies hashed on this thread within [`remembering_body_hashes`]
    /// (`None` outside it).
    static BODY_HASHES: std::cell::RefCell<Option<BodyHashes>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with the SHA-256 of each large body hashed by
/// [`body_sha256`] computed once: for a caller that signs and verifies
/// the same body many times over (the fuzzer's oracle), where the body's
/// hash would otherwise cost more than the rest of the request. Nothing
/// is remembered after `f` returns.
pub fn remembering_body_hashes<T>(f: impl FnOnce() -> T) -> T {
    struct Forget(bool);
    impl Drop for Forget {
        fn drop(&mut self) {
            if self.0 {
                BODY_HASHES.with(|hashes| hashes.borrow_mut().take());
            }
        }
    }
    let started = BODY_HASHES.with(|hashes| {
        let mut hashes = hashes.borrow_mut();
        let outermost = hashes.is_none();
        if outermost {
            *hashes = Some(Vec::with_capacity(REMEMBERED_BODIES));
        }
        outermost
    });
    let _forget = Forget(started);
    f()
}

/// SHA-256 of `body`, remembered for the same bytes within
/// [`remembering_body_hashes`] where the body is large.
pub fn body_sha256(body: &bytes::Bytes) -> [u8; 32] {
    if body.len() < REMEMBERED_BODY_LEN {
        return sha256(body);
    }
    let same = |held: &bytes::Bytes| held.as_ptr() == body.as_ptr() && held.len() == body.len();
    let remembered = BODY_HASHES.with(|hashes| {
        hashes
            .borrow()
            .as_ref()
            .map(|list| list.iter().find(|(held, _)| same(held)).map(|(_, h)| *h))
    });
    match remembered {
        // Not remembering.
        None => sha256(body),
        Some(Some(hash)) => hash,
        Some(None) => {
            let hash = sha256(body);
            BODY_HASHES.with(|hashes| {
                if let Some(list) = hashes.borrow_mut().as_mut() {
                    if list.len() == REMEMBERED_BODIES {
                        list.remove(0);
                    }
                    list.push((body.clone(), hash));
                }
            });
            hash
        }
    }
}

/// [`body_sha256`] of `data` where it is `body`'s bytes themselves (the
/// same address and length), else its SHA-256.
pub fn sha256_of(data: &[u8], body: &bytes::Bytes) -> [u8; 32] {
    if data.as_ptr() == body.as_ptr() && data.len() == body.len() {
        body_sha256(body)
    } else {
        sha256(data)
    }
}

/// How a scheme writes tags and hashes into headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagEncoding {
    /// Lower-case hexadecimal, two characters per byte.
    LowerHex,
    /// Standard base64 (RFC 4648 §4) with `=` padding.
    Base64,
}

/// Why an encoded tag or hash was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not strictly in the expected encoding (upper-case hex, base64url,
    /// missing padding, stray characters, …).
    #[error("not in the expected encoding")]
    Encoding,
}

impl TagEncoding {
    /// Encodes `bytes`.
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            TagEncoding::LowerHex => base16ct::lower::encode_string(bytes),
            TagEncoding::Base64 => STANDARD.encode(bytes),
        }
    }

    /// Decodes strictly: lower-case hex only; standard base64 with canonical
    /// padding and no stray trailing bits only.
    pub fn decode(self, text: &str) -> Result<Vec<u8>, DecodeError> {
        match self {
            TagEncoding::LowerHex => {
                base16ct::lower::decode_vec(text.as_bytes()).map_err(|_| DecodeError::Encoding)
            }
            TagEncoding::Base64 => STANDARD.decode(text).map_err(|_| DecodeError::Encoding),
        }
    }

    /// Decodes a tag or a hash as strictly as [`decode`](Self::decode), into
    /// an inline [`Tag`] (no allocation). More than [`MAX_TAG_LEN`] bytes
    /// cannot be a tag and is refused like a wrong encoding.
    pub fn decode_tag(self, text: &str) -> Result<Tag, DecodeError> {
        let mut tag = Tag::default();
        tag.len = match self {
            TagEncoding::LowerHex => base16ct::lower::decode(text.as_bytes(), &mut tag.bytes)
                .map_err(|_| DecodeError::Encoding)?
                .len(),
            TagEncoding::Base64 => STANDARD
                .decode_slice(text, &mut tag.bytes)
                .map_err(|_| DecodeError::Encoding)?,
        };
        Ok(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_body_hash_is_the_body_s_own() {
        let large = bytes::Bytes::from(vec![b'a'; REMEMBERED_BODY_LEN]);
        let other = bytes::Bytes::from(vec![b'b'; REMEMBERED_BODY_LEN]);
        remembering_body_hashes(|| {
            for body in [&large, &other, &large, &large.slice(1..), &other] {
                assert_eq!(body_sha256(body), sha256(body));
                assert_eq!(sha256_of(&body[..], body), sha256(body));
                assert_eq!(sha256_of(b"x", body), sha256(b"x"));
            }
        });
        assert!(BODY_HASHES.with(|hashes| hashes.borrow().is_none()));
    }

    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn rfc4231_case_2() {
        let key = MacKey::new(b"Jefe");
        let msg = b"what do ya want for nothing?";
        assert_eq!(
            TagEncoding::LowerHex.encode(key.sign(Algorithm::Sha256, msg).as_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            TagEncoding::LowerHex.encode(key.sign(Algorithm::Sha512, msg).as_bytes()),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn verify_rejects_truncated_extended_and_flipped_tags() {
        let key = MacKey::new(b"k");
        let tag = key.sign(Algorithm::Sha256, b"m");
        let good = tag.as_bytes().to_vec();
        assert!(key.verify(Algorithm::Sha256, b"m", &good));
        assert!(!key.verify(Algorithm::Sha256, b"m", &good[..31]));
        assert!(!key.verify(Algorithm::Sha256, b"m", &[good.clone(), vec![0]].concat()));
        assert!(!key.verify(Algorithm::Sha256, b"m", &[]));
        let mut flipped = good;
        flipped[31] ^= 1;
        assert!(!key.verify(Algorithm::Sha256, b"m", &flipped));
    }

    #[test]
    fn inline_decoding_matches_and_refuses_what_cannot_be_a_tag() {
        for (encoding, text) in [
            (TagEncoding::LowerHex, "0aff"),
            (TagEncoding::LowerHex, ""),
            (TagEncoding::Base64, "+/8="),
            (TagEncoding::LowerHex, &"ab".repeat(64)),
            (TagEncoding::Base64, &STANDARD.encode([7u8; 64])),
        ] {
            let tag = encoding.decode_tag(text).unwrap();
            assert_eq!(tag.as_bytes(), encoding.decode(text).unwrap(), "{text}");
        }
        assert!(TagEncoding::LowerHex.decode_tag(&"ab".repeat(65)).is_err());
        assert!(
            TagEncoding::Base64
                .decode_tag(&STANDARD.encode([7u8; 65]))
                .is_err()
        );
        assert!(TagEncoding::LowerHex.decode_tag("0AFF").is_err());
        assert!(TagEncoding::Base64.decode_tag("+/9=").is_err());
    }

    #[test]
    fn streamed_and_whole_message_tags_agree() {
        let key = MacKey::new(b"k");
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            let pieces = |out: &mut dyn ByteSink| {
                for piece in [&b"what do "[..], b"", b"ya want for nothing?"] {
                    out.put(piece);
                }
                Ok::<(), ()>(())
            };
            let whole = key.sign(algorithm, b"what do ya want for nothing?");
            assert_eq!(key.sign_streamed(algorithm, pieces), Ok(whole));
            assert_eq!(
                key.verify_streamed(algorithm, whole.as_bytes(), pieces),
                Ok(true)
            );
            assert_eq!(
                key.verify_streamed(algorithm, &whole.as_bytes()[1..], pieces),
                Ok(false)
            );
            // A writer that fails stops the computation with its error.
            assert_eq!(
                key.verify_streamed(algorithm, whole.as_bytes(), |_| Err("no")),
                Err("no")
            );
        }
    }

    #[test]
    fn decoding_is_strict() {
        assert_eq!(
            TagEncoding::LowerHex.decode("0aff").unwrap(),
            vec![0x0a, 0xff]
        );
        assert!(TagEncoding::LowerHex.decode("0AFF").is_err());
        assert!(TagEncoding::LowerHex.decode("0af").is_err());
        assert_eq!(
            TagEncoding::Base64.decode("+/8=").unwrap(),
            vec![0xfb, 0xff]
        );
        assert!(
            TagEncoding::Base64.decode("+/8").is_err(),
            "missing padding"
        );
        assert!(
            TagEncoding::Base64.decode("-_8=").is_err(),
            "base64url alphabet"
        );
        assert!(
            TagEncoding::Base64.decode("+/9=").is_err(),
            "non-zero trailing bits"
        );
    }
}
