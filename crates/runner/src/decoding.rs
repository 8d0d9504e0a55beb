//! `malformed`: every encoded field is decoded strictly.
//!
//! The fields a verifier decodes are found through the scheme
//! ([`lenient::written_in`]): the tag and a body hash the request carries,
//! in the encoding the scheme writes them, and a timestamp of decimal
//! digits. Each is sent as its right value with one [`Decoration`] a strict
//! decoder refuses: a character outside its alphabet or whitespace in the
//! middle, junk after it, an odd hex digit, non-zero base64 padding bits.
//!
//! What "right value" means differs by field, and so does how the case is
//! signed:
//!
//! - the tag is the one computed for the request, decorated after
//!   signing: it is compared, not signed;
//! - a body hash is the body's, decorated and signed as sent (where the
//!   signed string holds it, or the URL it is in): only the comparison with
//!   the body's hash can refuse it;
//! - a timestamp is the target's "now", decorated and signed as sent, as
//!   the other timestamp spellings are (`malformed.rs`): only its parse can
//!   refuse it.
//!
//! Each case's control is the verifier that decodes that field with the
//! decoder that reads that decoration, and no other, as the right value
//! ([`Decoration::read_by`]). Inside a structured field's byte sequence
//! (RFC 9421's `Signature` and `Content-Digest`) RFC 8941 asks parsers not
//! to fail on non-zero padding bits: there either answer conforms.

use super::probe::{Builder, Expect, Probe, ROBUSTNESS, Step};
use crate::verdict::Category::Malformed;
use sigconform_core::lenient::{self, Alphabet, Decoration};
use sigconform_core::request::Request;
use sigconform_core::scheme::{Field, Location, SignInput, TimestampSyntax};
use sigconform_core::tamper::Recipe;
use sigconform_defects::Defect;

/// Every strict-decoding case, in catalog order.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = Vec::new();
    for field in lenient::DECODED {
        let Some((at, alphabet)) = lenient::written_in(b.scheme.as_ref(), &field) else {
            continue;
        };
        for decoration in Decoration::ALL {
            out.extend(decorated(b, &field, &at, alphabet, decoration));
        }
    }
    out
}

/// The short name of a decoded field, for case ids.
fn field_name(field: &Field) -> &'static str {
    match field {
        Field::Timestamp => "timestamp",
        Field::BodyHash => "body-hash",
        _ => "tag",
    }
}

/// The whitespace a value at `at` can carry in its middle: a space; a tab
/// where spaces separate a header's items (Standard Webhooks' signature
/// list), so that the item stays one; a line break in a query.
fn whitespace(at: &Location) -> char {
    match at {
        Location::Query(_) => '\n',
        Location::Item { separator: ' ', .. } => '\t',
        _ => ' ',
    }
}

/// The case for `field` (at `at`, in `alphabet`) with `decoration`, where
/// the decoration applies to its value.
fn decorated(
    b: &Builder<'_>,
    field: &Field,
    at: &Location,
    alphabet: Alphabet,
    decoration: Decoration,
) -> Option<Probe> {
    let ws = whitespace(at);
    let structured = matches!(at, Location::Member { .. });
    let expect = match field {
        Field::Timestamp if b.scheme.sender().timestamp_syntax == TimestampSyntax::Lenient => {
            Expect::RejectOrWarn
        }
        _ if structured && decoration == Decoration::PaddingBits => Expect::Either,
        _ => Expect::Reject,
    };
    let (step, written) = match field {
        Field::Timestamp => {
            let now = b.scheme.timestamp_text(b.now);
            let written = decoration.apply(alphabet, &now, ws)?;
            let r = Recipe {
                input: SignInput {
                    timestamp: written.clone(),
                    ..b.input(b.now)
                },
                ..Recipe::default()
            };
            (b.step(&b.probe_request(), &r, expect), written)
        }
        _ => {
            // Whether there is a value to decorate is known only once it is
            // signed; a field that cannot be decorated has no case.
            let signed = b.step(&b.probe_request(), &b.recipe(b.now), expect).ok()?;
            let value = lenient::read_value(at, &signed.request)?.into_owned();
            let written = decoration.apply(alphabet, &value, ws)?;
            (sent_with(b, signed, field, at, &written), written)
        }
    };
    let what = match field {
        Field::Tag => "",
        _ => ", signed as sent",
    };
    let description = format!(
        "the {field} with {}{what}",
        decoration.describe(alphabet, ws)
    );
    let (description, rule) = match (field, expect) {
        (_, Expect::Either) => (
            format!("{description} (either answer conforms)"),
            "strict-decoding",
        ),
        (Field::Timestamp, _) => (format!("{description}: 4xx"), "timestamp-syntax"),
        _ => (format!("{description}: 4xx"), "strict-decoding"),
    };
    // A decoration the field's structure does not keep (a space ends a
    // structured field's item) leaves no value where the field is for a
    // decoder to read: such a case checks a 4xx, not a 5xx.
    let kept = step.as_ref().is_ok_and(|step| {
        lenient::read_value(at, &step.request).as_deref() == Some(written.as_str())
    });
    let probe = b
        .probe(
            Malformed,
            &format!("{}-{}", field_name(field), decoration.name()),
            &description,
            vec![step],
        )
        .rule(b.cite(rule));
    Some(match expect {
        Expect::Either => probe.no_control("either answer conforms: nothing to prove"),
        _ if !kept => probe.no_control(ROBUSTNESS),
        _ => probe.control(Defect::DecodesLeniently(
            field.clone(),
            decoration.read_by(),
        )),
    })
}

/// `signed` with `field` written as `written`: the tag as it is (it is not
/// signed); a body hash signed as sent, its tag made as the scheme's
/// verifier computes it for the request with that text.
fn sent_with(
    b: &Builder<'_>,
    signed: Step,
    field: &Field,
    at: &Location,
    written: &str,
) -> Result<Step, String> {
    let mut step = signed;
    let clean: Request = step.request.clone();
    lenient::write_value(at, &mut step.request, written)?;
    if *field == Field::Tag {
        return Ok(step);
    }
    let scheme = b.scheme.as_ref();
    let mut params = scheme
        .parse(&clean)
        .map_err(|e| format!("the signed request does not parse: {e}"))?
        .into_owned();
    if params.body_hash.is_some() {
        params.body_hash = Some(written.to_owned().into());
    }
    let mut canonical = Vec::new();
    scheme
        .canonicalize(&step.request, &params, &mut canonical)
        .map_err(|e| e.to_string())?;
    let tag = scheme
        .signing_key(&b.key, &params)
        .sign(params.algorithm, &canonical);
    let tag_at = scheme
        .location(&Field::Tag)
        .ok_or("the scheme carries no tag")?;
    tag_at.write(
        &mut step.request,
        scheme.tag_encoding().encode(tag.as_bytes()).as_bytes(),
    )?;
    step.canonical = String::from_utf8_lossy(&canonical).into_owned();
    Ok(step)
}
