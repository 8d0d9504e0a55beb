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

use sigconform_core::lossy::{Component, LossyRead};
use sigconform_core::scheme::{Compared, Delivery, Field, Location};
use sigconform_core::tamper::{ParameterStyle, TagTransform};

use crate::probe::Builder;

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
            Family::Time | Family::Header | Family::Request | Family::Sequence => 2,
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
    /// A character replaced by one outside its alphabet (a separator of
    /// the header's grammar, `!`).
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

    fn name(self) -> &'static str {
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

    fn what(self) -> &'static str {
        match self {
            TextEdit::Insert => "a character of its alphabet inserted",
            TextEdit::Delete => "a character deleted",
            TextEdit::Replace => "a character replaced by another of its alphabet",
            TextEdit::Outside => "a character replaced by one outside its alphabet",
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
    /// Signed correctly, with that region's key, for another region.
    OtherRegion,
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
    fn new(
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
            | Action::Chunked => Acceptable::WhenSigned,
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
        )
    }
}

/// The methods a method operator picks from.
pub(crate) const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Every operator that applies to the run `b` builds probes for.
pub(crate) fn catalogue(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = vec![Operator::new(
        "sign-after",
        "the changes made before signing, so that the signature covers them",
        Family::Signing,
        Action::SignAfter,
    )];
    out.extend(fields(b));
    out.extend(time(b));
    out.extend(signing(b));
    out.extend(headers(b));
    out.extend(bodies(b));
    out.extend(request(b));
    out.extend(sequences(b));
    out
}

/// The fields a scheme may carry, with the names operators give them.
const FIELDS: [(Field, &str); 7] = [
    (Field::KeyId, "key-id"),
    (Field::Algorithm, "algorithm"),
    (Field::Timestamp, "timestamp"),
    (Field::Nonce, "nonce"),
    (Field::Tag, "tag"),
    (Field::BodyHash, "body-hash"),
    (Field::SignedHeaders, "signed-headers"),
];

/// Each field the scheme carries in the request: every text edit, and its
/// absence.
fn fields(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = Vec::new();
    for (field, name) in FIELDS {
        let Some(at) = b.location(&field) else {
            continue;
        };
        if at == Location::Signed {
            continue;
        }
        for edit in TextEdit::ALL {
            let respelt = matches!(field, Field::Algorithm)
                || (field == Field::Timestamp && b.decimal_timestamps());
            if edit == TextEdit::Respell && !respelt {
                continue;
            }
            // A query cannot carry bytes that are not UTF-8.
            if edit == TextEdit::NonUtf8 && matches!(at, Location::Query(_)) {
                continue;
            }
            out.push(Operator::new(
                format!("{name}-{}", edit.name()),
                format!("the {field} {}", edit.what()),
                Family::Field,
                Action::Edit {
                    field: field.clone(),
                    at: at.clone(),
                    edit,
                },
            ));
        }
        out.push(Operator::new(
            format!("{name}-missing"),
            format!("without the {field}"),
            Family::Field,
            Action::Remove {
                field: field.clone(),
                at: at.clone(),
            },
        ));
    }
    if let Some(at @ Location::Item { .. }) = b.location(&Field::Tag) {
        let any = b.scheme.sender().signatures_compared == Compared::Any;
        out.push(Operator::new(
            "signatures-wrong-first",
            "a wrong signature before the right one",
            Family::Field,
            Action::SeveralSignatures {
                at: at.clone(),
                wrong_first: true,
            },
        ));
        if any {
            out.push(Operator::new(
                "signatures-right-first",
                "the right signature before a wrong one",
                Family::Field,
                Action::SeveralSignatures {
                    at,
                    wrong_first: false,
                },
            ));
        }
    }
    if let Some(at @ Location::Member { param: None, .. }) = b.location(&Field::Tag) {
        out.push(Operator::new(
            "label-renamed",
            "the signature under another label than its input's",
            Family::Field,
            Action::LabelRenamed { at },
        ));
    }
    if let Some(Location::Parameter { header, .. }) = b.location(&Field::Tag) {
        for (name, what, style) in [
            (
                "parameters-reordered",
                "the parameters in another order",
                ParameterStyle::Reversed,
            ),
            (
                "parameters-spaced",
                "the parameters with a space after each comma",
                ParameterStyle::SpaceAfterCommas,
            ),
            (
                "parameters-unquoted",
                "the parameters' values without quotes",
                ParameterStyle::Unquoted,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Field,
                Action::Restyle {
                    header: header.as_str().to_owned(),
                    style,
                },
            ));
        }
    }
    out
}

