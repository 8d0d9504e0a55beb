//! Covered components: their identifiers (`"@method"`,
//! `"example-dict";key="a"`, `"@query-param";name="id"`) and the value each
//! takes in the signature base (RFC 9421 section 2).

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sfv::{Dictionary, FieldType, Item, List, ListEntry, Parser, RefBareItem};

use crate::Rejection;
use crate::crypto::ByteSink;
use crate::request::Request;

/// How a component is named in `Signature-Input`: its name and the
/// parameters RFC 9421 defines for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identifier<'a> {
    /// The lower-case field name, or the derived component's `@name`.
    pub name: Cow<'a, str>,
    /// `sf`: the field's value serialized strictly as a structured field.
    pub sf: bool,
    /// `key`: one member of a dictionary field.
    pub key: Option<String>,
    /// `bs`: each field line wrapped as a byte sequence.
    pub bs: bool,
    /// `name`: the query parameter of `@query-param`.
    pub query_name: Option<String>,
}

fn malformed(detail: &'static str) -> Rejection {
    Rejection::MalformedHeader {
        header: "signature-input".into(),
        detail,
    }
}

impl<'a> Identifier<'a> {
    /// Reads one item of the covered components' inner list: a string with
    /// the parameters the RFC defines. `req` and `tr` name values a request
    /// verifier cannot take (the request of a response, trailers); any
    /// other parameter is unknown; each is an error, as the RFC requires.
    pub fn from_item(item: &super::borrowed::Item<'_>) -> Result<Identifier<'static>, Rejection> {
        let params = item.params.0.iter().map(|(k, v)| (k.as_str(), v.into()));
        Identifier::read((&item.bare).into(), params, true)
    }

    /// Reads an identifier as a signer gives it: a bare name
    /// (`content-type`, `@method`) or a serialized one with parameters
    /// (`"@query-param";name="id"`).
    pub fn from_text(text: &str) -> Result<Identifier<'static>, Rejection> {
        Identifier::read_item(&item_of(text)?, true)
    }

    /// Reads an identifier as written, keeping the parameters that change
    /// its value and passing over the others: how the signature base is
    /// written once [`Identifier::from_item`] has accepted the list (a
    /// signer may write what a verifier must refuse, and signs it so).
    pub fn lenient(text: &'a str) -> Result<Identifier<'a>, Rejection> {
        // A plain `"name"` (most components) needs no parser.
        if let Some(name) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
            && !name.contains(['"', '\\'])
        {
            return Ok(Identifier::plain(name));
        }
        Identifier::read_item(&item_of(text)?, false)
    }

    /// A component without parameters.
    pub fn plain(name: &'a str) -> Identifier<'a> {
        Identifier {
            name: Cow::Borrowed(name),
            sf: false,
            key: None,
            bs: false,
            query_name: None,
        }
    }

    /// [`Identifier::read`] of a parsed item.
    fn read_item(item: &Item, strict: bool) -> Result<Identifier<'static>, Rejection> {
        let params = item.params.iter().map(|(k, v)| (k.as_str(), v.into()));
        Identifier::read((&item.bare_item).into(), params, strict)
    }

    /// The identifier an item (`name` and its `params`) names; `strict`:
    /// refusing what the RFC refuses (see [`Identifier::from_item`]).
    fn read<'i>(
        name: RefBareItem<'i>,
        params: impl Iterator<Item = (&'i str, RefBareItem<'i>)>,
        strict: bool,
    ) -> Result<Identifier<'static>, Rejection> {
        let RefBareItem::String(name) = name else {
            return Err(malformed("a covered component is not a string"));
        };
        let name = name.as_str();
        if strict && (name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase())) {
            return Err(malformed("a component name is empty or not lower-case"));
        }
        let mut id = Identifier {
            name: Cow::Owned(name.to_owned()),
            sf: false,
            key: None,
            bs: false,
            query_name: None,
        };
        for (param, value) in params {
            match (param, value) {
                ("sf", RefBareItem::Boolean(true)) => id.sf = true,
                ("bs", RefBareItem::Boolean(true)) => id.bs = true,
                ("key", RefBareItem::String(key)) => id.key = Some(key.as_str().to_owned()),
                ("name", RefBareItem::String(q)) => id.query_name = Some(q.as_str().to_owned()),
                _ if !strict => {}
                ("req", _) => return Err(malformed("`req` names a response's request")),
                ("tr", _) => return Err(malformed("trailers are not covered in requests")),
                _ => return Err(malformed("a component parameter is unknown or ill-typed")),
            }
        }
        if strict {
            id.check()?;
        }
        Ok(id)
    }

    /// The combinations of parameters the RFC refuses.
    fn check(&self) -> Result<(), Rejection> {
        if self.name.starts_with('@') && (self.sf || self.bs || self.key.is_some()) {
            return Err(malformed("a field parameter on a derived component"));
        }
        if self.query_name.is_some() != (self.name == "@query-param") {
            return Err(malformed(
                "`name` belongs to @query-param, and it needs one",
            ));
        }
        if self.bs && (self.sf || self.key.is_some()) {
            return Err(malformed("`bs` with `sf` or `key`"));
        }
        Ok(())
    }
}

