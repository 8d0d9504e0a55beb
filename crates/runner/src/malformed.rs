//! `malformed`: bad input gets a 4xx, never a 5xx, never a hang.
//!
//! Two kinds of case live here, and the catalog says which each is:
//!
//! - **One property changed.** A timestamp in another syntax but with the
//!   value of "now" and signed as sent (`<now - 1>.5`, `+<now>`, `<now>e0`,
//!   `0x…`, 20 digits), the timestamp missing (in every way a verifier may
//!   sign its absence), a header or parameter repeated with the same value,
//!   the `Authorization` header's parameters missing, unquoted, or naming
//!   an algorithm the verifier does not have. Each has a control: the
//!   deliberate defect that ignores exactly that property must accept it.
//!   (A timestamp with whitespace around it is only sent where the
//!   whitespace survives HTTP: inside a parameter or a part, not as a
//!   header's whole value, which HTTP trims.)
//! - **Robustness.** Input no verifier accepts by ignoring one property:
//!   `abc`, a negative or 23-digit timestamp, a garbage header, every
//!   header the scheme reads with non-UTF-8 bytes, non-ASCII text, an emoji
//!   or nothing in it, the tag of the right length in the wrong alphabet,
//!   every field with one character replaced (a minimal malformed value,
//!   which passes length and structure checks), a 16 KiB header. Such a
//!   case checks that the answer is a 4xx, not a 5xx or a hang; whitespace
//!   around a header's whole value, which HTTP trims, may be accepted.
//!
//! Plain decimal integers with leading zeros (up to 19 digits) are valid
//! syntax: either answer conforms.

use super::probe::{Builder, Expect, Probe, ROBUSTNESS, Step};
use crate::verdict::Category::Malformed;
use sigconform_core::scheme::{Field, Location, Repeated, SignInput, TimestampSyntax};
use sigconform_core::tamper::{Header, HeaderEdit, ParameterStyle, Recipe, SignedAs};
use sigconform_defects::Defect;

/// Every malformed case, in catalog order.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = Vec::new();
    if b.decimal_timestamps() {
        out.extend(timestamps(b));
        out.extend(b.absence_probes(Malformed, &Field::Timestamp, "timestamp"));
    }
    out.extend(signature_headers(b));
    out.extend(header_values(b));
    out.extend(tag_values(b));
    out.extend(minimal_values(b));
    out.extend(parameters(b));
    out.push(oversized(b));
    out.extend(body_not_json(b));
    out.extend(super::decoding::probes(b));
    out.extend(super::disclosure::probes(b));
    out
}

/// A header value no scheme can parse: separators, quotes, a stray `=`.
const GARBAGE: &str = r#"%%sigconform,,"garbage"=;=="#;

/// A timestamp syntax: its name, what it is, and how "now" is written in it.
struct Syntax {
    name: &'static str,
    description: &'static str,
    write: fn(u64) -> String,
    kind: Kind,
}

/// What a syntax is to the rules.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Not a plain decimal integer, but a lenient parser reads "now" from it.
    Lenient,
    /// The same, but HTTP trims it where it is a header's whole value.
    LenientInside,
    /// A plain decimal integer of at most 19 digits: either answer conforms.
    Valid,
    /// No parser reads a time inside the window from it.
    Robustness,
}

