//! The rules the probes check, quoted from `../shared/SCHEMES.md` (each
//! scheme quotes its own signed string: [`Scheme::rule`]). A case that does
//! not pass is printed with its rule, as h2spec prints a requirement.
//!
//! [`Scheme::rule`]: crate::scheme::Scheme::rule

/// SCHEMES.md, common rules: what the status of an answer says.
pub(super) const STATUSES: &str = "A verifier answers 2xx when it accepts, 401 (or 403 where stated) when it rejects, 400 is also acceptable for malformed input; 5xx is always a conformance failure.";

/// SCHEMES.md, common rules: header names.
pub(super) const HEADER_NAMES: &str =
    "Header names are case-insensitive on the wire; canonical strings use them as specified.";

/// SCHEMES.md, common rules: tags.
pub(super) const TAGS: &str = "Tags are decoded strictly (lower-case hex only; standard base64 with padding only) and the bytes compared in constant time; a tag of the wrong length or encoding is a rejection, never a server error.";

/// SCHEMES.md, common rules: equivalent encodings of the right tag.
pub(super) const NONCANONICAL_TAGS: &str = "An equivalent but non-canonical encoding (upper-case hex, base64 without padding, base64url) is `acceptable` in the vectors — the seeds do not forbid it — and the runner reports a server that accepts it as `info`, not `fail`.";

/// SCHEMES.md, common rules: timestamp syntax.
pub(super) const TIMESTAMP_SYNTAX: &str = "A timestamp must be a plain ASCII decimal integer (no sign, no spaces, no `_`, no fraction, no exponent, at most 19 digits). Anything else is rejected (4xx), never a 5xx.";

/// SCHEMES.md, common rules: the window.
pub(super) const WINDOW: &str = "\"Window\" means `|now - ts| <= tolerance` is accepted (boundary inclusive) unless a scheme gives separate past and future limits. Whether `now` is taken in whole units or with its fraction is not pinned: a timestamp less than one unit beyond a limit is `acceptable`.";

/// SCHEMES.md, common rules: required fields.
pub(super) const REQUIRED_FIELDS: &str = "A field a scheme requires (key id, timestamp, nonce, signature, body hash) that is missing or empty is a rejection, however the request was signed: a verifier must not sign its absence (omit its line, use an empty value) or default it (a missing timestamp read as now, an unknown key id given a default or empty secret).";

/// SCHEMES.md, common rules: replay.
pub(super) const REPLAY: &str = "Replay: where a scheme has a nonce, a nonce accepted once is rejected for at least the whole window (past + future) for the same key; a nonce is recorded only after the signature verified (invalid requests must not burn nonces); two identical requests sent concurrently must not both be accepted.";

/// SCHEMES.md, `partner` and the key lookups of every scheme.
pub(super) const UNKNOWN_KEYS: &str =
    "an unknown id is a rejection, a lookup failure is a rejection (503 allowed), never an accept.";

/// SCHEMES.md, `authorization`: key policy.
pub(super) const KEY_POLICY: &str = "Key policy: unknown `keyId` -> 401; `allowed_key_ids` restriction -> 403; admin routes accept only keys with the `admin_` prefix -> 403 otherwise.";

/// SCHEMES.md, `authorization`: the header's grammar.
pub(super) const PARAMETERS: &str = "Header `Authorization: Signature keyId=\"…\",algorithm=\"HMAC-SHA256\"|\"HMAC-SHA512\", headers=\"h1 h2 …\",timestamp=\"…\",nonce=\"…\",signature=\"…\"` (parameters in any order, values double-quoted; unknown parameters ignored; a duplicated parameter is a rejection).";

/// SCHEMES.md, `authorization`: the algorithm.
pub(super) const ALGORITHM: &str = "Tag: lowercase hex HMAC with the named algorithm.";

/// SCHEMES.md, `authorization`: the headers a signature must cover.
pub(super) const REQUIRED_HEADERS: &str = "The verifier's policy lists headers that must be signed (default `host`, plus `content-type` when there is a body); a signature covering fewer is rejected.";

/// SCHEMES.md, `partner`: a body that is not JSON.
pub(super) const BODY_NOT_JSON: &str = "A body that is not JSON is rejected (400/401).";

/// The project's rule for a header a scheme reads once (README,
/// `src/request.rs`), from SCHEMES.md's rule on duplicated parameters.
pub(super) const SINGLE_VALUE: &str = "A header that a scheme reads as a single value must appear once, and a duplicated parameter is a rejection: a verifier and a proxy could each pick a different copy.";

/// The project's rule for what a verifier signs, from SCHEMES.md's signed
/// strings ("the exact body bytes", the path as sent).
pub(super) const SIGNED_AS_RECEIVED: &str = "A verifier signs exactly what it received: the body's bytes and the path as sent, not what a reading step (trimming, decoding as text, dropping a byte-order mark, normalising line endings or Unicode, percent-decoding, case folding) made of them.";
