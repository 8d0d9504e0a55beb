//! Inputs the fuzzers found, kept as regression tests with the bug each
//! one exposed. Files live in `tests/fuzz_regressions/`, named
//! `<target>-<what>`.

use std::path::Path;

use sigconform::canonical_json::canonical_json;

fn input(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz_regressions")
            .join(name),
    )
    .unwrap()
}

/// `canonical_json` fuzz target: serde_json's default float parser is not
/// always correctly rounded, so `9.007199254901235e+24` came back one ULP
/// high (`…236e+24`) where JavaScript's JSON.parse gives `…235e+24`: a
/// `partner` signer in Node and our verifier would have signed different
/// strings. Fixed by serde_json's `float_roundtrip` feature.
#[test]
fn canonical_json_float_rounding() {
    let canonical = canonical_json(&input("canonical_json-float-rounding.json")).unwrap();
    assert_eq!(canonical, r#"{"id":9.007199254901235e+24}"#); // what Node prints
    assert_eq!(
        canonical_json(canonical.as_bytes()).unwrap(),
        canonical,
        "not a fixed point"
    );
}
