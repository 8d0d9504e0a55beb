//! The profile engine against the hand-written schemes: the seeds' schemes
//! the profile format expresses (`profiles/seed-*.yaml`) must agree with
//! their Rust implementations on every existing vector — the same
//! canonical string, the same tag, the same verdict and reason. Two
//! implementations of one scheme, differing only in how they were written.

use std::path::Path;

use sigconform_core::registry::SEED_PROFILES;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeId;
use sigconform_core::vectors::{self, VectorFile};

fn load(scheme: SchemeId) -> VectorFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(format!("{scheme}.yaml"));
    vectors::load_file(&path).unwrap()
}

#[tokio::test]
async fn each_seed_profile_agrees_with_its_hand_written_scheme_on_every_vector() {
    let mut steps = 0;
    for (seed, profile) in SEED_PROFILES {
        let file = load(seed);
        let as_profile = VectorFile {
            scheme: SchemeRef::by_name(profile).unwrap(),
            ..file.clone()
        };
        for case in &file.cases {
            let written = vectors::run_case(&file, case).await.unwrap();
            let described = vectors::run_case(&as_profile, case).await.unwrap();
            for (i, (w, d)) in written.iter().zip(&described).enumerate() {
                let at = format!("{profile}: {} step {}", case.id, i + 1);
                assert_eq!(
                    w.derived.canonical.as_deref().map(String::from_utf8_lossy),
                    d.derived.canonical.as_deref().map(String::from_utf8_lossy),
                    "{at}: canonical string"
                );
                assert_eq!(w.derived.tag, d.derived.tag, "{at}: tag");
                assert_eq!(
                    w.verdict.as_ref().map_err(|r| r.code()),
                    d.verdict.as_ref().map_err(|r| r.code()),
                    "{at}: verdict"
                );
                steps += 1;
            }
        }
    }
    assert!(steps > 250, "{steps} steps compared");
}

mod common;

/// Every built-in profile's reference server, probed with the whole
/// catalog: clean. (The catalog adapts: no timestamp, no window cases; no
/// nonce, replays informational; a body the scheme does not cover, a
/// weakness.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_of_every_built_in_profile_is_clean() {
    use sigconform_runner::Outcome;
    for (name, _) in sigconform_core::profile::BUILT_IN {
        let scheme = SchemeRef::by_name(name).unwrap();
        let results = common::run_deployed(scheme, None, common::Deployment::Root).await;
        let bad = common::bad(&results);
        assert!(bad.is_empty(), "{name}:\n{}", bad.join("\n"));
        assert!(
            results
                .iter()
                .filter(|r| r.outcome == Outcome::Pass)
                .count()
                > 20,
            "{name}: {} cases",
            results.len()
        );
    }
}

/// The catalog learns what a profile covers through the `Scheme` trait: no
/// timestamp, no window cases; no message id, replays informational; a
/// body the scheme does not sign (Mailgun signs only its timestamp and
/// token), a weakness; a message id that is signed, replays checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_adapts_to_what_a_profile_covers() {
    use sigconform_core::profile::Profile;
    use sigconform_runner::Outcome;
    let outcome = |results: &[sigconform_runner::CaseResult], id: &str| {
        results
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no case {id}"))
            .outcome
    };

    let github = common::run_deployed(
        SchemeRef::by_name("github").unwrap(),
        None,
        common::Deployment::Root,
    )
    .await;
    assert!(common::bad(&github).is_empty());
    assert!(
        !github
            .iter()
            .any(|r| r.id.contains("/expiry/") || r.id.contains("/skew/"))
    );
    assert_eq!(outcome(&github, "github/replay/identical"), Outcome::Info);
    assert_eq!(outcome(&github, "github/tamper/body"), Outcome::Pass);

    // Mailgun's fields are in its body, which the format does not read;
    // with them in headers, the shape of its signature.
    let body_not_signed = Profile::from_yaml(
        "mailgun-like.yaml",
        r#"name: mailgun-like
description: "Mailgun's signature with its fields in headers: hex HMAC-SHA256 of {timestamp}{token}; the body not signed"
hash: sha256
encoding: hex
signature:
  header: X-Mailgun-Signature
signed: "{timestamp}{nonce}"
timestamp:
  header: X-Mailgun-Timestamp
  past: 300
  future: unbounded
nonce:
  header: X-Mailgun-Token
"#,
    )
    .unwrap();
    let scheme = SchemeRef::from(body_not_signed);
    let results = common::run_deployed(scheme, None, common::Deployment::Root).await;
    assert!(
        common::bad(&results).is_empty(),
        "{:?}",
        common::bad(&results)
    );
    for (case, expected) in [
        ("tamper/body", Outcome::Info),
        ("tamper/timestamp", Outcome::Pass),
        ("tamper/nonce", Outcome::Pass),
        ("replay/identical", Outcome::Pass),
        ("expiry/outside-limit", Outcome::Pass),
    ] {
        let id = format!("mailgun-like/{case}");
        assert_eq!(outcome(&results, &id), expected, "{id}");
    }
    assert!(!results.iter().any(|r| r.id.contains("/skew/")));
}

