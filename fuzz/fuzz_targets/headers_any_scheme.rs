//! Every scheme's and built-in profile's parser on arbitrary header sets
//! and bodies.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sigconform_core::scheme::SchemeConfig;
use sigconform_core::registry::SchemeRef;

#[derive(Debug, Arbitrary)]
struct Input {
    scheme: u8,
    headers: Vec<(u8, Vec<u8>)>,
    body: Vec<u8>,
}

/// Header names the schemes read, so the fuzzer need not guess them.
const NAMES: [&str; 26] = [
    "x-signature",
    "x-timestamp",
    "x-nonce",
    "x-api-key-id",
    "x-body-hash",
    "authorization",
    "x-webhook-signature",
    "x-webhook-timestamp",
    "x-ia-key",
    "x-ia-signature",
    "x-ia-timestamp",
    "host",
    "stripe-signature",
    "x-hub-signature-256",
    "x-hub-signature",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-signature",
    "x-shopify-hmac-sha256",
    "x-twilio-signature",
    "x-square-hmacsha256-signature",
    "paddle-signature",
];

fuzz_target!(|input: Input| {
    let schemes = SchemeRef::all_built_in();
    let chosen = &schemes[usize::from(input.scheme) % schemes.len()];
    let config = SchemeConfig {
        endpoint: Some("https:app.example".into()),
        ..SchemeConfig::default()
    };
    let scheme = chosen.build(&config).unwrap();
    let mut req = http::Request::post("/p?a=1&bodySHA256=00")
        .body(bytes::Bytes::from(input.body))
        .unwrap();
    for (name, value) in input.headers {
        if let Ok(value) = http::HeaderValue::from_bytes(&value) {
            req.headers_mut()
                .append(NAMES[usize::from(name) % NAMES.len()], value);
        }
    }
    if let Ok(params) = scheme.parse(&req) {
        let mut out = Vec::new();
        let _ = scheme.canonicalize(&req, &params, &mut out);
    }
});
