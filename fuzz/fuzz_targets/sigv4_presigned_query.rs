//! SigV4's presigned query parser, through the scheme: any query is refused
//! or read, never a panic; what is read checks its time, canonicalises and
//! verifies without one too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform_core::Secret;
use sigconform_core::scheme::{SchemeConfig, SchemeId};

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(uri) = format!("/bucket/key?{query}").parse::<http::Uri>() else {
        return;
    };
    let scheme = SchemeId::Sigv4.build(&SchemeConfig::default()).unwrap();
    let req = http::Request::get(uri)
        .header("host", "example.amazonaws.com")
        .body(bytes::Bytes::new())
        .unwrap();
    if let Ok(params) = scheme.parse(&req) {
        let _ = scheme.check_time(&params, 1_440_938_160_000);
        let key = scheme.key("AKIDEXAMPLE", &Secret::new("secret")).unwrap();
        let _ = scheme.verify(&req, &params, &key);
    }
});
