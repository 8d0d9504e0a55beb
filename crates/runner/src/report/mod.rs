//! The reports a run produces, one file per format: the terminal's
//! ([`text`]), JSON ([`json`]), JUnit XML ([`junit`]) and a self-contained
//! HTML page ([`html`]); the commands that send a case's deciding
//! request again ([`reproduce`]); and a JSON report read back
//! ([`stored`]).

pub mod html;
pub mod json;
pub mod junit;
pub mod stored;
pub mod text;

use serde::Serialize;

use crate::verdict::{CaseResult, Outcome};

/// Counts of each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Cases that passed.
    pub pass: usize,
    /// Conformance failures.
    pub fail: usize,
    /// Weaknesses.
    pub warn: usize,
    /// Informational.
    pub info: usize,
    /// Not judged: the answer said nothing about the signature.
    pub error: usize,
    /// Proves nothing: the case's correctly signed twin was refused.
    pub unjudged: usize,
    /// Not applicable.
    pub skip: usize,
}

impl Counts {
    /// Tallies `results`.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Counts {
        let mut c = Counts::default();
        for r in results {
            *match r.outcome {
                Outcome::Pass => &mut c.pass,
                Outcome::Fail => &mut c.fail,
                Outcome::Warn => &mut c.warn,
                Outcome::Info => &mut c.info,
                Outcome::Error => &mut c.error,
                Outcome::Unjudged => &mut c.unjudged,
                Outcome::Skip => &mut c.skip,
            } += 1;
        }
        c
    }
}

impl std::fmt::Display for Counts {
    /// `3 pass, 1 fail, …`; `unjudged` only where there are some, so a run
    /// whose every case could be judged reads as it always did.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pass, {} fail, {} warn, {} info, {} error, ",
            self.pass, self.fail, self.warn, self.info, self.error
        )?;
        if self.unjudged > 0 {
            write!(f, "{} unjudged, ", self.unjudged)?;
        }
        write!(f, "{} skip", self.skip)
    }
}
