//! `sigconform fuzz`: differential fuzzing of a live verifier, the
//! reference implementation as the oracle.
//!
//! Thin by design, as `conform` is: the deployment is described by the
//! same flags (`deployment.rs`), the run is the runner's
//! (`sigconform_runner::fuzz`), and the reports are the same. The exit
//! status is 0 without a finding, 1 with one, 2 for a usage error or a
//! target that cannot be probed at all.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sigconform_runner::{self as runner, Counts};

use crate::conform::reports;
use crate::deployment::{self, DeploymentArgs};
use crate::usage_error;

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// The deployment: target, scheme, secret, TLS, headers, body, reports.
    #[command(flatten)]
    deployment: DeploymentArgs,
    /// The seed the cases are drawn from (default: a random one, which the
    /// report prints): the same seed sends the same cases.
    #[arg(long)]
    seed: Option<u64>,
    /// At most this many requests to each target, besides those that
    /// minimise findings (default 2000, or no limit with --duration).
    #[arg(long)]
    requests: Option<u64>,
    /// At most this long for each target, e.g. 15s or 5m.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// At most this many requests a second.
    #[arg(long)]
    rate: Option<f64>,
    /// Stop at the first finding (a job that only needs to know whether
    /// there is one).
    #[arg(long)]
    stop_at_first: bool,
    /// Print the operators a run would use, and exit.
    #[arg(long)]
    list: bool,
    /// Show the learned deployment and every note even without findings.
    #[arg(long)]
    verbose: bool,
}

/// The requests budget without `--requests` or `--duration`.
const DEFAULT_REQUESTS: u64 = 2000;

/// Runs `fuzz` on its own runtime.
pub fn run(args: FuzzArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return usage_error(format!("cannot start runtime: {e}")),
    };
    match runtime.block_on(fuzz(&args)) {
        Ok(true) => ExitCode::from(1),
        Ok(false) => ExitCode::SUCCESS,
        Err(e) => usage_error(e),
    }
}

/// A progress bar on standard error, drawn on a terminal once the run has
/// taken more than a second: requests sent, out of the budget where it is
/// a number of requests.
fn progress_bar(target: &str, requests: Option<u64>) -> (indicatif::ProgressBar, runner::Progress) {
    let bar = indicatif::ProgressBar::hidden();
    let template = match requests {
        Some(_) => "{msg} [{bar:30}] {pos}/{len} requests {elapsed}",
        None => "{msg} {pos} requests {elapsed}",
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(target.to_owned());
    let started = Instant::now();
    let shown = bar.clone();
    let hook = move |done: usize, total: usize| {
        if shown.is_hidden() && started.elapsed() > Duration::from_secs(1) {
            shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        if requests.is_some() {
            shown.set_length(total as u64);
        }
        shown.set_position(done as u64);
    };
    (bar, runner::Progress(std::sync::Arc::new(hook)))
}

/// Everything `fuzz` does after the command line is read: whether a
/// target had a finding, or the one-line reason no run could be made.
async fn fuzz(args: &FuzzArgs) -> Result<bool, String> {
    let d = &args.deployment;
    let report_files = reports::report_files(if args.list { &[] } else { &d.report })?;
    let scheme = crate::chosen_scheme(d.scheme.as_deref(), d.profile.as_deref())?;
    let extra_headers = deployment::extra_headers(d)?;
    let body = deployment::body(d)?;
    let planned = deployment::plan(d, scheme, deployment::secret(d)?).await?;
    let requests = args
        .requests
        .or(args.duration.is_none().then_some(DEFAULT_REQUESTS));
    let options = runner::fuzz::FuzzOptions {
        seed: args.seed.unwrap_or_else(runner::random_u64),
        requests: requests.unwrap_or(u64::MAX),
        duration: args.duration,
        rate: args.rate,
        stop_at_first: args.stop_at_first,
    };
    let mut files = deployment::artifacts(d);
    let mut runs = Vec::new();
    let mut table = Vec::new();
    // Learning the deployment takes a few requests; the fuzz budget
    // bounds the rest.
    let run_options = deployment::run_options(d, extra_headers);
    for target in &planned {
        let deployment = deployment::deployment(d, target, body.as_ref());
        if args.list {
            for name in runner::fuzz::operator_names(&deployment).map_err(|e| e.to_string())? {
                println!("{}\t{name}", target.scheme);
            }
            continue;
        }
        let (bar, progress) = progress_bar(target.target(), requests);
        let run_options = runner::RunOptions {
            progress: Some(progress),
            ..run_options.clone()
        };
        let started = Instant::now();
        let fuzzed = runner::fuzz::fuzz(&deployment, &run_options, &options).await;
        bar.finish_and_clear();
        let mut fuzzed = fuzzed.map_err(|e| e.to_string())?;
        fuzzed.run.notes.push(format!(
            "the same cases again: --seed {} --requests {}",
            options.seed, fuzzed.stats.requests
        ));
        let scheme = target.scheme.to_string();
        let text_options = runner::TextOptions {
            scheme: &scheme,
            verbose: args.verbose,
        };
        let _ = write!(
            anstream::stdout(),
            "{}",
            runner::render_text(target.target(), &fuzzed.run, &mut files, &text_options)
        );
        table.push((
            scheme,
            fuzzed.stats.requests,
            Counts::of(&fuzzed.run.results).fail,
            started.elapsed(),
        ));
        runs.push((target.target().to_owned(), fuzzed.run));
    }
    if args.list {
        return Ok(false);
    }
    println!(
        "\n{:<18} {:>9} {:>8}  time",
        "scheme", "requests", "findings"
    );
    for (scheme, requests, findings, elapsed) in &table {
        println!(
            "{scheme:<18} {requests:>9} {findings:>8}  {:.1}s",
            elapsed.as_secs_f64()
        );
    }
    if !files.is_empty() {
        println!(
            "payloads of the reproductions above (over 1 KiB): {}",
            files.dir().display()
        );
    }
    let found = table.iter().any(|(_, _, findings, _)| *findings > 0);
    reports::write(report_files, &runs, None)?;
    Ok(found)
}