/// The timestamp at other times, where there is one.
fn time(b: &Builder<'_>) -> Vec<Operator> {
    if b.location(&Field::Timestamp).is_none() {
        return Vec::new();
    }
    [
        (
            "timestamp-past",
            "the timestamp up to twice the past limit old",
            Shift::Past,
        ),
        (
            "timestamp-future",
            "the timestamp up to twice the future limit ahead",
            Shift::Future,
        ),
        ("timestamp-zero", "the timestamp 0", Shift::Zero),
        (
            "timestamp-unit",
            "the timestamp in the other unit",
            Shift::Unit,
        ),
    ]
    .into_iter()
    .map(|(name, what, shift)| Operator::new(name, what, Family::Time, Action::Time(shift)))
    .collect()
}

/// The key, the tag's bytes and encoding, the signed header list.
fn signing(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = vec![Operator::new(
        "secret-wrong",
        "signed with a wrong secret",
        Family::Signing,
        Action::Key(KeyChange::WrongSecret),
    )];
    if b.has_key_ids() {
        for (name, what, change) in [
            (
                "key-id-unknown",
                "signed with the runner's secret under a key id the target does not know",
                KeyChange::UnknownId,
            ),
            (
                "key-id-unknown-empty-secret",
                "signed with the empty secret under a key id the target does not know",
                KeyChange::UnknownIdEmptySecret,
            ),
            (
                "key-id-unknown-id-secret",
                "signed with its own id as the secret under a key id the target does not know",
                KeyChange::UnknownIdAsSecret,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Signing,
                Action::Key(change),
            ));
        }
    }
    if b.location(&Field::Tag).is_some() {
        for (name, what, transform) in [
            (
                "tag-prefix",
                "only the first half of the tag",
                TagTransform::TruncateHalf,
            ),
            ("tag-cut", "the tag's last byte cut", TagTransform::Truncate),
            (
                "tag-extended",
                "a byte appended to the tag",
                TagTransform::Extend,
            ),
            ("tag-bytes-empty", "a tag of no bytes", TagTransform::Empty),
            (
                "tag-flip",
                "a bit of the tag flipped",
                TagTransform::FlipLastBit,
            ),
            (
                "tag-other-encoding",
                "the tag in the other encoding",
                TagTransform::OtherEncoding,
            ),
            (
                "tag-uppercase",
                "the tag upper-cased",
                TagTransform::Uppercase,
            ),
            (
                "tag-base64url",
                "the tag in base64url",
                TagTransform::Base64Url,
            ),
            (
                "tag-unpadded",
                "the tag without padding",
                TagTransform::StripPadding,
            ),
            (
                "tag-other-algorithm",
                "the tag of the other hash function",
                TagTransform::OtherAlgorithm,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Signing,
                Action::Tag(transform),
            ));
        }
    }
    let listed = b
        .default_signed_headers(&b.probe_request(), &b.input(b.now))
        .is_some_and(|list| !list.is_empty());
    if listed && b.location(&Field::SignedHeaders).is_some() {
        for (name, what, edit) in [
            (
                "signed-headers-reordered",
                "the signed headers listed in another order",
                ListEdit::Reorder,
            ),
            (
                "signed-headers-dropped",
                "a signed header left out of the list",
                ListEdit::Drop,
            ),
            (
                "signed-headers-repeated",
                "a signed header listed twice",
                ListEdit::Repeat,
            ),
            (
                "signed-headers-unknown-parameter",
                "a signed header listed with a parameter nobody defines",
                ListEdit::UnknownParameter,
            ),
            (
                "signed-headers-absent",
                "a header the request does not carry listed, signed without its line",
                ListEdit::AddAbsent,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Signing,
                Action::SignedList(edit),
            ));
        }
    }
    let base = b.probe_request();
    let input = b.input(b.now);
    for (name, what, form, available) in [
        (
            "presigned",
            "a presigned URL (valid for a minute up to a week and a second), dated up to twice that long ago",
            Form::Presigned,
            b.scheme.presign(&base, &input, 60, &b.key).is_some(),
        ),
        (
            "chunk-signed",
            "a chunk-signed upload",
            Form::Chunked,
            b.scheme.chunked(&base, &input, 16, &b.key).is_some(),
        ),
        (
            "chunk-changed",
            "a chunk-signed upload, a byte of a chunk changed after signing",
            Form::ChunkChanged,
            b.scheme.chunked(&base, &input, 16, &b.key).is_some(),
        ),
        (
            "scope-other-region",
            "signed correctly, with that region's key, for another region",
            Form::OtherRegion,
            super::case::other_region(b).is_some(),
        ),
    ] {
        if available {
            out.push(Operator::new(
                name,
                what,
                Family::Signing,
                Action::Form(form),
            ));
        }
    }
    if super::case::names_its_algorithm(b) {
        out.push(Operator::new(
            "algorithm-other",
            "the other hash function named, the signature made as named",
            Family::Signing,
            Action::OtherAlgorithm,
        ));
    }
    if b.config.denied_key.is_some() {
        out.push(Operator::new(
            "key-not-allowed",
            "a key the target knows, on a route whose allow-list leaves it out",
            Family::Signing,
            Action::Policy(Policy::KeyNotAllowed),
        ));
    }
    if b.config.admin_path.is_some() {
        out.push(Operator::new(
            "admin-route",
            "the runner's key, not an admin key, on an admin route",
            Family::Signing,
            Action::Policy(Policy::AdminRoute),
        ));
    }
    if super::case::signs_expires(b) {
        out.push(Operator::new(
            "expires-passed",
            "an expiry time that has passed",
            Family::Time,
            Action::ExpiresPassed,
        ));
    }
    out
}

