//! The fields of a signature, and where a scheme carries each in a
//! request: a header of its own, a header after a literal prefix
//! (`sha256=…`), a `name="value"` parameter, a part of a header between
//! separators, an item of a `key=value` list (`t=…,v1=…`), a query
//! parameter, or only in the signed string.
//!
//! The runner reads, writes and removes fields through their locations,
//! so that one probe serves every scheme; the deliberate defects of the
//! test servers do the same.

use std::fmt;

use http::HeaderName;
use serde::{Deserialize, Serialize};

use crate::request::Request;

/// A named piece of a signature: what a verifier reads from a request and,
/// for most, writes into the signed string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The key id.
    KeyId,
    /// The algorithm's name (`authorization`).
    Algorithm,
    /// The timestamp.
    Timestamp,
    /// The nonce (or a message id used as one).
    Nonce,
    /// The tag.
    Tag,
    /// The body's hash (`a2a`'s header; `authorization`'s `body-hash:` line).
    BodyHash,
    /// The list of signed header names (`authorization`).
    SignedHeaders,
    /// One signed header's line (`authorization`), by lower-case name.
    Header(String),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::KeyId => f.write_str("key id"),
            Field::Algorithm => f.write_str("algorithm"),
            Field::Timestamp => f.write_str("timestamp"),
            Field::Nonce => f.write_str("nonce"),
            Field::Tag => f.write_str("tag"),
            Field::BodyHash => f.write_str("body hash"),
            Field::SignedHeaders => f.write_str("signed header list"),
            Field::Header(name) => write!(f, "header {name}"),
        }
    }
}

/// How a signer (or a verifier that treats a missing field as optional)
/// writes a field that is not in the request into the signed string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Absent {
    /// Its line, or its place between separators, left out.
    Omitted,
    /// With an empty value.
    Empty,
    /// As the current time (a timestamp).
    Now,
}

/// Where a field sits in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A header of its own.
    Header(HeaderName),
    /// A header, after a literal prefix (GitHub's `sha256=`, Slack's `v0=`).
    Prefixed {
        /// The header.
        header: HeaderName,
        /// What comes before the field.
        prefix: String,
    },
    /// A `name="value"` parameter of a header (`Authorization: Signature …`).
    Parameter {
        /// The header.
        header: HeaderName,
        /// The parameter's name.
        name: String,
    },
    /// One of the `separator`-separated parts of a header (`partner`'s
    /// `id.timestamp.tag`).
    Part {
        /// The header.
        header: HeaderName,
        /// What separates the parts.
        separator: char,
        /// Which part, from 0.
        index: usize,
    },
    /// The value of the first `key{assign}value` item of a header's
    /// `separator`-separated list (Stripe's `t=…,v1=…`, Standard Webhooks'
    /// `v1,… v1,…`). Items may repeat (several signatures).
    Item {
        /// The header.
        header: HeaderName,
        /// What separates the items.
        separator: char,
        /// What separates an item's key from its value.
        assign: char,
        /// The item's key.
        key: String,
    },
    /// A `Name=value` component of a header after its scheme word, the
    /// components separated by `,` and optional spaces, values unquoted
    /// (SigV4's `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`).
    Component {
        /// The header.
        header: HeaderName,
        /// The component's name.
        name: String,
    },
    /// A member of a structured-field dictionary (RFC 9421's
    /// `Signature: sig1=:…:`), or one parameter of it (`Signature-Input:
    /// sig1=(…);created=…`): the value without its type's delimiters (a byte
    /// sequence's colons, a string's quotes).
    Member {
        /// The header.
        header: HeaderName,
        /// The member's key (the signature's label).
        key: String,
        /// The parameter, or `None` for the member's value.
        param: Option<String>,
    },
    /// A query parameter (Twilio's `bodySHA256`).
    Query(String),
    /// Nowhere but in the signed string, computed from the request
    /// (`authorization`'s body hash).
    Signed,
}

/// A header value's scheme word and its `,`-separated components, each
/// without the spaces before it.
fn components(value: &[u8]) -> (&[u8], Vec<Vec<u8>>) {
    let Some(space) = value.iter().position(|&b| b == b' ') else {
        return (value, Vec::new());
    };
    let list = value[space + 1..]
        .split(|&b| b == b',')
        .map(|c| c.iter().skip_while(|&&b| b == b' ').copied().collect())
        .filter(|c: &Vec<u8>| !c.is_empty())
        .collect();
    (&value[..space], list)
}

fn component_named(component: &[u8], name: &str) -> bool {
    component
        .strip_prefix(name.as_bytes())
        .is_some_and(|rest| rest.first() == Some(&b'='))
}

