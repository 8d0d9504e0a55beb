//! The reports a run produces, one file per format: the terminal's
//! ([`text`]), JSON ([`json`]), JUnit XML ([`junit`]) and a self-contained
//! HTML page ([`html`]); the commands that send a case's deciding
//! request again ([`reproduce`]); and a JSON report read back
//! ([`stored`]).

pub mod html;
pub mod json;
pub mod junit;
pub mod reproduce;
pub mod stored;
pub mod text;

use serde::Serialize;

use super::{CaseResult, Outcome};

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
    /// Not judged.
    pub error: usize,
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
                Outcome::Skip => &mut c.skip,
            } += 1;
        }
        c
    }
}

/// The longest prefix of `text` of at most `limit` bytes that ends on a
/// character boundary.
pub(crate) fn prefix_within(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let cut = (0..=limit)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..cut]
}