/// Headers: each one the signed request carries dropped, duplicated or
/// given another value after signing; names in other case, an order
/// changed, an unsigned header added.
fn headers(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = Vec::new();
    let names = super::case::signed_header_names(b);
    for name in names {
        // Framing headers: a client sends them once, computed.
        if matches!(
            name.as_str(),
            "content-length" | "host" | "transfer-encoding"
        ) {
            continue;
        }
        for (verb, what, change) in [
            ("dropped", "removed", HeaderChange::Drop),
            ("duplicated", "sent twice", HeaderChange::Duplicate),
            (
                "another-value",
                "sent again with another value",
                HeaderChange::AddValue,
            ),
        ] {
            out.push(Operator::new(
                format!("header-{verb}-{name}"),
                format!("{name} {what}"),
                Family::Header,
                Action::Header {
                    name: name.clone(),
                    change,
                },
            ));
        }
    }
    out.push(Operator::new(
        "header-names-case",
        "the header names in other letter case",
        Family::Header,
        Action::HeaderNameCase,
    ));
    out.push(Operator::new(
        "header-reordered",
        "a header moved after the others",
        Family::Header,
        Action::HeaderReorder,
    ));
    out.push(Operator::new(
        "header-unsigned-added",
        "a header nobody signs added",
        Family::Header,
        Action::HeaderUnsigned,
    ));
    out
}

/// The body: its bytes, its length, the JSON (or form) inside it, and
/// what each lossy reader of a body loses.
fn bodies(b: &Builder<'_>) -> Vec<Operator> {
    let base = b.base_body();
    let mut out = Vec::new();
    let mut add = |name: &str, what: &str, change: BodyChange| {
        out.push(Operator::new(
            format!("body-{name}"),
            what,
            Family::Body,
            Action::Body(change),
        ));
    };
    add("flip", "a bit of a body byte flipped", BodyChange::Flip);
    add("insert", "bytes inserted into the body", BodyChange::Insert);
    add("truncate", "the body cut short", BodyChange::Truncate);
    add("append", "bytes appended to the body", BodyChange::Append);
    add(
        "non-utf8",
        "a byte that is not UTF-8 in the body",
        BodyChange::NonUtf8,
    );
    add("large", "the body made 64 KiB", BodyChange::Large);
    if b.scheme.sender().empty_body {
        add("empty", "no body", BodyChange::Empty);
    }
    if base.is_json() || base.is_form() {
        add(
            "member",
            "a member of the runner's added, with a value serialisers disagree on",
            BodyChange::Member,
        );
    }
    if base.is_json() && b.signs_json_only() {
        add(
            "javascript-member",
            "a member only JavaScript's JSON.parse reads as meant (a lone surrogate, 1e400, __proto__)",
            BodyChange::JavaScriptMember,
        );
    }
    if base.is_json() {
        add(
            "whitespace",
            "the same JSON with whitespace between its tokens",
            BodyChange::Whitespace,
        );
        add(
            "duplicate-key",
            "a member written twice, the first copy another value",
            BodyChange::DuplicateKey,
        );
    }
    add(
        "unparsable",
        "text no parser reads, under a signature of an empty body",
        BodyChange::Unparsable,
    );
    if b.location(&Field::BodyHash)
        .is_some_and(|at| at != Location::Signed)
    {
        add(
            "hash-follows",
            "a byte appended to the body and the body hash written for it",
            BodyChange::HashFollows,
        );
    }
    for read in LossyRead::ALL {
        if read.component() == Component::Body {
            out.push(lossy(read));
        }
    }
    out
}

