//! `acceptance`: correctly signed requests are accepted — every method
//! (bodies on every method but GET), the body shapes serialisers disagree
//! on, an encoded query, header names in any letter case, a body sent in
//! chunks, a parameter list written in another order or with spaces,
//! several signatures in one header (the right one first or last), and a
//! real form where a form's parameters are signed.
//!
//! Positive cases have no control: there is no property to ignore. A
//! method the user did not name that the target does not route is `skip`.

use bytes::Bytes;

use super::probe::{Builder, Expect, Probe, Step, set_body};
use crate::verdict::Category::Acceptance;
use sigconform_core::scheme::{Compared, Field, Location};
use sigconform_core::tamper::{HeaderEdit, ParameterStyle, Recipe};

/// A query whose canonical form needs sorting by name then value, and
/// decoding of `+` and `%xx`.
const PROBE_QUERY_PATH: &str = "/sigconform/probe?page=2&b=x+y&a=2&a=10&e=%C3%A9%2F&empty=";

/// Non-ASCII text as raw UTF-8 (which Python's `ensure_ascii` would
/// escape), a `/` (which PHP escapes) and escapes JSON requires.
const NON_ASCII_BODY: &str =
    r#"{"city":"Zürich","name":"Zoë 東京 😀","path":"a/b","quote":"say \"hi\"\n\ttab"}"#;

/// Keys out of order at two levels and numbers that serialisers print
/// differently: `1e21` (`1e+21` in JavaScript), `-0` (`0`), `0.1`, `100`,
/// an integer beyond 2^53 (rounded to a double by JavaScript).
const NUMBERS_BODY: &str =
    r#"{"z":[1.5,1e21,-0,0.1,100,9007199254740993],"a":{"y":true,"b":null},"m":""}"#;

/// Keys that are JavaScript array indices: `JSON.stringify` writes them
/// first, in numeric order (`"9"` before `"10"`), whatever order a sort
/// left them in.
const INDEX_KEYS_BODY: &str = r#"{"b":1,"10":"ten","9":"nine","a":[{"2":0,"1":0}]}"#;

/// Lone surrogate escapes beside a pair: `JSON.parse` keeps a lone
/// surrogate and `JSON.stringify` writes it back as `\ud800` (ES2019). A
/// strict parser (serde_json, Jackson) refuses the body.
const LONE_SURROGATES_BODY: &str = r#"{"lone":"\ud800","mixed":"\udc00x\ud83d\ude80"}"#;

/// Numbers beyond the double range: JavaScript reads `±Infinity` and
/// writes `null`, and `1e-400` as `0`. A strict parser refuses them.
const BEYOND_DOUBLE_BODY: &str = r#"{"big":1e400,"small":-1e400,"tiny":1e-400}"#;

/// A `__proto__` member: `JSON.parse` makes it an ordinary property, and a
/// key sort that assigns members (`out[k] = v`) silently drops it.
const PROTO_KEY_BODY: &str = r#"{"z":1,"__proto__":{"admin":true}}"#;

/// A 64 KiB JSON body (below every common server's default body limit).
fn large_body() -> String {
    String::from_utf8(sigconform_core::sample::json_document(64 * 1024))
        .expect("the sample is JSON text")
}

/// Every acceptance case, in catalog order.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = methods(b);
    out.extend(bodies(b));
    out.extend(javascript_json(b));
    out.extend(query(b));
    out.extend(header_name_case(b));
    out.extend(chunked(b));
    out.extend(parameter_styles(b));
    out.extend(several_signatures(b));
    out.extend(form_bodies(b));
    out
}

/// A form body as a form-posting provider sends one (Twilio's parameters):
/// a name repeated, `+` for a space, `%XX` for `+` and for UTF-8.
const PROVIDER_FORM: &str =
    "To=%2B14155550100&Digits=5678&Body=hello+world&Digits=1234&From=caf%C3%A9";

/// Where the scheme signs a form's parameters (sorted, decoded), a real
/// form body: a verifier that keeps one value of a repeated name (a
/// dictionary), or signs the parameters undecoded, refuses it.
fn form_bodies(b: &Builder<'_>) -> Option<Probe> {
    if !b.method_selected("POST") || !b.signs_form() {
        return None;
    }
    let mut form = b.form_post();
    set_body(&mut form, PROVIDER_FORM);
    Some(accepted(
        b,
        "form-body",
        "a form body with a repeated name, `+` and `%XX` is accepted",
        b.acceptance_step(&form),
    ))
}

