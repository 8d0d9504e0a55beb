//! Project tasks: `cargo xtask <task>`.
//!
//! Thin by design: argument parsing and printing. The work is done by the
//! `sigconform` library.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};
use sigconform::keys::Permissions;
use sigconform::keys::sql::{SqlKeys, SqlKeysConfig};
use sigconform::runner::{self, Counts, RunConfig};
use sigconform::scheme::{SchemeConfig, SchemeRef};
use sigconform::server::{self, KeySource, ServerConfig};
use sigconform::vectors::{self, VectorFile};
use sigconform::{KeyPolicy, Secret};

mod bench;
mod serve;
mod services;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "sigconform project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Work with the test vectors in `vectors/`.
    Vectors {
        #[command(subcommand)]
        action: VectorsAction,
    },
    /// Probe signing verifiers; with no --target, the built-in reference servers.
    Conform(Box<ConformArgs>),
    /// Run a verifying reference server on loopback.
    Serve(Box<serve::ServeArgs>),
    /// Measure: the full catalog's wall time against the local server, and
    /// the reference server's verified requests per second under loopback load.
    Bench {
        /// Requests in the load run.
        #[arg(long, default_value_t = 200_000)]
        requests: usize,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Also verify the same requests with the Python and Node peers,
        /// set the hash limits and `openssl speed` beside ours, and print
        /// the ratios.
        #[arg(long)]
        compare: bool,
        /// Seconds each side-by-side measurement runs for.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
    },
    /// The test suite, with PostgreSQL and Redis for the tests that need
    /// real servers: starts them (installing the Debian packages when they
    /// are missing and this runs as root), runs `cargo test --workspace`
    /// with any further arguments, and stops them.
    Test {
        /// Passed on to `cargo test`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Fuzz the parsers and the verifier (cargo-fuzz, libFuzzer).
    Fuzz {
        /// `corpus` to regenerate the seed corpora from the vectors,
        /// `json-differential` to run the differential test of `partner`'s
        /// canonical JSON against Node and python3 with fresh seeds, a target
        /// name to run one target, or nothing to run them all.
        target: Option<String>,
        /// Seconds per target.
        #[arg(long, default_value_t = 15)]
        time: u64,
    },
}

