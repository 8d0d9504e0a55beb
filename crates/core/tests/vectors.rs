//! Runs every vector file against the reference implementation.
//!
//! One generic driver for all files (no test per vector): each file is
//! validated against `vectors/schema.json`, every case is run through a
//! fresh verifier and compared with its expectations, derived fields must be
//! in step with `cargo xtask vectors fill`, and a snapshot of each file's
//! derived outputs makes every change to them reviewable
//! (`cargo insta review`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sigconform_core::registry::SchemeRef;
use sigconform_core::vectors::{self, Expected, VectorFile};

/// The repository's `vectors/`.
fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors")
}

fn all_files() -> Vec<(PathBuf, VectorFile)> {
    let files = vectors::list_files(&vector_dir()).expect("vectors/ is readable");
    assert!(!files.is_empty(), "no vector files found");
    files
        .into_iter()
        .map(|p| {
            let f = vectors::load_file(&p).unwrap_or_else(|e| panic!("{e}"));
            (p, f)
        })
        .collect()
}

fn vector_schema() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vector_dir().join("schema.json")).unwrap())
            .unwrap();
    jsonschema::validator_for(&schema).expect("vectors/schema.json is a valid JSON Schema")
}

#[test]
fn every_file_matches_the_json_schema() {
    let validator = vector_schema();
    for path in vectors::list_files(&vector_dir()).unwrap() {
        // Validate the document as written (not as re-serialised by our types).
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .take(10)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}:\n{}",
            path.display(),
            errors.join("\n")
        );
    }
}

#[test]
fn schema_rejects_what_it_should() {
    let validator = vector_schema();
    let good = serde_json::json!({
        "scheme": "a2a", "description": "d", "keys": {"k": "s"},
        "cases": [{"id": "a2a-x", "description": "d", "flags": ["f"], "steps": [
            {"now_ms": 1, "request": {"method": "GET", "path": "/", "headers": []}, "result": "valid"}]}]
    });
    assert!(validator.is_valid(&good));
    let mut invalid_without_reason = good.clone();
    invalid_without_reason["cases"][0]["steps"][0]["result"] = "invalid".into();
    assert!(!validator.is_valid(&invalid_without_reason));
    let mut unknown_field = good.clone();
    unknown_field["cases"][0]["typo"] = 1.into();
    assert!(!validator.is_valid(&unknown_field));
    let mut bad_scheme = good;
    bad_scheme["scheme"] = "sigv4a".into();
    assert!(!validator.is_valid(&bad_scheme));
}

#[test]
fn files_are_well_formed_catalogues() {
    let mut seen_ids = BTreeSet::new();
    for (path, file) in all_files() {
        let name = path.file_stem().unwrap().to_str().unwrap();
        assert_eq!(
            name,
            file.scheme.name(),
            "{} holds another scheme",
            path.display()
        );
        // A profile without a timestamp or a message id has fewer
        // properties to test than the seeds' schemes.
        let minimum = match file.scheme {
            SchemeRef::Seed(_) => 25,
            SchemeRef::Profile(_) => 15,
        };
        assert!(
            file.cases.len() >= minimum,
            "{name}: only {} cases",
            file.cases.len()
        );
        for case in &file.cases {
            assert!(
                case.id.starts_with(&format!("{name}-")),
                "{}: id must start with the scheme",
                case.id
            );
            assert!(seen_ids.insert(case.id.clone()), "duplicate id {}", case.id);
            for flag in &case.flags {
                assert!(
                    file.scheme.rule(flag).is_some(),
                    "{}: flag {flag} names no rule of docs/rules/ for {}",
                    case.id,
                    file.scheme
                );
            }
        }
        let steps_with = |result: Expected| {
            file.cases
                .iter()
                .flat_map(|c| &c.steps)
                .filter(|s| s.result == result)
                .count()
        };
        let (valid, invalid) = (steps_with(Expected::Valid), steps_with(Expected::Invalid));
        assert!(
            valid >= 5 && invalid >= 10,
            "{name}: {valid} valid, {invalid} invalid steps"
        );
    }
}

#[test]
fn derived_fields_are_in_step_with_the_recipes() {
    for (path, file) in all_files() {
        let filled = vectors::fill(&file).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (case, expected) in file.cases.iter().zip(&filled.cases) {
            assert_eq!(
                case, expected,
                "{}: run `cargo xtask vectors fill`",
                case.id
            );
        }
    }
}

#[tokio::test]
async fn reference_implementation_agrees_with_every_vector() {
    let mut problems = Vec::new();
    let mut steps = 0;
    for (_, file) in all_files() {
        for case in &file.cases {
            steps += case.steps.len();
            problems.extend(vectors::check_case(&file, case).await.unwrap());
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(steps > 0);
}

/// The derived outputs, one block per step, in a form made for reading diffs.
#[tokio::test]
async fn snapshots_of_derived_outputs() {
    for (_, file) in all_files() {
        let mut text = String::new();
        for case in &file.cases {
            let outcomes = vectors::run_case(&file, case).await.unwrap();
            for (i, outcome) in outcomes.iter().enumerate() {
                let step = &case.steps[i];
                writeln!(text, "== {} #{}", case.id, i + 1).unwrap();
                let (canonical, canonical_b64) = outcome.derived.canonical_fields();
                match (canonical, canonical_b64) {
                    (Some(c), _) => writeln!(text, "canonical: {c:?}").unwrap(),
                    (None, Some(b)) => writeln!(text, "canonical_base64: {b}").unwrap(),
                    (None, None) => writeln!(text, "canonical: none").unwrap(),
                }
                if step.sign.is_some() {
                    for h in &step.request.headers {
                        writeln!(text, "header: {}: {}", h.0, h.1).unwrap();
                    }
                }
                match &outcome.verdict {
                    Ok(key) => writeln!(text, "verdict: accept ({key})").unwrap(),
                    Err(r) => writeln!(text, "verdict: reject {:?} ({}) {r}", r.code(), r.status())
                        .unwrap(),
                }
            }
        }
        insta::assert_snapshot!(file.scheme.name(), text);
    }
}