/// The item a signer's identifier is: a bare name as a string, a
/// serialized identifier parsed.
fn item_of(text: &str) -> Result<Item, Rejection> {
    if !text.starts_with('"') {
        return sfv::String::from_string(text.to_owned())
            .map(Item::new)
            .map_err(|_| malformed("a component name is not a string"));
    }
    Parser::new(text)
        .with_version(sfv::Version::Rfc8941)
        .parse()
        .map_err(|_| malformed("a component identifier is not a structured item"))
}

/// Writes one line of the signature base, `{identifier}: {value}\n`:
/// the identifier as serialized in `Signature-Input` (`serialized`), the
/// value as [`value`] derives it.
pub(super) fn write_line(
    req: &Request,
    serialized: &str,
    id: &Identifier,
    target_scheme: &str,
    out: &mut dyn ByteSink,
) -> Result<(), Rejection> {
    let value = value(req, id, target_scheme)?;
    if !value.is_ascii() || value.contains(['\n', '\r']) {
        return Err(malformed("a component value is not one line of ASCII"));
    }
    out.put(serialized.as_bytes());
    out.put(b": ");
    out.put(value.as_bytes());
    out.put(b"\n");
    Ok(())
}

/// The component's value in `req`; an error where it has none.
pub(super) fn value<'r>(
    req: &'r Request,
    id: &Identifier,
    target_scheme: &str,
) -> Result<Cow<'r, str>, Rejection> {
    if id.name.starts_with('@') {
        return derived(req, id, target_scheme);
    }
    let not_ascii = || Rejection::MalformedHeader {
        header: id.name.to_string(),
        detail: "not ASCII",
    };
    let mut values = req.headers().get_all(id.name.as_ref()).iter();
    // One line, no parameter: the value as it is, trimmed (most fields).
    if let (Some(only), None, false, false, None) =
        (values.next(), values.next(), id.bs, id.sf, &id.key)
    {
        let text = only.to_str().map_err(|_| not_ascii())?;
        return Ok(Cow::Borrowed(text.trim_matches([' ', '\t'])));
    }
    let lines: Vec<&str> = req
        .headers()
        .get_all(id.name.as_ref())
        .iter()
        .map(|v| {
            v.to_str()
                .map(|s| s.trim_matches([' ', '\t']))
                .map_err(|_| Rejection::MalformedHeader {
                    header: id.name.to_string(),
                    detail: "not ASCII",
                })
        })
        .collect::<Result<_, _>>()?;
    if lines.is_empty() {
        return Err(Rejection::MissingHeader(id.name.to_string()));
    }
    let combined = lines.join(", ");
    if id.bs {
        return Ok(Cow::Owned(
            lines
                .iter()
                .map(|l| format!(":{}:", STANDARD.encode(l)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let bad_structure = || Rejection::MalformedHeader {
        header: id.name.to_string(),
        detail: "not the structured field its component says",
    };
    if let Some(key) = &id.key {
        let dict: Dictionary = parse(&combined).ok_or_else(bad_structure)?;
        let member = dict
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
            .ok_or_else(|| Rejection::MissingHeader(format!("{};key=\"{key}\"", id.name)))?;
        return serialize_entry(member)
            .map(Cow::Owned)
            .ok_or_else(bad_structure);
    }
    if id.sf {
        return strict(&id.name, &combined)
            .map(Cow::Owned)
            .ok_or_else(bad_structure);
    }
    Ok(Cow::Owned(combined))
}

fn parse<T: FieldType>(text: &str) -> Option<T> {
    Parser::new(text)
        .with_version(sfv::Version::Rfc8941)
        .parse()
        .ok()
}

/// A dictionary member's value (an item or an inner list) serialized
/// strictly: a list of that one member serializes as exactly it.
fn serialize_entry(entry: &ListEntry) -> Option<String> {
    let list: List = vec![entry.clone()];
    list.serialize()
}

/// The structured fields whose type is known here, for `sf`: the
/// dictionaries and lists of the registries this verifier meets, and the
/// RFC's own examples. Any other field with `sf` is an error, as the RFC
/// requires of a field whose type is not known.
const DICTIONARIES: &[&str] = &[
    "signature",
    "signature-input",
    "accept-signature",
    "content-digest",
    "repr-digest",
    "want-content-digest",
    "want-repr-digest",
    "priority",
    "example-dict",
];
const LISTS: &[&str] = &["cache-status", "proxy-status", "example-list"];

fn strict(name: &str, combined: &str) -> Option<String> {
    if DICTIONARIES.contains(&name) {
        return parse::<Dictionary>(combined)?.serialize();
    }
    if LISTS.contains(&name) {
        return parse::<List>(combined)?.serialize();
    }
    None
}

/// A derived component's value (RFC 9421 section 2.2).
fn derived<'r>(
    req: &'r Request,
    id: &Identifier,
    target_scheme: &str,
) -> Result<Cow<'r, str>, Rejection> {
    let uri = req.uri();
    // Made only for the components that name it (not `@method`, `@path`:
    // on every request).
    let scheme = || {
        uri.scheme_str()
            .unwrap_or(target_scheme)
            .to_ascii_lowercase()
    };
    let path = match uri.path() {
        "" => "/",
        path => path,
    };
    Ok(match id.name.as_ref() {
        "@method" => Cow::Borrowed(req.method().as_str()),
        "@authority" => authority(req, &scheme())?,
        "@scheme" => Cow::Owned(scheme()),
        "@target-uri" => {
            // The target URI as received: unlike `@authority`, the RFC
            // normalises nothing in it.
            let scheme = scheme();
            let authority = raw_authority(req)?;
            Cow::Owned(match uri.query() {
                Some(q) => format!("{scheme}://{authority}{path}?{q}"),
                None => format!("{scheme}://{authority}{path}"),
            })
        }
        "@request-target" => match uri.query() {
            Some(q) => Cow::Owned(format!("{path}?{q}")),
            None => Cow::Borrowed(path),
        },
        "@path" => Cow::Borrowed(path),
        "@query" => Cow::Owned(format!("?{}", uri.query().unwrap_or(""))),
        "@query-param" => {
            let wanted = id.query_name.as_deref().unwrap_or_default();
            Cow::Owned(query_param(uri.query().unwrap_or(""), wanted)?)
        }
        "@status" => return Err(malformed("@status is a response's")),
        _ => return Err(malformed("an unknown derived component")),
    })
}

/// `@authority`: the host lower-cased, the port left out where it is the
/// scheme's default.
fn authority<'r>(req: &'r Request, scheme: &str) -> Result<Cow<'r, str>, Rejection> {
    let raw = raw_authority(req)?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => ":",
    };
    // Already normal (a lower-case name or address, a port that is not the
    // default): as it is, without parsing it into a new string.
    let plain = raw
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.:".contains(&b));
    if plain && raw.matches(':').count() <= 1 && !raw.ends_with(default_port) && !raw.ends_with(':')
    {
        return Ok(Cow::Borrowed(raw));
    }
    let authority: http::uri::Authority = raw.parse().map_err(|_| Rejection::MalformedHeader {
        header: "host".into(),
        detail: "not an authority",
    })?;
    let host = authority.host().to_ascii_lowercase();
    let default_port = match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    Ok(Cow::Owned(match authority.port_u16() {
        Some(port) if Some(port) != default_port => format!("{host}:{port}"),
        _ => host,
    }))
}

