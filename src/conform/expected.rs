//! `--expect` and `--write-expect`: the run judged against an expectations
//! file, and a file to start from written from the run. The logic is the
//! runner's ([`sigconform_runner::expect`]); this reads the arguments,
//! prints the judgement and writes the file.

use std::path::Path;

use sigconform_runner::expect::{self, Expectations, Judgement};
use sigconform_runner::{CaseResult, Run};

use super::reports::{FailOn, OutputFile};

/// What `--expect` and `--write-expect` asked for, read and created
/// before the run.
pub(crate) struct Expecting {
    expectations: Option<Expectations>,
    write_to: Option<OutputFile>,
    fail_on: FailOn,
}

impl Expecting {
    pub(crate) fn from_args(
        expect: Option<&Path>,
        write_expect: Option<&Path>,
        fail_on: FailOn,
    ) -> Result<Expecting, String> {
        let expectations = expect
            .map(|path| Expectations::load(path).map_err(|e| format!("--expect {e}")))
            .transpose()?;
        let write_to = write_expect
            .map(|path| {
                OutputFile::create(&path.to_string_lossy())
                    .map_err(|e| format!("--write-expect {e}"))
            })
            .transpose()?;
        Ok(Expecting {
            expectations,
            write_to,
            fail_on,
        })
    }

    /// Marks each case of `run` with how it compares with the
    /// expectations (before it is printed).
    pub(crate) fn annotate(&self, run: &mut Run) {
        if let Some(expectations) = &self.expectations {
            expectations.annotate(&mut run.results, |case| self.fail_on.reached_by(case));
        }
    }

    /// Once every run is done (and marked): the judgement, printed, and
    /// the starting file written. `narrowed`: the selection was narrowed,
    /// so entries that match no case are outside it rather than stale.
    pub(crate) fn finish(
        self,
        runs: &[(String, Run)],
        narrowed: bool,
    ) -> Result<Option<Judgement>, String> {
        let judgement = self
            .expectations
            .as_ref()
            .map(|e| e.judgement(runs, narrowed));
        if let Some(judgement) = &judgement {
            print_judgement(judgement);
        }
        if let Some(output) = self.write_to {
            let path = output.path.clone();
            let fail_on = self.fail_on;
            let text = expect::starting_file(
                runs,
                |case: &CaseResult| fail_on.reached_by(case),
                self.expectations.as_ref(),
            );
            output.commit(&text)?;
            println!(
                "expectations to start from written to {path}: replace each reason `{}` with the real one",
                expect::PLACEHOLDER_REASON
            );
        }
        Ok(judgement)
    }
}

/// The judgement's counts and each deviation, one per line.
fn print_judgement(j: &Judgement) {
    println!(
        "\nexpectations {}: {} case{} as expected, {} deviation{}",
        j.file,
        j.expected,
        if j.expected == 1 { "" } else { "s" },
        j.deviations.len(),
        if j.deviations.len() == 1 { "" } else { "s" }
    );
    for deviation in &j.deviations {
        println!("  {deviation}");
    }
    if !j.outside_selection.is_empty() {
        println!(
            "  {} entr{} outside this run's selection (--only, --skip, --rerun-failed), not judged",
            j.outside_selection.len(),
            if j.outside_selection.len() == 1 {
                "y"
            } else {
                "ies"
            }
        );
    }
}