const SYNTAXES: [Syntax; 13] = [
    Syntax {
        name: "non-numeric",
        description: "a non-numeric timestamp (`abc`)",
        write: |_| "abc".into(),
        kind: Kind::Robustness,
    },
    Syntax {
        name: "negative",
        description: "a negative timestamp (`-<now>`)",
        write: |now| format!("-{now}"),
        kind: Kind::Robustness,
    },
    // Half a second before now, not after: `<now>.5` is in the future
    // until the target's clock passes the second, so a lenient parser with
    // no skew allowed ahead would accept or reject it by the instant.
    Syntax {
        name: "fractional",
        description: "a fractional timestamp half a second ago (`<now - 1>.5`, signed)",
        write: |now| format!("{}.5", now.saturating_sub(1)),
        kind: Kind::Lenient,
    },
    Syntax {
        name: "plus-sign",
        description: "a timestamp with a plus sign (`+<now>`, signed)",
        write: |now| format!("+{now}"),
        kind: Kind::Lenient,
    },
    Syntax {
        name: "leading-space",
        description: "a timestamp after a space (` <now>`, signed)",
        write: |now| format!(" {now}"),
        kind: Kind::LenientInside,
    },
    Syntax {
        name: "trailing-space",
        description: "a timestamp before a space (`<now> `, signed)",
        write: |now| format!("{now} "),
        kind: Kind::LenientInside,
    },
    Syntax {
        name: "exponent",
        description: "a timestamp with an exponent (`<now>e0`, signed)",
        write: |now| format!("{now}e0"),
        kind: Kind::Lenient,
    },
    Syntax {
        name: "hexadecimal",
        description: "a hexadecimal timestamp (`0x…` of now, signed)",
        write: |now| format!("0x{now:x}"),
        kind: Kind::Lenient,
    },
    Syntax {
        name: "leading-zero",
        description: "a timestamp with a leading zero (`0<now>`, signed; either answer conforms)",
        write: |now| format!("0{now}"),
        kind: Kind::Valid,
    },
    Syntax {
        name: "18-digits",
        description: "now as 18 digits with leading zeros (signed; either answer conforms)",
        write: |now| format!("{now:018}"),
        kind: Kind::Valid,
    },
    Syntax {
        name: "19-digits",
        description: "now as 19 digits with leading zeros (signed; either answer conforms)",
        write: |now| format!("{now:019}"),
        kind: Kind::Valid,
    },
    Syntax {
        name: "20-digits",
        description: "now as 20 digits with leading zeros (one more than allowed, signed)",
        write: |now| format!("{now:020}"),
        kind: Kind::Lenient,
    },
    Syntax {
        name: "overlong",
        description: "a 23-digit timestamp (no integer type holds it)",
        write: |_| "99999999999999999999999".into(),
        kind: Kind::Robustness,
    },
];

/// "Now" written in each timestamp syntax, signed as sent.
fn timestamps(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.probe_request();
    let at = b.location(&Field::Timestamp);
    if at.is_none() {
        return Vec::new();
    }
    let trims = matches!(at, Some(Location::Header(_)));
    let unbounded_future = b.scheme.window().future == u64::MAX;
    let lenient = b.scheme.sender().timestamp_syntax == TimestampSyntax::Lenient;
    // A syntax with the separator of a header of parts (`partner`'s `.`)
    // breaks the header rather than the timestamp.
    // So does a space in a structured field's parameter (RFC 9421's
    // `created`), where the field's grammar allows none.
    let breaks = |text: &str| match &at {
        Some(Location::Part { separator, .. }) => text.contains(*separator),
        Some(Location::Member { .. }) => text.contains(' '),
        _ => false,
    };
    SYNTAXES
        .iter()
        .map(|syntax| {
            let written = (syntax.write)(b.now);
            let breaks_header = breaks(&written);
            let r = Recipe {
                input: SignInput {
                    timestamp: written,
                    ..b.input(b.now)
                },
                ..Recipe::default()
            };
            // Without a future limit, a signed far-future timestamp is in
            // the window for a parser that holds it.
            let in_window = syntax.name == "overlong" && unbounded_future;
            let expect = match syntax.kind {
                Kind::Valid => Expect::Either,
                Kind::Robustness if in_window => Expect::Either,
                Kind::Lenient | Kind::LenientInside if lenient => Expect::RejectOrWarn,
                _ => Expect::Reject,
            };
            let mut probe = b
                .probe(
                    Malformed,
                    &format!("timestamp-{}", syntax.name),
                    syntax.description,
                    vec![b.step(&post, &r, expect)],
                )
                .rule(b.cite("timestamp-syntax"));
            probe = match syntax.kind {
                _ if in_window => probe
                    .no_control("no future limit: a parser that holds the value reads a time in the window, and either answer conforms"),
                _ if breaks_header => probe.no_control(
                    "the syntax holds a separator of the header (of its parts, or a space where a structured field allows none), which then no longer says where the timestamp is: the case checks a 4xx, not a 5xx",
                ),
                Kind::Lenient | Kind::LenientInside => probe.control(Defect::LenientTimestamps),
                Kind::Valid => probe.no_control("valid syntax: either answer conforms"),
                Kind::Robustness => probe.no_control(ROBUSTNESS),
            };
            if syntax.kind == Kind::LenientInside && trims {
                probe.skip = Some(
                    "the timestamp is a header's whole value, which HTTP trims (RFC 9110 section 5.5): the verifier never sees the space"
                        .into(),
                );
            }
            probe
        })
        .collect()
}

