//! The correctly signed twins of the cases: a refusal proves that the
//! target noticed what a case changed only where it accepted the same
//! request unchanged in the same run.

use crate::probe::Twin;
use crate::verdict::{CaseResult, Outcome};

/// A correctly signed request the target did not accept: the twin of
/// negative cases that then prove nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// What the twin is, in words (`the base request`, a case id).
    pub(crate) twin: String,
    /// Its answer's status, where there was an HTTP answer.
    pub(crate) status: Option<u16>,
    /// Its answer, described.
    pub(crate) observed: String,
    /// Whether it was never sent: `skip` (a shape its provider never
    /// sends, such as an empty body).
    pub(crate) skipped: bool,
}

impl Refusal {
    /// Whether the twin's answer said something of the request: an HTTP
    /// answer but a rate limit's (a shape whose twin was rate-limited is
    /// not known not to be taken).
    pub(crate) fn is_an_answer(&self) -> bool {
        self.skipped || self.status.is_some_and(|s| !matches!(s, 429 | 503))
    }

    /// Why a case whose twin this is cannot be judged.
    pub(crate) fn reason(&self) -> String {
        let what = if self.skipped {
            "was not sent"
        } else {
            "was not accepted"
        };
        format!(
            "its correctly signed twin ({}) {what}: {}",
            self.twin, self.observed
        )
    }
}

/// The twins the runner has seen: whether the base request and each case
/// that expects acceptance were accepted in this run.
#[derive(Debug, Default)]
pub(crate) struct Twins {
    /// Why the base request was not accepted, if it was not.
    base: Option<Refusal>,
    /// Each case that expects acceptance, by id: why it was not accepted,
    /// if it was not.
    cases: std::collections::HashMap<String, Option<Refusal>>,
}

impl Twins {
    /// The twins of a run whose base request was refused as `base` says
    /// (`None`: accepted) and whose acceptance cases ended as `cases` say.
    pub(crate) fn new<'a>(
        base: Option<Refusal>,
        cases: impl IntoIterator<Item = &'a CaseResult>,
    ) -> Twins {
        let cases = cases
            .into_iter()
            .map(|case| {
                let refused = (case.outcome != Outcome::Pass).then(|| Refusal {
                    twin: case.id.clone(),
                    status: case.status,
                    observed: case.observed.clone(),
                    skipped: case.outcome == Outcome::Skip && case.status.is_none(),
                });
                (case.id.clone(), refused)
            })
            .collect();
        Twins { base, cases }
    }

    /// Why `twin` does not count as accepted, if it does not. A case the
    /// run did not send stands for nothing: the base request does.
    pub(crate) fn refused(&self, twin: &Twin) -> Option<&Refusal> {
        match twin {
            Twin::Case(id) | Twin::Shape(id) => match self.cases.get(id) {
                Some(refused) => refused.as_ref(),
                None => self.base.as_ref(),
            },
            Twin::Base => self.base.as_ref(),
        }
    }
}
