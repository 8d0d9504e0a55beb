//! The fuzzer's operators: named, structure-aware changes to a correctly
//! signed request, several composed to one request.
//!
//! They come from the scheme's own description, never from a list per
//! scheme: the fields it carries and where ([`Scheme::location`]), its
//! tag's encoding, whether it carries key ids, nonces, a list of signed
//! headers or several signatures in one header, the headers it writes,
//! what its senders deliver ([`Scheme::sender`]), the lossy readers of
//! [`sigconform_core::lossy`], and the deployment the runner learned (its
//! body, its route, its methods). Each operator says whether a request it
//! changes can still be one a conformant signer sends ([`Acceptable`]):
//! only such a request is one the target must accept.
//!
//! [`Scheme::location`]: sigconform_core::scheme::Scheme::location
//! [`Scheme::sender`]: sigconform_core::scheme::Scheme::sender

use sigconform_core::lossy::LossyRead;
use sigconform_core::scheme::{Field, Location};
use sigconform_core::tamper::{ParameterStyle, TagTransform};

/// What an operator changes: operators are picked a family first, so that
/// each family gets its share whatever the number of fields a scheme has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// A field of the signature (its text, or its absence).
    Field,
    /// The timestamp's value.
    Time,
    /// How the tag is made: the key, the secret, the algorithm, the tag's
    /// bytes and encoding, the signed header list.
    Signing,
    /// Another form of signed request the scheme has (SigV4's presigned
    /// URL and chunk-signed upload, a credential scope of another part).
    Form,
    /// The request's headers.
    Header,
    /// The body.
    Body,
    /// The method, path, query, content type and framing.
    Request,
    /// More than one request: replays, and two at once.
    Sequence,
}

impl Family {
    /// How often a family is picked, relative to the others.
    pub(crate) fn weight(self) -> u32 {
        match self {
            Family::Field => 8,
            Family::Signing => 4,
            Family::Body => 3,
            Family::Time | Family::Form | Family::Header | Family::Request | Family::Sequence => 2,
        }
    }
}

/// Whether a request an operator changed can be one a conformant signer
/// sends, so that a target must accept it where the reference does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acceptable {
    /// No: a verifier may refuse it whatever the reference says.
    Never,
    /// Yes (another spelling the rules require a verifier to read: header
    /// names in other letter case, parameters in another order).
    Always,
    /// Where the signature covers the change (the content a signer sends:
    /// a JSON member, a large body): only with [`Action::SignAfter`].
    WhenSigned,
}

/// A change to a field's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEdit {
    /// A character of its alphabet inserted.
    Insert,
    /// A character deleted.
    Delete,
    /// A character replaced by another of its alphabet.
    Replace,
    /// A character outside its alphabet (a separator of the header's
    /// grammar, `!`) inserted after one of its characters: between two, as
    /// a decoder that skips such characters drops it, or after the last,
    /// as one that stops where its alphabet ends ignores it.
    Outside,
    /// A character replaced by non-ASCII text (`é`, an emoji).
    NonAscii,
    /// A character replaced by a byte that is not UTF-8.
    NonUtf8,
    /// The letter case of its letters swapped.
    Case,
    /// A space or tab before, after or inside it.
    Space,
    /// Written twice.
    Repeat,
    /// Its end cut.
    Truncate,
    /// Characters of its alphabet appended.
    Extend,
    /// Empty.
    Empty,
    /// A decimal timestamp written another way (`+N`, `N.0`, `Ne0`,
    /// `0xN`, leading zeros, a sign, a fraction), or an algorithm's name
    /// another way (`none`, lower case, another hash).
    Respell,
}

