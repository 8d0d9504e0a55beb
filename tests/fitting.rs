//! The runner fits the deployment it probes: receivers nobody here wrote
//! (providers' official SDKs, used as their documentation shows), deployed
//! the ways they are in the field (`tests/fitting/`): one that refuses with
//! 404 so as not to disclose its route, one on an exact route, one whose
//! application needs the provider's envelope, one that takes only form
//! posts, one that dies after its first refusal, and one that refuses
//! everything. Each gets verdicts that say what is true of it: no case
//! ends `error`, and no `pass` stands where nothing was accepted.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{PROFILE_SECRET, free_port, node_packages, python_packages, run_one, started};
use sigconform_core::Secret;
use sigconform_core::profile::Profile;
use sigconform_core::registry::SchemeRef;
use sigconform_runner::{Body, CaseResult, Deployment, Outcome, RunOptions};

/// The Node SDKs, pinned.
const NODE: [&str; 2] = ["stripe@23.2.0", "@octokit/webhooks-methods@6.0.0"];

/// Slack's Python SDK, pinned.
const PYTHON: [&str; 1] = ["slack_sdk==3.48.0"];

/// A Node receiver deployed as `deployment` (see `tests/fitting/server.mjs`).
async fn node_receiver(deployment: &str) -> (common::Running, String) {
    let sdks = node_packages(&NODE);
    let port = free_port();
    let mut command = Command::new("node");
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fitting/server.mjs"
        ))
        .args([deployment, &port.to_string()])
        .env("SDK_DIR", &sdks)
        .env("SECRET", PROFILE_SECRET)
        .stderr(Stdio::null());
    let running = started(command, port).await;
    (running, format!("http://127.0.0.1:{port}/webhook"))
}

/// A run of `profile`'s catalog against `url`, signed with the secret the
/// receivers know.
fn config(profile: &str, url: &str) -> (Deployment, RunOptions) {
    let deployment = Deployment::new(
        url,
        SchemeRef::from(Profile::resolve(profile).unwrap()),
        "k",
        Secret::new(PROFILE_SECRET),
    );
    let options = RunOptions {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(90),
        ..RunOptions::default()
    };
    (deployment, options)
}

/// The run of `profile`'s catalog against `url`.
async fn run_profile(profile: &str, url: &str) -> sigconform_runner::Run {
    let (deployment, options) = config(profile, url);
    run_one(&deployment, &options).await.unwrap()
}

/// The ids of the cases that ended `outcome`, without the profile's name.
fn ended(results: &[CaseResult], outcome: Outcome) -> Vec<String> {
    let mut ids: Vec<String> = results
        .iter()
        .filter(|r| r.outcome == outcome)
        .map(|r| r.id.split_once('/').map_or(&*r.id, |(_, id)| id).to_owned())
        .collect();
    ids.sort();
    ids
}

/// `results` hold no `error` and no `unjudged` case, and fail exactly
/// `defects` (the SDK's own, listed in tests/sdks.rs and the README).
fn judged_with_defects(what: &str, results: &[CaseResult], defects: &[&str]) {
    for outcome in [Outcome::Error, Outcome::Unjudged] {
        let found = ended(results, outcome);
        assert!(found.is_empty(), "{what}: {outcome:?}: {found:?}");
    }
    assert_eq!(ended(results, Outcome::Fail), defects, "{what}");
}

