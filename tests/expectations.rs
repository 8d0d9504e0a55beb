//! Expectations as data: the tests' files of defects found in software
//! nobody here wrote (`tests/expected/`) match their JSON Schema and read;
//! the README's tables of defects found are written from those files, so
//! the two never disagree; and a JSON report judged against expectations
//! matches the report's JSON Schema and reads back (`docs/schemas/`, which
//! editors and other languages read).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sigconform_core::scheme::SchemeId;
use sigconform_runner::expect::{Deviation, Expectations, Named};
use sigconform_runner::report::stored::StoredReport;
use sigconform_runner::{self as runner, Counts, Outcome};
use sigconform_server::Defect;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schema(name: &str) -> serde_json::Value {
    let path = root().join("docs/schemas").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&schema(name))
        .unwrap_or_else(|e| panic!("{name} is not a valid JSON Schema: {e}"))
}

fn errors(validator: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The expectations files of the tests, by name.
fn expected_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/expected"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_expectations_file_matches_the_schema_and_reads() {
    let validator = validator("expectations.schema.json");
    let files = expected_files();
    assert!(files.len() >= 16, "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let wrong = errors(&validator, &doc);
        assert!(
            wrong.is_empty(),
            "{}:\n{}",
            path.display(),
            wrong.join("\n")
        );
        let read = Expectations::load(&path).unwrap();
        assert!(read.verifier().is_some(), "{}: no verifier", path.display());
    }
    // What the schema refuses, the reader refuses too.
    for refused in [
        "expectations: [{cases: [a], outcome: fail}]",
        "expectations: [{cases: [a], outcome: fail, reason: ''}]",
        "expectations: [{cases: [a], outcome: fail, reason: 'TODO: why this is accepted'}]",
        "expectations: [{cases: [], outcome: fail, reason: r}]",
        "expectations: [{cases: [a], outcome: fial, reason: r}]",
        "expectations: [{cases: [a], outcome: fail, reason: r, because: r}]",
        "expectation: []",
    ] {
        let doc: serde_json::Value = serde_saphyr::from_str(refused).unwrap();
        assert!(!errors(&validator, &doc).is_empty(), "{refused}");
        assert!(Expectations::from_yaml("t", refused).is_err(), "{refused}");
    }
}

/// Where a generated table starts: the files it is written from follow.
const TABLE_BEGIN: &str = "<!-- generated from tests/expected/";
/// Where it ends.
const TABLE_END: &str = "<!-- end of generated table -->";

/// The README's table of the defects in the files `tests/expected/<prefix>*.yaml`:
/// a row per entry that expects `fail` (the others are cases the runner
/// cannot judge there, not defects), its cases after the first without the
/// scheme and category they share with the one before.
fn table(prefix: &str) -> String {
    // Blank lines around it: a table and a comment are blocks of their own.
    let mut out = String::from("\n| software | defect | cases |\n|---|---|---|\n");
    for path in expected_files() {
        let name = path.file_name().unwrap().to_string_lossy();
        if !name.starts_with(prefix) {
            continue;
        }
        let e = Expectations::load(&path).unwrap();
        let named: Vec<Named> = e.entries().collect();
        // An entry's patterns share its line.
        for entry in named
            .chunk_by(|a, b| a.line == b.line)
            .filter(|entry| entry[0].outcome == Outcome::Fail)
        {
            let mut cases = Vec::new();
            let mut previous = "";
            for n in entry {
                let (folder, case) = n.entry.rsplit_once('/').unwrap_or(("", &n.entry));
                cases.push(if folder == previous {
                    format!("`{case}`")
                } else {
                    format!("`{}`", n.entry)
                });
                previous = folder;
            }
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                e.verifier().unwrap(),
                entry[0].reason.replace('|', "\\|"),
                cases.join(", ")
            ));
        }
    }
    out.push('\n');
    out
}

