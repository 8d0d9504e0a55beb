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
use std::time::{Duration, Instant};

use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;
use sigconform_runner::{self as runner, Counts, RunConfig};

use crate::built_in::{Planned, built_in};
use crate::usage_error;
use expected::Expecting;

mod expected;
mod reports;

pub use reports::FailOn;

#[derive(clap::Args)]
pub struct ConformArgs {
    /// Server to probe: http:// or https://, host, port, and a path (and
    /// query) the probes go under, or, with --fixed-path, to. May repeat
    /// (instances of one deployment). Without one, reference servers for
    /// every scheme are started on loopback and probed.
    #[arg(long)]
    target: Vec<String>,
    /// Every probe goes to exactly the target URL's path (one route, such
    /// as a webhook receiver). The default for webhook and quable.
    #[arg(long, conflicts_with = "path_prefix")]
    fixed_path: bool,
    /// Probes go below the target URL's path (an API mounted there). The
    /// default for partner, authorization, a2a and ia-json.
    #[arg(long)]
    path_prefix: bool,
    /// A PEM file of CA certificates to trust for an https target (a
    /// private CA), besides the usual roots.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    ca_cert: Option<PathBuf>,
    /// Do not verify an https target's certificate (self-signed staging
    /// servers). Every report says so.
    #[arg(long)]
    insecure: bool,
    /// 'Name: value': a header every request carries (a gateway's tenant
    /// id); may repeat.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// NAME=VAR: a header every request carries, its value from the
    /// environment variable VAR and redacted like the secret; may repeat.
    #[arg(long = "header-env", value_name = "NAME=VAR")]
    header_envs: Vec<String>,
    /// Where reproductions keep payloads over 1 KiB: a folder per run
    /// under this one. Default: `sigconform-artifacts` beside the first
    /// --report, else in the system's temporary folder.
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// The body the target needs (an event in its provider's envelope,
    /// a form a handler reads): the runner signs it, sends it, and makes
    /// its variations inside it. UTF-8 text.
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// The Content-Type of --body-file (default: JSON where it parses as
    /// JSON, a form where it reads as one, else application/octet-stream).
    #[arg(long, value_name = "TYPE", requires = "body_file")]
    content_type: Option<String>,
    /// Statuses the target refuses with besides 4xx answers about a
    /// signature, e.g. 404 for a verifier that hides its route (learned
    /// where an unsigned and a wrongly signed request both get one).
    #[arg(long, value_name = "CODE", value_delimiter = ',', num_args = 1.., value_parser = clap::value_parser!(u16).range(100..600))]
    reject_status: Vec<u16>,
    /// A path on the target where a GET reads what it kept of the last
    /// request it accepted: every refused write is read back (it must
    /// change nothing), and an accepted one must be kept exactly as signed.
    #[arg(long, value_name = "PATH")]
    read_back: Option<String>,
    /// The largest body the runner sends, in bytes (the shape cases with
    /// bodies past 16 KiB, 64 KiB and 1 MiB buffers that do not fit are
    /// left out).
    #[arg(long, value_name = "BYTES", default_value_t = runner::DEFAULT_MAX_BODY)]
    max_body: usize,
    /// Probe a fixed route with a query of the runner's own too (by
    /// default a fixed route is probed exactly, with a query only where
    /// the scheme signs the query).
    #[arg(long)]
    with_query: bool,
    /// The scheme the target verifies (this or --profile is required with
    /// --target): partner, authorization, webhook, a2a, ia-json, quable, sigv4 or rfc9421,
    /// or a built-in profile's name. Without --target: only its built-in
    /// server.
    #[arg(long, conflicts_with = "profile")]
    scheme: Option<String>,
    /// The profile the target verifies: a built-in profile's name (stripe,
    /// github, github-sha1, slack, standard-webhooks, svix, shopify, twilio,
    /// twilio-json, square, paddle, seed-*) or a profile file
    /// (profiles/schema.json).
    #[arg(long, value_name = "NAME|FILE")]
    profile: Option<String>,
    /// Key id to sign with (ignored by webhook and quable).
    #[arg(long, default_value = "sigconform")]
    key_id: String,
    /// The secret (prefer --secret-env: arguments are visible to other users).
    #[arg(long, conflicts_with = "secret_env")]
    secret: Option<String>,
    /// Environment variable holding the secret.
    #[arg(long)]
    secret_env: Option<String>,
    /// quable's ENDPOINT string (default: the target URL).
    #[arg(long)]
    endpoint: Option<String>,
    /// Past limit in the scheme's unit (default: the scheme's own rule).
    #[arg(long)]
    tolerance: Option<u64>,
    /// Future limit in the scheme's unit.
    #[arg(long)]
    future_tolerance: Option<u64>,
    /// sigv4: the region the target serves (default us-east-1; `*`: any).
    #[arg(long)]
    region: Option<String>,
    /// sigv4: the service the target serves (default s3: the target URL is
    /// an object the runner may write, in a bucket, and removes at the end).
    #[arg(long)]
    service: Option<String>,
    /// rfc9421: the components the target requires every signature to
    /// cover, separated by spaces (default `@method @authority @path`, and
    /// `content-digest` with a body); the runner's signatures cover them.
    #[arg(long, value_name = "COMPONENTS")]
    covered: Option<String>,
    /// rfc9421: the metadata parameters the target requires, separated by
    /// spaces (default `created keyid`; add `nonce` for the replay cases).
    #[arg(long, value_name = "PARAMETERS")]
    required_params: Option<String>,
    /// rfc9421: the signature label the target checks (default: the first;
    /// the runner writes `sig1`).
    #[arg(long)]
    label: Option<String>,
    /// rfc9421: the application `tag` the target requires.
    #[arg(long)]
    signature_tag: Option<String>,
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
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
    /// Also run the advisory timing case (a dudect-style t-test).
    #[arg(long)]
    timing: bool,
    /// Also replay a request near the end of the window (waits for most of
    /// the window: five minutes for most schemes).
    #[arg(long)]
    slow: bool,
    /// Cases in flight at once (one at a time where they write a resource,
    /// as an S3 object's PUTs do).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// json=PATH, junit=PATH or html=PATH: write a report; may repeat.
    #[arg(long)]
    report: Vec<String>,
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

/// The runner's configuration for one scheme from the command line.
fn run_config(
    args: &ConformArgs,
    scheme: &SchemeRef,
    secret: &Secret,
    extra_headers: &[runner::ExtraHeader],
    body: Option<&runner::Body>,
) -> RunConfig {
    RunConfig {
        fixed_route: match (args.fixed_path, args.path_prefix) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        tls: runner::TlsOptions {
            ca_cert: args.ca_cert.clone(),
            insecure: args.insecure,
        },
        extra_headers: extra_headers.to_vec(),
        body: body.cloned(),
        reject_statuses: args.reject_status.clone(),
        with_query: args.with_query,
        max_body: args.max_body,
        read_back: args.read_back.clone(),
        timeout: std::time::Duration::from_secs(args.timeout),
        only: args.only.clone(),
        skip: args.skip.clone(),
        methods: args.methods.clone(),
        concurrency: args.concurrency,
        timing: args.timing,
        slow: args.slow,
        // The whole run may take the per-request timeout a few times over,
        // and with --slow the window as well.
        deadline: std::time::Duration::from_secs(
            args.timeout.saturating_mul(10).max(30)
                + if args.slow {
                    window_seconds(scheme, args.tolerance)
                } else {
                    0
                },
        ),
        ..RunConfig::new(scheme.clone(), args.key_id.clone(), secret.clone())
    }
}

/// The past window of `scheme` (or `tolerance`, in its unit), in seconds:
/// `--slow` waits for most of it.
fn window_seconds(scheme: &SchemeRef, tolerance: Option<u64>) -> u64 {
    scheme
        .build(&SchemeConfig {
            endpoint: Some("-".into()),
            tolerance_past: tolerance,
            ..SchemeConfig::default()
        })
        .map_or(300, |s| {
            let w = s.window();
            // A scheme without a past limit has no end of the window to wait for.
            if w.past == u64::MAX {
                0
            } else {
                w.unit.to_ms(w.past) / 1000
            }
        })
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

/// The headers of `--header 'Name: value'` and `--header-env Name=VAR`.
fn extra_headers(args: &ConformArgs) -> Result<Vec<runner::ExtraHeader>, String> {
    // The runner sets these itself, and signs some of them.
    const OWN: [&str; 3] = ["host", "content-type", "content-length"];
    let name = |text: &str, flag: &str| {
        let name = http::HeaderName::from_bytes(text.trim().as_bytes())
            .map_err(|_| format!("{flag}: `{}` is not a header name", text.trim()))?;
        if OWN.contains(&name.as_str()) {
            return Err(format!(
                "{flag}: the runner sets {name} itself (it is part of what is signed)"
            ));
        }
        Ok(name)
    };
    let mut out = Vec::new();
    for spec in &args.headers {
        let (n, value) = spec
            .split_once(':')
            .ok_or_else(|| format!("--header takes 'Name: value', not `{spec}`"))?;
        let value = value.trim();
        http::HeaderValue::from_str(value)
            .map_err(|_| format!("--header {}: not a valid header value", n.trim()))?;
        out.push(runner::ExtraHeader {
            name: name(n, "--header")?,
            value: Secret::new(value),
            from_env: None,
        });
    }
    for spec in &args.header_envs {
        let (n, var) = spec
            .split_once('=')
            .ok_or_else(|| format!("--header-env takes NAME=VAR, not `{spec}`"))?;
        let value = crate::secret_from_env(var)?;
        // The value is not shown: it is a secret.
        http::HeaderValue::from_str(value.expose())
            .map_err(|_| format!("--header-env {n}: ${var} is not a valid header value"))?;
        out.push(runner::ExtraHeader {
            name: name(n, "--header-env")?,
            value,
            from_env: Some(var.to_owned()),
        });
    }
    Ok(out)
}

/// The folder this run's reproduction payloads go to:
/// `<artifacts>/<unix seconds>-<pid>`, where `<artifacts>` is `--artifacts`,
/// else `sigconform-artifacts` beside the first report, else in the
/// system's temporary folder: nothing is written where the user did not
/// ask for files. (The folder is made only when a payload needs it.)
fn artifacts(args: &ConformArgs) -> runner::Files {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let beside_a_report = args
        .report
        .first()
        .and_then(|spec| spec.split_once('='))
        .map(|(_, path)| {
            std::path::Path::new(path)
                .parent()
                .unwrap_or(std::path::Path::new(""))
                .join("sigconform-artifacts")
        });
    let root = args
        .artifacts
        .clone()
        .or(beside_a_report)
        .unwrap_or_else(|| std::env::temp_dir().join("sigconform-artifacts"));
    runner::Files::new(root.join(format!("{seconds}-{}", std::process::id())))
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
        let secret = match (&args.secret, &args.secret_env) {
            (Some(s), _) => Some(Secret::new(s.clone())),
            (None, Some(var)) => Some(crate::secret_from_env(var)?),
            (None, None) => None,
        };
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

/// The body of `--body-file`, as `--content-type` says or as its content
/// reads.
fn body(args: &ConformArgs) -> Result<Option<runner::Body>, String> {
    let Some(path) = &args.body_file else {
        return Ok(None);
    };
    let bytes = std::fs::read(path).map_err(|e| format!("--body-file {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "--body-file {}: not UTF-8 text (the runner varies the body as text)",
            path.display()
        )
    })?;
    Ok(Some(match &args.content_type {
        Some(media_type) => {
            http::HeaderValue::from_str(media_type)
                .map_err(|_| format!("--content-type: `{media_type}` is not a header value"))?;
            runner::Body::new(text, media_type.clone())
        }
        None => runner::Body::sniffed(text),
    }))
}

/// The scheme settings of a target whose endpoint string is `endpoint`.
fn scheme_config(args: &ConformArgs, endpoint: String) -> SchemeConfig {
    // `@scheme` and `@target-uri` as the target's URL says.
    let target_scheme = endpoint
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    SchemeConfig {
        tolerance_past: args.tolerance,
        tolerance_future: args.future_tolerance,
        endpoint: Some(endpoint),
        region: args.region.clone(),
        service: args.service.clone(),
        required_headers: args.covered.as_deref().map(words),
        required_parameters: args.required_params.as_deref().map(words),
        label: args.label.clone(),
        signature_tag: args.signature_tag.clone(),
        target_scheme,
        ..SchemeConfig::default()
    }
}

/// A list given as one argument, its items separated by spaces.
fn words(list: &str) -> Vec<String> {
    list.split_whitespace().map(str::to_owned).collect()
}

/// The targets to probe: the `--target`s, or the built-in servers.
async fn plan(args: &ConformArgs, shared: &Shared) -> Result<Vec<Planned>, String> {
    if args.target.is_empty() {
        let schemes = shared
            .scheme
            .clone()
            .map_or_else(SchemeRef::all_built_in, |s| vec![s]);
        let endpoint = args
            .endpoint
            .clone()
            .unwrap_or_else(|| "https:sigconform.test/app".into());
        let mut planned = Vec::new();
        for scheme in schemes {
            planned.push(
                built_in(scheme, &scheme_config(args, endpoint.clone()), &args.key_id).await?,
            );
        }
        return Ok(planned);
    }
    let scheme = shared
        .scheme
        .clone()
        .ok_or("--target needs --scheme or --profile")?;
    let secret = shared
        .secret
        .clone()
        .ok_or("--target needs --secret or --secret-env")?;
    Ok(args
        .target
        .iter()
        .map(|target| Planned {
            scheme: scheme.clone(),
            target: target.clone(),
            scheme_config: scheme_config(
                args,
                args.endpoint.clone().unwrap_or_else(|| target.clone()),
            ),
            secret: secret.clone(),
            admin: shared.admin.clone(),
            denied_key: shared.denied_key.clone(),
            admin_path: args.admin_path.clone(),
            _server: None,
            db: None,
        })
        .collect())
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

/// Probes every planned target in turn.
async fn probe_each(
    args: &ConformArgs,
    shared: &Shared,
    planned: &[Planned],
    files: &mut runner::Files,
    expecting: &Expecting,
) -> Result<Vec<Probed>, String> {
    let mut probed = Vec::new();
    for target in planned {
        let mut config = target.configure(run_config(
            args,
            &target.scheme,
            &target.secret,
            &shared.extra_headers,
            shared.body.as_ref(),
        ));
        let (bar, progress) = progress_bar(&target.target);
        config.progress = Some(progress);
        let started = Instant::now();
        let run = runner::run(&config, &target.target).await;
        bar.finish_and_clear();
        let mut run = run.map_err(|e| e.to_string())?;
        expecting.annotate(&mut run);
        let scheme = target.scheme.to_string();
        print_run(&target.target, &scheme, &run, files, args.verbose);
        probed.push(Probed {
            target: target.target.clone(),
            scheme,
            run,
            elapsed: started.elapsed(),
        });
    }
    Ok(probed)
}

/// Several targets are instances of one deployment: a request accepted by
/// one must be rejected by the others. The case is reported as one of the
/// first instance's run, in every report.
async fn across_instances(
    args: &ConformArgs,
    shared: &Shared,
    first: &Planned,
    probed: &mut [Probed],
    files: &mut runner::Files,
    expecting: &Expecting,
) -> Result<(), String> {
    let config = first.configure(run_config(
        args,
        &first.scheme,
        &first.secret,
        &shared.extra_headers,
        shared.body.as_ref(),
    ));
    let Some(case) = runner::run_cross_instance(&config, &args.target)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let first_run = &mut probed[0].run;
    let mut instances = runner::Run {
        clock: first_run.clock,
        insecure: first_run.insecure,
        learned: Vec::new(),
        results: vec![case],
    };
    expecting.annotate(&mut instances);
    let label = format!("instances {}", args.target.join(", "));
    print_run(
        &label,
        &first.scheme.to_string(),
        &instances,
        files,
        args.verbose,
    );
    first_run.results.extend(instances.results);
    Ok(())
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

/// Prints every case id of every planned target with its description.
fn list(args: &ConformArgs, shared: &Shared, planned: &[Planned]) -> Result<(), String> {
    for target in planned {
        let config = target.configure(run_config(
            args,
            &target.scheme,
            &target.secret,
            &shared.extra_headers,
            shared.body.as_ref(),
        ));
        for (id, description) in runner::list(&config).map_err(|e| e.to_string())? {
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
    let mut probed = probe_each(args, &shared, &planned, &mut files, &expecting).await?;
    if args.target.len() > 1 {
        across_instances(
            args,
            &shared,
            &planned[0],
            &mut probed,
            &mut files,
            &expecting,
        )
        .await?;
    }
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
