//! The `partner` X-Signature triple `id.timestampMs.hex`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform_core::scheme::{SchemeConfig, SchemeId};

fuzz_target!(|data: &[u8]| {
    let scheme = SchemeId::Partner.build(&SchemeConfig::default()).unwrap();
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let req = http::Request::post("/")
        .header("x-signature", value)
        .body(bytes::Bytes::new())
        .unwrap();
    let _ = scheme.parse(&req);
});