impl TextEdit {
    pub(crate) const ALL: [TextEdit; 13] = [
        TextEdit::Insert,
        TextEdit::Delete,
        TextEdit::Replace,
        TextEdit::Outside,
        TextEdit::NonAscii,
        TextEdit::NonUtf8,
        TextEdit::Case,
        TextEdit::Space,
        TextEdit::Repeat,
        TextEdit::Truncate,
        TextEdit::Extend,
        TextEdit::Empty,
        TextEdit::Respell,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            TextEdit::Insert => "insert",
            TextEdit::Delete => "delete",
            TextEdit::Replace => "replace",
            TextEdit::Outside => "outside-alphabet",
            TextEdit::NonAscii => "non-ascii",
            TextEdit::NonUtf8 => "non-utf8",
            TextEdit::Case => "case",
            TextEdit::Space => "space",
            TextEdit::Repeat => "repeat",
            TextEdit::Truncate => "truncate",
            TextEdit::Extend => "extend",
            TextEdit::Empty => "empty",
            TextEdit::Respell => "respell",
        }
    }

    pub(super) fn what(self) -> &'static str {
        match self {
            TextEdit::Insert => "a character of its alphabet inserted",
            TextEdit::Delete => "a character deleted",
            TextEdit::Replace => "a character replaced by another of its alphabet",
            TextEdit::Outside => "a character outside its alphabet inserted",
            TextEdit::NonAscii => "a character replaced by non-ASCII text",
            TextEdit::NonUtf8 => "a character replaced by a byte that is not UTF-8",
            TextEdit::Case => "its letters in other case",
            TextEdit::Space => "a space or tab around or inside it",
            TextEdit::Repeat => "written twice",
            TextEdit::Truncate => "cut short",
            TextEdit::Extend => "extended",
            TextEdit::Empty => "empty",
            TextEdit::Respell => "written another way",
        }
    }
}

/// A timestamp at another time, signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shift {
    /// In the past: up to twice the past limit.
    Past,
    /// In the future: up to twice the future limit.
    Future,
    /// Zero.
    Zero,
    /// In the other unit (milliseconds for seconds, or the reverse).
    Unit,
}

/// The key a request is signed with, where it is not the runner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyChange {
    /// The runner's key id, a wrong secret.
    WrongSecret,
    /// A key id the target does not know, the runner's secret.
    UnknownId,
    /// A key id the target does not know, the empty secret.
    UnknownIdEmptySecret,
    /// A key id the target does not know, that id as the secret.
    UnknownIdAsSecret,
}

/// A change to the list of signed headers (components), signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListEdit {
    /// In another order.
    Reorder,
    /// One left out.
    Drop,
    /// One listed twice.
    Repeat,
    /// One with a parameter nobody defines (`;x`).
    UnknownParameter,
    /// A header the request does not carry listed, signed without its
    /// line (as a verifier that treats it as optional signs it).
    AddAbsent,
}

/// A change to one header, after signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderChange {
    /// Removed.
    Drop,
    /// Sent twice with the same value.
    Duplicate,
    /// Sent again with another value after it.
    AddValue,
}

/// A change to the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyChange {
    /// A bit of a byte flipped.
    Flip,
    /// Bytes inserted.
    Insert,
    /// Its end cut.
    Truncate,
    /// Bytes appended.
    Append,
    /// A byte that is not UTF-8 in it.
    NonUtf8,
    /// Empty.
    Empty,
    /// 64 KiB (inside the envelope).
    Large,
    /// A member (or a form field) of the runner's with a value serialisers
    /// disagree on (non-ASCII text, escapes, `1e21`, `-0`, 2^53 + 1, keys
    /// that are array indices), inside the envelope.
    Member,
    /// A member only JavaScript's `JSON.parse` reads as a signer meant
    /// (a lone surrogate, a number beyond the double range, `__proto__`),
    /// where the scheme signs JSON itself: strict parsers refuse it.
    JavaScriptMember,
    /// The same JSON with whitespace between its tokens.
    Whitespace,
    /// A member of the JSON written twice, the first copy another value.
    DuplicateKey,
    /// Replaced after signing by text no parser reads, the signature made
    /// over an empty body.
    Unparsable,
    /// A byte appended after signing and the body hash field written anew
    /// for the body as sent (a verifier that trusts the field).
    HashFollows,
}