fn lossy(read: LossyRead) -> Operator {
    let family = match read.component() {
        Component::Body => Family::Body,
        Component::Path | Component::Query => Family::Request,
    };
    Operator::new(
        format!("lossy-{}", read.name()),
        read.describe(),
        family,
        Action::Lossy(read),
    )
}

/// The method, the path (not of a fixed route, nor where the runner
/// writes a resource), the query (where the route takes one), the content
/// type, and the framing.
fn request(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = vec![Operator::new(
        "method",
        "another method",
        Family::Request,
        Action::Method,
    )];
    let writes = b.writes_a_resource();
    if !b.fixed_route && !writes {
        for (name, what, change) in [
            (
                "path-segment",
                "a segment appended to the path",
                PathChange::Segment,
            ),
            (
                "path-dot-segments",
                "dot segments in the path that resolve to the path signed",
                PathChange::DotSegments,
            ),
            (
                "path-empty-segment",
                "an empty segment in the path",
                PathChange::EmptySegment,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Request,
                Action::Path(change),
            ));
        }
        for read in [LossyRead::DecodedPath, LossyRead::LowercasedPath] {
            out.push(lossy(read));
        }
    }
    if b.sends_query() && !writes {
        for (name, what, change) in [
            ("query-added", "a query parameter added", QueryChange::Add),
            (
                "query-changed",
                "the query's last value changed",
                QueryChange::Change,
            ),
            ("query-removed", "the query removed", QueryChange::Remove),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Request,
                Action::Query(change),
            ));
        }
        out.push(lossy(LossyRead::DecodedQuery));
    }
    for (name, what, change) in [
        (
            "content-type-other",
            "another content type",
            ContentTypeChange::Other,
        ),
        (
            "content-type-missing",
            "no content type",
            ContentTypeChange::Drop,
        ),
        (
            "content-type-charset",
            "a charset parameter on the content type",
            ContentTypeChange::Charset,
        ),
    ] {
        out.push(Operator::new(
            name,
            what,
            Family::Request,
            Action::ContentType(change),
        ));
    }
    if b.scheme.sender().chunked_bodies {
        out.push(Operator::new(
            "chunked",
            "the body sent in chunks (Transfer-Encoding: chunked)",
            Family::Request,
            Action::Chunked,
        ));
    }
    out
}

/// Replays and concurrent copies, where the scheme has nonces; a refused
/// copy first, everywhere.
fn sequences(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = vec![Operator::new(
        "replay-after-refused",
        "a copy signed with a wrong secret, then the request",
        Family::Sequence,
        Action::Sequence(Sequence::ReplayAfterRefused),
    )];
    if !b.has_nonce() {
        return out;
    }
    out.push(Operator::new(
        "replay",
        "the request sent again once answered",
        Family::Sequence,
        Action::Sequence(Sequence::Replay),
    ));
    out.push(Operator::new(
        "replay-after-pause",
        "the request sent again after a pause",
        Family::Sequence,
        Action::Sequence(Sequence::ReplayAfterPause),
    ));
    if b.has_key_ids() && b.location(&Field::KeyId).is_some() {
        out.push(Operator::new(
            "replay-key-id-case",
            "the request signed again under its key id in other letter case, with its nonce",
            Family::Sequence,
            Action::Sequence(Sequence::ReplayKeyIdCase),
        ));
    }
    // Two writes of one resource at once race in the store, not the
    // verifier.
    if !b.writes_a_resource() {
        out.push(Operator::new(
            "concurrent",
            "two copies at the same moment",
            Family::Sequence,
            Action::Sequence(Sequence::Concurrent),
        ));
    }
    out
}

/// Where the scheme's requests go, for the method operator: the methods
/// its senders use, or an API's.
pub(crate) fn methods(b: &Builder<'_>) -> Vec<String> {
    if b.writes_a_resource() {
        // Only the runner's own object: read, written, nothing else.
        return vec!["GET".into(), "PUT".into()];
    }
    match b.scheme.delivery() {
        Delivery::Endpoint { methods } if !methods.is_empty() => {
            let mut all: Vec<String> = METHODS.iter().map(|m| (*m).to_owned()).collect();
            for m in methods {
                if !all.contains(&m) {
                    all.push(m);
                }
            }
            all
        }
        _ => METHODS.iter().map(|m| (*m).to_owned()).collect(),
    }
}
