//! `timing` (advisory, with `--timing`): whether the target's response
//! time depends on how much of a wrong tag is right, as a byte-by-byte
//! compare's does.

use super::judge::{Session, judge};
use super::probe::{Builder, Expect, Probe, Sequence, Step};
use crate::verdict::{CaseResult, Category, Outcome};
use sigconform_core::tamper::{Recipe, TagTransform};

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

/// The response times of one batch, in microseconds, per class.
struct Batch {
    /// Tags with only the last bit wrong (a long correct prefix).
    late: Vec<f64>,
    /// Tags with the first bit wrong.
    early: Vec<f64>,
}

impl Batch {
    fn t(&self) -> f64 {
        welch_t(&self.late, &self.early)
    }

    fn describe(&self) -> String {
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
        format!(
            "t = {:.1}; mean {:.0} µs with a correct prefix, {:.0} µs with a wrong first byte ({} samples each)",
            self.t(),
            mean(&self.late),
            mean(&self.early),
            self.late.len()
        )
    }
}

/// dudect-style: interleave requests whose tag has a long correct prefix
/// (only the last bit wrong) with requests whose first byte is wrong, and
/// compare response times with Welch's t-test. A verifier that compares in
/// constant time shows no difference.
///
/// Both directions count: a compare that starts from the end makes the
/// wrong-first-byte requests the slow ones. A batch over the threshold is
/// measured again, and only a second batch that agrees in sign is a `warn`:
/// a real leak repeats (a byte-by-byte compare gives t in the hundreds),
/// while a burst of load on a shared machine does not (a correct server
/// once measured t = -5.4 in CI).
pub(super) async fn timing_case(b: &Builder<'_>, session: &Session) -> CaseResult {
    let post = b.probe_request();
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
    let first = match measure(&late, &early, session).await {
        Ok(batch) => batch,
        Err(outcome) => return timing_result(b, outcome, NOT_REJECTED.into()),
    };
    if first.t().abs() <= TIMING_T_THRESHOLD {
        return timing_result(b, Outcome::Pass, first.describe());
    }
    let second = match measure(&late, &early, session).await {
        Ok(batch) => batch,
        Err(outcome) => return timing_result(b, outcome, NOT_REJECTED.into()),
    };
    let outcome = if leaks_in_both(first.t(), second.t()) {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    let observed = format!(
        "{}; measured again: {}",
        first.describe(),
        second.describe()
    );
    timing_result(b, outcome, observed)
}

/// Whether two batches' t statistics both pass the threshold, in the same
/// direction.
fn leaks_in_both(first: f64, second: f64) -> bool {
    let over = |t: f64| t.abs() > TIMING_T_THRESHOLD;
    over(first) && over(second) && first.signum() == second.signum()
}

const NOT_REJECTED: &str = "a wrong tag was not rejected with a 4xx";

/// Sends `TIMING_SAMPLES` requests of each class, in pairs whose order
/// alternates (late-early, early-late): whatever favours the first or the
/// second request of a pair (a connection just reused, a drift in load)
/// falls on both classes alike. A request that is not rejected ends the
/// batch with its outcome.
async fn measure(late: &Step, early: &Step, session: &Session) -> Result<Batch, Outcome> {
    let mut batch = Batch {
        late: Vec::with_capacity(TIMING_SAMPLES),
        early: Vec::with_capacity(TIMING_SAMPLES),
    };
    for pair in 0..TIMING_SAMPLES {
        let late_first = pair % 2 == 0;
        for is_late in [late_first, !late_first] {
            let step = if is_late { late } else { early };
            let started = std::time::Instant::now();
            let answer = session.transport.send(&step.request, session.timeout).await;
            let elapsed = started.elapsed().as_secs_f64() * 1e6;
            let outcome = judge(Expect::Reject, &answer);
            if outcome != Outcome::Pass {
                return Err(outcome);
            }
            if is_late {
                batch.late.push(elapsed);
            } else {
                batch.early.push(elapsed);
            }
        }
    }
    // Drop the slowest 10 % of each class: scheduler noise, not the verifier.
    for times in [&mut batch.late, &mut batch.early] {
        times.sort_by(f64::total_cmp);
        times.truncate(times.len() * 9 / 10);
    }
    Ok(batch)
}

/// The timing case, where the run asks for it (`--timing`).
pub(super) fn probe(b: &Builder<'_>) -> Option<Probe> {
    b.options.timing.then(|| {
        b.sequence(
            Category::Timing,
            "tag-prefix",
            DESCRIPTION,
            "tag-encoding",
            Sequence::Timing,
        )
        .no_control(
            "advisory: a timing difference is measured, no property of a request is ignored",
        )
    })
}

/// What the timing case checks.
const DESCRIPTION: &str = "response time does not depend on how much of the tag is right";

fn timing_result(b: &Builder<'_>, outcome: Outcome, observed: String) -> CaseResult {
    let mut result = CaseResult::new(
        b.case_id(Category::Timing, "tag-prefix"),
        Category::Timing,
        DESCRIPTION,
        outcome,
        format!("|t| <= {TIMING_T_THRESHOLD}"),
        observed,
    );
    result.rule = b.cite("tag-encoding");
    result
}

#[cfg(test)]
mod tests {
    use super::leaks_in_both;

    #[test]
    fn a_leak_is_one_that_repeats_in_the_same_direction() {
        assert!(leaks_in_both(400.0, 350.0));
        assert!(leaks_in_both(-4.6, -9.0));
        // A burst of load in one batch.
        assert!(!leaks_in_both(-5.4, 0.7));
        assert!(!leaks_in_both(5.4, -5.4));
        assert!(!leaks_in_both(4.5, 4.5));
    }
}
