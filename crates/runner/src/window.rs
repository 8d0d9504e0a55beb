//! `expiry` and `skew`: the timestamp window, probed at its limits (kept a
//! margin away from them, for the uncertainty of the target's clock), far
//! beyond them, at zero and in the wrong unit.
//!
//! Every case is a request the target would accept but for its timestamp,
//! which is a valid one. The control of a past case ignores the window
//! ([`Defect::IgnoresExpiry`]), of a future case its future limit
//! ([`Defect::AcceptsAnyFuture`]), of the wrong unit the unit
//! ([`Defect::EitherUnit`]). Sub-second boundaries (300.999 s against a
//! 300 s window), which the rules leave open (`common.subsecond`), are vectors marked
//! `acceptable`, not cases: a runner cannot place a request within a
//! second of a remote clock.

use super::probe::{Builder, Expect, Probe};
use crate::verdict::Category::{Expiry, Skew};
use sigconform_core::scheme::Field;
use sigconform_core::time::TimeUnit;
use sigconform_defects::Defect;

/// A day in milliseconds: how far "far" past and future probes go at least.
const DAY_MS: u64 = 86_400_000;

/// A case whose timestamp is `timestamp`, signed again when it is sent at
/// the same distance from the target's clock, so that a case at a limit
/// stays where it was put while it waits for its turn.
fn at(
    b: &Builder<'_>,
    category: crate::verdict::Category,
    name: &str,
    description: &str,
    timestamp: u64,
    expect: Expect,
) -> Probe {
    let signed = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
    let step = b.step_at_offset(signed(timestamp).saturating_sub(signed(b.now)), expect);
    b.probe(category, name, description, vec![step])
        .rule(b.cite("window"))
}

/// The past limit: just inside, just outside, far outside, zero (none
/// without a timestamp, or without a past limit).
pub(super) fn expiry(b: &Builder<'_>) -> Vec<Probe> {
    let w = b.scheme.window();
    if b.location(&Field::Timestamp).is_none() || w.past == u64::MAX {
        return Vec::new();
    }
    let (now, margin) = (b.now, b.margin);
    // Far: a day, or ten windows where a window is longer than that.
    let far_past = b.unit.from_ms(DAY_MS).max(w.past.saturating_mul(10));
    vec![
        at(
            b,
            Expiry,
            "inside-limit",
            "just inside the past limit is accepted",
            now - w.past + margin,
            Expect::Accept,
        )
        .no_control("a valid request: nothing to ignore"),
        at(
            b,
            Expiry,
            "outside-limit",
            "just outside the past limit is rejected",
            now - w.past - margin,
            Expect::Reject,
        )
        .control(Defect::IgnoresExpiry),
        at(
            b,
            Expiry,
            "far-past",
            "a timestamp a day (or ten windows) old is rejected",
            now.saturating_sub(far_past),
            Expect::Reject,
        )
        .control(Defect::IgnoresExpiry),
        at(
            b,
            Expiry,
            "zero",
            "timestamp 0 is rejected",
            0,
            Expect::Reject,
        )
        .control(Defect::IgnoresExpiry),
    ]
}

/// The future limit: just inside, just outside, far outside, and a
/// timestamp in the wrong unit (none without a timestamp, or without a
/// future limit; Stripe checks only that a timestamp is not too old).
pub(super) fn skew(b: &Builder<'_>) -> Vec<Probe> {
    let w = b.scheme.window();
    if b.location(&Field::Timestamp).is_none() || w.future == u64::MAX {
        return Vec::new();
    }
    let (now, margin) = (b.now, b.margin);
    let far_future = b.unit.from_ms(DAY_MS).max(w.future.saturating_mul(10));
    let confused = match b.unit {
        TimeUnit::Seconds => now * 1000,
        TimeUnit::Milliseconds => now / 1000,
    };
    let mut out = vec![
        at(
            b,
            Skew,
            "inside-limit",
            "just inside the future limit is accepted",
            now + w.future - margin,
            Expect::Accept,
        )
        .no_control("a valid request: nothing to ignore"),
        at(
            b,
            Skew,
            "outside-limit",
            "just outside the future limit is rejected",
            now + w.future + margin,
            Expect::Reject,
        )
        .control(Defect::AcceptsAnyFuture),
        at(
            b,
            Skew,
            "far-future",
            "a timestamp a day (or ten windows) ahead is rejected",
            now.saturating_add(far_future),
            Expect::Reject,
        )
        .control(Defect::AcceptsAnyFuture),
    ];
    if b.decimal_timestamps() {
        // Signed once, not again when sent: an offset kept in the scheme's
        // unit would move a timestamp in the other unit by a thousand times
        // the wait (a second late, in milliseconds read as seconds, is
        // seventeen minutes ahead).
        let step = b.step(&b.probe_request(), &b.recipe(confused), Expect::Reject);
        out.push(
            b.probe(
                Skew,
                "unit-confusion",
                "a timestamp in the wrong unit is rejected",
                vec![step],
            )
            .rule(b.cite("window"))
            .control(Defect::EitherUnit),
        );
    }
    out
}