#[derive(clap::Args)]
struct ConformArgs {
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
    /// under this one.
    #[arg(long, value_name = "DIR", default_value = "target/sigconform")]
    artifacts: PathBuf,
    /// The scheme the target verifies (this or --profile is required with
    /// --target): partner, authorization, webhook, a2a, ia-json or quable,
    /// or a built-in profile's name. Without --target: only its built-in
    /// server.
    #[arg(long, conflicts_with = "profile")]
    scheme: Option<String>,
    /// The profile the target verifies: a built-in profile's name (stripe,
    /// github, slack, standard-webhooks, svix, shopify, twilio, twilio-json,
    /// square, paddle, seed-*) or a profile file (profiles/schema.json).
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
    /// Past limit in the scheme's unit (default: SCHEMES.md's).
    #[arg(long)]
    tolerance: Option<u64>,
    /// Future limit in the scheme's unit.
    #[arg(long)]
    future_tolerance: Option<u64>,
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
    /// Cases in flight at once.
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

#[derive(Subcommand)]
enum VectorsAction {
    /// Recompute every derived field (signed headers, canonical, tag) in place.
    Fill,
    /// Fail if any derived field, verdict or snapshot has drifted.
    Check,
    /// Write every vector file as JSON, for other languages.
    Export {
        /// Output directory.
        #[arg(long, default_value = "target/vectors-json")]
        out: PathBuf,
    },
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn load_all(root: &Path) -> Result<Vec<(PathBuf, VectorFile)>, String> {
    let files = vectors::list_files(&root.join("vectors")).map_err(|e| e.to_string())?;
    files
        .into_iter()
        .map(|p| {
            vectors::load_file(&p)
                .map(|f| (p, f))
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.task {
        Task::Conform(args) => return conform(*args),
        // A server that cannot start is a usage error, like a bad flag.
        Task::Serve(args) => {
            return serve::run(*args).map_or_else(usage_error, |()| ExitCode::SUCCESS);
        }
        Task::Test { args } => test(&root, &args),
        Task::Vectors { action } => match action {
            VectorsAction::Fill => fill(&root),
            VectorsAction::Check => check(&root),
            VectorsAction::Export { out } => export(&root, &out),
        },
        Task::Bench {
            requests,
            connections,
            compare,
            seconds,
        } => bench::run(&root, requests, connections, compare, seconds),
        Task::Fuzz {
            target: Some(t), ..
        } if t == "corpus" => fuzz_corpus(&root),
        Task::Fuzz {
            target: Some(t),
            time,
        } if t == "json-differential" => json_differential(&root, time),
        Task::Fuzz { target, time } => fuzz(&root, target.as_deref(), time),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn fill(root: &Path) -> Result<(), String> {
    for (path, file) in load_all(root)? {
        let filled = vectors::fill(&file).map_err(|e| format!("{}: {e}", path.display()))?;
        let yaml = vectors::to_yaml(&filled).map_err(|e| e.to_string())?;
        std::fs::write(&path, yaml).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("filled {} ({} cases)", path.display(), filled.cases.len());
    }
    Ok(())
}

fn check(root: &Path) -> Result<(), String> {
    let runtime = tokio_runtime()?;
    let mut problems = 0;
    for (path, file) in load_all(root)? {
        for case in &file.cases {
            let found = runtime
                .block_on(vectors::check_case(&file, case))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            for p in &found {
                println!("{}: {p}", path.display());
            }
            problems += found.len();
        }
    }
    if problems > 0 {
        return Err(format!("{problems} vector problem(s)"));
    }
    // Snapshots: the vectors test fails on any drift and never writes.
    let status = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--test", "vectors"])
        .env("INSTA_UPDATE", "no")
        .env("CI", "true")
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    if !status.success() {
        return Err("snapshots drifted: review with `cargo insta review`".into());
    }
    println!("vectors and snapshots are in step");
    Ok(())
}

fn export(root: &Path, out: &Path) -> Result<(), String> {
    let out = if out.is_absolute() {
        out.to_owned()
    } else {
        root.join(out)
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (path, file) in load_all(root)? {
        let name = path.with_extension("json");
        let target = out.join(name.file_name().expect("a file name"));
        let json =
            serde_json::to_string_pretty(&vectors::to_json(&file)).map_err(|e| e.to_string())?;
        std::fs::write(&target, json + "\n").map_err(|e| format!("{}: {e}", target.display()))?;
        println!("wrote {}", target.display());
    }
    Ok(())
}

fn test(root: &Path, args: &[String]) -> Result<(), String> {
    services::install_test_tools()?;
    let services = services::Services::start(root)?;
    let status = Command::new(env!("CARGO"))
        .args(["test", "--workspace"])
        .args(args)
        .envs(services.env())
        // The service tests fail rather than skip when a URL is missing.
        .env("SIGCONFORM_REQUIRE_SERVICES", "1")
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    drop(services);
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test failed ({status})"))
    }
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))
}

/// The fuzz targets, as named in `fuzz/Cargo.toml`.
const FUZZ_TARGETS: [&str; 9] = [
    "header_authorization",
    "header_partner",
    "headers_any_scheme",
    "timestamp",
    "tag_decode",
    "canonical_json",
    "sign_verify",
    "profile_load",
    "profile_vs_seed",
];

/// Writes seed corpora from the vectors: each input is named after the case
/// and step it comes from.
fn fuzz_corpus(root: &Path) -> Result<(), String> {
    let corpus = root.join("fuzz/corpus");
    let mut written = 0;
    for (_, file) in load_all(root)? {
        for case in &file.cases {
            for (i, step) in case.steps.iter().enumerate() {
                let name = format!("{}-{}", case.id, i + 1);
                let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
                for header in &step.request.headers {
                    match header.0.as_str() {
                        "authorization" => {
                            seeds.push(("header_authorization", header.1.clone().into_bytes()))
                        }
                        "x-signature"
                            if file.scheme
                                == sigconform::scheme::SchemeRef::Seed(
                                    sigconform::scheme::SchemeId::Partner,
                                ) =>
                        {
                            seeds.push(("header_partner", header.1.clone().into_bytes()))
                        }
                        "x-signature" | "x-webhook-signature" | "x-ia-signature" => {
                            seeds.push(("tag_decode", header.1.clone().into_bytes()))
                        }
                        _ => {}
                    }
                }
                if let Some(recipe) = &step.sign {
                    seeds.push(("timestamp", recipe.input.timestamp.clone().into_bytes()));
                }
                // Large bodies add nothing a fuzzer cannot grow itself.
                if let Ok(body) = step
                    .request
                    .body_bytes()
                    .map(|b| b[..b.len().min(4096)].to_vec())
                {
                    if file.scheme
                        == sigconform::scheme::SchemeRef::Seed(
                            sigconform::scheme::SchemeId::Partner,
                        )
                    {
                        seeds.push(("canonical_json", body.clone()));
                    }
                    seeds.push(("headers_any_scheme", body.clone()));
                    // The structured targets build their own requests of
                    // the seeds' schemes.
                    if matches!(file.scheme, sigconform::scheme::SchemeRef::Seed(_)) {
                        seeds.push(("profile_vs_seed", body.clone()));
                        seeds.push(("sign_verify", body));
                    }
                }
                for (target, data) in seeds {
                    let dir = corpus.join(target);
                    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                    let path = dir.join(&name);
                    std::fs::write(&path, data).map_err(|e| format!("{}: {e}", path.display()))?;
                    written += 1;
                }
            }
        }
    }
    // The profile loader starts from the built-in profiles.
    let dir = corpus.join("profile_load");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, text) in sigconform::profile::BUILT_IN {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written += 1;
    }
    println!("wrote {written} seed inputs under {}", corpus.display());
    Ok(())
}

/// Runs `tests/canonical_json_js.rs` for `seconds` per check, with fresh
/// seeds: CI runs it with one fixed seed.
fn json_differential(root: &Path, seconds: u64) -> Result<(), String> {
    println!("comparing canonical JSON with Node and python3 for {seconds} s each");
    run(Command::new(env!("CARGO"))
        .args(["test", "--test", "canonical_json_js", "--", "--nocapture"])
        .env("SIGCONFORM_JSON_DIFF_SECONDS", seconds.to_string())
        .current_dir(root))
}

/// Runs one or all fuzz targets for `seconds` each; fails on any crash.
///
/// cargo-fuzz needs nightly compiler flags: `+nightly` when a nightly
/// toolchain is installed, otherwise the stable compiler with
/// `RUSTC_BOOTSTRAP=1`. cargo-fuzz itself is installed when missing.
fn fuzz(root: &Path, target: Option<&str>, seconds: u64) -> Result<(), String> {
    let targets: Vec<&str> = match target {
        None => FUZZ_TARGETS.to_vec(),
        Some(t) if FUZZ_TARGETS.contains(&t) => vec![t],
        Some(t) => {
            return Err(format!(
                "unknown fuzz target `{t}` (one of {})",
                FUZZ_TARGETS.join(", ")
            ));
        }
    };
    let has_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        println!("installing cargo-fuzz");
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let fuzz_dir = root.join("fuzz");
    for target in targets {
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        // Findings go to a scratch copy so the committed seeds stay small.
        let scratch = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let mut cmd = Command::new("cargo");
        if nightly {
            cmd.arg("+nightly");
        } else {
            cmd.env("RUSTC_BOOTSTRAP", "1");
        }
        cmd.current_dir(root)
            .args(["fuzz", "run", "--fuzz-dir"])
            .arg(&fuzz_dir)
            .arg(target)
            .arg(&scratch)
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-dict={}", fuzz_dir.join("headers.dict").display()))
            .args([
                "-rss_limit_mb=2048",
                "-max_len=65536",
                "-print_final_stats=1",
            ]);
        println!("fuzzing {target} for {seconds} s");
        run(&mut cmd).map_err(|e| format!("{target}: {e}"))?;
    }
    Ok(())
}

pub(crate) fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

/// A secret (or token) from the environment variable `var`.
pub(crate) fn secret_from_env(var: &str) -> Result<Secret, String> {
    std::env::var(var)
        .map(Secret::new)
        .map_err(|_| format!("environment variable {var} is not set"))
}

/// Exit status 2: usage errors and targets that cannot be reached at all.
fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn conform(args: ConformArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return usage_error(format!("cannot start runtime: {e}")),
    };
    runtime.block_on(conform_async(args))
}

/// A secret for the built-in servers, from the OS-seeded hasher (no secret
/// is ever printed, so it only has to be unguessable by other local users).
/// A fresh secret for a built-in server, a benchmark or an admin token.
pub(crate) fn random_secret() -> Result<Secret, String> {
    Secret::generate().map_err(|e| format!("no randomness from the operating system: {e}"))
}

fn glob_pattern(text: &str) -> Result<glob::Pattern, String> {
    glob::Pattern::new(text).map_err(|e| format!("`{text}` is not a glob: {e}"))
}

/// The scheme named by `--scheme` or `--profile`, if either is given; a
/// profile that cannot be used is a usage error of one line.
pub(crate) fn chosen_scheme(
    scheme: Option<&str>,
    profile: Option<&str>,
) -> Result<Option<SchemeRef>, String> {
    match (scheme, profile) {
        (Some(name), _) => SchemeRef::by_name(name).map(Some).ok_or_else(|| {
            format!(
                "unknown scheme `{name}` (partner, authorization, webhook, a2a, ia-json, quable, or a built-in profile: {}); a profile file goes to --profile",
                sigconform::profile::BUILT_IN.map(|(n, _)| n).join(", ")
            )
        }),
        (None, Some(profile)) => sigconform::profile::Profile::resolve(profile)
            .map(|p| Some(SchemeRef::from(p)))
            .map_err(|e| e.to_string()),
        (None, None) => Ok(None),
    }
}

/// The runner's configuration for one scheme from the command line.
fn run_config(
    args: &ConformArgs,
    scheme: &SchemeRef,
    secret: &Secret,
    extra_headers: &[runner::ExtraHeader],
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

/// One target to probe, and what it takes.
struct Planned {
    scheme: SchemeRef,
    target: String,
    scheme_config: SchemeConfig,
    secret: Secret,
    admin: Option<runner::AdminAccess>,
    denied_key: Option<runner::DeniedKey>,
    admin_path: Option<String>,
    /// A built-in server, kept alive for the run.
    _server: Option<server::RunningServer>,
    /// A built-in server's key database, removed after the run.
    db: Option<PathBuf>,
}

impl Planned {
    /// `config` with what this target takes: its scheme settings, admin
    /// API, denied key and admin route.
    fn configure(&self, config: RunConfig) -> RunConfig {
        RunConfig {
            scheme_config: self.scheme_config.clone(),
            admin: self.admin.clone(),
            denied_key: self.denied_key.clone(),
            admin_path: self.admin_path.clone(),
            ..config
        }
    }
}

impl Drop for Planned {
    fn drop(&mut self) {
        if let Some(db) = &self.db {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
    }
}

/// Where the built-in servers of API schemes are mounted, as an
/// application under a path.
const API_PREFIX: &str = "/api";
/// The route of the built-in servers of endpoint schemes (seed 001's
/// webhook receiver's).
const ENDPOINT_ROUTE: &str = "/webhooks/payment";
/// The built-in servers' route whose allow-list leaves out
/// [`DENIED_KEY_ID`], and their admin-only route (seed 001), under
/// [`API_PREFIX`].
const RESTRICTED_PREFIX: &str = "/api/sigconform/restricted/";
const ADMIN_PREFIX: &str = "/api/admin/";
/// A key the built-in servers know but do not allow on [`RESTRICTED_PREFIX`].
const DENIED_KEY_ID: &str = "sigconform-denied";

/// A built-in reference server for `scheme`, as a deployment would run
/// it: an API under [`API_PREFIX`], an endpoint as one route with its
/// senders' methods; seed 001's key policies on two routes of their own,
/// and an in-memory nonce store. A seed's server keeps its keys in an
/// SQLite database (a fresh file under `target/conform`) with the key
/// lifecycle API behind a random token (so the lifecycle cases run too); a
/// profile's server has its keys in memory, as secrets in the form the
/// provider issues them (`whsec_…`), which the profile may decode.
pub(crate) async fn built_in(
    scheme: SchemeRef,
    config: &SchemeConfig,
    key_id: &str,
) -> Result<Planned, String> {
    let issued = |secret: Secret| match &scheme {
        SchemeRef::Profile(p) if p.secret != sigconform::profile::SecretDecoding::Base64 => {
            Secret::new(format!("whsec_{}", secret.expose()))
        }
        _ => secret,
    };
    let secret = issued(random_secret()?);
    let denied_secret = issued(random_secret()?);
    let secrets = [
        (key_id, secret.clone()),
        (sigconform::keys::DEFAULT_KEY_ID, secret.clone()),
        (DENIED_KEY_ID, denied_secret.clone()),
    ];
    let (keys, admin, db) = match &scheme {
        SchemeRef::Seed(_) => {
            let (keys, token, db) = sql_keys(&scheme, &secrets).await?;
            (keys, Some(token), Some(db))
        }
        SchemeRef::Profile(_) => (
            KeySource::Static(
                secrets
                    .iter()
                    .map(|(id, s)| ((*id).to_owned(), s.clone()))
                    .collect(),
            ),
            None,
            None,
        ),
    };
    let mut server_config = ServerConfig::new(scheme.clone(), config.clone(), keys);
    let delivery = scheme.build(config).map_err(|e| e.to_string())?.delivery();
    let (mount, path) = match delivery {
        sigconform::scheme::Delivery::Api => (server::Mount::Prefix(API_PREFIX.into()), API_PREFIX),
        sigconform::scheme::Delivery::Endpoint { methods } => (
            server::Mount::Route {
                path: ENDPOINT_ROUTE.into(),
                methods: methods.iter().filter_map(|m| m.parse().ok()).collect(),
                not_found_for_other_methods: false,
            },
            ENDPOINT_ROUTE,
        ),
    };
    server_config.mount = mount;
    server_config.policy = KeyPolicy {
        allowed_key_ids: Some(vec![key_id.into(), sigconform::keys::DEFAULT_KEY_ID.into()]),
        restricted_path_prefixes: vec![RESTRICTED_PREFIX.into()],
        admin_path_prefixes: vec![ADMIN_PREFIX.into()],
        admin_key_prefix: None,
    };
    let server = start_reference(server_config, 0).await?;
    Ok(Planned {
        scheme,
        target: format!("{}{path}", server.url()),
        scheme_config: config.clone(),
        secret,
        admin: admin.map(|token| runner::AdminAccess {
            url: server.url(),
            token,
        }),
        denied_key: Some(runner::DeniedKey {
            key_id: DENIED_KEY_ID.into(),
            secret: denied_secret,
            path: format!("{RESTRICTED_PREFIX}probe"),
        }),
        // An admin key on the admin route is accepted, as it should be.
        admin_path: (!key_id.starts_with("admin_"))
            .then(|| format!("{ADMIN_PREFIX}sigconform-probe")),
        _server: Some(server),
        db,
    })
}

/// A fresh SQLite key store for a built-in server with `secrets`, and the
/// token of its key lifecycle API.
async fn sql_keys(
    scheme: &SchemeRef,
    secrets: &[(&str, Secret)],
) -> Result<(KeySource, Secret, PathBuf), String> {
    let dir = workspace_root().join("target/conform");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let db = dir.join(format!("keys-{scheme}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let store = SqlKeys::connect(&SqlKeysConfig::new(format!("sqlite://{}", db.display())))
        .await
        .map_err(|e| format!("the built-in key store: {e}"))?;
    for (id, secret) in secrets {
        store
            .put(id, secret, Permissions::all())
            .await
            .map_err(|e| format!("the built-in key store: {e}"))?;
    }
    let token = random_secret()?;
    let keys = KeySource::Sql {
        store: std::sync::Arc::new(store),
        admin_token: Some(token.clone()),
    };
    Ok((keys, token, db))
}

/// A report's format.
#[derive(Clone, Copy)]
enum ReportFormat {
    Json,
    Junit,
    Html,
}

/// A report to write: its format, its path, and a file beside it created
/// before the run (so that an unwritable path is a usage error, not a lost
/// run) that becomes the report only when the report is whole. A run that
/// ends in an error leaves no report behind, never an empty or half-written
/// one: the file is removed when the report is dropped unwritten.
struct ReportFile {
    format: ReportFormat,
    path: String,
    partial: PathBuf,
    file: Option<std::fs::File>,
}

impl ReportFile {
    fn create(format: ReportFormat, path: &str) -> Result<ReportFile, String> {
        let target = Path::new(path);
        let name = target
            .file_name()
            .ok_or_else(|| format!("{path}: not a file name"))?;
        let partial = target.with_file_name(format!(
            ".{}.{}.partial",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = std::fs::File::create(&partial).map_err(|e| format!("{path}: {e}"))?;
        Ok(ReportFile {
            format,
            path: path.to_owned(),
            partial,
            file: Some(file),
        })
    }

    /// Writes `text` whole, then puts it in the report's place.
    fn commit(mut self, text: &str) -> Result<(), String> {
        let mut file = self.file.take().expect("a report is committed once");
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&self.partial, &self.path))
            .map_err(|e| format!("{}: {e}", self.path))
    }
}

impl Drop for ReportFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}

fn report_files(specs: &[String]) -> Result<Vec<ReportFile>, String> {
    specs
        .iter()
        .map(|spec| {
            let (format, path) = match spec.split_once('=') {
                Some(("json", path)) if !path.is_empty() => (ReportFormat::Json, path),
                Some(("junit", path)) if !path.is_empty() => (ReportFormat::Junit, path),
                Some(("html", path)) if !path.is_empty() => (ReportFormat::Html, path),
                _ => {
                    return Err(format!(
                        "--report takes json=PATH, junit=PATH or html=PATH, not `{spec}`"
                    ));
                }
            };
            ReportFile::create(format, path)
        })
        .collect()
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
        let value = secret_from_env(var)?;
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
/// `<artifacts>/<unix seconds>-<pid>`.
fn artifacts(args: &ConformArgs) -> runner::Files {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    runner::Files::new(
        args.artifacts
            .join(format!("{seconds}-{}", std::process::id())),
    )
}

/// The outcomes that make `conform`'s exit status 1 (`--fail-on`), from
/// the most to the least severe: each level includes the ones before it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
enum FailOn {
    Fail,
    Error,
    Warn,
    Info,
}

impl FailOn {
    /// Whether `counts` hold an outcome at or above this level.
    fn reached(self, counts: &Counts) -> bool {
        counts.fail > 0
            || (self >= FailOn::Error && counts.error > 0)
            || (self >= FailOn::Warn && counts.warn > 0)
            || (self >= FailOn::Info && counts.info > 0)
    }
}

/// The ids of the cases that failed or erred in a JSON report, each as a
/// glob that matches it alone.
fn failed_in_report(path: &Path) -> Result<Vec<glob::Pattern>, String> {
    let at = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("--rerun-failed {at}: {e}"))?;
    let report: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("--rerun-failed {at}: not a JSON report: {e}"))?;
    let cases = report["targets"]
        .as_array()
        .ok_or_else(|| format!("--rerun-failed {at}: not a JSON report of `conform` (no targets)"))?
        .iter()
        .filter_map(|target| target["cases"].as_array())
        .flatten();
    let mut ids: Vec<&str> = cases
        .filter(|case| matches!(case["outcome"].as_str(), Some("fail" | "error")))
        .filter_map(|case| case["id"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| glob::Pattern::new(&glob::Pattern::escape(id)).map_err(|e| e.to_string()))
        .collect()
}

async fn conform_async(mut args: ConformArgs) -> ExitCode {
    if let Some(report) = &args.rerun_failed {
        match failed_in_report(report) {
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
    let report_files = match report_files(if args.list { &[] } else { &args.report }) {
        Ok(files) => files,
        Err(e) => return usage_error(e),
    };
    let extra_headers = match extra_headers(&args) {
        Ok(headers) => headers,
        Err(e) => return usage_error(e),
    };
    let mut files = artifacts(&args);
    let secret = match (&args.secret, &args.secret_env) {
        (Some(s), _) => Some(Secret::new(s.clone())),
        (None, Some(var)) => match secret_from_env(var) {
            Ok(s) => Some(s),
            Err(e) => return usage_error(e),
        },
        (None, None) => None,
    };
    let scheme_config = |endpoint: Option<String>| SchemeConfig {
        tolerance_past: args.tolerance,
        tolerance_future: args.future_tolerance,
        endpoint,
        ..SchemeConfig::default()
    };
    let admin = match (&args.admin_url, &args.admin_token_env) {
        (None, None) => None,
        (Some(url), Some(var)) => match secret_from_env(var) {
            Ok(token) => Some(runner::AdminAccess {
                url: url.clone(),
                token,
            }),
            Err(e) => return usage_error(e),
        },
        _ => return usage_error("--admin-url and --admin-token-env go together"),
    };
    let chosen = match chosen_scheme(args.scheme.as_deref(), args.profile.as_deref()) {
        Ok(chosen) => chosen,
        Err(e) => return usage_error(e),
    };
    let mut runs = Vec::new();
    if args.target.is_empty() {
        let schemes = chosen.map_or_else(SchemeRef::all_built_in, |s| vec![s]);
        for scheme in schemes {
            let config = scheme_config(Some(
                args.endpoint
                    .clone()
                    .unwrap_or_else(|| "https:sigconform.test/app".into()),
            ));
            match built_in(scheme, &config, &args.key_id).await {
                Ok(run) => runs.push(run),
                Err(e) => return usage_error(e),
            }
        }
    } else {
        let Some(scheme) = chosen else {
            return usage_error("--target needs --scheme or --profile");
        };
        let Some(secret) = secret else {
            return usage_error("--target needs --secret or --secret-env");
        };
        let denied_key = match (
            &args.denied_key_id,
            &args.denied_secret_env,
            &args.denied_path,
        ) {
            (Some(key_id), Some(var), Some(path)) => match secret_from_env(var) {
                Ok(secret) => Some(runner::DeniedKey {
                    key_id: key_id.clone(),
                    secret,
                    path: path.clone(),
                }),
                Err(e) => return usage_error(e),
            },
            _ => None,
        };
        for target in &args.target {
            let endpoint = args.endpoint.clone().unwrap_or_else(|| target.clone());
            runs.push(Planned {
                scheme: scheme.clone(),
                target: target.clone(),
                scheme_config: scheme_config(Some(endpoint)),
                secret: secret.clone(),
                admin: admin.clone(),
                denied_key: denied_key.clone(),
                admin_path: args.admin_path.clone(),
                _server: None,
                db: None,
            });
        }
    }

    let mut reports = Vec::new();
    let mut table = Vec::new();
    for planned in &runs {
        let (scheme, target) = (&planned.scheme, &planned.target);
        let mut config =
            planned.configure(run_config(&args, scheme, &planned.secret, &extra_headers));
        if args.list {
            match runner::list(&config) {
                Ok(cases) => cases.iter().for_each(|(id, d)| println!("{id:<45} {d}")),
                Err(e) => return usage_error(e),
            }
            continue;
        }
        let (bar, progress) = progress_bar(target);
        config.progress = Some(progress);
        let started = std::time::Instant::now();
        let run = runner::run(&config, target).await;
        bar.finish_and_clear();
        let run = match run {
            Ok(r) => r,
            Err(e) => return usage_error(e),
        };
        // Colour on a terminal only (anstream also honours NO_COLOR).
        let _ = write!(
            anstream::stdout(),
            "{}",
            runner::render_text(
                target,
                &run,
                &mut files,
                &runner::TextOptions {
                    scheme: &scheme.to_string(),
                    verbose: args.verbose,
                },
            )
        );
        let results = run.results.clone();
        table.push((scheme.to_string(), Counts::of(&results), started.elapsed()));
        reports.push((target.clone(), run));
    }
    // Several targets are instances of one deployment: a request accepted by
    // one must be rejected by the others.
    if args.target.len() > 1 && !args.list {
        let first = &runs[0];
        let config = first.configure(run_config(
            &args,
            &first.scheme,
            &first.secret,
            &extra_headers,
        ));
        match runner::run_cross_instance(&config, &args.target).await {
            Ok(Some(case)) => {
                // Reported as a case of the first instance's run, in every report.
                let instances = runner::Run {
                    clock: reports[0].1.clock,
                    insecure: reports[0].1.insecure,
                    results: vec![case.clone()],
                };
                let label = format!("instances {}", args.target.join(", "));
                let _ = write!(
                    anstream::stdout(),
                    "{}",
                    runner::render_text(
                        &label,
                        &instances,
                        &mut files,
                        &runner::TextOptions {
                            scheme: &first.scheme.to_string(),
                            verbose: args.verbose,
                        },
                    )
                );
                reports[0].1.results.push(case);
                table[0].1 = Counts::of(&reports[0].1.results);
            }
            Ok(None) => {}
            Err(e) => return usage_error(e),
        }
    }
    if args.list {
        return ExitCode::SUCCESS;
    }
    println!(
        "\n{:<18} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5}  time",
        "scheme", "pass", "fail", "warn", "info", "error", "skip"
    );
    for (scheme, c, elapsed) in &table {
        println!(
            "{scheme:<18} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5}  {:.2}s",
            c.pass,
            c.fail,
            c.warn,
            c.info,
            c.error,
            c.skip,
            elapsed.as_secs_f64()
        );
    }
    if !files.is_empty() {
        println!(
            "payloads of the reproductions above (over 1 KiB): {}",
            files.dir().display()
        );
    }
    for report in report_files {
        let text = match report.format {
            ReportFormat::Junit => runner::render_junit(&reports),
            ReportFormat::Json => serde_json::to_string_pretty(&runner::render_json(&reports))
                .map_err(|e| e.to_string()),
            ReportFormat::Html => Ok(runner::render_html(&reports)),
        };
        let path = report.path.clone();
        if let Err(e) = text
            .map_err(|e| format!("{path}: {e}"))
            .and_then(|t| report.commit(&t))
        {
            return usage_error(e);
        }
    }
    let failed = table.iter().any(|(_, c, _)| args.fail_on.reached(c));
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A reference server on loopback (`port` 0: any free port).
pub(crate) async fn start_reference(
    config: ServerConfig,
    port: u16,
) -> Result<server::RunningServer, String> {
    server::start(config, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| format!("cannot start the reference server on 127.0.0.1:{port}: {e}"))
}
