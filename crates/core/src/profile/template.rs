//! The signed string of a profile, as a template: literal text and named
//! parts of the request in braces, and a part in brackets that is there
//! only when the body is not empty.
//!
//! `"{timestamp}.{body}"`, `"v0:{timestamp}:{body}"`,
//! `"{method}\n{path}\n{timestamp}\n{nonce}[\n{body_hash}]"`. `{{` and `[[`
//! write a brace or a bracket.

use std::fmt;

/// A named part of the request a template signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    /// The raw body bytes.
    Body,
    /// The body as `partner`'s canonical JSON (JavaScript's
    /// `JSON.stringify` of the parsed body, keys sorted).
    BodyJson,
    /// The timestamp, as written in the request.
    Timestamp,
    /// The nonce or message id, as written.
    Nonce,
    /// The method, upper-case.
    Method,
    /// The path, without the query.
    Path,
    /// The configured endpoint string, as configured.
    Endpoint,
    /// The configured endpoint's scheme and authority (its path left out),
    /// followed by the request's path and query as sent: the URL the
    /// sender requested, as the sender saw it (Twilio).
    Url,
    /// The body hash carried in the request, as written.
    BodyHash,
    /// The body's form parameters, sorted by name (then value), each
    /// written as name then value with nothing between (Twilio).
    Form,
    /// A header's value (lower-case name).
    Header(String),
}

impl Placeholder {
    /// Every name a placeholder may have, for error messages.
    pub const NAMES: &'static str = "body, body_json, timestamp, nonce, method, path, endpoint, url, body_hash, form, header:NAME";

