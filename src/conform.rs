//! `sigconform conform`: probe verifiers and report what they get wrong.
//!
//! Thin by design: it turns the command line into the runner's
//! configuration, starts the built-in targets when no `--target` is given,
//! prints the terminal report and writes the report files. The exit status
//! is 0 when no case reached `--fail-on` (with `--expect`: when the run is
//! as the expectations file says), 1 when one did (when it deviates), 2 for
//! a usage error or a target that cannot be probed at all.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_runner::{self as runner, Counts};

use crate::built_in::Planned;
use crate::deployment::{self, DeploymentArgs, artifacts, body, extra_headers};
use crate::usage_error;
use expected::Expecting;

mod expected;
pub(crate) mod reports;

pub use reports::FailOn;

#[derive(clap::Args)]
pub struct ConformArgs {
    /// The deployment: target, scheme, secret, TLS, headers, body, reports.
    #[command(flatten)]
    pub(crate) deployment: DeploymentArgs,
    /// A path on the target where a GET reads what it kept of the last
    /// request it accepted: every refused write is read back (it must
    /// change nothing), and an accepted one must be kept exactly as signed.
    #[arg(long, value_name = "PATH")]
    read_back: Option<String>,
    /// Only cases whose id matches this glob (e.g. `a2a/replay/*`); may repeat.
    #[arg(long, value_parser = glob_pattern)]
    only: Vec<glob::Pattern>,
    /// Run again only the cases that failed or erred in this JSON report
    /// (from `--report json=PATH`).
    #[arg(long, value_name = "REPORT", conflicts_with = "only")]
    rerun_failed: Option<PathBuf>,
    /// The least outcome that makes the exit status 1: `fail` (the
    /// default), `error` (a failure or a case that could not be judged),
    /// `warn`, or `info`.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    fail_on: FailOn,
    /// An expectations file (YAML, docs/ci.md): cases by id or glob, each
    /// with the outcome accepted for it and why. The exit status is then 1
    /// only when the run deviates from it: a case no entry names reaches
    /// --fail-on, a named case has another outcome than its entry's, or an
    /// entry matches no case.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Write the cases that reached --fail-on (and those --expect names
    /// that did not pass) as an expectations file to start from: each
    /// reason a placeholder to replace, which --expect refuses until it is.
    #[arg(long, value_name = "FILE")]
    write_expect: Option<PathBuf>,
    /// Leave out cases whose id matches this glob; may repeat.
    #[arg(long, value_parser = glob_pattern)]
    skip: Vec<glob::Pattern>,
    /// Methods for the acceptance cases, e.g. GET,POST (default: GET,POST,PUT,DELETE).
    #[arg(long, value_delimiter = ',')]
    methods: Vec<http::Method>,
    /// Print every case id with its description and exit.
    #[arg(long)]
    list: bool,
    /// Show every case that did not pass in the terminal, `info` and `skip`
    /// ones too (otherwise those are counted per category).
    #[arg(long)]
    verbose: bool,
    /// Also run the advisory timing case (a dudect-style t-test).
    #[arg(long)]
    timing: bool,
    /// Also replay a request near the end of the window (waits for most of
    /// the window: five minutes for most schemes).
    #[arg(long)]
    slow: bool,
    /// The target's key lifecycle API (http://host:port), for the lifecycle
    /// cases: keys are created, rotated and revoked there.
    #[arg(long, value_name = "URL")]
    admin_url: Option<String>,
    /// Environment variable holding the admin API's bearer token.
    #[arg(long, value_name = "VAR")]
    admin_token_env: Option<String>,
    /// A key the target knows but must refuse on --denied-path (outside
    /// that route's allowed key ids), for keys/key-not-allowed.
    #[arg(long, value_name = "ID", requires_all = ["denied_secret_env", "denied_path"])]
    denied_key_id: Option<String>,
    /// Environment variable holding the secret of --denied-key-id.
    #[arg(long, value_name = "VAR", requires = "denied_key_id")]
    denied_secret_env: Option<String>,
    /// The route --denied-key-id is not allowed on (path and query).
    #[arg(long, value_name = "PATH", requires = "denied_key_id")]
    denied_path: Option<String>,
    /// An admin-only route of the target, for keys/admin-route: the
    /// runner's key (--key-id, which must not be an admin key) must get 403 there.
    #[arg(long, value_name = "PATH")]
    admin_path: Option<String>,
}