/// A change to the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathChange {
    /// A segment appended.
    Segment,
    /// Dot segments that resolve to the path signed (`/a/x/../b`).
    DotSegments,
    /// An empty segment (`//`).
    EmptySegment,
}

/// A change to the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryChange {
    /// A parameter added.
    Add,
    /// The last value changed.
    Change,
    /// The query removed.
    Remove,
}

/// A change to the `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentTypeChange {
    /// Another media type.
    Other,
    /// None.
    Drop,
    /// A `charset` parameter added.
    Charset,
}

/// More than one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sequence {
    /// The request sent again once answered.
    Replay,
    /// The request sent again after a pause.
    ReplayAfterPause,
    /// A copy signed with a wrong secret (the same nonce and timestamp)
    /// first, then the request: a refused request changes nothing.
    ReplayAfterRefused,
    /// The request sent again, signed anew under its key id in other
    /// letter case (the same nonce).
    ReplayKeyIdCase,
    /// Two copies at the same moment.
    Concurrent,
}

/// Another form of signed request the scheme has (SigV4's), in place of
/// a signature in headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// A presigned URL, valid for a time it names, dated up to twice that
    /// long ago.
    Presigned,
    /// A chunk-signed upload.
    Chunked,
    /// A chunk-signed upload with a byte of a chunk changed after signing.
    ChunkChanged,
    /// A chunk-signed upload framed or signed otherwise than the rules
    /// say.
    ChunkMisframed(ChunkChange),
    /// Signed correctly, with that region's key, for another region.
    OtherRegion,
    /// Signed correctly, with that scope's key, for a credential scope
    /// with another part than the target's.
    OtherScope(ScopeChange),
}

/// How a chunk-signed upload breaks its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkChange {
    /// Every chunk signed after the seed signature, not after the chunk
    /// before it.
    Unchained,
    /// Without the final zero-length chunk.
    FinalMissing,
    /// `x-amz-decoded-content-length` one more than the data's length.
    DecodedLength,
    /// The first chunk's signature, one hex digit changed.
    SignatureChanged,
}

/// A part of a credential scope other than its region, changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeChange {
    /// The day before the request's `X-Amz-Date`.
    Date,
    /// Another service.
    Service,
    /// Another last word than `aws4_request`.
    Terminator,
}

impl ScopeChange {
    /// Where the part is in `DATE/REGION/SERVICE/TERMINATOR`.
    pub(crate) fn index(self) -> usize {
        match self {
            ScopeChange::Date => 0,
            ScopeChange::Service => 2,
            ScopeChange::Terminator => 3,
        }
    }
}

/// A key policy of the target's (a route's allow-list, an admin route),
/// where the run was told of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// A key the target knows, on a route whose allow-list leaves it out.
    KeyNotAllowed,
    /// The runner's key (not an admin key) on an admin route.
    AdminRoute,
}

