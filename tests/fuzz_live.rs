//! `sigconform fuzz` against live servers: every deliberate defect of the
//! reference server is found within a fixed budget and reported under a
//! group of the operators that make it; a correct server gives no
//! finding; the same seed gives the same findings.
//!
//! The whole matrix (every defect, every scheme it applies to, three
//! seeds) runs by hand, and prints the requests each defect took to its
//! first finding (docs/fuzzing.md):
//! `cargo test --release --test fuzz_live -- --ignored --nocapture`.

mod common;

use std::time::Duration;

use common::{API, Deployment, run_config, scheme_config, server_config, start_with};
use sigconform_core::lenient::LenientDecoder;
use sigconform_core::lossy::LossyRead;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::{Absent, Field, SchemeId};
use sigconform_runner::fuzz::{FuzzGroup, FuzzOptions, FuzzRun, fuzz};
use sigconform_server::{Defect, Gate, ScopePart};

/// The budget each defect is found within, per scheme.
const BUDGET: u64 = 5000;

/// Fuzzes a server of `scheme` with `defect` (or none), deployed as
/// `deployment`, with `seed`, for at most `requests`.
async fn fuzzed(
    scheme: impl Into<SchemeRef> + Clone,
    defect: Option<Defect>,
    deployment: Deployment,
    seed: u64,
    requests: u64,
    stop_at_first: bool,
) -> FuzzRun {
    let server = start_with(server_config(scheme.clone(), defect, deployment)).await;
    let (mut probed, run_options) = run_config(
        scheme,
        scheme_config(),
        Duration::from_secs(5),
        Duration::from_secs(30),
        deployment,
    );
    probed.targets = vec![deployment.target(&server)];
    let options = FuzzOptions {
        seed,
        requests,
        duration: None,
        rate: None,
        stop_at_first,
    };
    fuzz(&probed, &run_options, &options).await.unwrap()
}

/// The groups of a run, `id: operators (first after n)`.
fn groups(run: &FuzzRun) -> Vec<String> {
    run.groups
        .iter()
        .map(|g| format!("{} (first after {}, {}x)", g.id, g.first_at, g.count))
        .collect()
}

/// A defect, the schemes it applies to, and the operators one of which
/// the group that finds it must have (a name; a prefix ending in `-`; a
/// suffix starting with `-`).
type Row = (Defect, Vec<SchemeRef>, &'static [&'static str]);