/// The authority as the request gives it: its URI's, else its `Host`.
fn raw_authority(req: &Request) -> Result<&str, Rejection> {
    match req.uri().authority() {
        Some(a) => Ok(a.as_str()),
        None => crate::request::single_header(req, &http::header::HOST)?
            .ok_or_else(|| Rejection::MissingHeader("host".into())),
    }
}

/// `@query-param;name=…`: the one parameter whose decoded name is `wanted`
/// decoded, its value decoded and encoded again as the URL standard's form
/// serializer does, a space as `%20`. Absent or repeated: an error.
fn query_param(query: &str, wanted: &str) -> Result<String, Rejection> {
    let wanted: String = form_urlencoded::parse(wanted.as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default();
    let mut found = form_urlencoded::parse(query.as_bytes()).filter(|(name, _)| *name == wanted);
    let value = found
        .next()
        .ok_or_else(|| Rejection::MissingHeader(format!("query parameter {wanted}")))?;
    if found.next().is_some() {
        return Err(Rejection::DuplicateHeader(format!(
            "query parameter {wanted}"
        )));
    }
    Ok(form_encode(&value.1))
}

/// Percent-encodes all but `A-Z a-z 0-9 * - . _`, a space as `%20` (the
/// RFC's examples), upper-case hex.
pub(super) fn form_encode(text: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'*')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_');
    percent_encoding::utf8_percent_encode(text, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = http::Request::builder().method("POST").uri(uri);
        for (n, v) in headers {
            builder = builder.header(*n, *v);
        }
        builder.body(bytes::Bytes::new()).unwrap()
    }

    fn value_of(req: &Request, id: &str) -> Result<String, Rejection> {
        value(req, &Identifier::from_text(id)?, "https").map(Cow::into_owned)
    }

    #[test]
    fn the_rfcs_field_examples() {
        // RFC 9421 sections 2.1 to 2.1.3.
        let req = request(
            "/",
            &[
                ("host", "www.example.com"),
                ("x-ows-header", "   Leading and trailing whitespace.   "),
                ("cache-control", "max-age=60"),
                ("cache-control", "   must-revalidate"),
                ("example-dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)"),
                ("example-header", "value, with, lots"),
                ("example-header", "of, commas"),
            ],
        );
        let v = |id| value_of(&req, id).unwrap();
        assert_eq!(v("x-ows-header"), "Leading and trailing whitespace.");
        assert_eq!(v("cache-control"), "max-age=60, must-revalidate");
        assert_eq!(v("example-dict"), "a=1,    b=2;x=1;y=2,   c=(a   b   c)");
        assert_eq!(v(r#""example-dict";sf"#), "a=1, b=2;x=1;y=2, c=(a b c)");
        assert_eq!(v(r#""example-dict";key="a""#), "1");
        assert_eq!(v(r#""example-dict";key="b""#), "2;x=1;y=2");
        assert_eq!(v(r#""example-dict";key="c""#), "(a b c)");
        assert_eq!(
            v(r#""example-header";bs"#),
            ":dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:"
        );
        assert!(value_of(&req, r#""example-dict";key="z""#).is_err());
        assert!(value_of(&req, r#""x-ows-header";sf"#).is_err());
        assert!(value_of(&req, "x-absent").is_err());
    }

    #[test]
    fn the_rfcs_derived_component_examples() {
        // RFC 9421 section 2.2.
        let req = request(
            "/parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something",
            &[("host", "www.example.com")],
        );
        let v = |id| value_of(&req, id).unwrap();
        assert_eq!(
            v(r#""@query-param";name="var""#),
            "this%20is%20a%20big%0Amultiline%20value"
        );
        assert_eq!(
            v(r#""@query-param";name="bar""#),
            "with%20plus%20whitespace"
        );
        assert_eq!(
            v(r#""@query-param";name="fa%C3%A7ade%22%3A%20""#),
            "something"
        );
        let req = request(
            "/path?param=value&foo=bar&baz=bat%2Dman&qux=",
            &[("host", "WWW.example.com:443")],
        );
        let v = |id| value_of(&req, id).unwrap();
        assert_eq!(v("@query"), "?param=value&foo=bar&baz=bat%2Dman&qux=");
        assert_eq!(v("@authority"), "www.example.com");
        assert_eq!(
            v("@target-uri"),
            "https://WWW.example.com:443/path?param=value&foo=bar&baz=bat%2Dman&qux="
        );
        assert_eq!(
            v("@request-target"),
            "/path?param=value&foo=bar&baz=bat%2Dman&qux="
        );
        assert_eq!(v("@path"), "/path");
        assert_eq!(v("@method"), "POST");
        assert_eq!(v("@scheme"), "https");
        assert_eq!(v(r#""@query-param";name="qux""#), "");
        assert!(value_of(&req, "@status").is_err());
        assert!(value_of(&req, "@unknown").is_err());
        let repeated = request("/?a=1&a=2", &[("host", "h")]);
        assert!(value_of(&repeated, r#""@query-param";name="a""#).is_err());
        assert_eq!(
            value_of(&request("/", &[("host", "h")]), "@query").unwrap(),
            "?"
        );
    }

    #[test]
    fn identifiers_refuse_what_a_request_cannot_carry() {
        for id in [
            r#""content-type";req"#,
            r#""content-type";tr"#,
            r#""content-type";x"#,
            r#""@method";sf"#,
            r#""@query-param""#,
            r#""@path";name="a""#,
            r#""a";bs;sf"#,
            r#""Content-Type""#,
        ] {
            assert!(Identifier::from_text(id).is_err(), "{id}");
        }
    }
}