/// The runner's POST, signed, then edited by `edit`.
fn edited(b: &Builder<'_>, edit: HeaderEdit, expect: Expect) -> Result<Step, String> {
    b.step(
        &b.probe_request(),
        &Recipe {
            edits: vec![edit],
            ..b.recipe(b.now)
        },
        expect,
    )
}

/// Each header the scheme writes: missing (where no absence case covers
/// it), twice, with a garbage value, and each of its `name="value"`
/// parameters twice.
fn signature_headers(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = Vec::new();
    for (name, value) in &b.signature_headers() {
        let n = name.as_str();
        let fields = b.scheme.fields_in(name);
        let missing = b
            .probe(
                Malformed,
                &format!("missing-{n}"),
                &format!("without {n}: 4xx"),
                vec![edited(b, HeaderEdit::Remove(n.into()), Expect::Reject)],
            )
            .rule(b.cite("absence-signed"));
        match fields.as_slice() {
            [Field::Tag] => out.push(missing.control(Defect::AnyTag)),
            // One field of its own: its absence cases say more.
            [_] => {}
            _ => out.push(missing.no_control(
                "the header holds every field of the signature: no verifier goes on without all of them, so the case checks a 4xx, not a 5xx",
            )),
        }
        out.push(duplicate_header(b, n, value));
        out.push(
            b.probe(
                Malformed,
                &format!("garbage-{n}"),
                &format!("{n} with a garbage value: 4xx"),
                vec![edited(
                    b,
                    HeaderEdit::Set(Header(n.into(), GARBAGE.into())),
                    Expect::Reject,
                )],
            )
            .rule(b.cite("status"))
            .no_control(ROBUSTNESS),
        );
        out.extend(doubled_parameters(b, name));
    }
    out
}

/// Header `name` twice with the same value: a rejection under the seeds'
/// rule, either answer where the provider sets none (Node joins the copies
/// into one list, Python keeps one: nothing differs between them).
fn duplicate_header(b: &Builder<'_>, name: &str, value: &str) -> Probe {
    let refused = b.scheme.sender().repeated_headers == Repeated::Refused;
    let (description, expect) = if refused {
        (format!("{name} twice: 4xx"), Expect::Reject)
    } else {
        (
            format!("{name} twice (the provider sets no rule: either answer conforms)"),
            Expect::Either,
        )
    };
    let probe = b
        .probe(
            Malformed,
            &format!("duplicate-{name}"),
            &description,
            vec![edited(
                b,
                HeaderEdit::Add(Header(name.into(), value.to_owned())),
                expect,
            )],
        )
        .rule(b.cite("duplicate-header"));
    if refused {
        probe.control(Defect::FirstOfDuplicates)
    } else {
        probe.no_control("either answer conforms: nothing to prove")
    }
}