/// Each deliberate defect of the server crate the fuzzer is to find, with
/// the schemes and profiles it applies to. Left out (docs/fuzzing.md says
/// why each): the byte-by-byte compares, the disclosures, what a store
/// keeps, SigV4's trailers, the canonical rules of paths and queries, a
/// body hash decoded leniently, and `VerifiesAsSigned`.
fn matrix() -> Vec<Row> {
    use SchemeId::*;
    let seeds = |ids: &[SchemeId]| {
        ids.iter()
            .map(|&id| SchemeRef::from(id))
            .collect::<Vec<_>>()
    };
    let all = seeds(&SchemeId::ALL);
    let key_ids = seeds(&[Partner, Authorization, A2a, IaJson]);
    let nonces = seeds(&[Authorization, A2a]);
    let profile = |name: &str| vec![SchemeRef::by_name(name).unwrap()];
    let timestamp: &[&str] = &["timestamp-", "-timestamp"];
    let tag: &[&str] = &["tag-", "-signature", "-authorization"];
    vec![
        (
            Defect::IgnoresExpiry,
            all.clone(),
            &["timestamp-past", "timestamp-zero", "timestamp-unit"],
        ),
        (
            Defect::AcceptsAnyFuture,
            all.clone(),
            &["timestamp-future", "timestamp-unit"],
        ),
        (
            Defect::WindowInMilliseconds,
            seeds(&[Authorization, Webhook, A2a, IaJson, Quable]),
            &["timestamp-past", "timestamp-future", "base"],
        ),
        (
            Defect::NeverRecordsNonces,
            nonces.clone(),
            &[
                "replay",
                "replay-after-pause",
                "concurrent",
                "replay-key-id-case",
            ],
        ),
        (Defect::NonAtomicNonces, nonces.clone(), &["concurrent"]),
        (
            Defect::ForgetsNoncesAfter(2000),
            nonces.clone(),
            &["replay-after-pause"],
        ),
        (Defect::EitherUnit, all.clone(), &["timestamp-unit"]),
        (Defect::LenientTimestamps, all.clone(), timestamp),
        (
            Defect::TrustsBodyHash,
            seeds(&[A2a]),
            &["body-", "lossy-body-"],
        ),
        (
            Defect::ServerErrorOnMalformedTimestamp,
            all.clone(),
            timestamp,
        ),
        (
            Defect::ServerErrorOnNonAsciiTag,
            seeds(&[IaJson, Quable, Webhook, A2a, Authorization]),
            &["tag-", "-signature", "-authorization"],
        ),
        (
            Defect::AcceptsUnknownKeys,
            key_ids.clone(),
            &["key-id-", "replay-key-id-case"],
        ),
        (
            Defect::UnknownKeysGetEmptySecret,
            key_ids.clone(),
            &["key-id-unknown-empty-secret"],
        ),
        (
            Defect::UnknownKeysGetTheirIdAsSecret,
            key_ids.clone(),
            &["key-id-unknown-id-secret"],
        ),
        (
            Defect::OptionalField(Field::Nonce, Absent::Omitted),
            nonces.clone(),
            &["nonce-missing"],
        ),
        (
            Defect::OptionalField(Field::Nonce, Absent::Empty),
            nonces.clone(),
            &["nonce-missing", "nonce-empty"],
        ),
        (
            Defect::OptionalField(Field::Timestamp, Absent::Now),
            seeds(&[Authorization, Webhook, A2a, IaJson, Quable]),
            &["timestamp-missing"],
        ),
        (
            Defect::MethodNotCovered,
            seeds(&[Authorization, A2a, Quable]),
            &["method"],
        ),
        (
            Defect::PathNotCovered,
            seeds(&[Authorization, A2a]),
            &["path-dot-segments", "path-empty-segment"],
        ),
        (
            Defect::BodyNotCovered,
            seeds(&[Authorization, Webhook, A2a, IaJson, Quable]),
            &["body-whitespace", "body-duplicate-key"],
        ),
        (
            Defect::BodiesOnlyForPostPutPatch,
            key_ids.clone(),
            &["method"],
        ),
        (Defect::IgnoresChunkedBodies, all.clone(), &["chunked"]),
        (Defect::ReadsFirstChunkOnly, all.clone(), &["body-large"]),
        (
            Defect::AcceptsTagPrefix,
            all.clone(),
            &[
                "tag-prefix",
                "tag-bytes-empty",
                "tag-cut",
                "tag-truncate",
                "tag-empty",
            ],
        ),
        (
            Defect::IgnoresKeyPolicy,
            key_ids.clone(),
            &["key-not-allowed", "admin-route"],
        ),
        (
            Defect::CaseInsensitiveKeyIds,
            nonces.clone(),
            &["replay-key-id-case"],
        ),
        (
            Defect::FirstOfDuplicates,
            all.clone(),
            &["header-duplicated-", "header-another-value-", "-repeat"],
        ),
        (
            Defect::NonJsonBodyAsEmpty,
            seeds(&[Partner]),
            &["body-unparsable"],
        ),
        (
            Defect::StrictJsonParser,
            seeds(&[Partner]),
            &["body-member", "body-empty"],
        ),
        (
            Defect::KeySortDropsProto,
            seeds(&[Partner]),
            &["body-member", "body-javascript-member"],
        ),
        (
            Defect::AlgorithmFromTagLength,
            seeds(&[Authorization]),
            &["tag-other-algorithm", "algorithm-"],
        ),
        (
            Defect::UnknownAlgorithmsAsSha256,
            seeds(&[Authorization]),
            &["algorithm-"],
        ),
        (
            Defect::AcceptsAlgorithmNone,
            seeds(&[Authorization]),
            &["algorithm-respell"],
        ),
        (
            Defect::RequiresNoSignedHeaders,
            seeds(&[Authorization]),
            &["signed-headers-"],
        ),
        (
            Defect::DefaultHeaderList,
            seeds(&[Authorization]),
            &["signed-headers-missing"],
        ),
        (
            Defect::UnquotedParameters,
            seeds(&[Authorization]),
            &["parameters-unquoted"],
        ),
        (
            Defect::OptionalField(Field::Header("x-sigconform-absent".into()), Absent::Omitted),
            seeds(&[Authorization]),
            &["signed-headers-absent"],
        ),
        (
            Defect::ReadsLossily(LossyRead::TrimmedBody),
            seeds(&[Authorization, A2a, IaJson, Quable]),
            &["lossy-body-trimmed"],
        ),
        (
            Defect::ReadsLossily(LossyRead::BodyAsText),
            seeds(&[Partner, Authorization, A2a, IaJson, Quable]),
            &["lossy-body-invalid-utf8"],
        ),
        (
            Defect::ReadsLossily(LossyRead::BodyWithoutByteOrderMark),
            seeds(&[Partner, Authorization, A2a, IaJson, Quable]),
            &["lossy-body-byte-order-mark"],
        ),
        (
            Defect::ReadsLossily(LossyRead::BodyLineEndings),
            seeds(&[Authorization, A2a, IaJson, Quable]),
            &["lossy-body-crlf"],
        ),
        (
            Defect::ReadsLossily(LossyRead::NormalisedBody),
            seeds(&[Partner, Authorization, A2a, IaJson, Quable]),
            &["lossy-body-unicode-nfd"],
        ),
        (
            Defect::ReadsLossily(LossyRead::DecodedPath),
            seeds(&[Authorization, A2a]),
            &["lossy-path-percent-encoded"],
        ),
        (
            Defect::ReadsLossily(LossyRead::LowercasedPath),
            seeds(&[Authorization, A2a]),
            &["lossy-path-letter-case"],
        ),
        (
            Defect::ReadsLossily(LossyRead::DecodedQuery),
            profile("twilio"),
            &["lossy-query-percent-encoded"],
        ),
        (
            Defect::CaseFoldedTagCompare,
            seeds(&[A2a, Quable]),
            &["tag-uppercase", "tag-case"],
        ),
        (
            Defect::ServerErrorOnTagByteLength,
            seeds(&[Partner, Authorization, A2a, IaJson, Quable, Webhook]),
            &["tag-non-ascii"],
        ),
        (
            Defect::ServerErrorOnNonAsciiKeyId,
            seeds(&[Partner, Authorization]),
            &["key-id-non-ascii"],
        ),
        (
            Defect::FormAsDictionary,
            profile("twilio"),
            &["body-member"],
        ),
        (
            Defect::LastSignatureOnly,
            profile("paddle"),
            &["signatures-right-first"],
        ),
        (Defect::AnyTag, all.clone(), &["tag-"]),
        (
            Defect::ChunksNotVerified,
            seeds(&[Sigv4]),
            &["chunk-changed"],
        ),
        (
            Defect::PresignedNeverExpires,
            seeds(&[Sigv4]),
            &["presigned"],
        ),
        (Defect::AcceptsAnyExpires, seeds(&[Sigv4]), &["presigned"]),
        (Defect::AnyRegion, seeds(&[Sigv4]), &["scope-other-region"]),
        (
            Defect::ComponentsUnchecked,
            seeds(&[Rfc9421]),
            &[
                "signed-headers-repeated",
                "signed-headers-unknown-parameter",
            ],
        ),
        (
            Defect::LabelsUnchecked,
            seeds(&[Rfc9421]),
            &["label-renamed"],
        ),
        (
            Defect::IgnoresAlg,
            seeds(&[Rfc9421]),
            &["algorithm-other", "algorithm-"],
        ),
        (
            Defect::IgnoresExpires,
            seeds(&[Rfc9421]),
            &["expires-passed"],
        ),
        (
            Defect::IgnoresExpiry,
            seeds(&[Sigv4, Rfc9421]),
            &["timestamp-past", "timestamp-zero", "presigned"],
        ),
        (
            Defect::AcceptsAnyFuture,
            seeds(&[Sigv4, Rfc9421]),
            &["timestamp-future"],
        ),
        (
            Defect::AcceptsTagPrefix,
            seeds(&[Sigv4, Rfc9421]),
            &[
                "tag-prefix",
                "tag-bytes-empty",
                "tag-cut",
                "tag-truncate",
                "tag-empty",
            ],
        ),
        (Defect::AnyTag, seeds(&[Sigv4, Rfc9421]), &["tag-"]),
        (
            Defect::PathNotCovered,
            seeds(&[Rfc9421]),
            &["path-dot-segments", "path-empty-segment"],
        ),
        (
            Defect::ReadsLossily(LossyRead::BodyAsText),
            seeds(&[Sigv4, Rfc9421]),
            &["lossy-body-invalid-utf8"],
        ),
        (
            Defect::ScopePartUnchecked(ScopePart::Service),
            seeds(&[Sigv4]),
            &["scope-other-service"],
        ),
        (
            Defect::ScopePartUnchecked(ScopePart::Date),
            seeds(&[Sigv4]),
            &["scope-other-date"],
        ),
        (
            Defect::ScopePartUnchecked(ScopePart::Terminator),
            seeds(&[Sigv4]),
            &["scope-other-terminator"],
        ),
        (
            Defect::AlgorithmNameUnchecked,
            seeds(&[Sigv4]),
            &["-authorization", "algorithm-"],
        ),
        (
            Defect::RecordsNonceBeforeTag,
            nonces.clone(),
            &["replay-after-refused"],
        ),
        (
            Defect::Ungated(Gate::ContentType(Some("text/plain".into()))),
            seeds(&[Authorization, Webhook, A2a]),
            &["content-type-other"],
        ),
        (
            Defect::Ungated(Gate::Method("PUT".into())),
            seeds(&[Authorization, Webhook, A2a]),
            &["method"],
        ),
        (
            Defect::Ungated(Gate::Chunked),
            seeds(&[Authorization, Webhook, A2a]),
            &["chunked"],
        ),
        (
            Defect::Ungated(Gate::LargerThan(16 * 1024)),
            seeds(&[Authorization, Webhook, A2a]),
            &["body-"],
        ),
        (
            Defect::DecodesLeniently(Field::Tag, LenientDecoder::SkipsForeignCharacters),
            all.clone(),
            tag,
        ),
        (
            Defect::DecodesLeniently(Field::Tag, LenientDecoder::SkipsWhitespace),
            all.clone(),
            tag,
        ),
        (
            Defect::DecodesLeniently(Field::Tag, LenientDecoder::IgnoresTrailingData),
            all.clone(),
            tag,
        ),
        (
            Defect::DecodesLeniently(Field::Timestamp, LenientDecoder::IgnoresTrailingData),
            all.clone(),
            timestamp,
        ),
        (
            Defect::OnlyFinalChunkCompared,
            seeds(&[Sigv4]),
            &["chunk-signature-changed", "chunk-changed"],
        ),
        (
            Defect::ChunksNotChained,
            seeds(&[Sigv4]),
            &["chunk-unchained"],
        ),
        (
            Defect::FinalChunkOptional,
            seeds(&[Sigv4]),
            &["chunk-final-missing"],
        ),
        (
            Defect::DecodedLengthUnchecked,
            seeds(&[Sigv4]),
            &["chunk-decoded-length"],
        ),
        (
            Defect::UnsignedAmzHeaders,
            seeds(&[Sigv4]),
            &["header-unsigned-amz-added"],
        ),
        (
            Defect::HeaderValuesUntrimmed,
            seeds(&[Sigv4]),
            &["header-value-spaced"],
        ),
    ]
}