/// The bugs the providers' users write, as deliberate defects of a
/// profile's reference server: each found in its category, as a failure
/// (or, where the provider only advises, a warning).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_providers_users_bugs_are_found() {
    use sigconform_runner::Outcome;
    use sigconform_server::Defect;
    let cases = [
        // stripe/stripe-node#341: the body parsed and serialised again.
        (
            "stripe",
            Defect::BodyNotCovered,
            "stripe/tamper/body-reencoded",
            Outcome::Fail,
        ),
        // Paddle's five seconds widened to forever.
        (
            "paddle",
            Defect::IgnoresExpiry,
            "paddle/expiry/outside-limit",
            Outcome::Fail,
        ),
        // slackapi/bolt-python#195's other side: no future limit.
        (
            "slack",
            Defect::AcceptsAnyFuture,
            "slack/skew/outside-limit",
            Outcome::Fail,
        ),
        // Twilio's bodySHA256 read but never compared with the body.
        (
            "twilio-json",
            Defect::TrustsBodyHash,
            "twilio-json/tamper/body",
            Outcome::Fail,
        ),
        (
            "github",
            Defect::AcceptsTagPrefix,
            "github/tamper/tag-prefix",
            Outcome::Fail,
        ),
        (
            "square",
            Defect::ServerErrorOnNonAsciiTag,
            "square/malformed/non-ascii-x-square-hmacsha256-signature",
            Outcome::Fail,
        ),
        (
            "twilio",
            Defect::ReadsLossily(sigconform_core::lossy::LossyRead::DecodedQuery),
            "twilio/tamper/query-percent-encoded",
            Outcome::Fail,
        ),
        (
            "twilio",
            Defect::FormAsDictionary,
            "twilio/acceptance/form-body",
            Outcome::Fail,
        ),
        (
            "paddle",
            Defect::LastSignatureOnly,
            "paddle/acceptance/several-signatures-right-first",
            Outcome::Fail,
        ),
        (
            "svix",
            Defect::ReadsLossily(sigconform_core::lossy::LossyRead::BodyAsText),
            "svix/tamper/body-invalid-utf8",
            Outcome::Fail,
        ),
        (
            "shopify",
            Defect::AnyTag,
            "shopify/tamper/tag-bit-flipped",
            Outcome::Fail,
        ),
        // Standard Webhooks only suggests remembering message ids.
        (
            "standard-webhooks",
            Defect::NeverRecordsNonces,
            "standard-webhooks/replay/identical",
            Outcome::Warn,
        ),
    ];
    for (name, defect, id, expected) in cases {
        let scheme = SchemeRef::by_name(name).unwrap();
        let results = common::run_deployed(scheme.clone(), Some(defect.clone()), common::API).await;
        let found = results
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no {id}"));
        assert_eq!(
            found.outcome, expected,
            "{name} with {defect:?}: {id} {}",
            found.observed
        );
        // The same case against a correct server: a pass.
        let clean = common::run_deployed(scheme, None, common::API).await;
        let case = clean.iter().find(|r| r.id == id).unwrap();
        assert_eq!(case.outcome, Outcome::Pass, "{id} against a correct server");
    }
}

fn profile_schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("profiles/schema.json is a valid JSON Schema")
}

/// Every profile file, as written, matches `profiles/schema.json`, which
/// editors and other languages read.
#[test]
fn every_profile_file_matches_the_json_schema() {
    let validator = profile_schema();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let doc: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}:\n{}",
            path.display(),
            errors.join("\n")
        );
        files += 1;
    }
    assert_eq!(files, sigconform_core::profile::BUILT_IN.len());
}