/// Where tags are items of a list (Stripe's `v1=…`, Standard Webhooks'
/// `v1,…`), a wrong signature before the right one, as while a secret
/// rolls: the right one is accepted. And the right one before a wrong one,
/// which a verifier that compares only the last entry refuses: accepted
/// where any entry may match, either answer where the provider compares
/// only the last.
fn several_signatures(b: &Builder<'_>) -> Vec<Probe> {
    let Some(at) = b.location(&Field::Tag) else {
        return Vec::new();
    };
    if !matches!(at, Location::Item { .. }) {
        return Vec::new();
    }
    let with_wrong = |expect: Expect, first: bool| {
        b.step(&b.probe_request(), &b.recipe(b.now), expect)
            .and_then(|mut step| {
                let wrong = b.wrong_tag();
                let added = if first {
                    at.add_first(&mut step.request, &wrong)
                } else {
                    at.add_last(&mut step.request, &wrong)
                };
                added.unwrap_or(Ok(()))?;
                Ok(step)
            })
    };
    let right_first = match b.scheme.sender().signatures_compared {
        Compared::Any => accepted(
            b,
            "several-signatures-right-first",
            "the right signature before a wrong one is accepted (any entry may match)",
            with_wrong(Expect::Accept, false),
        ),
        Compared::Last => b
            .probe(
                Acceptance,
                "several-signatures-right-first",
                "the right signature before a wrong one (the provider compares the last: either answer conforms)",
                vec![with_wrong(Expect::Either, false)],
            )
            .rule(b.cite("signed-string"))
            .no_control("either answer conforms: nothing to prove"),
    };
    vec![
        accepted(
            b,
            "several-signatures",
            "a wrong signature before the right one (a key rotation) is accepted",
            with_wrong(Expect::Accept, true),
        ),
        right_first,
    ]
}

fn accepted(b: &Builder<'_>, name: &str, description: &str, step: Result<Step, String>) -> Probe {
    b.probe(Acceptance, name, description, vec![step])
        .rule(b.cite("signed-string"))
        .no_control("a valid request: nothing to ignore")
}

/// Each method the run sends, with a body unless it is GET or HEAD.
fn methods(b: &Builder<'_>) -> Vec<Probe> {
    b.methods()
        .into_iter()
        .map(|method| {
            let with_body = !matches!(method.as_str(), "GET" | "HEAD");
            let req = b.first_choice(&method, with_body);
            let description = if with_body {
                format!("a valid {method} with a body is accepted")
            } else {
                format!("a valid {method} is accepted")
            };
            accepted(
                b,
                &method.to_lowercase(),
                &description,
                b.acceptance_step(&req),
            )
        })
        .collect()
}

/// Body shapes, as POSTs: none at all; text beyond ASCII with escapes;
/// numbers and key order that JSON serialisers print differently (a
/// verifier whose canonical JSON is not JavaScript's, or that
/// re-serialises the body before hashing it, fails here); and a body
/// larger than a first buffer.
fn bodies(b: &Builder<'_>) -> Vec<Probe> {
    if !b.method_selected(b.probe_method()) {
        return Vec::new();
    }
    [
        (
            "post-empty-body",
            "a valid POST without a body is accepted",
            String::new(),
        ),
        (
            "body-non-ascii",
            "a body with non-ASCII text and escapes is accepted",
            NON_ASCII_BODY.to_owned(),
        ),
        (
            "body-numbers-and-key-order",
            "a body with unsorted keys, nesting and numbers serialisers disagree on is accepted",
            NUMBERS_BODY.to_owned(),
        ),
        (
            "body-index-like-keys",
            "a body with keys that look like array indices (\"9\", \"10\") is accepted",
            INDEX_KEYS_BODY.to_owned(),
        ),
        (
            "body-64k",
            "a valid POST with a 64 KiB body is accepted",
            large_body(),
        ),
    ]
    .into_iter()
    .map(|(name, description, body)| {
        let empty = body.is_empty();
        let req = b.first_choice_at(b.probe_method(), &body);
        let probe = accepted(b, name, description, b.acceptance_step(&req));
        let mut probe = if empty { probe } else { b.json_case(probe) };
        if empty && !b.scheme.sender().empty_body {
            probe.skip =
                Some("the provider never delivers an empty body (its SDKs may refuse one)".into());
        }
        probe
    })
    .collect()
}

