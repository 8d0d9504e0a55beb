//! The `Authorization: Signature …` parameter parser, through the scheme.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform_core::scheme::{SchemeConfig, SchemeId};

fuzz_target!(|data: &[u8]| {
    let scheme = SchemeId::Authorization
        .build(&SchemeConfig::default())
        .unwrap();
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let req = http::Request::get("/")
        .header("authorization", value)
        .body(bytes::Bytes::new())
        .unwrap();
    let _ = scheme.parse(&req);
});
