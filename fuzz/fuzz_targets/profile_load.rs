//! The profile loader on arbitrary text: an error of one line or a
//! profile; a profile that loads builds into a scheme or says why not, and
//! a scheme that builds signs and verifies a request of its own, or refuses
//! to sign it with an error. Nothing panics.
#![no_main]
mod common;

use common::NOW_S;
use libfuzzer_sys::fuzz_target;
use sigconform_core::profile::Profile;
use sigconform_core::scheme::{SchemeConfig, SignInput};
use sigconform_core::registry::SchemeRef;
use sigconform_core::tamper::Recipe;
use sigconform_core::{Secret, StaticKeys};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let profile = match Profile::from_yaml("fuzz.yaml", text) {
        Ok(profile) => profile,
        Err(e) => {
            assert!(
                !e.to_string().contains('\n'),
                "a profile error of several lines: {e}"
            );
            return;
        }
    };
    let config = SchemeConfig {
        endpoint: Some("https://app.example/hook".into()),
        ..SchemeConfig::default()
    };
    let reference = SchemeRef::from(profile);
    let Ok(scheme) = reference.build(&config) else {
        return;
    };
    let Ok(key) = scheme.key("k", &Secret::new("whsec_c2lnY29uZm9ybS1mdXp6LWtleQ==")) else {
        return;
    };
    let mut keys = StaticKeys::new();
    keys.insert_key(key.clone());
    keys.insert_key(
        scheme
            .key(
                "default",
                &Secret::new("whsec_c2lnY29uZm9ybS1mdXp6LWtleQ=="),
            )
            .unwrap(),
    );
    let Ok(req) = http::Request::post("/hook?page=1")
        .header("host", "app.example")
        .header("content-type", "application/json")
        .body(bytes::Bytes::from_static(br#"{"event":"fuzz"}"#))
    else {
        return;
    };
    let unit_ts = match scheme.window().unit {
        sigconform_core::time::TimeUnit::Seconds => NOW_S,
        sigconform_core::time::TimeUnit::Milliseconds => NOW_S * 1000,
    };
    let recipe = Recipe {
        input: SignInput {
            key_id: Some("k".into()),
            timestamp: unit_ts.to_string(),
            nonce: Some("fuzz-nonce".into()),
            ..SignInput::default()
        },
        ..Recipe::default()
    };
    // A profile may describe a request this one cannot be (a header name
    // it cannot carry): signing says so, it does not panic.
    let Ok(signed) = recipe.apply(scheme.as_ref(), &req, &key) else {
        return;
    };
    let verdict = common::verify(reference.build(&config).unwrap(), keys, &signed);
    assert!(
        verdict.is_ok(),
        "a profile's own signature was rejected: {verdict:?}\n{text}"
    );
});
