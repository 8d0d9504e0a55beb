//! RFC 9421's `Signature` (an RFC 8941 dictionary of byte sequences) beside
//! a well-formed `Signature-Input`: any bytes are refused or read, never a
//! panic; what is read verifies without one too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform_core::Secret;
use sigconform_core::scheme::{SchemeConfig, SchemeId};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let config = SchemeConfig {
        required_headers: Some(Vec::new()),
        ..SchemeConfig::default()
    };
    let scheme = SchemeId::Rfc9421.build(&config).unwrap();
    let req = http::Request::post("/foo")
        .header("host", "example.com")
        .header("date", "Tue, 20 Apr 2021 02:07:55 GMT")
        .header("content-type", "application/json")
        .header(
            "signature-input",
            r#"sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#,
        )
        .header("signature", value)
        .body(bytes::Bytes::new())
        .unwrap();
    if let Ok(params) = scheme.parse(&req) {
        let key = scheme.key("test-shared-secret", &Secret::new("c2VjcmV0")).unwrap();
        let _ = scheme.verify(&req, &params, &key);
    }
});
