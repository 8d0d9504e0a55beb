//! `expiry` and `skew`: the timestamp window, probed at its limits (kept a
//! margin away from them, for the uncertainty of the target's clock), far
//! beyond them, at zero and in the wrong unit.

use super::Category::{Expiry, Skew};
use super::probe::{Builder, Expect, Probe};
use crate::time::TimeUnit;

/// A day in milliseconds: how far "far" past and future probes go at least.
const DAY_MS: u64 = 86_400_000;

/// The past limit: just inside, just outside, far outside, zero.
pub(super) fn expiry(b: &Builder<'_>) -> Vec<Probe> {
    let w = b.scheme.window();
    let (now, margin) = (b.now, b.margin);
    let post = b.base("POST", true);
    // Far: a day, or ten windows where a window is longer than that.
    let far_past = b.unit.from_ms(DAY_MS).max(w.past.saturating_mul(10));
    vec![
        b.probe(
            Expiry,
            "inside-limit",
            "just inside the past limit is accepted",
            vec![b.step(&post, &b.recipe(now - w.past + margin), Expect::Accept)],
        ),
        b.probe(
            Expiry,
            "outside-limit",
            "just outside the past limit is rejected",
            vec![b.step(&post, &b.recipe(now - w.past - margin), Expect::Reject)],
        ),
        b.probe(
            Expiry,
            "far-past",
            "a timestamp a day (or ten windows) old is rejected",
            vec![b.step(
                &post,
                &b.recipe(now.saturating_sub(far_past)),
                Expect::Reject,
            )],
        ),
        b.probe(
            Expiry,
            "zero",
            "timestamp 0 is rejected",
            vec![b.step(&post, &b.recipe(0), Expect::Reject)],
        ),
    ]
}

/// The future limit: just inside, just outside, far outside, and a
/// timestamp in the wrong unit.
pub(super) fn skew(b: &Builder<'_>) -> Vec<Probe> {
    let w = b.scheme.window();
    let (now, margin) = (b.now, b.margin);
    let post = b.base("POST", true);
    let far_future = b.unit.from_ms(DAY_MS).max(w.future.saturating_mul(10));
    let confused = match b.unit {
        TimeUnit::Seconds => now * 1000,
        TimeUnit::Milliseconds => now / 1000,
    };
    vec![
        b.probe(
            Skew,
            "inside-limit",
            "just inside the future limit is accepted",
            vec![b.step(&post, &b.recipe(now + w.future - margin), Expect::Accept)],
        ),
        b.probe(
            Skew,
            "outside-limit",
            "just outside the future limit is rejected",
            vec![b.step(&post, &b.recipe(now + w.future + margin), Expect::Reject)],
        ),
        b.probe(
            Skew,
            "far-future",
            "a timestamp a day (or ten windows) ahead is rejected",
            vec![b.step(
                &post,
                &b.recipe(now.saturating_add(far_future)),
                Expect::Reject,
            )],
        ),
        b.probe(
            Skew,
            "unit-confusion",
            "a timestamp in the wrong unit is rejected",
            vec![b.step(&post, &b.recipe(confused), Expect::Reject)],
        ),
    ]
}