/// `conform` reads the deployment's flags as its own.
impl std::ops::Deref for ConformArgs {
    type Target = DeploymentArgs;
    fn deref(&self) -> &DeploymentArgs {
        &self.deployment
    }
}

/// The deployment `planned` as the command line describes it.
fn deployment(args: &ConformArgs, shared: &Shared, planned: &Planned) -> runner::Deployment {
    runner::Deployment {
        read_back: args.read_back.clone(),
        methods: args.methods.clone(),
        ..deployment::deployment(args, planned, shared.body.as_ref())
    }
}

/// The run's options as the command line says.
fn run_options(args: &ConformArgs, shared: &Shared) -> runner::RunOptions {
    runner::RunOptions {
        only: args.only.clone(),
        skip: args.skip.clone(),
        timing: args.timing,
        slow: args.slow,
        ..deployment::run_options(args, shared.extra_headers.clone())
    }
}

/// A progress bar on standard error for a run against `target`: drawn only
/// on a terminal, and only once the run has taken more than a second, so
/// quick runs and logs stay clean.
fn progress_bar(target: &str) -> (indicatif::ProgressBar, runner::Progress) {
    let bar = indicatif::ProgressBar::hidden();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} cases {elapsed}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(target.to_owned());
    let started = std::time::Instant::now();
    let shown = bar.clone();
    let hook = move |done: usize, total: usize| {
        if shown.is_hidden() && started.elapsed() > std::time::Duration::from_secs(1) {
            shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        shown.set_length(total as u64);
        shown.set_position(done as u64);
    };
    (bar, runner::Progress(std::sync::Arc::new(hook)))
}

/// Runs `conform` on its own runtime.
pub fn run(args: ConformArgs) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(conform(args)),
        Err(e) => usage_error(format!("cannot start runtime: {e}")),
    }
}

fn glob_pattern(text: &str) -> Result<glob::Pattern, String> {
    glob::Pattern::new(text).map_err(|e| format!("`{text}` is not a glob: {e}"))
}

/// What every target of one `conform` shares, from the command line.
struct Shared {
    extra_headers: Vec<runner::ExtraHeader>,
    body: Option<runner::Body>,
    secret: Option<Secret>,
    admin: Option<runner::AdminAccess>,
    denied_key: Option<runner::DeniedKey>,
    scheme: Option<SchemeRef>,
}

impl Shared {
    fn from_args(args: &ConformArgs) -> Result<Shared, String> {
        let secret = deployment::secret(args)?;
        let admin = match (&args.admin_url, &args.admin_token_env) {
            (None, None) => None,
            (Some(url), Some(var)) => Some(runner::AdminAccess {
                url: url.clone(),
                token: crate::secret_from_env(var)?,
            }),
            _ => return Err("--admin-url and --admin-token-env go together".into()),
        };
        let denied_key = match (
            &args.denied_key_id,
            &args.denied_secret_env,
            &args.denied_path,
        ) {
            (Some(key_id), Some(var), Some(path)) => Some(runner::DeniedKey {
                key_id: key_id.clone(),
                secret: crate::secret_from_env(var)?,
                path: path.clone(),
            }),
            _ => None,
        };
        let scheme = crate::chosen_scheme(args.scheme.as_deref(), args.profile.as_deref())?;
        Ok(Shared {
            extra_headers: extra_headers(args)?,
            body: body(args)?,
            secret,
            admin,
            denied_key,
            scheme,
        })
    }
}

/// The deployments to probe: the `--target`s, with the key lifecycle API
/// and routes given for them, or the built-in servers.
async fn plan(args: &ConformArgs, shared: &Shared) -> Result<Vec<Planned>, String> {
    let mut planned = deployment::plan(args, shared.scheme.clone(), shared.secret.clone()).await?;
    if !args.target.is_empty() {
        for target in &mut planned {
            target.admin = shared.admin.clone();
            target.denied_key = shared.denied_key.clone();
            target.admin_path = args.admin_path.clone();
        }
    }
    Ok(planned)
}

/// One target's run, as reported and summed up.
struct Probed {
    target: String,
    scheme: String,
    run: runner::Run,
    elapsed: Duration,
}

/// Prints a run's terminal report (colour on a terminal only; anstream
/// also honours `NO_COLOR`).
fn print_run(
    label: &str,
    scheme: &str,
    run: &runner::Run,
    files: &mut runner::Files,
    verbose: bool,
) {
    let options = runner::TextOptions { scheme, verbose };
    let _ = write!(
        anstream::stdout(),
        "{}",
        runner::render_text(label, run, files, &options)
    );
}