/// `word c1, c2, …`, as SigV4 signers write it.
fn join_components(word: &[u8], list: &[Vec<u8>]) -> Vec<u8> {
    [word, b" ", &list.join(&b", "[..])].concat()
}

/// The first value of the query parameter `name` in `req`, as written
/// (not percent-decoded).
pub fn query_value<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.uri().query()?.split('&').find_map(|pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        (n == name).then_some(v)
    })
}

impl Location {
    /// The header the field is in, if it is in one.
    pub fn header(&self) -> Option<&HeaderName> {
        match self {
            Location::Header(h)
            | Location::Prefixed { header: h, .. }
            | Location::Parameter { header: h, .. }
            | Location::Part { header: h, .. }
            | Location::Item { header: h, .. }
            | Location::Component { header: h, .. }
            | Location::Member { header: h, .. } => Some(h),
            Location::Query(_) | Location::Signed => None,
        }
    }

    /// The field's text in `req`, where it is there as text.
    pub fn read<'r>(&self, req: &'r Request) -> Option<&'r str> {
        if let Location::Query(name) = self {
            return query_value(req, name);
        }
        let text = req.headers().get(self.header()?)?.to_str().ok()?;
        self.read_in(text)
    }

    /// The field's text in `text`, the value of the header it is in.
    pub fn read_in<'t>(&self, text: &'t str) -> Option<&'t str> {
        match self {
            Location::Header(_) => Some(text),
            Location::Prefixed { prefix, .. } => text.strip_prefix(prefix.as_str()),
            Location::Parameter { name, .. } => crate::request::parameters(text)?
                .items
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v),
            Location::Part {
                separator, index, ..
            } => text.split(*separator).nth(*index),
            Location::Item {
                separator,
                assign,
                key,
                ..
            } => items(text, *separator, *assign)
                .find(|(k, _)| k == key)
                .map(|(_, v)| v),
            Location::Component { name, .. } => {
                let (_, list) = text.split_once(' ')?;
                list.split(',').find_map(|c| {
                    c.trim_start_matches(' ')
                        .strip_prefix(name.as_str())?
                        .strip_prefix('=')
                })
            }
            Location::Member { key, param, .. } => super::member::read(text, key, param.as_deref()),
            Location::Query(_) | Location::Signed => None,
        }
    }

    /// Writes `value` (any bytes a header can carry) as the field's value
    /// in `req`, adding the field where it is absent.
    pub fn write(&self, req: &mut Request, value: &[u8]) -> Result<(), String> {
        if let Location::Query(name) = self {
            let value = std::str::from_utf8(value).map_err(|e| e.to_string())?;
            return set_query(req, name, Some(value));
        }
        let header = self
            .header()
            .ok_or("the field is only in the signed string")?;
        let current = req
            .headers()
            .get(header)
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default();
        let bytes = match self {
            Location::Header(_) => value.to_vec(),
            Location::Prefixed { prefix, .. } => [prefix.as_bytes(), value].concat(),
            Location::Parameter { name, .. } => {
                let open = format!("{name}=\"").into_bytes();
                match find_parameter(&current, &open) {
                    Some(start) => {
                        let from = start + open.len();
                        let len = current[from..]
                            .iter()
                            .position(|&b| b == b'"')
                            .ok_or("an unterminated parameter")?;
                        [&current[..from], value, &current[from + len..]].concat()
                    }
                    None => [&current[..], b",", &open, value, b"\""].concat(),
                }
            }
            Location::Part {
                separator, index, ..
            } => {
                let mut parts: Vec<&[u8]> = current.split(|&b| b == *separator as u8).collect();
                match parts.get_mut(*index) {
                    Some(part) => *part = value,
                    None => return Err(format!("no part {index} to write")),
                }
                parts.join(&(*separator as u8))
            }
            Location::Item {
                separator,
                assign,
                key,
                ..
            } => {
                let mut pieces: Vec<Vec<u8>> = split_bytes(&current, *separator as u8);
                let item = [key.as_bytes(), &[*assign as u8], value].concat();
                match pieces
                    .iter_mut()
                    .find(|p| p.split(|&b| b == *assign as u8).next() == Some(key.as_bytes()))
                {
                    Some(found) => *found = item,
                    None => pieces.push(item),
                }
                pieces.join(&(*separator as u8))
            }
            Location::Component { name, .. } => {
                let (word, mut list) = components(&current);
                let item = [name.as_bytes(), b"=", value].concat();
                match list.iter_mut().find(|c| component_named(c, name)) {
                    Some(found) => *found = item,
                    None => list.push(item),
                }
                join_components(word, &list)
            }
            Location::Member { key, param, .. } => {
                let text = std::str::from_utf8(&current).map_err(|e| e.to_string())?;
                super::member::write(text, key, param.as_deref(), value)
            }
            Location::Query(_) | Location::Signed => unreachable!("no header"),
        };
        let value = http::HeaderValue::from_bytes(&bytes).map_err(|e| e.to_string())?;
        req.headers_mut().insert(header.clone(), value);
        Ok(())
    }

    /// Removes the field from `req` (a part with its separator, every item
    /// with its key).
    pub fn remove(&self, req: &mut Request) -> Result<(), String> {
        if let Location::Query(name) = self {
            return set_query(req, name, None);
        }
        let header = self
            .header()
            .ok_or("the field is only in the signed string")?;
        let Some(current) = req.headers().get(header).map(|v| v.as_bytes().to_vec()) else {
            return Ok(());
        };
        let bytes = match self {
            Location::Header(_) | Location::Prefixed { .. } => {
                req.headers_mut().remove(header);
                return Ok(());
            }
            Location::Parameter { name, .. } => {
                let text = std::str::from_utf8(&current).map_err(|e| e.to_string())?;
                let crate::request::Parameters { word, items: list } =
                    crate::request::parameters(text).ok_or("not a parameter list")?;
                let kept: Vec<(&str, &str)> = list.into_iter().filter(|(n, _)| n != name).collect();
                crate::request::write_parameters(word, &kept, None).into_bytes()
            }
            Location::Part {
                separator, index, ..
            } => {
                let mut parts: Vec<&[u8]> = current.split(|&b| b == *separator as u8).collect();
                if *index < parts.len() {
                    parts.remove(*index);
                }
                parts.join(&(*separator as u8))
            }
            Location::Item {
                separator,
                assign,
                key,
                ..
            } => split_bytes(&current, *separator as u8)
                .into_iter()
                .filter(|p| p.split(|&b| b == *assign as u8).next() != Some(key.as_bytes()))
                .collect::<Vec<_>>()
                .join(&(*separator as u8)),
            Location::Component { name, .. } => {
                let (word, mut list) = components(&current);
                list.retain(|c| !component_named(c, name));
                join_components(word, &list)
            }
            Location::Member { key, param, .. } => {
                let text = std::str::from_utf8(&current).map_err(|e| e.to_string())?;
                super::member::remove(text, key, param.as_deref())
            }
            Location::Query(_) | Location::Signed => unreachable!("no header"),
        };
        let value = http::HeaderValue::from_bytes(&bytes).map_err(|e| e.to_string())?;
        req.headers_mut().insert(header.clone(), value);
        Ok(())
    }

    /// Adds another item with this key before the others (a second
    /// signature, as during a key rotation); `None` where the field is not
    /// an item of a list.
    pub fn add_first(&self, req: &mut Request, value: &str) -> Option<Result<(), String>> {
        self.add_item(req, value, true)
    }

    /// Adds another item with this key after the others; `None` where the
    /// field is not an item of a list.
    pub fn add_last(&self, req: &mut Request, value: &str) -> Option<Result<(), String>> {
        self.add_item(req, value, false)
    }

    fn add_item(&self, req: &mut Request, value: &str, first: bool) -> Option<Result<(), String>> {
        let Location::Item {
            header,
            separator,
            assign,
            key,
        } = self
        else {
            return None;
        };
        let current = req.headers().get(header)?.to_str().ok()?.to_owned();
        let text = if first {
            format!("{key}{assign}{value}{separator}{current}")
        } else {
            format!("{current}{separator}{key}{assign}{value}")
        };
        Some(
            http::HeaderValue::from_str(&text)
                .map(|v| {
                    req.headers_mut().insert(header.clone(), v);
                })
                .map_err(|e| e.to_string()),
        )
    }
}

