//! Inputs the fuzzers found, kept as regression tests with the bug each
//! one exposed. Files live in `tests/fuzz_regressions/`, named
//! `<target>-<what>`.

use std::path::Path;

use sigconform_core::canonical_json::canonical_json;

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

/// `profile_load` fuzz target: profiles that loaded but could not be used.
/// A placeholder name holding a line break made a two-line error; a query
/// parameter name with `=` in it, one header for two fields, a list key
/// holding the list's separator and a signature prefix that is not ASCII
/// (`Ϗ0=`) each loaded, and then rejected the profile's own signatures.
/// Each is now an error of one line naming the field.
#[test]
fn profile_load_mistakes_are_one_line_errors() {
    use sigconform_core::profile::Profile;
    for (name, field, says) in [
        (
            "profile_load-placeholder-line-break.yaml",
            "signed",
            "`{timestamp\\n}`",
        ),
        (
            "profile_load-query-name.yaml",
            "body_hash.query",
            "not a query parameter name",
        ),
        (
            "profile_load-header-twice.yaml",
            "timestamp.header",
            "is already signature.header",
        ),
        (
            "profile_load-list-key.yaml",
            "signature.list",
            "not an item key",
        ),
        (
            "profile_load-non-ascii-prefix.yaml",
            "signature.prefix",
            "cannot be written in a header value",
        ),
    ] {
        let text = String::from_utf8(input(name)).unwrap();
        let error = Profile::from_yaml(name, &text).unwrap_err();
        let line = error.to_string();
        assert_eq!(error.field, field, "{line}");
        assert!(line.contains(says), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }
}