/// Whether one of `g`'s operators is one of `expected` (a name, a prefix
/// ending in `-`, or a suffix starting with `-`), or `g` is the refused
/// base request and `expected` names it.
fn matches(g: &FuzzGroup, expected: &[&str]) -> bool {
    let base = g.id.ends_with("/fuzz/base") && expected.contains(&"base");
    base || g.operators.iter().any(|o| {
        expected.iter().any(|e| {
            o == e
                || (e.ends_with('-') && o.starts_with(e))
                || (e.starts_with('-') && o.ends_with(e))
        })
    })
}

/// The requests to the first finding in a group of `expected` operators.
fn found_in_group(run: &FuzzRun, expected: &[&str]) -> Option<u64> {
    run.groups
        .iter()
        .filter(|g| matches(g, expected))
        .map(|g| g.first_at)
        .min()
}

/// The requests `defect` on `scheme` took to its first finding in a
/// group of `expected` operators with `seed`, or `None`; and that group.
/// Most runs stop at their first finding; where that one is another
/// manifestation of the defect, the run is made again whole.
async fn first_found(
    defect: &Defect,
    scheme: &SchemeRef,
    seed: u64,
    expected: &[&str],
) -> (Option<u64>, String, Vec<String>) {
    let mut first = None;
    let mut run = fuzzed(
        scheme.clone(),
        Some(defect.clone()),
        API,
        seed,
        BUDGET,
        true,
    )
    .await;
    for stop_at_first in [true, false] {
        if !stop_at_first {
            run = fuzzed(
                scheme.clone(),
                Some(defect.clone()),
                API,
                seed,
                BUDGET,
                false,
            )
            .await;
        }
        first = found_in_group(&run, expected);
        if first.is_some() {
            break;
        }
    }
    let group = run
        .groups
        .iter()
        .filter(|g| matches(g, expected))
        .min_by_key(|g| g.first_at)
        .map(|g| g.id.clone())
        .unwrap_or_default();
    let mut all = groups(&run);
    all.extend(run.run.notes.iter().cloned());
    (first, group, all)
}