/// The `key{assign}value` items of a `separator`-separated list (items
/// without `assign` have an empty value).
pub(crate) fn items(
    text: &str,
    separator: char,
    assign: char,
) -> impl Iterator<Item = (&str, &str)> {
    text.split(separator)
        .filter(|item| !item.is_empty())
        .map(move |item| item.split_once(assign).unwrap_or((item, "")))
}

fn split_bytes(bytes: &[u8], separator: u8) -> Vec<Vec<u8>> {
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == separator)
        .map(<[u8]>::to_vec)
        .collect()
}

/// Sets (or, with `None`, removes) query parameter `name` of `req`.
fn set_query(req: &mut Request, name: &str, value: Option<&str>) -> Result<(), String> {
    let mut pairs: Vec<String> = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(name))
        .map(str::to_owned)
        .collect();
    if let Some(value) = value {
        pairs.push(format!("{name}={value}"));
    }
    let path = req.uri().path().to_owned();
    let uri = if pairs.is_empty() {
        path
    } else {
        format!("{path}?{}", pairs.join("&"))
    };
    *req.uri_mut() = uri
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
    Ok(())
}

/// Where the parameter opened by `open` (`name="`) starts in a header
/// value: at the start, or after a space or a comma.
fn find_parameter(value: &[u8], open: &[u8]) -> Option<usize> {
    (0..value.len().saturating_sub(open.len()) + 1)
        .find(|&i| value[i..].starts_with(open) && (i == 0 || matches!(value[i - 1], b' ' | b',')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(header: &str, value: &str) -> Request {
        http::Request::get("/")
            .header(header, value)
            .body(bytes::Bytes::new())
            .unwrap()
    }

    #[test]
    fn fields_are_read_written_and_removed_where_they_sit() {
        let auth = Location::Parameter {
            header: http::header::AUTHORIZATION,
            name: "nonce".into(),
        };
        let mut req = request(
            "authorization",
            r#"Signature keyId="k",xnonce="a",nonce="n1",signature="t""#,
        );
        assert_eq!(auth.read(&req), Some("n1"));
        auth.write(&mut req, b"\xff\xfe").unwrap();
        assert_eq!(
            req.headers()["authorization"].as_bytes(),
            b"Signature keyId=\"k\",xnonce=\"a\",nonce=\"\xff\xfe\",signature=\"t\""
        );
        auth.write(&mut req, b"n2").unwrap();
        auth.remove(&mut req).unwrap();
        assert_eq!(
            req.headers()["authorization"],
            r#"Signature keyId="k",xnonce="a",signature="t""#
        );
        assert_eq!(auth.read(&req), None);
        auth.write(&mut req, b"n3").unwrap();
        assert_eq!(auth.read(&req), Some("n3"));

        let part = Location::Part {
            header: HeaderName::from_static("x-signature"),
            separator: '.',
            index: 1,
        };
        let mut req = request("x-signature", "id.1700.abc");
        assert_eq!(part.read(&req), Some("1700"));
        part.write(&mut req, b"1700.5").unwrap();
        assert_eq!(req.headers()["x-signature"], "id.1700.5.abc");
        let mut req = request("x-signature", "id.1700.abc");
        part.remove(&mut req).unwrap();
        assert_eq!(req.headers()["x-signature"], "id.abc");

        let header = Location::Header(HeaderName::from_static("x-nonce"));
        let mut req = request("x-nonce", "n");
        header.write(&mut req, " n ".as_bytes()).unwrap();
        assert_eq!(header.read(&req), Some(" n "));
        header.remove(&mut req).unwrap();
        assert_eq!(header.read(&req), None);
        assert!(Location::Signed.write(&mut req, b"x").is_err());
    }

    #[test]
    fn list_items_prefixes_and_query_parameters() {
        let item = Location::Item {
            header: HeaderName::from_static("stripe-signature"),
            separator: ',',
            assign: '=',
            key: "v1".into(),
        };
        let mut req = request("stripe-signature", "t=1614265330,v1=abc,v0=zzz,v1=def");
        assert_eq!(item.read(&req), Some("abc"));
        item.write(&mut req, b"123").unwrap();
        assert_eq!(
            req.headers()["stripe-signature"],
            "t=1614265330,v1=123,v0=zzz,v1=def"
        );
        item.add_first(&mut req, "bad").unwrap().unwrap();
        assert_eq!(
            req.headers()["stripe-signature"],
            "v1=bad,t=1614265330,v1=123,v0=zzz,v1=def"
        );
        item.remove(&mut req).unwrap();
        assert_eq!(req.headers()["stripe-signature"], "t=1614265330,v0=zzz");

        let prefixed = Location::Prefixed {
            header: HeaderName::from_static("x-hub-signature-256"),
            prefix: "sha256=".into(),
        };
        let mut req = request("x-hub-signature-256", "sha256=abc");
        assert_eq!(prefixed.read(&req), Some("abc"));
        prefixed.write(&mut req, b"def").unwrap();
        assert_eq!(req.headers()["x-hub-signature-256"], "sha256=def");
        assert_eq!(prefixed.read(&request("x-hub-signature-256", "abc")), None);

        let query = Location::Query("bodySHA256".into());
        let mut req = http::Request::get("/hook?a=1&bodySHA256=ff")
            .body(bytes::Bytes::new())
            .unwrap();
        assert_eq!(query.read(&req), Some("ff"));
        query.write(&mut req, b"00").unwrap();
        assert_eq!(req.uri(), "/hook?a=1&bodySHA256=00");
        query.remove(&mut req).unwrap();
        assert_eq!(req.uri(), "/hook?a=1");
    }
}