/// What an operator does.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// The content and the signer's input are changed before signing, so
    /// that the signature covers the changes (without it, they are made to
    /// the signed request).
    SignAfter,
    /// A field's text.
    Edit {
        field: Field,
        at: Location,
        edit: TextEdit,
    },
    /// The field left out (under [`Action::SignAfter`], signed as absent
    /// in one of the ways a verifier that treats it as optional signs it).
    Remove { field: Field, at: Location },
    /// The timestamp's value.
    Time(Shift),
    /// The key.
    Key(KeyChange),
    /// The tag's bytes or encoding.
    Tag(TagTransform),
    /// Another (wrong) signature beside the right one, in a header whose
    /// signatures are items of a list.
    SeveralSignatures { at: Location, wrong_first: bool },
    /// The signature moved to another label than its input's.
    LabelRenamed { at: Location },
    /// An `expires` parameter that has passed.
    ExpiresPassed,
    /// The signed header list.
    SignedList(ListEdit),
    /// The parameter header written another way.
    Restyle {
        header: String,
        style: ParameterStyle,
    },
    /// One header.
    Header {
        name: http::HeaderName,
        change: HeaderChange,
    },
    /// Every header name in other letter case (raw TCP).
    HeaderNameCase,
    /// A header moved to the end.
    HeaderReorder,
    /// A header nobody signs added.
    HeaderUnsigned,
    /// An `x-amz-meta-*` header added after signing (S3 requires every
    /// `x-amz-*` header signed).
    HeaderAmzUnsigned,
    /// An `x-amz-meta-*` header whose value has a run of spaces inside
    /// (signed, under `sign-after`, with the run as one space).
    HeaderValueSpaced,
    /// The body.
    Body(BodyChange),
    /// The method.
    Method,
    /// The path.
    Path(PathChange),
    /// The query.
    Query(QueryChange),
    /// The content type.
    ContentType(ContentTypeChange),
    /// The body sent in chunks (`Transfer-Encoding: chunked`, raw TCP).
    Chunked,
    /// A component changed in exactly what a lossy reader loses.
    Lossy(LossyRead),
    /// More than one request.
    Sequence(Sequence),
    /// Another form of signed request.
    Form(Form),
    /// The named algorithm the other one (HMAC-SHA512 for HMAC-SHA256).
    OtherAlgorithm,
    /// A key policy's route.
    Policy(Policy),
}

/// One operator.
#[derive(Debug, Clone)]
pub(crate) struct Operator {
    /// Its name, which groups findings (`tag-truncate`, `body-flip`).
    pub(crate) name: String,
    /// What it does, for a reader.
    pub(crate) what: String,
    /// Its family.
    pub(crate) family: Family,
    /// What it does, for the builder.
    pub(crate) action: Action,
}

impl Operator {
    pub(super) fn new(
        name: impl Into<String>,
        what: impl Into<String>,
        family: Family,
        action: Action,
    ) -> Self {
        Operator {
            name: name.into(),
            what: what.into(),
            family,
            action,
        }
    }

    /// Whether a request it changed can be one a signer sends (see
    /// [`Acceptable`]); the method's and the content's own checks are made
    /// where they are applied.
    pub(crate) fn acceptable(&self) -> Acceptable {
        match &self.action {
            Action::SignAfter
            | Action::Time(_)
            | Action::Restyle {
                style: ParameterStyle::Reversed | ParameterStyle::SpaceAfterCommas,
                ..
            }
            | Action::SignedList(ListEdit::Reorder)
            | Action::HeaderNameCase
            | Action::HeaderReorder
            | Action::HeaderUnsigned
            | Action::SeveralSignatures { .. }
            | Action::Form(Form::Presigned | Form::Chunked) => Acceptable::Always,
            Action::Body(
                BodyChange::Member
                | BodyChange::JavaScriptMember
                | BodyChange::Large
                | BodyChange::Whitespace
                | BodyChange::Empty,
            )
            | Action::Method
            | Action::Chunked
            | Action::HeaderValueSpaced => Acceptable::WhenSigned,
            _ => Acceptable::Never,
        }
    }

    /// Whether it changes what a signer signs (the content, the method,
    /// the path): applied before signing under [`Action::SignAfter`],
    /// after it otherwise.
    pub(crate) fn is_content(&self) -> bool {
        matches!(
            self.action,
            Action::Body(
                BodyChange::Flip
                    | BodyChange::Insert
                    | BodyChange::Truncate
                    | BodyChange::Append
                    | BodyChange::NonUtf8
                    | BodyChange::Empty
                    | BodyChange::Large
                    | BodyChange::Member
                    | BodyChange::JavaScriptMember
                    | BodyChange::Whitespace
                    | BodyChange::DuplicateKey
            ) | Action::Method
                | Action::Path(_)
                | Action::Query(_)
                | Action::ContentType(_)
                | Action::Chunked
                | Action::HeaderUnsigned
                | Action::HeaderValueSpaced
        )
    }
}