/// A header made of `name="value"` parameters: each parameter repeated (a
/// parser that keeps the first and one that keeps the last read different
/// requests). Each case signs afresh, so that no two share a nonce.
fn doubled_parameters(b: &Builder<'_>, name: &http::HeaderName) -> Vec<Probe> {
    let post = b.probe_request();
    let n = name.as_str();
    let signed_value = |step: &Step| {
        step.request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let doubled = |parameter: &str| {
        let mut step = b.step(&post, &b.recipe(b.now), Expect::Reject)?;
        let value = signed_value(&step)
            .and_then(|signed| {
                let list = sigconform_core::request::parameters(&signed)?.items;
                let (_, v) = list.into_iter().find(|(p, _)| *p == parameter)?;
                http::HeaderValue::from_str(&format!("{signed},{parameter}=\"{v}\"")).ok()
            })
            .ok_or_else(|| format!("the signed {name} has no {parameter} to repeat"))?;
        step.request.headers_mut().insert(name, value);
        Ok(step)
    };
    let parameters: Vec<String> = b
        .step(&post, &b.recipe(b.now), Expect::Reject)
        .ok()
        .and_then(|step| {
            let signed = signed_value(&step)?;
            let list = sigconform_core::request::parameters(&signed)?.items;
            Some(list.into_iter().map(|(p, _)| p.to_owned()).collect())
        })
        .unwrap_or_default();
    parameters
        .into_iter()
        .map(|parameter| {
            b.probe(
                Malformed,
                &format!("duplicate-parameter-{}", parameter.to_ascii_lowercase()),
                &format!("{n} with its {parameter} parameter twice: 4xx"),
                vec![doubled(&parameter)],
            )
            .rule(b.cite("param-syntax"))
            .control(Defect::FirstOfDuplicates)
        })
        .collect()
}

/// What the robustness cases write into a header.
const VALUES: [(&str, &str, &[u8], Expect); 6] = [
    (
        "non-utf8",
        "non-UTF-8 bytes",
        b"\xff\xfe\xc3\x28",
        Expect::Reject,
    ),
    (
        "non-ascii",
        "non-ASCII text (`é`)",
        "é".as_bytes(),
        Expect::Reject,
    ),
    ("emoji", "an emoji", "😀".as_bytes(), Expect::Reject),
    ("empty", "an empty value", b"", Expect::Reject),
    (
        "leading-space",
        "a space before its value (which HTTP trims: either answer conforms)",
        b" ",
        Expect::Either,
    ),
    (
        "trailing-space",
        "a space after its value (which HTTP trims: either answer conforms)",
        b" ",
        Expect::Either,
    ),
];

/// Every header the scheme reads, with each of [`VALUES`] in it (the
/// spaces around its signed value).
fn header_values(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = Vec::new();
    for name in b.signature_header_names() {
        for (kind, what, bytes, expect) in VALUES {
            let step = b
                .step(&b.probe_request(), &b.recipe(b.now), expect)
                .and_then(|mut step| {
                    let signed = step
                        .request
                        .headers()
                        .get(&name)
                        .map(|v| v.as_bytes().to_vec())
                        .unwrap_or_default();
                    let value = match kind {
                        "leading-space" => [bytes, &signed].concat(),
                        "trailing-space" => [&signed, bytes].concat(),
                        _ => bytes.to_vec(),
                    };
                    let value = http::HeaderValue::from_bytes(&value).map_err(|e| e.to_string())?;
                    step.request.headers_mut().insert(
                        http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?,
                        value,
                    );
                    Ok(step)
                });
            let description = if expect == Expect::Either {
                format!("{name} with {what}")
            } else {
                format!("{name} with {what}: 4xx")
            };
            let probe = b
                .probe(
                    Malformed,
                    &format!("{kind}-{name}"),
                    &description,
                    vec![step],
                )
                .rule(b.cite("status"));
            out.push(if expect == Expect::Either {
                probe.no_control("either answer conforms: nothing to prove")
            } else {
                probe.no_control(ROBUSTNESS)
            });
        }
    }
    out
}

/// The tag where it is: of the right length in the wrong alphabet, and
/// (where it shares its header with other fields, so that the header's own
/// cases do not reach it) with non-UTF-8 bytes or non-ASCII text in it.
fn tag_values(b: &Builder<'_>) -> Vec<Probe> {
    let Some(at) = b.location(&Field::Tag) else {
        return Vec::new();
    };
    let shared = !matches!(at, Location::Header(_));
    /// What is written in place of a tag.
    type Write = fn(&str) -> Vec<u8>;
    let mut cases: Vec<(&str, &str, Write)> = vec![(
        "tag-wrong-alphabet",
        "a tag of the right length in the wrong alphabet",
        |tag| {
            tag.chars()
                .map(|c| if c == '=' { '=' } else { '!' })
                .collect::<String>()
                .into_bytes()
        },
    )];
    if shared {
        cases.push(("tag-non-utf8", "a tag of non-UTF-8 bytes", |_| {
            b"\xff\xfe\xc3\x28".to_vec()
        }));
        cases.push(("tag-non-ascii", "a tag of non-ASCII text (`é`)", |_| {
            "é".as_bytes().to_vec()
        }));
    }
    cases
        .into_iter()
        .map(|(name, description, write)| {
            let step = b
                .step(&b.probe_request(), &b.recipe(b.now), Expect::Reject)
                .and_then(|mut step| {
                    let tag = at.read(&step.request).unwrap_or_default().to_owned();
                    at.write(&mut step.request, &write(&tag))?;
                    Ok(step)
                });
            b.probe(Malformed, name, &format!("{description}: 4xx"), vec![step])
                .rule(b.cite("tag-encoding"))
                .no_control(ROBUSTNESS)
        })
        .collect()
}

/// A character that replaces one of a valid value's, keeping everything
/// else of it: its name, what it is, and its bytes.
const ONE_CHARACTER: [(&str, &str, &[u8]); 4] = [
    ("non-ascii", "one character replaced by `é`", "é".as_bytes()),
    (
        "emoji",
        "one character replaced by an emoji",
        "😀".as_bytes(),
    ),
    (
        "non-utf8",
        "one character replaced by a non-UTF-8 byte",
        b"\xff",
    ),
    (
        "outside-alphabet",
        "one character replaced by one outside its alphabet (`!`)",
        b"!",
    ),
];

/// Every field the scheme carries, its valid value with one character
/// replaced ([`ONE_CHARACTER`]): the same length in characters, the same
/// prefix and the same structure around it, so that the verifier's length
/// and structure checks pass and the value reaches the code that uses it
/// (a compare of the tag's bytes, a key lookup). The blunt values of
/// [`header_values`] are refused before that. The last character is
/// replaced (the last before a tag's `=` padding). `outside-alphabet` only
/// where the field has one (tag, timestamp, body hash); a non-UTF-8 byte
/// not in a query, which cannot carry one.
fn minimal_values(b: &Builder<'_>) -> Vec<Probe> {
    let fields = [
        (Field::KeyId, "key-id"),
        (Field::Algorithm, "algorithm"),
        (Field::Timestamp, "timestamp"),
        (Field::Nonce, "nonce"),
        (Field::Tag, "tag"),
        (Field::BodyHash, "body-hash"),
        (Field::SignedHeaders, "headers"),
    ];
    let mut out = Vec::new();
    for (field, name) in fields {
        let Some(at) = b.location(&field) else {
            continue;
        };
        if at == Location::Signed {
            continue;
        }
        let has_alphabet = matches!(field, Field::Tag | Field::Timestamp | Field::BodyHash);
        for (kind, what, replacement) in ONE_CHARACTER {
            if (kind == "outside-alphabet" && !has_alphabet)
                || (kind == "non-utf8" && matches!(at, Location::Query(_)))
            {
                continue;
            }
            let step = b
                .step(&b.probe_request(), &b.recipe(b.now), Expect::Reject)
                .and_then(|mut step| {
                    let changed = at
                        .read(&step.request)
                        .map(|value| one_replaced(value, replacement))
                        .ok_or_else(|| format!("the signed request carries no {field}"))?;
                    at.write(&mut step.request, &changed)?;
                    Ok(step)
                });
            out.push(
                b.probe(
                    Malformed,
                    &format!("{name}-one-{kind}"),
                    &format!("the {field} with {what}: 4xx"),
                    vec![step],
                )
                .rule(b.cite("status"))
                .no_control(ROBUSTNESS),
            );
        }
    }
    out
}

/// `value` with its last character (before any `=` padding) replaced by
/// `replacement`.
fn one_replaced(value: &str, replacement: &[u8]) -> Vec<u8> {
    let unpadded = value.trim_end_matches('=');
    let at = unpadded.char_indices().next_back().map_or(0, |(i, _)| i);
    [
        &value.as_bytes()[..at],
        replacement,
        &value.as_bytes()[unpadded.len()..],
    ]
    .concat()
}

/// `authorization`'s parameters: `algorithm`, `headers` and `signature`
/// missing (`keyId`, `timestamp` and `nonce` are the absence cases of
/// their categories), an algorithm the verifier does not have (`HMAC-MD5`
/// with an HMAC-SHA256 tag; `none` with none), the right one in lower case,
/// and values without quotes.
fn parameters(b: &Builder<'_>) -> Vec<Probe> {
    let Some(header) = b.parameter_header() else {
        return Vec::new();
    };
    let parameter = |field: &Field| match b.location(field) {
        Some(Location::Parameter { name, .. }) => Some(name),
        _ => None,
    };
    let (Some(algorithm), Some(headers), Some(signature)) = (
        parameter(&Field::Algorithm),
        parameter(&Field::SignedHeaders),
        parameter(&Field::Tag),
    ) else {
        return Vec::new();
    };
    let remove = |name: &str| HeaderEdit::RemoveParameter {
        header: header.clone(),
        name: name.to_owned(),
    };
    let set = |name: &str, value: &str| HeaderEdit::SetParameter {
        header: header.clone(),
        name: name.to_owned(),
        value: value.to_owned(),
    };
    let case = |name: &str, description: &str, edits: Vec<HeaderEdit>, expect: Expect| {
        let step = b.step(
            &b.probe_request(),
            &Recipe {
                edits,
                ..b.recipe(b.now)
            },
            expect,
        );
        b.probe(Malformed, name, description, vec![step])
    };
    vec![
        case(
            "parameter-missing-algorithm",
            "without the algorithm parameter (HMAC-SHA256 signed; either answer conforms)",
            vec![remove(&algorithm)],
            Expect::Either,
        )
        .rule(b.cite("param-syntax"))
        .no_control("either answer conforms: nothing to prove"),
        case(
            "parameter-missing-headers",
            "without the headers parameter (the default list signed)",
            vec![remove(&headers)],
            Expect::Reject,
        )
        .rule(b.cite("required-headers"))
        .control(Defect::DefaultHeaderList),
        case(
            "parameter-missing-signature",
            "without the signature parameter",
            vec![remove(&signature)],
            Expect::Reject,
        )
        .rule(b.cite("tag-encoding"))
        .control(Defect::AnyTag),
        case(
            "algorithm-md5",
            "HMAC-MD5 named, the tag HMAC-SHA256's",
            vec![set(&algorithm, "HMAC-MD5")],
            Expect::Reject,
        )
        .rule(b.cite("algorithm-names"))
        .control(Defect::UnknownAlgorithmsAsSha256),
        case(
            "algorithm-none",
            "algorithm none, with an empty signature",
            vec![set(&algorithm, "none"), set(&signature, "")],
            Expect::Reject,
        )
        .rule(b.cite("algorithm-names"))
        .control(Defect::AcceptsAlgorithmNone),
        case(
            "algorithm-lowercase",
            "hmac-sha256 in lower case (either answer conforms)",
            vec![set(&algorithm, "hmac-sha256")],
            Expect::Either,
        )
        .rule(b.cite("param-syntax"))
        .no_control("either answer conforms: nothing to prove"),
        case(
            "parameters-unquoted",
            "parameter values without their quotes",
            vec![HeaderEdit::Restyle {
                header: header.clone(),
                style: ParameterStyle::Unquoted,
            }],
            Expect::Reject,
        )
        .rule(b.cite("param-syntax"))
        .control(Defect::UnquotedParameters),
    ]
}

/// Over raw TCP: a 16 KiB value in the first signature header.
fn oversized(b: &Builder<'_>) -> Probe {
    let oversized = vec![b'a'; 16 * 1024];
    b.probe(
        Malformed,
        "oversized-header",
        "a 16 KiB signature header gets a 4xx",
        vec![b.raw_step(Expect::Reject, str::to_owned, Some(&oversized))],
    )
    .rule(b.cite("status"))
    .no_control(ROBUSTNESS)
}

/// Where the scheme signs JSON, a body that is not JSON cannot be signed
/// at all; sent with the signature of `{}` it must get a 4xx.
fn body_not_json(b: &Builder<'_>) -> Option<Probe> {
    b.signs_json_only().then(|| {
        let signed_as = SignedAs {
            body: Some("{}".into()),
            ..SignedAs::default()
        };
        b.probe(
            Malformed,
            "body-not-json",
            "a body that is not JSON where JSON is signed gets a 4xx",
            vec![b.step(
                &b.form_post(),
                &Recipe {
                    signed_as: Some(signed_as),
                    ..b.recipe(b.now)
                },
                Expect::Reject,
            )],
        )
        .rule(b.cite("not-json"))
        .control(Defect::NonJsonBodyAsEmpty)
    })
}
