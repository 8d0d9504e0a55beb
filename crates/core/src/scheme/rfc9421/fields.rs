//! `Signature-Input` and `Signature`: the two dictionaries a signature
//! travels in, read with `sfv` (RFC 8941), and the one signature a
//! verifier checks chosen from them (RFC 9421 sections 3.2 and 4).

use std::borrow::Cow;

use sfv::RefBareItem;

use super::borrowed::{Dictionary, Item, Member, Params};
use super::components::Identifier;
use crate::Rejection;
use crate::request::Request;

/// `signature-input`.
pub const SIGNATURE_INPUT: http::HeaderName = http::HeaderName::from_static("signature-input");
/// `signature`.
pub const SIGNATURE: http::HeaderName = http::HeaderName::from_static("signature");

fn malformed(header: &http::HeaderName, detail: &'static str) -> Rejection {
    Rejection::MalformedHeader {
        header: header.as_str().into(),
        detail,
    }
}

/// One signature as received: its covered components and metadata
/// parameters (from `Signature-Input`) and its value (from `Signature`).
#[derive(Debug)]
pub(super) struct Received {
    /// The covered components, each serialized strictly, with what it names.
    pub components: Vec<(String, Identifier<'static>)>,
    /// The metadata parameters.
    pub metadata: Metadata,
    /// The signature's bytes.
    pub signature: Vec<u8>,
}

/// Every line of `name` in `req`, combined as one field value (RFC 9110
/// section 5.3); borrowed where there is one line.
pub(super) fn combined<'r>(
    req: &'r Request,
    name: &http::HeaderName,
) -> Result<Option<Cow<'r, str>>, Rejection> {
    let mut lines = req.headers().get_all(name).iter();
    let line = |v: &'r http::HeaderValue| v.to_str().map_err(|_| malformed(name, "not ASCII"));
    let Some(first) = lines.next() else {
        return Ok(None);
    };
    let first = line(first)?;
    let mut rest = lines.peekable();
    if rest.peek().is_none() {
        return Ok(Some(Cow::Borrowed(first)));
    }
    let mut text = first.to_owned();
    for v in rest {
        text.push_str(", ");
        text.push_str(line(v)?);
    }
    Ok(Some(Cow::Owned(text)))
}

/// The field `name`'s lines, combined, as a dictionary.
fn dictionary<'t>(text: &'t str, name: &http::HeaderName) -> Result<Dictionary<'t>, Rejection> {
    Dictionary::parse(text).map_err(|_| malformed(name, "not a structured dictionary"))
}

/// `text` as a structured-field string, where it has nothing to escape
/// (cheaper than `format!`, on every component of every request).
pub(super) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    out.push_str(text);
    out.push('"');
    out
}

/// Reads the signature labelled `label`, or where no label is configured
/// the first of `Signature-Input`. Every label must be in both fields (a
/// label in one only is an error, RFC 9421 section 4); a label repeated
/// across lines is refused, though RFC 8941 would keep the last, because
/// labels must be unique across all lines (section 4.1).
pub(super) fn read(req: &Request, label: Option<&str>) -> Result<Received, Rejection> {
    let missing = |name: &http::HeaderName| Rejection::MissingHeader(name.as_str().into());
    let input_text = combined(req, &SIGNATURE_INPUT)?.ok_or_else(|| missing(&SIGNATURE_INPUT))?;
    let signature_text = combined(req, &SIGNATURE)?.ok_or_else(|| missing(&SIGNATURE))?;
    let inputs = dictionary(&input_text, &SIGNATURE_INPUT)?;
    let signatures = dictionary(&signature_text, &SIGNATURE)?;
    for (name, dict) in [(&SIGNATURE_INPUT, &inputs), (&SIGNATURE, &signatures)] {
        if dict.repeated && repeated_across_lines(req, name, dict.members.len()) {
            return Err(Rejection::DuplicateHeader(format!("{name} label")));
        }
    }
    let labels_differ = inputs.members.len() != signatures.members.len()
        || inputs
            .members
            .iter()
            .any(|(k, _)| signatures.get(k.as_str()).is_none());
    if labels_differ {
        return Err(malformed(
            &SIGNATURE,
            "the labels of Signature and Signature-Input differ",
        ));
    }
    let (label, input) = match label {
        Some(label) => inputs
            .members
            .iter()
            .find(|(k, _)| k.as_str() == label)
            .ok_or_else(|| Rejection::MissingHeader(format!("signature {label}")))?,
        None => inputs
            .members
            .first()
            .ok_or_else(|| missing(&SIGNATURE_INPUT))?,
    };
    let Member::InnerList(items, params) = input else {
        return Err(malformed(&SIGNATURE_INPUT, "a member is not an inner list"));
    };
    let signature = match signatures.get(label.as_str()) {
        Some(Member::Item(Item {
            bare: sfv::GenericBareItem::ByteSequence(bytes),
            params,
        })) if params.is_empty() => bytes.clone(),
        _ => return Err(Rejection::MalformedSignature),
    };
    Ok(Received {
        components: components(items)?,
        metadata: metadata(params)?,
        signature,
    })
}

