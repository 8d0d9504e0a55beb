//! The deliberate defects of the reference server, as data: what each one
//! gets wrong, named, so that the runner's catalog can name the control
//! that proves a probe and the tests can name the defect a probe must find,
//! without depending on the server. How a server is made defective (the
//! scheme wrapped, the key lookup or nonce store swapped) lives in the
//! server crate (`sigconform-server`'s `defect.rs`).
//!
//! Two kinds live here. Realistic defects are the bugs verifiers in the
//! field have (a `float()` timestamp parser, a missing nonce signed as
//! empty, a DELETE body nobody reads). Controls ignore exactly one property
//! of a request; each negative probe of the runner names the control that
//! must accept it, which proves the probe changes only that property.

use sigconform_core::lenient::LenientDecoder;
use sigconform_core::lossy::LossyRead;
use sigconform_core::scheme::sigv4::UriEncoding;
use sigconform_core::scheme::{Absent, Field};
use sigconform_core::tamper::SignedAs;

/// A deliberate bug, for proving that the runner finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defect {
    /// Accepts any timestamp, however old or new.
    IgnoresExpiry,
    /// Never records nonces: every replay is accepted.
    NeverRecordsNonces,
    /// Checks, then records, in two steps with a pause between: identical
    /// concurrent requests can all pass the check.
    NonAtomicNonces,
    /// Forgets a nonce after this many milliseconds, before the window
    /// ends.
    ForgetsNoncesAfter(u64),
    /// Accepts any future timestamp (no future limit).
    AcceptsAnyFuture,
    /// Reads a window in seconds as milliseconds: the window shrinks to
    /// almost nothing.
    WindowInMilliseconds,
    /// Reads a timestamp in the other unit when it looks like one
    /// (`if ts > 1e12: ts /= 1000`).
    EitherUnit,
    /// Parses timestamps as JavaScript's `Number()` or Python's `float()`
    /// would (a sign, whitespace, a fraction, an exponent, `0x`, any number
    /// of digits), and signs the text as received.
    LenientTimestamps,
    /// `a2a`: trusts `X-Body-Hash` without recomputing it over the body.
    TrustsBodyHash,
    /// Answers 500 to a malformed timestamp.
    ServerErrorOnMalformedTimestamp,
    /// Compares tags as text with a compare that raises on anything not
    /// ASCII (Python's `hmac.compare_digest` on `str`): 500.
    ServerErrorOnNonAsciiTag,
    /// Falls back to the default key for unknown key ids.
    AcceptsUnknownKeys,
    /// Gives unknown key ids the empty secret.
    UnknownKeysGetEmptySecret,
    /// Gives unknown key ids their own id as the secret.
    UnknownKeysGetTheirIdAsSecret,
    /// Compares tags byte by byte, stopping at the first difference, with
    /// a measurable cost per matching byte.
    ByteByByteCompare,
    /// The same compare run from the last byte to the first: the tags
    /// whose first byte is wrong are now the slow ones.
    ByteByByteCompareFromTheEnd,
    /// Treats a field as optional: when it is missing, signs it as
    /// [`Absent`] says, and goes on without it (no replay check without a
    /// nonce, the default key without a key id, the window passed without a
    /// timestamp).
    OptionalField(Field, Absent),
    /// Does not cover the method: accepts a tag made for any standard
    /// method ("tolerating" clients behind method-rewriting proxies).
    MethodNotCovered,
    /// Does not cover the path as received: verifies against the path with
    /// dot segments and empty segments removed, as `new URL(...).pathname`
    /// or `os.path.normpath` would give it.
    PathNotCovered,
    /// Does not cover the body bytes: verifies against the body parsed and
    /// re-serialised (`JSON.stringify(req.body)` after a JSON middleware has
    /// consumed the raw body), so whitespace and duplicate keys are free.
    BodyNotCovered,
    /// Reads bodies only for POST, PUT and PATCH (as the original
    /// `authorization` implementation does): a DELETE's body is never
    /// signed.
    BodiesOnlyForPostPutPatch,
    /// Reads no body sent in chunks (only `Content-Length` bodies).
    IgnoresChunkedBodies,
    /// Reads only the first 16 KiB of a body (one fixed buffer) and
    /// verifies that: larger bodies never verify.
    ReadsFirstChunkOnly,
    /// Compares only as many bytes as the received tag has: a prefix of
    /// the right tag, the empty tag included, is accepted.
    AcceptsTagPrefix,
    /// Verifies signatures but enforces no key policy: keys outside an
    /// allow-list and non-admin keys on admin routes are accepted.
    IgnoresKeyPolicy,
    /// Looks key ids up ignoring letter case (a case-insensitive SQL
    /// collation) while its nonce store keys nonces by the id as sent.
    CaseInsensitiveKeyIds,
    /// Keeps the first of repeated headers and of repeated `name="value"`
    /// parameters.
    FirstOfDuplicates,
    /// Signs a body that is not JSON as `{}` (`partner`).
    NonJsonBodyAsEmpty,
    /// Reads bodies with a strict JSON parser (serde_json, Jackson): a lone
    /// surrogate or a number beyond the double range is refused where
    /// JavaScript's `JSON.parse` reads it (`partner`).
    StrictJsonParser,
    /// Sorts keys into a fresh object by assignment (`out[k] = v`), which
    /// drops `__proto__` members from the signed string (`partner`).
    KeySortDropsProto,
    /// `authorization`: the algorithm read from the tag's length, whatever
    /// the `algorithm` parameter says.
    AlgorithmFromTagLength,
    /// `authorization`: an algorithm it does not know read as HMAC-SHA256.
    UnknownAlgorithmsAsSha256,
    /// `authorization`: `algorithm="none"` accepted without a tag.
    AcceptsAlgorithmNone,
    /// `authorization`: requires no header to be signed.
    RequiresNoSignedHeaders,
    /// `authorization`: a missing `headers` parameter read as the default
    /// list, `host content-type content-length`.
    DefaultHeaderList,
    /// `authorization`: parameter values accepted without quotes.
    UnquotedParameters,
    /// Reads a component through a step that loses information (the body
    /// trimmed, decoded as text or normalised; the path percent-decoded or
    /// lower-cased) and signs what that step made of it.
    ReadsLossily(LossyRead),
    /// Compares the encoded tags ignoring letter case (as a verifier does
    /// that lower-cases both to accept upper-case hex): for base64 that
    /// compares less than the tag.
    CaseFoldedTagCompare,
    /// Checks a tag's length in characters, then compares its bytes with a
    /// compare that raises when the byte lengths differ (stripe-node's
    /// `timingSafeEqual`): 500 for a tag of the right length with a
    /// character of several bytes in it.
    ServerErrorOnTagByteLength,
    /// Looks key ids up with a lookup that raises on anything not ASCII
    /// (a key id used as an ASCII-only database or cache key): 500.
    ServerErrorOnNonAsciiKeyId,
    /// Reads a form body into a dictionary (`dict(request.form)`, PHP's
    /// `$_POST`): a repeated name keeps its last value only, and that is
    /// signed.
    FormAsDictionary,
    /// Where several signatures share a header, compares only the last
    /// (paddle-node-sdk's `h1`), where any may match.
    LastSignatureOnly,
    /// Checks no tag at all (a control: ignores exactly the tag).
    AnyTag,
    /// Verifies each request as the signer saw it: with the method, path,
    /// query, body, headers, timestamp, nonce and omissions of a recipe's
    /// [`SignedAs`] (a control: ignores exactly what a tamper probe changed
    /// after signing).
    VerifiesAsSigned(SignedAs),
    /// `sigv4`: a chunk-signed upload's request signature (the seed) is
    /// checked, its chunks' never (MinIO CVE-2025-31489's kind: a request
    /// form whose signatures go unchecked).
    ChunksNotVerified,
    /// `sigv4`: presigned URLs never expire (LocalStack issue 1685).
    PresignedNeverExpires,
    /// `sigv4`: any `X-Amz-Expires` is accepted, seven days or more (MinIO
    /// issue 5162).
    AcceptsAnyExpires,
    /// `sigv4`: a credential scope naming any region is verified with that
    /// region's key (a store configured for no region in particular).
    AnyRegion,
    /// `sigv4`: one part of the credential scope (its date, service or
    /// terminator) is never compared with what the verifier serves: the
    /// string to sign and the key are made with the part as received.
    ScopePartUnchecked(ScopePart),
    /// `sigv4`: the algorithm named in `Authorization` is never read (any
    /// word is taken for `AWS4-HMAC-SHA256`).
    AlgorithmNameUnchecked,
    /// `sigv4`: a chunked upload's chain is computed, but only the final
    /// chunk's signature is compared.
    OnlyFinalChunkCompared,
    /// `sigv4`: each chunk's signature is checked after the seed, not
    /// after the chunk before it (the chain is not chained).
    ChunksNotChained,
    /// `sigv4`: a chunked upload may end without its final empty chunk.
    FinalChunkOptional,
    /// `sigv4`: the chunks' data is never measured against
    /// `x-amz-decoded-content-length`.
    DecodedLengthUnchecked,
    /// `sigv4`: a chunked upload's trailing checksum is never compared
    /// with its data (its trailer's signature is).
    TrailerChecksumUnchecked,
    /// `sigv4`: a chunked upload's trailer signature is never compared
    /// (its checksum is).
    TrailerSignatureUnchecked,
    /// `sigv4`: a chunked upload is stored as received, its framing kept.
    StoresChunkFraming,
    /// `sigv4`: a PUT's payload is written before its signature is checked.
    WritesBeforeVerifying,
    /// `sigv4`: header values signed as received, not trimmed, their inner
    /// runs of spaces kept.
    HeaderValuesUntrimmed,
    /// `sigv4`: S3's rule that every `x-amz-*` header is signed is not
    /// enforced: an unsigned one is ignored.
    UnsignedAmzHeaders,
    /// `sigv4`: repeated query names kept in the order sent, sorted by name
    /// only.
    QueryValuesUnsorted,
    /// Reads the path with its runs of slashes merged (nginx's
    /// `merge_slashes`), its dot segments kept.
    MergesSlashes,
    /// Reads the path with its dot segments resolved (`new URL(...)`), its
    /// empty segments kept.
    ResolvesDotSegments,
    /// `sigv4`: sets the canonical URI rule ([`UriEncoding`]) and whether
    /// the path is normalised first, the other way than the service's (an
    /// S3 path encoded twice or as sent; another service's path
    /// not normalised, or encoded once).
    PathRules(Option<UriEncoding>, Option<bool>),
    /// `rfc9421`: the covered components are read as listed, unchecked: a
    /// component twice, a parameter it does not know (ignored in deriving
    /// the value), `req` in a request.
    ComponentsUnchecked,
    /// `rfc9421`: the first signature of `Signature` is taken for the first
    /// of `Signature-Input`, whatever their labels.
    LabelsUnchecked,
    /// `rfc9421`: `alg` is signed as received but never compared with the
    /// algorithm verified.
    IgnoresAlg,
    /// `rfc9421`: `expires` is signed as received but never compared with
    /// the clock.
    IgnoresExpires,
    /// Records a request's nonce when it parses the signature, before the
    /// tag is checked: a forged request burns the nonce, and the genuine
    /// one is then refused as a replay.
    RecordsNonceBeforeTag,
    /// Verifies only where its check is wired: a request of the gate's
    /// shape reaches the handler unverified (a control of the `shape`
    /// cases: Express's `json({ verify })` for other media types, a
    /// middleware that skips bodiless requests, a route of one method).
    Ungated(Gate),
    /// Decodes `field` (the tag, a body hash, a timestamp's digits) with a
    /// lenient decoder, and signs it as received.
    DecodesLeniently(Field, LenientDecoder),
    /// Answers a rejection with the tag it expected for the request
    /// ("invalid signature, expected …", as a verifier that helps its
    /// clients debug does): a signature for anyone who asks.
    DisclosesExpectedTag,
    /// Answers a rejection with the string it signed for the request.
    DisclosesSignedString,
    /// Answers a rejection with the hash it computed of the body, in a
    /// header.
    DisclosesBodyHash,
}

/// A shape of request a verifier's check does not fire for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Requests whose `Content-Type` is exactly this (`None`: requests
    /// with none), as a check in a parser's hook skips the media types
    /// that parser does not take.
    ContentType(Option<String>),
    /// Requests of this method.
    Method(String),
    /// Requests of this method without a body.
    Bodiless(String),
    /// Requests whose body comes in chunks.
    Chunked,
    /// Requests whose body is longer than this many bytes.
    LargerThan(usize),
}

/// A part of SigV4's credential scope (`date/region/service/aws4_request`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopePart {
    /// `YYYYMMDD`, which must be `X-Amz-Date`'s date.
    Date,
    /// The service.
    Service,
    /// `aws4_request`.
    Terminator,
}

impl ScopePart {
    /// Its index among the scope's four parts.
    pub fn index(self) -> usize {
        match self {
            ScopePart::Date => 0,
            ScopePart::Service => 2,
            ScopePart::Terminator => 3,
        }
    }
}
