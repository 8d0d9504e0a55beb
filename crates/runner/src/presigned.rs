//! Presigned URLs, for schemes that have them (SigV4): one is accepted
//! until it expires, both limits inclusive, and not one second later; its
//! lifetime may not exceed what the scheme allows (seven days); and it may
//! not be dated ahead of the target's clock beyond the skew allowed.
//!
//! Each case is signed again when it is sent, at the same distance from the
//! target's clock, so that a case at a limit stays where it was put.

use super::Category::Presigned;
use super::probe::{Builder, Expect, Probe};
use sigconform_server::Defect;

/// The lifetime of the runner's presigned URLs, in seconds.
const LIFETIME: u64 = 300;
/// The longest lifetime SigV4 allows: seven days, in seconds.
const LONGEST: u64 = 604_800;

/// Every presigned case, or none for a scheme without presigned URLs.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let Some(accepted) = b.presigned_at_offset(0, LIFETIME, Expect::Accept) else {
        return Vec::new();
    };
    let lifetime = i64::try_from(LIFETIME).expect("a small lifetime");
    let margin = i64::try_from(b.margin).unwrap_or(i64::MAX);
    let future = i64::try_from(b.scheme.window().future).unwrap_or(i64::MAX);
    let case = |name: &str, what: &str, offset: i64, expires: u64, expect: Expect| {
        let step = b
            .presigned_at_offset(offset, expires, expect)
            .expect("the scheme presigns");
        b.probe(Presigned, name, what, vec![step])
            .twin(b.case_id(Presigned, "accepted"))
    };
    vec![
        b.probe(
            Presigned,
            "accepted",
            "a presigned URL dated now is accepted",
            vec![accepted],
        )
        .rule(b.cite("presigned-query"))
        .no_control("a valid request: nothing to ignore"),
        case(
            "inside-expiry",
            "a presigned URL just before it expires is accepted",
            margin.saturating_sub(lifetime),
            LIFETIME,
            Expect::Accept,
        )
        .no_control("a valid request: nothing to ignore"),
        case(
            "expired",
            "a presigned URL just after it expires is rejected",
            -lifetime - margin,
            LIFETIME,
            Expect::Reject,
        )
        .control(Defect::PresignedNeverExpires),
        case(
            "expires-seven-days",
            "X-Amz-Expires of seven days (604800 s) is accepted",
            0,
            LONGEST,
            Expect::Accept,
        )
        .no_control("a valid request: nothing to ignore"),
        case(
            "expires-beyond-seven-days",
            "X-Amz-Expires of seven days and a second (604801 s) is rejected, not capped",
            0,
            LONGEST + 1,
            Expect::Reject,
        )
        .control(Defect::AcceptsAnyExpires),
        case(
            "from-the-future",
            "a presigned URL dated beyond the allowed skew ahead is rejected",
            future.saturating_add(margin),
            LIFETIME,
            Expect::Reject,
        )
        .rule(b.cite("clock-skew"))
        .control(Defect::AcceptsAnyFuture),
    ]
}