/// What stripe-node 23.2.0 gets wrong (tests/sdks.rs says why).
const STRIPE_NODE: [&str; 4] = [
    "malformed/tag-one-non-utf8",
    "tamper/body-byte-order-mark",
    "tamper/body-invalid-utf8",
    "tamper/tag-empty",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_refuses_with_404_is_judged() {
    let (_receiver, url) = node_receiver("hides-route").await;
    // Learned: an unsigned and a wrongly signed request get 404 where the
    // signed one is accepted.
    let learned = run_profile("github", &url).await;
    assert!(
        learned
            .learned
            .iter()
            .any(|l| l.contains("404 counts as a refusal")),
        "{:?}",
        learned.learned
    );
    // @octokit/webhooks-methods' own defects (tests/sdks.rs): it takes the
    // payload as text, and throws on an empty signature or payload.
    judged_with_defects(
        "learned 404",
        &learned.results,
        &[
            "malformed/empty-x-hub-signature-256",
            "shape/post-without-body-wrong-secret",
            "tamper/body-invalid-utf8",
        ],
    );
    assert!(ended(&learned.results, Outcome::Pass).len() > 30);
    // Stated: the same verdicts.
    let (mut stated, options) = config("github", &url);
    stated.reject_statuses = vec![404];
    let stated = run_one(&stated, &options).await.unwrap().results;
    for outcome in [Outcome::Pass, Outcome::Fail, Outcome::Info, Outcome::Skip] {
        assert_eq!(
            ended(&stated, outcome),
            ended(&learned.results, outcome),
            "{outcome:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_on_an_exact_route_is_reached() {
    let (_receiver, url) = node_receiver("exact-route").await;
    let run = run_profile("stripe", &url).await;
    judged_with_defects("exact route", &run.results, &STRIPE_NODE);
    let post = run
        .results
        .iter()
        .find(|r| r.id == "stripe/acceptance/post");
    assert_eq!(post.map(|r| r.outcome), Some(Outcome::Pass));
    // The query cases do not apply: Stripe signs no query, and the route
    // is probed exactly.
    let query = run
        .results
        .iter()
        .find(|r| r.id == "stripe/tamper/query")
        .unwrap();
    assert_eq!(query.outcome, Outcome::Skip, "{}", query.observed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_needs_its_envelope_is_judged_once_the_body_is_described() {
    let (_receiver, url) = node_receiver("envelope").await;
    // Not described: the application answers 500 after a valid signature.
    // Its acceptance cases fail (a 500 is a 500); no negative case proves
    // anything, and none is a `pass`.
    let blind = run_profile("stripe", &url).await.results;
    assert!(ended(&blind, Outcome::Fail).contains(&"acceptance/post".to_owned()));
    let negative_passes: Vec<String> = ended(&blind, Outcome::Pass)
        .into_iter()
        .filter(|id| !id.starts_with("acceptance/"))
        .collect();
    assert!(negative_passes.is_empty(), "{negative_passes:?}");
    assert!(ended(&blind, Outcome::Unjudged).len() > 30);
    // Described (`--body-file` with an event the application handles):
    // judged, and only stripe-node's own defects fail.
    let (mut described, options) = config("stripe", &url);
    described.body = Some(Body::sniffed(
        r#"{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{"object":"invoice","customer":"cus_1"}}}"#,
    ));
    let judged = run_one(&described, &options).await.unwrap().results;
    judged_with_defects("described", &judged, &STRIPE_NODE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_of_form_posts_is_probed_with_forms() {
    let python = python_packages(&PYTHON);
    let port = free_port();
    let mut command = Command::new(python);
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fitting/slack_commands.py"
        ))
        .arg(port.to_string())
        .env("SECRET", PROFILE_SECRET)
        .stderr(Stdio::null());
    let _receiver = started(command, port).await;
    let url = format!("http://127.0.0.1:{port}/slack/commands");
    let run = run_profile("slack", &url).await;
    assert!(
        run.learned
            .iter()
            .any(|l| l.contains("x-www-form-urlencoded") && l.contains(" accepted")),
        "{:?}",
        run.learned
    );
    // slack_sdk's own defects, as on its events route (tests/sdks.rs).
    let wrong = common::deviations("sdk-python-slack", &url, run.results.clone());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // JSON bodies do not apply to a route of form posts.
    let json = run
        .results
        .iter()
        .find(|r| r.id == "slack/acceptance/body-non-ascii")
        .unwrap();
    assert_eq!(json.outcome, Outcome::Skip, "{}", json.observed);
    let tamper = run
        .results
        .iter()
        .find(|r| r.id == "slack/tamper/body")
        .unwrap();
    assert_eq!(tamper.outcome, Outcome::Pass, "{}", tamper.observed);
    assert!(
        tamper.request.contains("x-www-form-urlencoded"),
        "{}",
        tamper.request
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_dies_after_a_refusal_fails_and_nothing_else_is_judged() {
    let (_receiver, url) = node_receiver("dies").await;
    let results = run_profile("github", &url).await.results;
    let answering = results
        .iter()
        .find(|r| r.id == "github/malformed/answers-after-refusals")
        .unwrap();
    assert_eq!(answering.outcome, Outcome::Fail, "{}", answering.observed);
    assert!(
        answering.observed.contains("no answer"),
        "{}",
        answering.observed
    );
    assert_eq!(
        ended(&results, Outcome::Fail),
        ["malformed/answers-after-refusals"]
    );
    assert!(
        ended(&results, Outcome::Pass).is_empty(),
        "{:?}",
        ended(&results, Outcome::Pass)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_refuses_everything_proves_nothing() {
    let (_receiver, url) = node_receiver("wrong-secret").await;
    let run = run_profile("stripe", &url).await;
    let results = &run.results;
    // No case passes. What fails is a correctly signed request refused,
    // or a 5xx (stripe-node's own crashes, whatever else it refuses); every
    // other case is unjudged, its twin refused.
    let passed = ended(results, Outcome::Pass);
    assert!(passed.is_empty(), "{passed:?}");
    let failed_otherwise: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Fail)
        .filter(|r| !r.expected.starts_with("2xx") && r.status.is_none_or(|s| s < 500))
        .map(|r| r.id.as_str())
        .collect();
    assert!(failed_otherwise.is_empty(), "{failed_otherwise:?}");
    assert!(ended(results, Outcome::Unjudged).len() > 30);
    // And the command's exit status says so under `--fail-on error`, with
    // the count at the head of the report.
    let command = |fail_on: &str| {
        Command::new(env!("CARGO_BIN_EXE_sigconform"))
            .args(["conform", "--profile", "stripe", "--target", &url])
            .args([
                "--secret-env",
                "SIGCONFORM_FITTING_SECRET",
                "--fail-on",
                fail_on,
            ])
            .env("SIGCONFORM_FITTING_SECRET", PROFILE_SECRET)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let output = command("error");
    assert_eq!(output.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&output.stdout);
    let unjudged_line = printed
        .lines()
        .find(|l| l.contains("UNJUDGED"))
        .unwrap_or_default();
    assert!(unjudged_line.contains("cases prove nothing"), "{printed}");
    // (By default only failures fail the run: here, the acceptance cases.)
    assert_eq!(command("fail").status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_receiver_keeps_is_read_back() {
    // Keeps what it accepts, and nothing it refuses: every refused write
    // read back unchanged, the accepted one kept as signed.
    let (_receiver, url) = node_receiver("keeps").await;
    let (mut keeps, options) = config("github", &url);
    keeps.read_back = Some("/webhook/last".into());
    let results = run_one(&keeps, &options).await.unwrap().results;
    judged_with_defects(
        "keeps",
        &results,
        &[
            "malformed/empty-x-hub-signature-256",
            "shape/post-without-body-wrong-secret",
            "tamper/body-invalid-utf8",
        ],
    );
    for id in [
        "github/acceptance/post-read-back",
        "github/tamper/refused-post-unchanged",
    ] {
        let case = results.iter().find(|r| r.id == id).unwrap();
        assert_eq!(case.outcome, Outcome::Pass, "{id}: {}", case.observed);
    }
    // Keeps a delivery before it verifies it: a refused write changed it.
    let (_receiver, url) = node_receiver("keeps-first").await;
    keeps.targets = vec![url];
    let results = run_one(&keeps, &options).await.unwrap().results;
    let refused = results
        .iter()
        .find(|r| r.id == "github/tamper/refused-post-unchanged")
        .unwrap();
    assert_eq!(refused.outcome, Outcome::Fail, "{}", refused.observed);
    assert_eq!(refused.rule.id, "common.refused-write");
    assert!(refused.observed.contains("changed"), "{}", refused.observed);
}