/// The README with every generated table written again from the files.
fn readme_from_files(readme: &str) -> String {
    let mut out = String::new();
    let mut rest = readme;
    while let Some(begin) = rest.find(TABLE_BEGIN) {
        let line_end = begin + rest[begin..].find('\n').unwrap() + 1;
        let marker = &rest[begin..line_end];
        let prefix = marker[TABLE_BEGIN.len()..]
            .split_once("*.yaml")
            .unwrap_or_else(|| panic!("README: `{marker}` names no files"))
            .0;
        let end = line_end
            + rest[line_end..]
                .find(TABLE_END)
                .unwrap_or_else(|| panic!("README: `{marker}` has no end"));
        out.push_str(&rest[..line_end]);
        out.push_str(&table(prefix));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The README's tables of defects found are the tests' expectations
/// files. `SIGCONFORM_UPDATE_README=1` writes them from the files.
#[test]
fn the_readme_tables_of_defects_found_are_the_expectations_files() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let written = readme_from_files(&readme);
    assert_eq!(
        written.matches(TABLE_BEGIN).count(),
        3,
        "the SDKs', the S3 stores' and the RFC 9421 libraries' tables"
    );
    if std::env::var_os("SIGCONFORM_UPDATE_README").is_some() {
        std::fs::write(&path, &written).unwrap();
        return;
    }
    assert!(
        written == readme,
        "README.md's tables of defects differ from tests/expected/: run \
         SIGCONFORM_UPDATE_README=1 cargo test --test expectations readme"
    );
    // Every file is in a table.
    for path in expected_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            ["sdk-", "s3-", "rfc9421-"]
                .iter()
                .any(|p| name.starts_with(p) && readme.contains(&format!("{TABLE_BEGIN}{p}*"))),
            "{name} is in no README table"
        );
    }
}

/// A real run's JSON report, judged against expectations with each kind of
/// deviation, matches the report's schema, and reads back typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judged_json_report_matches_its_schema_and_reads_back() {
    let results = common::run_against(SchemeId::Authorization, Some(Defect::IgnoresExpiry)).await;
    let id_of = |outcome: Outcome| {
        results
            .iter()
            .find(|r| r.outcome == outcome)
            .map(|r| r.id.clone())
            .unwrap()
    };
    let (failed, passed) = (id_of(Outcome::Fail), id_of(Outcome::Pass));
    let expectations = Expectations::from_yaml(
        "e.yaml",
        &format!(
            "verifier: a verifier that ignores expiry
expectations:
  - {{cases: ['{failed}'], outcome: fail, reason: known}}
  - {{cases: ['{passed}'], outcome: fail, reason: fixed since}}
  - {{cases: ['authorization/nothing/*'], outcome: warn, reason: stale}}
"
        ),
    )
    .unwrap();
    let mut runs = vec![(
        "http://target".to_owned(),
        runner::Run {
            insecure: false,
            learned: Vec::new(),
            notes: Vec::new(),
            clock: runner::ClockEstimate {
                offset_ms: 0,
                uncertainty_ms: None,
            },
            results,
        },
    )];
    let judgement = expectations.judge(&mut runs, |r| r.outcome == Outcome::Fail, false);
    let kinds: BTreeSet<&str> = judgement
        .deviations
        .iter()
        .map(|d| match d {
            Deviation::Unexpected { .. } => "unexpected",
            Deviation::Changed { .. } => "changed",
            Deviation::Stale { .. } => "stale",
        })
        .collect();
    assert_eq!(kinds, BTreeSet::from(["changed", "stale", "unexpected"]));
    let validator = validator("report.schema.json");
    for report in [
        runner::render_json(&runs),
        runner::render_json_judged(&runs, Some(&judgement)),
    ] {
        let wrong = errors(&validator, &report);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let read = StoredReport::parse(&report.to_string()).unwrap();
        let fails = read.ids_where(|o| o == Outcome::Fail);
        assert!(fails.contains(&failed.as_str()), "{fails:?}");
    }
    let judged = runner::render_json_judged(&runs, Some(&judgement));
    assert_eq!(judged["expectations"]["expected"], 1);
    let junit = runner::render_junit_judged(&runs, Some(&judgement)).unwrap();
    assert!(
        junit.contains("<skipped message=\"as expected (fail by"),
        "{junit}"
    );
    assert!(junit.contains("authorization/nothing/*"), "{junit}");
    let html = runner::render_html_judged(&runs, Some(&judgement));
    assert!(
        html.contains("fixed since") && html.contains("stale"),
        "{html}"
    );
}

/// Both schemas name every outcome the runner has, by the names it
/// serialises: a new outcome that is not in them fails here.
#[test]
fn the_schemas_name_every_outcome() {
    let counted: BTreeSet<String> = serde_json::to_value(Counts::default())
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for name in ["report.schema.json", "expectations.schema.json"] {
        let schema = schema(name);
        let named: BTreeSet<String> = schema["$defs"]["outcome"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                serde_json::from_value::<Outcome>(v.clone()).unwrap();
                v.as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(named, counted, "{name}");
    }
    let counts = &schema("report.schema.json")["$defs"]["counts"]["required"];
    let counts: BTreeSet<String> = serde_json::from_value(counts.clone()).unwrap();
    assert_eq!(counts, counted);
}