/// Whether the lines of `name` hold more members than their dictionary
/// (a label given twice on different lines; on one line, the last counts).
fn repeated_across_lines(req: &Request, name: &http::HeaderName, distinct: usize) -> bool {
    let members: usize = req
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| Dictionary::parse(v).ok())
        .map(|d| d.members.len())
        .sum();
    members > distinct
}

/// The covered components, each once.
fn components(items: &[Item<'_>]) -> Result<Vec<(String, Identifier<'static>)>, Rejection> {
    let mut out: Vec<(String, Identifier<'static>)> = Vec::with_capacity(items.len());
    for item in items {
        let id = Identifier::from_item(item)?;
        if id.name == "@signature-params" {
            return Err(malformed(&SIGNATURE_INPUT, "@signature-params is covered"));
        }
        // A name alone (most components) is its quoted self.
        let serialized = if item.params.is_empty() && !id.name.contains(['"', '\\']) {
            quoted(&id.name)
        } else {
            sfv::ItemSerializer::new()
                .bare_item(&item.bare)
                .parameters(item.params.0.iter().map(|(k, v)| (*k, v)))
                .finish()
        };
        if out.iter().any(|(s, _)| *s == serialized) {
            return Err(malformed(&SIGNATURE_INPUT, "a component is covered twice"));
        }
        out.push((serialized, id));
    }
    Ok(out)
}

/// A signature's metadata parameters: all of them in the order received,
/// each serialized, and the values of those RFC 9421 defines.
#[derive(Debug, Default)]
pub(super) struct Metadata {
    pub list: Vec<(String, String)>,
    pub created: Option<u64>,
    pub expires: Option<u64>,
    pub nonce: Option<String>,
    pub alg: Option<String>,
    pub keyid: Option<String>,
    pub tag: Option<String>,
}

/// The metadata parameters; those RFC 9421 defines must have their types
/// (`created` and `expires` non-negative integers, the others strings).
fn metadata(params: &Params<'_>) -> Result<Metadata, Rejection> {
    let mut out = Metadata::default();
    for (name, value) in &params.0 {
        let value = RefBareItem::from(value);
        let text = match value {
            RefBareItem::String(s) => Some(s.as_str().to_owned()),
            _ => None,
        };
        let time = match value {
            RefBareItem::Integer(i) => u64::try_from(i64::from(i)).ok(),
            _ => None,
        };
        match name.as_str() {
            "created" => out.created = Some(time.ok_or(Rejection::MalformedTimestamp)?),
            "expires" => out.expires = Some(time.ok_or(Rejection::MalformedTimestamp)?),
            "nonce" | "alg" | "keyid" | "tag" => {
                let text = text.ok_or_else(|| {
                    malformed(&SIGNATURE_INPUT, "a signature parameter is not a string")
                })?;
                *match name.as_str() {
                    "nonce" => &mut out.nonce,
                    "alg" => &mut out.alg,
                    "keyid" => &mut out.keyid,
                    _ => &mut out.tag,
                } = Some(text);
            }
            _ => {}
        }
        let serialized = match (time, value) {
            (Some(seconds), _) => seconds.to_string(),
            (None, RefBareItem::String(text)) if !text.as_str().contains(['"', '\\']) => {
                quoted(text.as_str())
            }
            _ => sfv::ItemSerializer::new().bare_item(value).finish(),
        };
        out.list.push((name.as_str().to_owned(), serialized));
    }
    Ok(out)
}
