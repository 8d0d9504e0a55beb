//! One fault per probe, proved mechanically: every negative case of every
//! scheme's and built-in profile's catalog names its control, the deliberate defect that ignores
//! exactly the property the case changes, and a server with that defect
//! must accept the case. If the control rejects it, the case differs from
//! an accepted request in something else too. Cases without a control say
//! why (robustness cases, which check a 4xx and not a 5xx).

mod common;

use std::time::Duration;

use common::{API, run_at, run_config, scheme_config, server_config_with};
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::{SchemeConfig, SchemeId};
use sigconform_runner::{self as runner, Outcome};

/// A server on `addr`, which the previous one lets go of shortly after it
/// is dropped.
async fn start_at(
    setup: common::Setup,
    addr: std::net::SocketAddr,
) -> sigconform_server::RunningServer {
    for _ in 0..100 {
        if let Ok(server) = setup.clone().start(addr).await {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{addr} stays taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_control_accepts_its_case() {
    let mut uncontrolled = Vec::new();
    let mut proved = 0;
    // Every scheme with the tests' configuration, and SigV4 for another
    // service than S3 too (its rules differ).
    let other_service = SchemeConfig {
        service: Some("execute-api".into()),
        ..scheme_config()
    };
    let configured = SchemeRef::all_built_in()
        .into_iter()
        .map(|scheme| (scheme, scheme_config()))
        .chain([(SchemeRef::from(SchemeId::Sigv4), other_service)]);
    for (scheme, scheme_config) in configured {
        let (deployment, mut options) = run_config(
            scheme.clone(),
            scheme_config.clone(),
            Duration::from_secs(5),
            Duration::from_secs(30),
            API,
        );
        options.skip.clear();
        // The controls name the target's paths and host: list them for the
        // address the control servers will have.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        let target = format!("http://{addr}{}", API.path());
        let cases = runner::controls(&deployment, &options, &target).unwrap();
        // Negative cases, and the positive ones a defect fails (an object
        // store that keeps a chunked upload's framing).
        for case in cases
            .iter()
            .filter(|c| (c.negative || c.control.is_ok()) && c.skip.is_none())
        {
            assert!(case.rule.is_known(), "{}: no rule", case.id);
            let defect = match &case.control {
                Ok(defect) => defect.clone(),
                Err(why) => {
                    assert!(
                        !why.is_empty(),
                        "{}: neither a control nor a reason",
                        case.id
                    );
                    uncontrolled.push(format!("{}: {why}", case.id));
                    continue;
                }
            };
            let server = start_at(
                server_config_with(
                    scheme.clone(),
                    scheme_config.clone(),
                    Some(defect.clone()),
                    API,
                ),
                addr,
            )
            .await;
            let only = runner::RunOptions {
                only: vec![glob::Pattern::new(&glob::Pattern::escape(&case.id)).unwrap()],
                ..options.clone()
            };
            let results = run_at(&deployment, &only, &API.target(&server))
                .await
                .unwrap()
                .results;
            drop(server);
            let [result] = results.as_slice() else {
                panic!("{}: {} results", case.id, results.len());
            };
            // Accepted by the control: a failure, the scheme's weakness, or
            // what the scheme allows (a change it does not sign).
            assert!(
                matches!(
                    result.outcome,
                    Outcome::Fail | Outcome::Warn | Outcome::Info
                ),
                "{}: the control {defect:?} did not accept it ({:?}: {})",
                case.id,
                result.outcome,
                result.observed
            );
            proved += 1;
        }
    }
    assert!(proved > 600, "{proved} cases proved");
    // The cases without a control, with their reasons, for review.
    eprintln!(
        "{proved} cases proved by their controls; {} without one:\n{}",
        uncontrolled.len(),
        uncontrolled.join("\n")
    );
}

/// Every case of every built-in scheme, and of a profile loaded from a
/// file (which has no rules of its own), names a rule of `docs/rules/`.
#[test]
fn every_case_names_a_rule_of_the_rule_book() {
    let from_file = sigconform_core::profile::Profile::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/seed-a2a.yaml"),
    )
    .unwrap();
    let schemes = SchemeRef::all_built_in()
        .into_iter()
        .chain([SchemeRef::from(from_file)]);
    let mut unnamed = std::collections::BTreeSet::new();
    for scheme in schemes {
        let (deployment, options) = run_config(
            scheme,
            scheme_config(),
            Duration::from_secs(1),
            Duration::from_secs(1),
            API,
        );
        for case in runner::controls(&deployment, &options, "http://sigconform.test/api").unwrap() {
            if sigconform_core::rules::by_id(&case.rule.id).is_none() {
                unnamed.insert(format!("{} names {}", case.id, case.rule.id));
            }
            if case.negative {
                assert!(
                    case.control.as_ref().is_ok_and(|_| true)
                        || case.control.as_ref().is_err_and(|why| !why.is_empty()),
                    "{}: a negative case without a control or a reason",
                    case.id
                );
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "rules not in docs/rules/:\n{}",
        unnamed.into_iter().collect::<Vec<_>>().join("\n")
    );
}
