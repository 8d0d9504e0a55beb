//! `Signature-Input` and `Signature`: the two dictionaries a signature
//! travels in, read with `sfv` (RFC 8941), and the one signature a
//! verifier checks chosen from them (RFC 9421 sections 3.2 and 4).

use sfv::{BareItem, Dictionary, InnerList, ListEntry, Parser};

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

/// Both fields of `req`, every line of each combined, as dictionaries.
fn dictionary(req: &Request, name: &http::HeaderName) -> Result<Dictionary, Rejection> {
    let lines: Vec<&str> = req
        .headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().map_err(|_| malformed(name, "not ASCII")))
        .collect::<Result<_, _>>()?;
    if lines.is_empty() {
        return Err(Rejection::MissingHeader(name.as_str().into()));
    }
    Parser::new(&lines.join(", "))
        .with_version(sfv::Version::Rfc8941)
        .parse()
        .map_err(|_| malformed(name, "not a structured dictionary"))
}

/// Reads the signature labelled `label`, or where no label is configured
/// the first of `Signature-Input`. Every label must be in both fields (a
/// label in one only is an error, RFC 9421 section 4); a label repeated
/// across lines is refused, though RFC 8941 would keep the last, because
/// labels must be unique across all lines (section 4.1).
pub(super) fn read(req: &Request, label: Option<&str>) -> Result<Received, Rejection> {
    let inputs = dictionary(req, &SIGNATURE_INPUT)?;
    let signatures = dictionary(req, &SIGNATURE)?;
    for (name, dict) in [(&SIGNATURE_INPUT, &inputs), (&SIGNATURE, &signatures)] {
        let lines = req.headers().get_all(name).iter().count();
        if lines > 1 && repeated_label(req, name, dict.len()) {
            return Err(Rejection::DuplicateHeader(format!("{name} label")));
        }
    }
    if inputs.len() != signatures.len() || inputs.keys().any(|k| !signatures.contains_key(k)) {
        return Err(malformed(
            &SIGNATURE,
            "the labels of Signature and Signature-Input differ",
        ));
    }
    let (label, input) = match label {
        Some(label) => inputs
            .iter()
            .find(|(k, _)| k.as_str() == label)
            .ok_or_else(|| Rejection::MissingHeader(format!("signature {label}")))?,
        None => inputs
            .first()
            .ok_or_else(|| Rejection::MissingHeader(SIGNATURE_INPUT.as_str().into()))?,
    };
    let ListEntry::InnerList(input) = input else {
        return Err(malformed(&SIGNATURE_INPUT, "a member is not an inner list"));
    };
    let signature = match signatures.get(label) {
        Some(ListEntry::Item(item)) => match &item.bare_item {
            BareItem::ByteSequence(bytes) if item.params.is_empty() => bytes.clone(),
            _ => return Err(Rejection::MalformedSignature),
        },
        _ => return Err(Rejection::MalformedSignature),
    };
    Ok(Received {
        components: components(input)?,
        metadata: metadata(input)?,
        signature,
    })
}

/// Whether the lines of `name` hold more members than their dictionary
/// (a label given twice).
fn repeated_label(req: &Request, name: &http::HeaderName, distinct: usize) -> bool {
    let members: usize = req
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            Parser::new(v)
                .with_version(sfv::Version::Rfc8941)
                .parse::<Dictionary>()
                .ok()
        })
        .map(|d| d.len())
        .sum();
    members > distinct
}

/// The covered components, each once.
fn components(input: &InnerList) -> Result<Vec<(String, Identifier<'static>)>, Rejection> {
    let mut out: Vec<(String, Identifier<'static>)> = Vec::with_capacity(input.items.len());
    for item in &input.items {
        let id = Identifier::from_item(item)?;
        if id.name == "@signature-params" {
            return Err(malformed(&SIGNATURE_INPUT, "@signature-params is covered"));
        }
        // A name alone (most components) is its quoted self.
        let serialized = if item.params.is_empty() && !id.name.contains(['"', '\\']) {
            format!("\"{}\"", id.name)
        } else {
            sfv::FieldType::serialize(item)
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
fn metadata(input: &InnerList) -> Result<Metadata, Rejection> {
    let mut out = Metadata::default();
    for (name, value) in &input.params {
        let text = match value {
            BareItem::String(s) => Some(s.as_str().to_owned()),
            _ => None,
        };
        let time = match value {
            BareItem::Integer(i) => u64::try_from(i64::from(*i)).ok(),
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
            (None, BareItem::String(text)) if !text.as_str().contains(['"', '\\']) => {
                format!("\"{}\"", text.as_str())
            }
            _ => sfv::FieldType::serialize(&sfv::Item::new(value.clone())),
        };
        out.list.push((name.as_str().to_owned(), serialized));
    }
    Ok(out)
}