    fn parse(name: &str) -> Option<Placeholder> {
        Some(match name {
            "body" => Placeholder::Body,
            "body_json" => Placeholder::BodyJson,
            "timestamp" => Placeholder::Timestamp,
            "nonce" => Placeholder::Nonce,
            "method" => Placeholder::Method,
            "path" => Placeholder::Path,
            "endpoint" => Placeholder::Endpoint,
            "url" => Placeholder::Url,
            "body_hash" => Placeholder::BodyHash,
            "form" => Placeholder::Form,
            _ => {
                let header = name.strip_prefix("header:")?;
                if header.is_empty() {
                    return None;
                }
                Placeholder::Header(header.to_ascii_lowercase())
            }
        })
    }
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal bytes.
    Literal(Vec<u8>),
    /// A part of the request.
    Part(Placeholder),
    /// Pieces written only when the body is not empty.
    WhenBody(Vec<Piece>),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// A template that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A placeholder that is not one of [`Placeholder::NAMES`].
    #[error("unknown placeholder `{{{0}}}` (expected one of {names})", names = Placeholder::NAMES)]
    UnknownPlaceholder(String),
    /// A `{` or `[` without its closing `}` or `]`.
    #[error("`{0}` is not closed")]
    Unclosed(char),
    /// A `]` or `}` without its opening.
    #[error("`{0}` closes nothing (write `{0}{0}` for the character itself)")]
    Unopened(char),
    /// Brackets inside brackets.
    #[error("`[…]` cannot hold another `[…]`")]
    Nested,
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        // The pieces of an open `[…]`.
        let mut group: Option<Vec<Piece>> = None;
        let mut literal = Vec::new();
        let mut chars = text.chars().peekable();
        // The list pieces go to: the open group's, or the template's.
        fn target<'v>(
            pieces: &'v mut Vec<Piece>,
            group: &'v mut Option<Vec<Piece>>,
        ) -> &'v mut Vec<Piece> {
            group.as_mut().unwrap_or(pieces)
        }
        fn flush(literal: &mut Vec<u8>, into: &mut Vec<Piece>) {
            if !literal.is_empty() {
                into.push(Piece::Literal(std::mem::take(literal)));
            }
        }
        while let Some(c) = chars.next() {
            match c {
                '{' | '[' | '}' | ']' if chars.peek() == Some(&c) => {
                    chars.next();
                    literal.push(c as u8);
                }
                '{' => {
                    flush(&mut literal, target(&mut pieces, &mut group));
                    let mut name = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(TemplateError::Unclosed('{'));
                    }
                    let placeholder = Placeholder::parse(&name)
                        .ok_or_else(|| TemplateError::UnknownPlaceholder(name.clone()))?;
                    target(&mut pieces, &mut group).push(Piece::Part(placeholder));
                }
                '[' => {
                    if group.is_some() {
                        return Err(TemplateError::Nested);
                    }
                    flush(&mut literal, &mut pieces);
                    group = Some(Vec::new());
                }
                ']' => {
                    let Some(mut inner) = group.take() else {
                        return Err(TemplateError::Unopened(']'));
                    };
                    flush(&mut literal, &mut inner);
                    pieces.push(Piece::WhenBody(inner));
                }
                '}' => return Err(TemplateError::Unopened('}')),
                c => {
                    let mut buf = [0u8; 4];
                    literal.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        if group.is_some() {
            return Err(TemplateError::Unclosed('['));
        }
        flush(&mut literal, &mut pieces);
        Ok(Template { pieces })
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Whether the template signs `placeholder` anywhere.
    pub fn uses(&self, placeholder: &Placeholder) -> bool {
        fn any(pieces: &[Piece], p: &Placeholder) -> bool {
            pieces.iter().any(|piece| match piece {
                Piece::Part(x) => x == p,
                Piece::WhenBody(inner) => any(inner, p),
                Piece::Literal(_) => false,
            })
        }
        any(&self.pieces, placeholder)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn write(pieces: &[Piece], f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for piece in pieces {
                match piece {
                    Piece::Literal(bytes) => {
                        for c in String::from_utf8_lossy(bytes).chars() {
                            match c {
                                '{' | '}' | '[' | ']' => write!(f, "{c}{c}")?,
                                '\n' => f.write_str("\\n")?,
                                c => write!(f, "{c}")?,
                            }
                        }
                    }
                    Piece::Part(p) => write!(f, "{{{}}}", placeholder_name(p))?,
                    Piece::WhenBody(inner) => {
                        f.write_str("[")?;
                        write(inner, f)?;
                        f.write_str("]")?;
                    }
                }
            }
            Ok(())
        }
        write(&self.pieces, f)
    }
}

fn placeholder_name(p: &Placeholder) -> String {
    match p {
        Placeholder::Body => "body".into(),
        Placeholder::BodyJson => "body_json".into(),
        Placeholder::Timestamp => "timestamp".into(),
        Placeholder::Nonce => "nonce".into(),
        Placeholder::Method => "method".into(),
        Placeholder::Path => "path".into(),
        Placeholder::Endpoint => "endpoint".into(),
        Placeholder::Url => "url".into(),
        Placeholder::BodyHash => "body_hash".into(),
        Placeholder::Form => "form".into(),
        Placeholder::Header(name) => format!("header:{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_into_literals_parts_and_optional_pieces() {
        let t = Template::parse("{method}\n{path}[\n{body_hash}] {{x}} [[y]]").unwrap();
        assert_eq!(
            t.pieces(),
            [
                Piece::Part(Placeholder::Method),
                Piece::Literal(b"\n".to_vec()),
                Piece::Part(Placeholder::Path),
                Piece::WhenBody(vec![
                    Piece::Literal(b"\n".to_vec()),
                    Piece::Part(Placeholder::BodyHash)
                ]),
                Piece::Literal(b" {x} [y]".to_vec()),
            ]
        );
        assert!(t.uses(&Placeholder::BodyHash) && !t.uses(&Placeholder::Body));
        assert_eq!(
            t.to_string(),
            "{method}\\n{path}[\\n{body_hash}] {{x}} [[y]]"
        );
        assert_eq!(
            Template::parse("{header:X-Shop}").unwrap().pieces(),
            [Piece::Part(Placeholder::Header("x-shop".into()))]
        );
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        for (text, error) in [
            (
                "{tmestamp}.{body}",
                TemplateError::UnknownPlaceholder("tmestamp".into()),
            ),
            ("{body", TemplateError::Unclosed('{')),
            ("[{body}", TemplateError::Unclosed('[')),
            ("body]", TemplateError::Unopened(']')),
            ("body}", TemplateError::Unopened('}')),
            ("[[x][y]]", TemplateError::Unopened(']')),
            ("[a[b]]", TemplateError::Nested),
            (
                "{header:}",
                TemplateError::UnknownPlaceholder("header:".into()),
            ),
        ] {
            assert_eq!(Template::parse(text), Err(error), "{text}");
        }
    }
}
