//! The black-box runner: probes a server for correct acceptance, tamper
//! rejection, expiry, clock skew, replay, malformed input and key handling.
//!
//! The runner knows schemes only through [`Scheme`](sigconform_core::scheme::Scheme).
//! What a scheme covers is discovered, not listed: a component is covered
//! when changing it changes the canonical string ([`covers`]), so an
//! accepted change to a covered component is a `fail`, while one to an
//! uncovered component is the scheme's documented weakness (`warn`).
//! Probes are built with the same [`Recipe`](sigconform_core::tamper::Recipe)s
//! the vectors use.
//!
//! One way in: [`run`]`(&`[`Deployment`]`, &`[`RunOptions`]`)`, both
//! resolved before anything is sent. Every case is a declared value in the
//! catalog: an id, a category, the rule it checks, its control, and either
//! requests built up front or a sequence whose steps carry state.
//!
//! One file per concern, in floors (`tests/layers.rs` holds that no
//! module reaches up, and that this file only declares and re-exports):
//!
//! | floor | file | what |
//! |---|---|---|
//! | what a run is given and gives back | `deployment.rs`, `verdict.rs`, `error.rs`, `rules.rs`, `reproduce.rs` | the deployment and options; categories, outcomes, results; why a run cannot start; the rules cited; reproduction commands |
//! | talking to the target | `transport.rs`, `base.rs` | HTTP, raw TCP, the target's clock; the bodies the runner sends |
//! | cases | `probe.rs` | what a case is; the `Builder` the category files use |
//! | | `acceptance.rs`, `tamper.rs`, `window.rs` (expiry and skew), `replay.rs`, `malformed.rs`, `keys.rs` with `lifecycle.rs`, `shapes.rs`, `decoding.rs`, `payload.rs`, `presigned.rs`, `scope.rs`, `canonical.rs`, `readback.rs`, `coverage.rs`, `timing.rs` | the cases of each category |
//! | | `catalog.rs` | the catalog: every category's cases, in order |
//! | judging | `judge.rs`, `learn.rs`, `disclosure.rs` | answers into outcomes; what the deployment was found to take; what refusals disclose |
//! | orchestration | `run.rs`, [`fuzz`] | the run of a deployment; differential fuzzing |
//! | reading results | [`report`], [`expect`] | one file per report format; expectations |

mod acceptance;
mod base;
mod canonical;
mod catalog;
mod coverage;
mod decoding;
mod deployment;
mod disclosure;
mod error;
pub mod expect;
pub mod fuzz;
mod judge;
mod keys;
mod learn;
mod lifecycle;
mod malformed;
mod payload;
mod presigned;
mod probe;
mod readback;
mod replay;
pub mod report;
mod reproduce;
mod rules;
mod run;
mod scope;
mod shapes;
mod tamper;
mod timing;
mod transport;
mod verdict;
mod window;

pub use base::Body;
pub use deployment::{
    AdminAccess, DEFAULT_MAX_BODY, DeniedKey, Deployment, ExtraHeader, Progress, RunOptions,
};
pub use error::RunError;
pub use lifecycle::REVOCATION_GRACE;
pub use probe::{covers, random_u64};
pub use replay::REPLAY_PAUSE;
pub use report::Counts;
pub use report::html::{render_html, render_html_judged};
pub use report::json::{render_json, render_json_judged};
pub use report::junit::{render_junit, render_junit_judged};
pub use report::text::{TextOptions, render_text};
pub use reproduce::{Destination, Files, FromEnv, Replay};
pub use rules::Cited;
pub use run::{CaseControl, Instance, Report, controls, list, run};
pub use timing::{TIMING_SAMPLES, welch_t};
pub use transport::{ClockEstimate, Target, TlsOptions};
pub use verdict::{CaseResult, Category, Judged, Named, Outcome, Run};