/// The whole matrix, three seeds each: the requests to the first finding
/// in the right group, median of three (found by two seeds at least), as a
/// table for docs/fuzzing.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the whole matrix takes long: run by hand for docs/fuzzing.md"]
async fn every_defect_is_found_within_the_budget() {
    let mut missed = Vec::new();
    println!("| defect | scheme | requests to the first finding (median of 3) | group |");
    println!("|---|---|---:|---|");
    // `SIGCONFORM_FUZZ_DEFECTS=Ungated,Scope` runs the rows whose defect
    // names one of these.
    let only = std::env::var("SIGCONFORM_FUZZ_DEFECTS").unwrap_or_default();
    let chosen = |defect: &Defect| {
        only.is_empty()
            || only
                .split(',')
                .any(|part| format!("{defect:?}").contains(part))
    };
    for (defect, schemes, expected) in matrix().into_iter().filter(|(d, ..)| chosen(d)) {
        for scheme in schemes {
            let mut firsts = Vec::new();
            let mut shown = String::new();
            let mut seeds_missed = Vec::new();
            for seed in [1, 2, 3] {
                let (first, group, all) = first_found(&defect, &scheme, seed, expected).await;
                match first {
                    Some(first) => firsts.push(first),
                    None => {
                        seeds_missed.push(seed);
                        println!("  ({defect:?} {scheme} seed {seed}, not found: {all:?})");
                    }
                }
                if shown.is_empty() {
                    shown = group;
                }
            }
            // The median of three, a seed that missed counting as beyond
            // the budget: it exists where two of the three found it.
            firsts.sort_unstable();
            let median = match (firsts.get(1), seeds_missed.as_slice()) {
                (Some(median), []) => median.to_string(),
                (Some(median), [seed]) => format!("{median} (seed {seed}: beyond {BUDGET})"),
                _ => {
                    missed.push(format!("{defect:?} {scheme}: seeds {seeds_missed:?}"));
                    format!("{} of 3 seeds", firsts.len())
                }
            };
            println!("| `{defect:?}` | {scheme} | {median} | `{shown}` |");
        }
    }
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
}

