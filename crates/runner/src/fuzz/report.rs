//! A fuzz run's findings as the reports show cases: each group one case,
//! `SCHEME/fuzz/SIGNATURE`, with the rule the reference's reason names,
//! what was expected and observed, the request and a command that sends
//! it again; and the run's counts as notes.

use sigconform_core::Rejection;

use super::assess::Kind;
use super::minimise::Group;
use super::operators::{Action, Operator, Sequence};
use super::oracle::Requirement;
use super::run::{FuzzOptions, Stats};
use crate::probe::Builder;
use crate::rules::Cited;
use crate::verdict::{CaseResult, Category, Outcome};

/// How much of a canonical string the reports show.
const SHOWN_BYTES: usize = 4096;

/// The operators of `group`, from the run's catalogue.
pub(crate) fn operators<'o>(group: &Group, catalogue: &'o [Operator]) -> Vec<&'o Operator> {
    let mut ops: Vec<&Operator> = group.ops.iter().map(|c| &catalogue[c.op]).collect();
    ops.sort_by(|a, b| a.name.cmp(&b.name));
    ops
}

/// The signature of a group: its operators' names, sorted, joined by `+`.
pub(crate) fn signature(ops: &[&Operator]) -> String {
    ops.iter()
        .map(|o| o.name.as_str())
        .collect::<Vec<_>>()
        .join("+")
}

/// The name of the rule a finding rests on: the reference's reason for a
/// request it refuses, the rule the operators test for one it accepts.
fn rule_name(group: &Group, ops: &[&Operator]) -> &'static str {
    let named = |action: fn(&Action) -> bool| ops.iter().any(|o| action(&o.action));
    match (&group.kind, &group.finding.requirement) {
        (Kind::ServerError, _) => "status",
        (Kind::BothAccepted, _) => "nonce-replay",
        (Kind::RefusedValid, _) => {
            if named(|a| matches!(a, Action::Sequence(Sequence::ReplayAfterRefused))) {
                "nonce-replay"
            } else if named(|a| matches!(a, Action::HeaderNameCase)) {
                "header-name-case"
            } else if named(|a| matches!(a, Action::Restyle { .. })) {
                "param-syntax"
            } else if named(|a| matches!(a, Action::Chunked)) {
                "transport"
            } else if named(|a| matches!(a, Action::Time(_))) {
                "window"
            } else {
                "valid-basic"
            }
        }
        (_, Requirement::Refuse(reason)) => refusal_rule(reason, ops),
        _ => "tamper",
    }
}

/// The rule a reason of the reference's names.
fn refusal_rule(reason: &Rejection, ops: &[&Operator]) -> &'static str {
    let tag_changed = ops
        .iter()
        .any(|o| matches!(o.action, Action::Tag(_)) || o.name.starts_with("tag-"));
    let lossy = ops.iter().any(|o| matches!(o.action, Action::Lossy(_)));
    match reason {
        Rejection::MissingHeader(_) => "absence-signed",
        Rejection::DuplicateHeader(_) => "duplicate-header",
        Rejection::MalformedHeader { .. } => "status",
        Rejection::MalformedTimestamp => "timestamp-syntax",
        Rejection::MalformedSignature => "tag-encoding",
        Rejection::UnsupportedAlgorithm => "algorithm-names",
        Rejection::HeaderNotSigned(_) => "required-headers",
        Rejection::Expired => "window-past",
        Rejection::FromTheFuture => "window-future",
        Rejection::UnknownKey | Rejection::KeyStoreUnavailable => "unknown-key",
        Rejection::InactiveKey => "key-lifecycle",
        Rejection::KeyNotAllowed => "key-policy",
        Rejection::BodyNotJson => "not-json",
        Rejection::ReplayedNonce | Rejection::NonceStoreUnavailable => "nonce-replay",
        Rejection::BadSignature | Rejection::BodyHashMismatch if lossy => "signed-as-received",
        Rejection::BadSignature if tag_changed => "tamper-tag",
        Rejection::BadSignature | Rejection::BodyHashMismatch => "tamper",
    }
}