/// A signature header's literals must be printable ASCII: a profile that
/// loaded with `Ϗ0=` as its prefix rejected every signature it made.
#[test]
fn signature_literals_a_header_cannot_hold_are_refused() {
    let profile = |signature: &str| {
        format!(
            "{{name: acme, description: d, encoding: hex, signature: {signature}, \
             signed: '{{timestamp}}.{{body}}', \
             timestamp: {{header: X-Acme-Timestamp, past: 300, future: 300}}}}"
        )
    };
    for (signature, field) in [
        ("{header: X-Sig, prefix: \"\u{3cf}0=\"}", "signature.prefix"),
        ("{header: X-Sig, prefix: ' v0='}", "signature.prefix"),
        ("{header: X-Sig, prefix: \"v0\\t\"}", "signature.prefix"),
        (
            "{header: X-Sig, list: {separator: \"\u{a7}\", assign: '=', tag: v1}}",
            "signature.list.separator",
        ),
        (
            "{header: X-Sig, list: {separator: ',', assign: '=', tag: \"v\u{e9}\"}}",
            "signature.list.tag",
        ),
        (
            "{header: X-Sig, parts: {separator: \"\u{b7}\", fields: [key_id, tag]}}",
            "signature.parts.separator",
        ),
    ] {
        let text = profile(signature);
        let error = sigconform_core::profile::Profile::from_yaml("acme.yaml", &text).unwrap_err();
        assert_eq!(error.field, field, "{error}");
        assert!(
            error
                .to_string()
                .contains("cannot be written in a header value"),
            "{error}"
        );
    }
    // The same literals in ASCII load.
    for signature in [
        "{header: X-Sig, prefix: 'v0 ='}",
        "{header: X-Sig, list: {separator: ' ', assign: ',', tag: v1}}",
    ] {
        sigconform_core::profile::Profile::from_yaml("acme.yaml", &profile(signature)).unwrap();
    }
}

#[test]
fn the_profile_schema_rejects_what_the_loader_rejects() {
    let validator = profile_schema();
    let good = serde_json::json!({
        "name": "acme", "description": "d", "encoding": "hex",
        "signature": {"header": "X-Acme-Signature", "prefix": "sha256="},
        "signed": "{timestamp}.{body}",
        "timestamp": {"header": "X-Acme-Timestamp", "past": 300, "future": "unbounded"}
    });
    assert!(validator.is_valid(&good));
    let changed = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut doc = good.clone();
        edit(&mut doc);
        doc
    };
    for bad in [
        changed(&|d| d["typo"] = 1.into()),
        changed(&|d| {
            d["signature"]["list"] =
                serde_json::json!({"separator": ",", "assign": "=", "tag": "v1"})
        }),
        changed(&|d| d["timestamp"]["past"] = "forever".into()),
        changed(&|d| d["encoding"] = "hexadecimal".into()),
        changed(&|d| d["signature"]["header"] = "X Acme".into()),
        // Literals a header value cannot hold (the fuzzer's `Ϗ0=`).
        changed(&|d| d["signature"]["prefix"] = "\u{3cf}0=".into()),
        changed(&|d| d["signature"]["prefix"] = " v0=".into()),
        changed(&|d| {
            d["signature"] = serde_json::json!({"header": "X-Acme-Signature",
                "list": {"separator": "\u{a7}", "assign": "=", "tag": "v1"}})
        }),
        changed(&|d| {
            d["signature"] = serde_json::json!({"header": "X-Acme-Signature",
                "list": {"separator": ",", "assign": "=", "tag": "v\u{e9}"}})
        }),
        changed(&|d| d["body_hash"] = serde_json::json!({"encoding": "hex"})),
        changed(&|d| {
            d.as_object_mut().unwrap().remove("signed");
        }),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
        // The loader refuses it too, in one line.
        let yaml = serde_json::to_string(&bad).unwrap();
        let error = sigconform_core::profile::Profile::from_yaml("bad.yaml", &yaml).unwrap_err();
        assert!(!error.to_string().contains('\n'));
    }
    let yaml = serde_json::to_string(&good).unwrap();
    sigconform_core::profile::Profile::from_yaml("good.yaml", &yaml).unwrap();
}