/// Probes every planned deployment in turn, printing each instance's
/// report as its deployment's run ends.
async fn probe_each(
    args: &ConformArgs,
    shared: &Shared,
    planned: &[Planned],
    files: &mut runner::Files,
    expecting: &Expecting,
) -> Result<Vec<Probed>, String> {
    let options = run_options(args, shared);
    let mut probed = Vec::new();
    for target in planned {
        let deployment = deployment(args, shared, target);
        let (bar, progress) = progress_bar(target.target());
        let options = runner::RunOptions {
            progress: Some(progress),
            ..options.clone()
        };
        let report = runner::run(&deployment, &options).await;
        bar.finish_and_clear();
        let report = report.map_err(|e| e.to_string())?;
        let scheme = target.scheme.to_string();
        for mut instance in report.instances {
            expecting.annotate(&mut instance.run);
            print_run(
                &instance.target,
                &scheme,
                &instance.run,
                files,
                args.verbose,
            );
            probed.push(Probed {
                target: instance.target,
                scheme: scheme.clone(),
                run: instance.run,
                elapsed: instance.elapsed,
            });
        }
    }
    Ok(probed)
}

/// The table of counts per target, and where the payloads went.
fn print_summary(probed: &[Probed], files: &runner::Files) {
    println!(
        "\n{:<18} {:>5} {:>5} {:>5} {:>5} {:>5} {:>8} {:>5}  time",
        "scheme", "pass", "fail", "warn", "info", "error", "unjudged", "skip"
    );
    for p in probed {
        let c = Counts::of(&p.run.results);
        println!(
            "{:<18} {:>5} {:>5} {:>5} {:>5} {:>5} {:>8} {:>5}  {:.2}s",
            p.scheme,
            c.pass,
            c.fail,
            c.warn,
            c.info,
            c.error,
            c.unjudged,
            c.skip,
            p.elapsed.as_secs_f64()
        );
    }
    if !files.is_empty() {
        println!(
            "payloads of the reproductions above (over 1 KiB): {}",
            files.dir().display()
        );
    }
}

/// Prints every case id of every planned deployment with its description.
fn list(args: &ConformArgs, shared: &Shared, planned: &[Planned]) -> Result<(), String> {
    let options = run_options(args, shared);
    for target in planned {
        let deployment = deployment(args, shared, target);
        for (id, description) in runner::list(&deployment, &options).map_err(|e| e.to_string())? {
            println!("{id:<45} {description}");
        }
    }
    Ok(())
}

async fn conform(mut args: ConformArgs) -> ExitCode {
    if let Some(report) = &args.rerun_failed {
        match reports::failed_in_report(report) {
            Ok(ids) if ids.is_empty() => {
                println!(
                    "no case failed or erred in {}: nothing to run again",
                    report.display()
                );
                return ExitCode::SUCCESS;
            }
            Ok(ids) => args.only = ids,
            Err(e) => return usage_error(e),
        }
    }
    match probe_and_report(&args).await {
        Ok(true) => ExitCode::from(1),
        Ok(false) => ExitCode::SUCCESS,
        Err(e) => usage_error(e),
    }
}

/// Everything `conform` does after the command line is read: whether a
/// case reached `--fail-on`, or the one-line reason no run could be made.
async fn probe_and_report(args: &ConformArgs) -> Result<bool, String> {
    let report_files = reports::report_files(if args.list { &[] } else { &args.report })?;
    let expecting = Expecting::from_args(
        args.expect.as_deref(),
        args.write_expect.as_deref().filter(|_| !args.list),
        args.fail_on,
    )?;
    let shared = Shared::from_args(args)?;
    let planned = plan(args, &shared).await?;
    if args.list {
        list(args, &shared, &planned)?;
        return Ok(false);
    }
    let mut files = artifacts(args);
    let probed = probe_each(args, &shared, &planned, &mut files, &expecting).await?;
    print_summary(&probed, &files);
    let reached = probed
        .iter()
        .any(|p| args.fail_on.reached(&Counts::of(&p.run.results)));
    let runs: Vec<(String, runner::Run)> = probed.into_iter().map(|p| (p.target, p.run)).collect();
    let narrowed = !args.only.is_empty() || !args.skip.is_empty();
    let judgement = expecting.finish(&runs, narrowed)?;
    reports::write(report_files, &runs, judgement.as_ref())?;
    // With expectations, what fails the run is a deviation from them.
    Ok(judgement.map_or(reached, |j| !j.is_clean()))
}
