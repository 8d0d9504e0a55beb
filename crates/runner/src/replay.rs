//! `replay`: a nonce is single-use — the same request twice (at once,
//! after a pause, and with `--slow` near the end of the window), the nonce
//! again in a new signature or under the key id in other letter case, a
//! request without its nonce (in every way a verifier may sign its
//! absence), identical requests at the same moment, a nonce a forged
//! request carried (the forgery must not burn it), and (with several
//! targets) a request accepted by one instance sent to the others.
//!
//! The replayed requests are the accepted one, unchanged: their control
//! records no nonces ([`Defect::NeverRecordsNonces`]). The absence cases'
//! control treats the nonce as optional ([`Defect::OptionalField`]).

use std::time::Duration;

use super::probe::{Builder, Expect, Probe, Sequence, recased};
use crate::verdict::Category::Replay;
use sigconform_core::scheme::{Field, ReplayRule, SignInput};
use sigconform_core::tamper::Recipe;
use sigconform_defects::Defect;

/// How many identical requests the concurrent replay case sends at once.
const CONCURRENT_COPIES: usize = 8;

/// The pause before the replay of `replay/after-pause`: a store that
/// forgets in seconds, not at the end of the window, accepts it.
pub const REPLAY_PAUSE: Duration = Duration::from_secs(3);

/// When a replay is sent.
#[derive(Clone, Copy)]
enum Pause {
    /// This long after the accepted request.
    For(Duration),
    /// Not before this instant.
    Until(tokio::time::Instant),
}

/// Every replay case, in catalog order.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    // A replay the scheme only advises against is a weakness, not a
    // failure (Standard Webhooks suggests remembering message ids).
    let refused = match b.scheme.replay() {
        ReplayRule::Enforced => Expect::Reject,
        ReplayRule::Advised => Expect::RejectOrWarn,
    };
    let mut out = vec![sent_again(
        b,
        refused,
        "identical",
        "the same request twice: the second is a replay",
        Pause::For(Duration::ZERO),
    )];
    if !b.has_nonce() {
        return out;
    }
    out.push(sent_again(
        b,
        refused,
        "after-pause",
        "the same request again after a pause of a few seconds, inside the window",
        Pause::For(REPLAY_PAUSE),
    ));
    if b.options.slow {
        // Sent when its timestamp (the target's "now" when the catalog
        // was built) is a margin from leaving the window.
        let w = b.scheme.window();
        let near_end = b.unit.to_ms(w.past.saturating_sub(b.margin));
        out.push(sent_again(
            b,
            refused,
            "near-window-end",
            "the same request again near the end of the window (--slow)",
            Pause::Until(b.built + Duration::from_millis(near_end)),
        ));
    }
    let now = b.now;
    out.push(
        nonce_again(
            b,
            refused,
            "fresh-signature",
            "the nonce again with a new timestamp and signature",
            &|input| input.timestamp = b.scheme.timestamp_text(now - 1),
        )
        .control(Defect::NeverRecordsNonces),
    );
    // Under the key id in other letter case: where the key lookup ignores
    // case but the nonce store does not, a replay.
    if let Some(recased) = recased(&b.deployment.key_id).filter(|_| b.has_key_ids()) {
        out.push(
            nonce_again(
                b,
                refused,
                "key-id-case",
                "the nonce again, under the key id in other letter case",
                &|input| input.key_id = Some(recased.clone()),
            )
            .control(Defect::CaseInsensitiveKeyIds),
        );
    }
    out.extend(b.absence_probes(Replay, &Field::Nonce, "nonce"));
    out.push(concurrent(b, refused));
    out.push(burned_by_a_forgery(b));
    out
}

/// A forged request (signed with a wrong secret) carrying a fresh nonce
/// is refused; the genuine request with that nonce is then accepted. A
/// verifier that records the nonce before it checks the tag lets anyone
/// who sees a nonce in flight burn it.
fn burned_by_a_forgery(b: &Builder<'_>) -> Probe {
    let post = b.probe_request();
    let genuine = b.recipe(b.now);
    let forged = Recipe {
        secret_of: Some("wrong".into()),
        ..genuine.clone()
    };
    b.probe(
        Replay,
        "nonce-burned-by-forgery",
        "a forged request with a fresh nonce is refused, and the genuine one with that nonce then accepted",
        vec![
            b.step(&post, &forged, Expect::Reject),
            b.step(&post, &genuine, Expect::Accept),
        ],
    )
    .rule(b.cite("refusal-changes-nothing"))
    .control(Defect::RecordsNonceBeforeTag)
}

/// The accepted request, sent again after `pause`; `refused` is what a
/// replay must get.
fn sent_again(
    b: &Builder<'_>,
    refused: Expect,
    name: &str,
    description: &str,
    pause: Pause,
) -> Probe {
    let post = b.probe_request();
    let replayed = b.recipe(b.now);
    let second = if b.has_nonce() {
        refused
    } else {
        Expect::Either
    };
    let mut replay = b.step(&post, &replayed, second);
    if let Ok(step) = replay.as_mut() {
        match pause {
            Pause::For(pause) => step.pause = pause,
            Pause::Until(at) => step.not_before = Some(at),
        }
    }
    let probe = b
        .probe(
            Replay,
            name,
            description,
            vec![b.step(&post, &replayed, Expect::Accept), replay],
        )
        .rule(b.cite("nonce-replay"));
    if b.has_nonce() {
        probe.control(Defect::NeverRecordsNonces)
    } else {
        probe.no_control("no nonce: a replay inside the window is accepted by design")
    }
}

/// A first request accepted, then its nonce again in another one, signed
/// with the input `change` makes.
fn nonce_again(
    b: &Builder<'_>,
    refused: Expect,
    name: &str,
    description: &str,
    change: &dyn Fn(&mut SignInput),
) -> Probe {
    let post = b.probe_request();
    let first = b.recipe(b.now);
    let mut input = first.input.clone();
    change(&mut input);
    let second = Recipe {
        input,
        ..Recipe::default()
    };
    b.probe(
        Replay,
        name,
        description,
        vec![
            b.step(&post, &first, Expect::Accept),
            b.step(&post, &second, refused),
        ],
    )
    .rule(b.cite("nonce-replay"))
}

/// Identical requests sent at the same moment: at most one accepted.
fn concurrent(b: &Builder<'_>, refused: Expect) -> Probe {
    let mut step = b.step(&b.probe_request(), &b.recipe(b.now), refused);
    if let Ok(s) = step.as_mut() {
        s.copies = CONCURRENT_COPIES;
    }
    b.probe(
        Replay,
        "concurrent",
        "identical requests sent at the same moment: at most one accepted",
        vec![step],
    )
    .rule(b.cite("nonce-replay"))
    .control(Defect::NeverRecordsNonces)
}

/// The cross-instance replay, where the deployment has more than one
/// instance and the scheme nonces (without them a replay inside the window
/// is accepted by design). Declared for the first instance's run; it sends
/// to every instance.
pub(super) fn cross_instance(b: &Builder<'_>) -> Option<Probe> {
    (b.deployment.targets.len() > 1 && b.instance == 0 && b.has_nonce()).then(|| {
        b.sequence(
            Replay,
            "cross-instance",
            "a request accepted by one instance is rejected by the others",
            "nonce-replay",
            Sequence::CrossInstance,
        )
        .no_control("a sequence across instances: a nonce store each instance keeps alone passes every single-instance case")
    })
}
