//! RFC 9421's `Signature-Input` (an RFC 8941 dictionary of covered
//! components and metadata), through the scheme with a permissive and the
//! default policy: any bytes are refused or read, never a panic; what is
//! read builds its signature base and verifies without one too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform_core::Secret;
use sigconform_core::scheme::{SchemeConfig, SchemeId};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let permissive = SchemeConfig {
        required_headers: Some(Vec::new()),
        required_parameters: Some(Vec::new()),
        ..SchemeConfig::default()
    };
    for config in [permissive, SchemeConfig::default()] {
        let scheme = SchemeId::Rfc9421.build(&config).unwrap();
        let req = http::Request::post("/foo?param=Value&Pet=dog&a=1&a=2")
            .header("host", "example.com")
            .header("content-type", "application/json")
            .header("example-dict", "a=1, b=2;x=1;y=2, c=(a b c)")
            .header("content-digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")
            .header("signature-input", value.clone())
            .header("signature", "sig1=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:")
            .body(bytes::Bytes::from_static(b"{\"hello\": \"world\"}"))
            .unwrap();
        if let Ok(params) = scheme.parse(&req) {
            let key = scheme.key("k", &Secret::new("c2VjcmV0")).unwrap();
            let _ = scheme.verify(&req, &params, &key);
            let _ = scheme.check_time(&params, 1_618_884_473_000);
        }
    }
});