/// Where the scheme signs JSON as JavaScript canonicalises it (`partner`):
/// the bodies `JSON.parse` reads and stricter parsers do not, as a
/// JavaScript signer sends them (`finds_what_real_verifiers_get_wrong`
/// runs the verifiers that fail them).
fn javascript_json(b: &Builder<'_>) -> Vec<Probe> {
    if !b.method_selected(b.probe_method()) || !b.signs_json_only() {
        return Vec::new();
    }
    [
        (
            "body-lone-surrogates",
            "a body with lone surrogate escapes (\\ud800) is accepted, as JSON.parse reads it",
            LONE_SURROGATES_BODY,
        ),
        (
            "body-beyond-double",
            "a body with numbers beyond the double range (1e400) is accepted, as JSON.parse reads them",
            BEYOND_DOUBLE_BODY,
        ),
        (
            "body-proto-key",
            "a body with a __proto__ member is accepted, the member signed as any other",
            PROTO_KEY_BODY,
        ),
    ]
    .into_iter()
    .map(|(name, description, body)| {
        let req = b.first_choice_at(b.probe_method(), body);
        b.json_case(accepted(b, name, description, b.acceptance_step(&req)))
    })
    .collect()
}

/// A query with unsorted, repeated and percent- or plus-encoded
/// parameters (what `authorization` sorts and decodes).
fn query(b: &Builder<'_>) -> Option<Probe> {
    b.method_selected("GET").then(|| {
        let req = b.base_at("GET", PROBE_QUERY_PATH, Bytes::new());
        let mut probe = accepted(
            b,
            "get-query-parameters",
            "a GET with unsorted, repeated and encoded query parameters is accepted",
            b.acceptance_step(&req),
        );
        probe.skip = b.no_query_reason();
        probe
    })
}

/// Over raw TCP: header names in other cases must not matter.
fn header_name_case(b: &Builder<'_>) -> Vec<Probe> {
    let case = |name: &str, description: &str, header_case: fn(&str) -> String| {
        b.probe(
            Acceptance,
            name,
            description,
            vec![b.raw_step(Expect::Accept, header_case, None)],
        )
        .rule(b.cite("header-name-case"))
        .no_control("a valid request: nothing to ignore")
    };
    vec![
        case(
            "header-names-uppercase",
            "header names in upper case are accepted",
            |n| n.to_ascii_uppercase(),
        ),
        case(
            "header-names-titlecase",
            "header names in Title-Case are accepted",
            title_case,
        ),
    ]
}

/// Over raw TCP: the body in chunks (`Transfer-Encoding: chunked`, no
/// `Content-Length`), signed over its decoded bytes.
fn chunked(b: &Builder<'_>) -> Option<Probe> {
    if !b.method_selected(b.probe_method()) || !b.scheme.sender().chunked_bodies {
        return None;
    }
    let req = b.chunked_request();
    let step = b
        .step(&req, &b.recipe(b.now), Expect::Accept)
        .map(|mut step| {
            step.raw = Some(super::transport::raw_chunked(&step.request, 7));
            step
        });
    Some(accepted(
        b,
        "body-chunked",
        "a body sent in chunks (Transfer-Encoding: chunked) is accepted",
        step,
    ))
}

/// A signature header of `name="value"` parameters written in another
/// order and with spaces after its commas (`authorization.param-syntax`: "parameters in any
/// order"; the project's grammar allows optional spaces).
fn parameter_styles(b: &Builder<'_>) -> Vec<Probe> {
    let Some(header) = b.parameter_header() else {
        return Vec::new();
    };
    [
        (
            "parameters-reordered",
            "the signature's parameters in another order are accepted",
            ParameterStyle::Reversed,
        ),
        (
            "parameters-spaced",
            "the signature's parameters with a space after each comma are accepted",
            ParameterStyle::SpaceAfterCommas,
        ),
    ]
    .into_iter()
    .map(|(name, description, style)| {
        let recipe = Recipe {
            edits: vec![HeaderEdit::Restyle {
                header: header.clone(),
                style,
            }],
            ..b.recipe(b.now)
        };
        b.probe(
            Acceptance,
            name,
            description,
            vec![b.step(&b.probe_request(), &recipe, Expect::Accept)],
        )
        .rule(b.cite("param-syntax"))
        .no_control("a valid request: nothing to ignore")
    })
    .collect()
}

/// `x-api-key-id` -> `X-Api-Key-Id`.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}
