//! `timing` (advisory, with `--timing`): whether the target's response
//! time depends on how much of a wrong tag is right, as a byte-by-byte
//! compare's does.

use super::judge::{Session, judge};
use super::probe::{Builder, Expect};
use super::{CaseResult, Category, Outcome};
use crate::tamper::{Recipe, TagTransform};

/// Requests per class in the timing case.
pub const TIMING_SAMPLES: usize = 300;

/// |t| above this is reported: dudect's threshold for "definitely leaks".
const TIMING_T_THRESHOLD: f64 = 4.5;

/// Welch's t statistic of two samples.
pub fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, var)
    };
    let ((na, ma, va), (nb, mb, vb)) = (stats(a), stats(b));
    let denominator = (va / na + vb / nb).sqrt();
    if denominator == 0.0 {
        0.0
    } else {
        (ma - mb) / denominator
    }
}

/// dudect-style: interleave requests whose tag has a long correct prefix
/// (only the last bit wrong) with requests whose first byte is wrong, and
/// compare response times with Welch's t-test. A verifier that compares in
/// constant time shows no difference.
pub(super) async fn timing_case(b: &Builder<'_>, session: &Session) -> CaseResult {
    let post = b.base("POST", true);
    let make = |t: TagTransform| {
        let recipe = Recipe {
            input: b.input(b.now),
            tag_transform: Some(t),
            ..Recipe::default()
        };
        b.step(&post, &recipe, Expect::Reject)
    };
    let (late, early) = match (
        make(TagTransform::FlipLastBit),
        make(TagTransform::FlipFirstBit),
    ) {
        (Ok(late), Ok(early)) => (late, early),
        (Err(reason), _) | (_, Err(reason)) => {
            return timing_result(b, Outcome::Error, format!("not sent: {reason}"));
        }
    };
    let (mut late_times, mut early_times) = (Vec::new(), Vec::new());
    for i in 0..2 * TIMING_SAMPLES {
        let (step, times) = if i % 2 == 0 {
            (&late, &mut late_times)
        } else {
            (&early, &mut early_times)
        };
        let started = std::time::Instant::now();
        let answer = session.transport.send(&step.request, session.timeout).await;
        let elapsed = started.elapsed().as_secs_f64() * 1e6;
        if judge(Expect::Reject, &answer) != Outcome::Pass {
            return timing_result(
                b,
                judge(Expect::Reject, &answer),
                "a wrong tag was not rejected with a 4xx".into(),
            );
        }
        times.push(elapsed);
    }
    // Drop the slowest 10 % of each class: scheduler noise, not the verifier.
    for times in [&mut late_times, &mut early_times] {
        times.sort_by(f64::total_cmp);
        times.truncate(times.len() * 9 / 10);
    }
    let t = welch_t(&late_times, &early_times);
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let observed = format!(
        "t = {t:.1}; mean {:.0} µs with a correct prefix, {:.0} µs with a wrong first byte ({} samples each)",
        mean(&late_times),
        mean(&early_times),
        late_times.len()
    );
    let outcome = if t.abs() > TIMING_T_THRESHOLD {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    timing_result(b, outcome, observed)
}

fn timing_result(b: &Builder<'_>, outcome: Outcome, observed: String) -> CaseResult {
    CaseResult::new(
        format!("{}/timing/tag-prefix", b.config.scheme),
        Category::Timing,
        "response time does not depend on how much of the tag is right",
        outcome,
        format!("|t| <= {TIMING_T_THRESHOLD}"),
        observed,
    )
}