/// What the oracle required, in words.
fn expected(requirement: &Requirement) -> String {
    match requirement {
        Requirement::Accept => "2xx (the reference accepts it, and a signer may send it)".into(),
        Requirement::Refuse(reason) => format!("4xx (the reference refuses it: {reason})"),
        Requirement::Either(_) => "2xx or 4xx, never a 5xx".into(),
    }
}

/// The rule `name` for the run's scheme, or the first of the common rules
/// it falls back on that exists.
fn cite(b: &Builder<'_>, name: &str) -> Cited {
    for candidate in [name, "tamper", "status"] {
        let cited = b.cite(candidate);
        if cited.is_known() {
            return cited;
        }
    }
    b.cite(name)
}

/// Each group as a case of the report.
pub(crate) fn cases(
    b: &Builder<'_>,
    session: &crate::judge::Session,
    catalogue: &[Operator],
    groups: &[Group],
    requests: u64,
) -> Vec<CaseResult> {
    let mut ids: Vec<String> = Vec::new();
    groups
        .iter()
        .map(|group| {
            let ops = operators(group, catalogue);
            let mut id = b.case_id(Category::Fuzz, &signature(&ops));
            if ids.contains(&id) {
                id = format!("{id}-{}", group.kind.word());
            }
            ids.push(id.clone());
            let whats: Vec<&str> = ops.iter().map(|o| o.what.as_str()).collect();
            let mut description = format!(
                "{}: {} of {requests} requests, the first after {}",
                whats.join("; "),
                group.count,
                group.first_at
            );
            if !group.reproduced {
                description
                    .push_str(" (not made again when sent again: shown with all its operators)");
            }
            let finding = &group.finding;
            let mut case = CaseResult::new(
                id,
                Category::Fuzz,
                description,
                Outcome::Fail,
                expected(&finding.requirement),
                match group.kind {
                    Kind::BothAccepted => format!(
                        "two identical requests at once both accepted ({})",
                        finding.answer.describe()
                    ),
                    _ => finding.answer.describe(),
                },
            );
            case.rule = cite(b, rule_name(group, &ops));
            case.status = finding.answer.response().map(|r| r.status);
            let replay = session.replay(&finding.step);
            case.detail = format!(
                "canonical string signed: {:?}",
                crate::reproduce::prefix_within(&finding.step.canonical, SHOWN_BYTES)
            );
            case.reproduce = replay.command();
            case.request = replay.as_sent(SHOWN_BYTES);
            case.retries = finding.retries.clone();
            case.replay = Some(replay);
            case
        })
        .collect()
}

/// The run's counts, a line each.
pub(crate) fn notes(
    stats: &Stats,
    options: &FuzzOptions,
    concurrency: usize,
    seconds: f64,
) -> Vec<String> {
    let sending = (stats.sending_ms as f64 / 1e3).max(0.001);
    let mut out = vec![
        format!(
            "fuzz: seed {}, {} requests in {} cases in {seconds:.1} s ({:.0}/s, {concurrency} at a time); {} more to check twins and {} to minimise findings",
            options.seed,
            stats.requests,
            stats.cases,
            stats.requests as f64 / sending,
            stats.twins,
            stats.minimising,
        ),
        format!(
            "reference: {} must accept, {} must refuse, {} either ({} the lenient policy accepts, {} at a window's limit, {} no signer sends, {} carry what the reference does not model)",
            stats.must_accept,
            stats.must_refuse,
            stats.either,
            stats.lenient,
            stats.window,
            stats.not_signer_made,
            stats.unmodelled,
        ),
    ];
    if stats.inconclusive + stats.unjudged > 0 {
        out.push(format!(
            "not judged: {} answers no verifier gave (a route's 404, a 429, a timeout), {} findings whose twin did the same (a 5xx the content gets signed correctly too, a refusal where the base request was refused)",
            stats.inconclusive, stats.unjudged
        ));
    }
    out
}
