//! SigV4's `Authorization` header parser, through the scheme (S3's rules
//! and another service's): any bytes are refused or read, never a panic;
//! what is read canonicalises and verifies without one too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform_core::Secret;
use sigconform_core::scheme::{SchemeConfig, SchemeId};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    for service in ["s3", "service"] {
        let config = SchemeConfig {
            service: Some(service.into()),
            ..SchemeConfig::default()
        };
        let scheme = SchemeId::Sigv4.build(&config).unwrap();
        let req = http::Request::put("/bucket/key?a=1&a=&b")
            .header("host", "example.amazonaws.com")
            .header("x-amz-date", "20150830T123600Z")
            .header(
                "x-amz-content-sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            )
            .header("authorization", value.clone())
            .body(bytes::Bytes::new())
            .unwrap();
        if let Ok(params) = scheme.parse(&req) {
            let key = scheme.key("AKIDEXAMPLE", &Secret::new("secret")).unwrap();
            let _ = scheme.verify(&req, &params, &key);
        }
    }
});
