//! `acceptance`: correctly signed requests are accepted — every method,
//! the body shapes serialisers disagree on, an encoded query, and header
//! names in any letter case.

use bytes::Bytes;

use super::Category::Acceptance;
use super::probe::{Builder, Expect, PROBE_PATH, Probe};

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

/// A 64 KiB JSON body (below every common server's default body limit).
fn large_body() -> Bytes {
    Bytes::from(crate::workload::json_document(64 * 1024))
}

/// Each method the run sends, then the body shapes and the query.
pub(super) fn requests(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = Vec::new();
    for method in b.methods() {
        let req = b.base(&method, !matches!(method.as_str(), "GET" | "HEAD"));
        out.push(b.probe(
            Acceptance,
            &method.to_lowercase(),
            &format!("a valid {method} is accepted"),
            vec![b.acceptance_step(&req)],
        ));
    }
    // Body shapes, as POSTs: none at all; text beyond ASCII with
    // escapes; numbers and key order that JSON serialisers print
    // differently (a verifier whose canonical JSON is not JavaScript's,
    // or that re-serialises the body before hashing it, fails here);
    // and a body larger than a first buffer.
    if b.method_selected("POST") {
        for (name, description, body) in [
            (
                "post-empty-body",
                "a valid POST without a body is accepted",
                Bytes::new(),
            ),
            (
                "body-non-ascii",
                "a body with non-ASCII text and escapes is accepted",
                Bytes::from_static(NON_ASCII_BODY.as_bytes()),
            ),
            (
                "body-numbers-and-key-order",
                "a body with unsorted keys, nesting and numbers serialisers disagree on is accepted",
                Bytes::from_static(NUMBERS_BODY.as_bytes()),
            ),
            (
                "body-index-like-keys",
                "a body with keys that look like array indices (\"9\", \"10\") is accepted",
                Bytes::from_static(INDEX_KEYS_BODY.as_bytes()),
            ),
            (
                "body-64k",
                "a valid POST with a 64 KiB body is accepted",
                large_body(),
            ),
        ] {
            let req = b.base_at("POST", PROBE_PATH, body);
            out.push(b.probe(Acceptance, name, description, vec![b.acceptance_step(&req)]));
        }
    }
    // A query with unsorted, repeated and percent- or plus-encoded
    // parameters (what `authorization` sorts and decodes).
    if b.method_selected("GET") {
        let req = b.base_at("GET", PROBE_QUERY_PATH, Bytes::new());
        out.push(b.probe(
            Acceptance,
            "get-query-parameters",
            "a GET with unsorted, repeated and encoded query parameters is accepted",
            vec![b.acceptance_step(&req)],
        ));
    }
    out
}

/// Over raw TCP: header names in other cases must not matter.
pub(super) fn header_name_case(b: &Builder<'_>) -> Vec<Probe> {
    vec![
        b.probe(
            Acceptance,
            "header-names-uppercase",
            "header names in upper case are accepted",
            vec![b.raw_step(Expect::Accept, |n| n.to_ascii_uppercase(), None)],
        ),
        b.probe(
            Acceptance,
            "header-names-titlecase",
            "header names in Title-Case are accepted",
            vec![b.raw_step(Expect::Accept, title_case, None)],
        ),
    ]
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