/// A correct server, of every scheme and built-in profile, gives no
/// finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_server_gives_no_finding() {
    let requests: u64 = std::env::var("SIGCONFORM_FUZZ_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    let mut found = Vec::new();
    for scheme in SchemeRef::all_built_in() {
        let run = fuzzed(scheme.clone(), None, API, 7, requests, false).await;
        for case in &run.run.results {
            found.push(format!(
                "{}: expected {}, observed {}\n  {}\n  {}",
                case.id, case.expected, case.observed, case.detail, case.request
            ));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A representative defect of each family, found within the budget and
/// reported under the group of its operators (the whole matrix is
/// `every_defect_is_found_within_the_budget`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_defect_of_each_family_is_found_and_grouped() {
    let rows: Vec<(Defect, SchemeRef, &[&str])> = vec![
        (
            Defect::IgnoresExpiry,
            SchemeId::A2a.into(),
            &["timestamp-past", "timestamp-zero", "timestamp-unit"],
        ),
        (
            Defect::NeverRecordsNonces,
            SchemeId::Authorization.into(),
            &["replay", "replay-after-pause", "concurrent"],
        ),
        (
            Defect::AcceptsTagPrefix,
            SchemeId::Webhook.into(),
            &["tag-prefix", "tag-bytes-empty", "tag-cut"],
        ),
        (
            Defect::MethodNotCovered,
            SchemeId::Quable.into(),
            &["method"],
        ),
        (
            Defect::ServerErrorOnNonAsciiTag,
            SchemeId::IaJson.into(),
            &["tag-", "-signature"],
        ),
        (
            Defect::IgnoresChunkedBodies,
            SchemeId::A2a.into(),
            &["chunked"],
        ),
        (
            Defect::IgnoresKeyPolicy,
            SchemeId::Partner.into(),
            &["key-not-allowed", "admin-route"],
        ),
        (
            Defect::ReadsLossily(LossyRead::BodyAsText),
            SchemeRef::by_name("stripe").unwrap(),
            &["lossy-body-invalid-utf8"],
        ),
        (
            Defect::FormAsDictionary,
            SchemeRef::by_name("twilio").unwrap(),
            &["body-member"],
        ),
        (
            Defect::ChunksNotVerified,
            SchemeId::Sigv4.into(),
            &["chunk-changed"],
        ),
        (
            Defect::LabelsUnchecked,
            SchemeId::Rfc9421.into(),
            &["label-renamed"],
        ),
    ];
    let mut missed = Vec::new();
    for (defect, scheme, expected) in rows {
        let (first, _, all) = first_found(&defect, &scheme, 1, expected).await;
        if first.is_none() {
            missed.push(format!("{defect:?} {scheme}: {all:?}"));
        }
    }
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
}

/// The same seed against the same defect finds the same groups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_finds_the_same_groups() {
    let ids = |run: &FuzzRun| {
        let mut ids: Vec<String> = run.groups.iter().map(|g| g.id.clone()).collect();
        ids.sort();
        ids
    };
    for (defect, scheme) in [
        (Defect::AcceptsUnknownKeys, SchemeId::A2a),
        (Defect::FirstOfDuplicates, SchemeId::Authorization),
    ] {
        let first = fuzzed(scheme, Some(defect.clone()), API, 11, 800, false).await;
        let second = fuzzed(scheme, Some(defect.clone()), API, 11, 800, false).await;
        assert!(first.groups.len() > 1, "{defect:?}: {:?}", groups(&first));
        assert_eq!(ids(&first), ids(&second), "{defect:?} {scheme}");
    }
}

/// `sigconform fuzz` as a user runs it: against a target with a defect,
/// exit 1 and the finding in every report; against the built-in server,
/// exit 0; `--list` prints the operators.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fuzz_command_reports_what_it_finds() {
    let server = start_with(server_config(
        SchemeId::A2a,
        Some(Defect::IgnoresExpiry),
        API,
    ))
    .await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let (json, junit, html) = (dir.join("r.json"), dir.join("r.xml"), dir.join("r.html"));
    let run = |args: Vec<String>| async move {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_sigconform"))
                .args(args)
                .env("NO_COLOR", "1")
                .env("FUZZ_SECRET", common::SECRET)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let args: Vec<String> = [
        "fuzz",
        "--scheme",
        "a2a",
        "--key-id",
        "k",
        "--secret-env",
        "FUZZ_SECRET",
        "--requests",
        "600",
        "--seed",
        "3",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([
        "--target".into(),
        API.target(&server),
        "--report".into(),
        format!("json={}", json.display()),
        "--report".into(),
        format!("junit={}", junit.display()),
        "--report".into(),
        format!("html={}", html.display()),
    ])
    .collect();
    let output = run(args).await;
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("a2a/fuzz/timestamp-") && printed.contains("reproduce: curl"),
        "{printed}"
    );
    assert!(printed.contains("--seed 3"), "{printed}");
    assert!(!printed.contains(common::SECRET), "the secret was printed");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let cases = report["targets"][0]["cases"].as_array().unwrap();
    let expiry = cases
        .iter()
        .find(|c| c["id"].as_str().unwrap().starts_with("a2a/fuzz/timestamp-"))
        .unwrap();
    assert_eq!(expiry["category"], "fuzz");
    assert_eq!(expiry["outcome"], "fail");
    assert!(
        expiry["rule"]["id"].as_str().unwrap().contains("window"),
        "{expiry}"
    );
    assert!(report["targets"][0]["notes"].as_array().unwrap().len() >= 2);
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("a2a/fuzz/timestamp-")
    );
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("a2a/fuzz/timestamp-")
    );

    let builtin = run(["fuzz", "--scheme", "webhook", "--requests", "300"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect())
    .await;
    let printed = String::from_utf8_lossy(&builtin.stdout).into_owned();
    assert_eq!(builtin.status.code(), Some(0), "{printed}");
    let listed = run(["fuzz", "--scheme", "a2a", "--list"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect())
    .await;
    let printed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        printed.contains("a2a\ttag-flip") && printed.contains("a2a\treplay"),
        "{printed}"
    );
}
