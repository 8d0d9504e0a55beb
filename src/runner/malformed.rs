//! `malformed`: bad input gets a 4xx, never a 5xx, never a hang —
//! timestamps that are not plain integers, each signature header missing,
//! twice or garbage, each `name="value"` parameter twice, non-UTF-8 bytes
//! and oversized values, and a body that is not JSON where JSON is signed.

use super::Category::Malformed;
use super::probe::{Builder, Expect, Probe, Step, set_body};
use crate::scheme::SignInput;
use crate::tamper::{Header, HeaderEdit, Recipe, SignedAs};

/// A header value no scheme can parse: separators, quotes, a stray `=`.
const GARBAGE: &str = r#"%%sigconform,,"garbage"=;=="#;

/// Timestamps that are not plain decimal integers of at most 19 digits.
pub(super) fn timestamps(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.base("POST", true);
    [
        ("non-numeric", "abc"),
        ("negative", "-1"),
        ("fractional", "1.5"),
        ("overlong", "99999999999999999999999"),
    ]
    .into_iter()
    .map(|(name, ts)| {
        let article = if name.starts_with('o') { "an" } else { "a" };
        let r = Recipe {
            input: SignInput {
                timestamp: ts.into(),
                ..b.input(b.now)
            },
            ..Recipe::default()
        };
        b.probe(
            Malformed,
            &format!("timestamp-{name}"),
            &format!("{article} {name} timestamp gets a 4xx"),
            vec![b.step(&post, &r, Expect::Reject)],
        )
    })
    .collect()
}

/// Each header the scheme writes: missing, twice, with a garbage value,
/// and each of its `name="value"` parameters twice.
pub(super) fn signature_headers(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.base("POST", true);
    let mut out = Vec::new();
    for (name, value) in &b.signature_headers() {
        let n = name.as_str();
        let edited = |edit: HeaderEdit| {
            b.step(
                &post,
                &Recipe {
                    edits: vec![edit],
                    ..b.recipe(b.now)
                },
                Expect::Reject,
            )
        };
        out.push(b.probe(
            Malformed,
            &format!("missing-{n}"),
            &format!("without {n}: 4xx"),
            vec![edited(HeaderEdit::Remove(n.into()))],
        ));
        out.push(b.probe(
            Malformed,
            &format!("duplicate-{n}"),
            &format!("{n} twice: 4xx"),
            vec![edited(HeaderEdit::Add(Header(n.into(), value.clone())))],
        ));
        out.push(b.probe(
            Malformed,
            &format!("garbage-{n}"),
            &format!("{n} with a garbage value: 4xx"),
            vec![edited(HeaderEdit::Set(Header(n.into(), GARBAGE.into())))],
        ));
        out.extend(doubled_parameters(b, name));
    }
    out
}

/// A header made of `name="value"` parameters: each parameter repeated (a
/// parser that keeps the first and one that keeps the last read different
/// requests). Each case signs afresh, so that no two share a nonce.
fn doubled_parameters(b: &Builder<'_>, name: &http::HeaderName) -> Vec<Probe> {
    let post = b.base("POST", true);
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
                let (_, part) = parameter_list(&signed)?
                    .into_iter()
                    .find(|(n, _)| n == parameter)?;
                http::HeaderValue::from_str(&format!("{signed},{part}")).ok()
            })
            .ok_or_else(|| format!("the signed {name} has no {parameter} to repeat"))?;
        step.request.headers_mut().insert(name, value);
        Ok(step)
    };
    let parameters = b
        .step(&post, &b.recipe(b.now), Expect::Reject)
        .ok()
        .and_then(|step| parameter_list(&signed_value(&step)?))
        .unwrap_or_default();
    parameters
        .into_iter()
        .map(|(parameter, _)| {
            b.probe(
                Malformed,
                &format!("duplicate-parameter-{parameter}"),
                &format!("{n} with its {parameter} parameter twice: 4xx"),
                vec![doubled(&parameter)],
            )
        })
        .collect()
}

/// A header value made of `name="value"` parameters separated by commas,
/// after an optional scheme word (`Signature keyId="…",…`): each
/// parameter's lower-case name and its text as written. `None` for any
/// other value, or for fewer than two parameters.
fn parameter_list(value: &str) -> Option<Vec<(String, String)>> {
    let list = value.split_once(' ').map_or(value, |(_, list)| list);
    let parameters = list
        .split(',')
        .map(|part| {
            let (name, quoted) = part.split_once('=')?;
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && quoted.len() >= 2
                && quoted.starts_with('"')
                && quoted.ends_with('"');
            valid.then(|| (name.to_ascii_lowercase(), part.to_owned()))
        })
        .collect::<Option<Vec<_>>>()?;
    (parameters.len() >= 2).then_some(parameters)
}

/// Over raw TCP: non-UTF-8 bytes and an oversized value in a signature
/// header.
pub(super) fn raw_values(b: &Builder<'_>) -> Vec<Probe> {
    let oversized = vec![b'a'; 16 * 1024];
    vec![
        b.probe(
            Malformed,
            "non-utf8-header",
            "non-UTF-8 bytes in a signature header get a 4xx",
            vec![b.raw_step(Expect::Reject, str::to_owned, Some(b"\xff\xfe\xc3\x28"))],
        ),
        b.probe(
            Malformed,
            "oversized-header",
            "a 16 KiB signature header gets a 4xx",
            vec![b.raw_step(Expect::Reject, str::to_owned, Some(&oversized))],
        ),
    ]
}

/// Where the scheme signs JSON, a body that is not JSON cannot be signed
/// at all; sent with the signature of `{}` it must get a 4xx.
pub(super) fn body_not_json(b: &Builder<'_>) -> Option<Probe> {
    let mut not_json = b.base("POST", true);
    set_body(&mut not_json, "userId=1&action=create");
    b.scheme
        .sign(&not_json, &b.input(b.now), &b.key)
        .is_err()
        .then(|| {
            let signed_as = SignedAs {
                body: Some("{}".into()),
                ..SignedAs::default()
            };
            b.probe(
                Malformed,
                "body-not-json",
                "a body that is not JSON where JSON is signed gets a 4xx",
                vec![b.step(
                    &not_json,
                    &Recipe {
                        signed_as: Some(signed_as),
                        ..b.recipe(b.now)
                    },
                    Expect::Reject,
                )],
            )
        })
}
