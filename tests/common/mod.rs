//! What the runner tests share: reference servers deployed the ways
//! applications are (at the root, under a path, as one route), with one
//! deliberate defect or none, and the runner's deployment and options for
//! them.

// Each test file uses its own part of this.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sigconform_core::nonce::NonceStore;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::{SchemeConfig, SchemeId};
use sigconform_core::{KeyPolicy, Secret};
use sigconform_runner::{self as runner, CaseResult, Category, Outcome, Run, RunError, RunOptions};
use sigconform_server::{self as server, Defect, KeySource, Mount, ServerConfig};

pub const SECRET: &str = "runner-test-secret";

/// The secret of the profiles' test servers: in the `whsec_` form, which
/// Standard Webhooks decodes and Stripe uses as text.
pub const PROFILE_SECRET: &str = "whsec_cnVubmVyLXRlc3Qtc2VjcmV0LWtleS0zMi1ieXRlcyE=";

/// The secret of RFC 9421's test servers: bytes, given in base64.
pub const RFC9421_SECRET: &str = "cnVubmVyLXRlc3Qtc2VjcmV0LW9mLTMyLWJ5dGVzISE=";
/// [`DENIED_SECRET`] for RFC 9421, in base64.
pub const RFC9421_DENIED_SECRET: &str = "ZGVuaWVkLWtleS1zZWNyZXQ=";

/// The secret the tests sign with for `scheme`.
pub fn secret_for(scheme: &SchemeRef) -> &'static str {
    match scheme {
        SchemeRef::Seed(SchemeId::Rfc9421) => RFC9421_SECRET,
        SchemeRef::Seed(_) => SECRET,
        SchemeRef::Profile(_) => PROFILE_SECRET,
    }
}

/// A key the test servers know but leave out of [`RESTRICTED`]'s allow-list.
pub const DENIED_KEY_ID: &str = "denied";
pub const DENIED_SECRET: &str = "denied-key-secret";
/// [`DENIED_SECRET`] for the profiles, in the `whsec_` form.
pub const PROFILE_DENIED_SECRET: &str = "whsec_ZGVuaWVkLWtleS1zZWNyZXQtMzItYnl0ZXMtbG9uZyE=";

/// The denied key's secret for `scheme`.
pub fn denied_secret_for(scheme: &SchemeRef) -> &'static str {
    match scheme {
        SchemeRef::Seed(SchemeId::Rfc9421) => RFC9421_DENIED_SECRET,
        SchemeRef::Seed(_) => DENIED_SECRET,
        SchemeRef::Profile(_) => PROFILE_DENIED_SECRET,
    }
}
/// The test servers' route with an allow-list, and their admin-only
/// routes, below the deployment's path.
pub const RESTRICTED: &str = "/restricted/";
pub const ADMIN: &str = "/admin/";

/// Where a test server answers signed requests, and how the runner is
/// pointed at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Every path; the runner's target is the server's root.
    Root,
    /// An application under a path; the target is that path.
    Prefix(&'static str),
    /// One route with its methods (any when empty); the target is the
    /// route, probed as a fixed route.
    Route(&'static str, &'static [&'static str]),
}

/// Applications under `/api`, as the defect tests deploy them.
pub const API: Deployment = Deployment::Prefix("/api");

impl Deployment {
    pub fn mount(self) -> Mount {
        match self {
            Deployment::Root => Mount::Root,
            Deployment::Prefix(p) => Mount::Prefix(p.into()),
            Deployment::Route(path, methods) => Mount::Route {
                path: path.into(),
                methods: methods.iter().map(|m| m.parse().unwrap()).collect(),
                not_found_for_other_methods: false,
            },
        }
    }

    /// The path of the runner's target URL.
    pub fn path(self) -> &'static str {
        match self {
            Deployment::Root => "",
            Deployment::Prefix(p) | Deployment::Route(p, _) => p,
        }
    }

    /// Where the key policies' routes are (under the prefix).
    fn base(self) -> &'static str {
        match self {
            Deployment::Prefix(p) => p,
            _ => "",
        }
    }

    /// The runner's target for a server at `url`.
    pub fn target(self, server: &server::RunningServer) -> String {
        format!("{}{}", server.url(), self.path())
    }
}

pub fn scheme_config() -> SchemeConfig {
    SchemeConfig {
        endpoint: Some("https:app.example/hook".into()),
        ..SchemeConfig::default()
    }
}

/// How the tests run the catalog: key "k" with the test secret, and the
/// policy routes of a server deployed as `deployment`. The deployment
/// names no instance yet: [`run_at`] gives it the one it runs against.
pub fn run_config(
    scheme: impl Into<SchemeRef>,
    scheme_config: SchemeConfig,
    timeout: Duration,
    deadline: Duration,
    deployment: Deployment,
) -> (runner::Deployment, RunOptions) {
    let scheme = scheme.into();
    let secret = secret_for(&scheme);
    let base = deployment.base();
    // One route has no other routes with policies of their own.
    let one_route = matches!(deployment, Deployment::Route(..));
    let probed = runner::Deployment {
        targets: Vec::new(),
        scheme_config,
        denied_key: (!one_route).then(|| runner::DeniedKey {
            key_id: DENIED_KEY_ID.into(),
            secret: Secret::new(denied_secret_for(&scheme)),
            path: format!("{base}{RESTRICTED}probe"),
        }),
        admin_path: (!one_route).then(|| format!("{base}{ADMIN}probe")),
        fixed_route: one_route.then_some(true),
        ..runner::Deployment::new("", scheme, "k", Secret::new(secret))
    };
    let options = RunOptions {
        timeout,
        deadline,
        // Seconds of waiting each: run where a test is about them.
        skip: vec![glob::Pattern::new("*/replay/after-pause").unwrap()],
        ..RunOptions::default()
    };
    (probed, options)
}

/// The run of the catalog against `deployment`, which names one instance.
pub async fn run_one(
    deployment: &runner::Deployment,
    options: &RunOptions,
) -> Result<Run, RunError> {
    let mut report = runner::run(deployment, options).await?;
    assert_eq!(report.instances.len(), 1, "one instance, one run");
    let instance = report.instances.remove(0);
    assert_eq!(instance.target, deployment.targets[0]);
    Ok(instance.run)
}

/// The run of the catalog against `deployment` as one instance at
/// `target` (whatever instances it names).
pub async fn run_at(
    deployment: &runner::Deployment,
    options: &RunOptions,
    target: &str,
) -> Result<Run, RunError> {
    let one = runner::Deployment {
        targets: vec![target.to_owned()],
        ..deployment.clone()
    };
    run_one(&one, options).await
}

/// A server to start: its configuration, and the deliberate defect it is
/// started with (from outside: [`server::start_altered`]).
#[derive(Clone)]
pub struct Setup {
    pub config: ServerConfig,
    pub defect: Option<Defect>,
}

impl std::ops::Deref for Setup {
    type Target = ServerConfig;
    fn deref(&self) -> &ServerConfig {
        &self.config
    }
}

impl std::ops::DerefMut for Setup {
    fn deref_mut(&mut self) -> &mut ServerConfig {
        &mut self.config
    }
}

impl Setup {
    /// Starts it on `addr`.
    pub async fn start(self, addr: std::net::SocketAddr) -> std::io::Result<server::RunningServer> {
        let defect = self
            .defect
            .map(|d| Arc::new(d) as Arc<dyn server::Alteration>);
        server::start_altered(self.config, defect, addr).await
    }
}

/// A reference server for `scheme` with key "k" (and "default") = the test
/// secret, and seed 001's policies: only those two on [`RESTRICTED`], admin
/// keys only on [`ADMIN`]; with `defect`, if one.
pub fn server_config(
    scheme: impl Into<SchemeRef>,
    defect: Option<Defect>,
    deployment: Deployment,
) -> Setup {
    server_config_with(scheme, scheme_config(), defect, deployment)
}

/// [`server_config`] with the scheme configured as `scheme_config` says.
pub fn server_config_with(
    scheme: impl Into<SchemeRef>,
    scheme_config: SchemeConfig,
    defect: Option<Defect>,
    deployment: Deployment,
) -> Setup {
    let scheme = scheme.into();
    let secret = secret_for(&scheme);
    let denied_secret = denied_secret_for(&scheme);
    let mut config = ServerConfig::new(
        scheme,
        scheme_config,
        KeySource::secrets([
            ("k", secret),
            ("default", secret),
            (DENIED_KEY_ID, denied_secret),
        ]),
    );
    let base = deployment.base();
    config.policy = KeyPolicy {
        allowed_key_ids: Some(vec!["k".into(), "default".into()]),
        restricted_path_prefixes: vec![format!("{base}{RESTRICTED}")],
        admin_path_prefixes: vec![format!("{base}{ADMIN}")],
        admin_key_prefix: None,
    };
    config.mount = deployment.mount();
    Setup { config, defect }
}

pub async fn start_with(setup: Setup) -> server::RunningServer {
    setup.start("127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// A server at the root.
pub async fn start(
    scheme: SchemeId,
    defect: Option<Defect>,
    shared_nonces: Option<Arc<dyn NonceStore>>,
) -> server::RunningServer {
    let mut config = server_config(scheme, defect, Deployment::Root);
    config.shared_nonces = shared_nonces;
    start_with(config).await
}

/// The whole catalog against a server deployed as `deployment`.
pub async fn run_deployed(
    scheme: impl Into<SchemeRef> + Clone,
    defect: Option<Defect>,
    deployment: Deployment,
) -> Vec<CaseResult> {
    let server = start_with(server_config(scheme.clone(), defect, deployment)).await;
    let (probed, options) = run_config(
        scheme,
        scheme_config(),
        Duration::from_secs(5),
        Duration::from_secs(30),
        deployment,
    );
    run_at(&probed, &options, &deployment.target(&server))
        .await
        .unwrap()
        .results
}

/// The whole catalog against an application under `/api` (as deployed).
pub async fn run_against(scheme: SchemeId, defect: Option<Defect>) -> Vec<CaseResult> {
    run_deployed(scheme, defect, API).await
}

pub fn failures(results: &[CaseResult], category: Category) -> Vec<&str> {
    results
        .iter()
        .filter(|r| r.category == category && r.outcome == Outcome::Fail)
        .map(|r| r.id.as_str())
        .collect()
}

/// The ids of the cases that failed or could not be judged, without the
/// `scheme/` they start with, sorted.
pub fn not_passed(results: &[CaseResult], scheme: &str) -> Vec<String> {
    let prefix = format!("{scheme}/");
    let mut ids: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail | Outcome::Error))
        .map(|r| r.id.strip_prefix(&prefix).unwrap_or(&r.id).to_owned())
        .collect();
    ids.sort();
    ids
}

/// How a run against software nobody here wrote deviates from its
/// expectations file `tests/expected/<name>.yaml`, read and judged as
/// `conform --expect` does: each deviation with what was observed. A case
/// no entry names deviates when its outcome is anything but `pass`, `warn`,
/// `info` or `skip` (a `fail`, or a case that could not be judged).
pub fn deviations(name: &str, target: &str, results: Vec<CaseResult>) -> Vec<String> {
    use runner::expect::{Deviation, Expectations};
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/expected/{name}.yaml"));
    let expectations = Expectations::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut runs = vec![(
        target.to_owned(),
        runner::Run {
            clock: runner::ClockEstimate {
                offset_ms: 0,
                uncertainty_ms: None,
            },
            insecure: false,
            learned: Vec::new(),
            notes: Vec::new(),
            results,
        },
    )];
    let reaches = |r: &CaseResult| {
        !matches!(
            r.outcome,
            Outcome::Pass | Outcome::Warn | Outcome::Info | Outcome::Skip
        )
    };
    let judgement = expectations.judge(&mut runs, reaches, false);
    let observed = |case: &str| {
        runs[0]
            .1
            .results
            .iter()
            .find(|r| r.id == case)
            .map_or_else(String::new, |r| format!("; observed {}", r.observed))
    };
    judgement
        .deviations
        .iter()
        .map(|d| match d {
            Deviation::Unexpected { case, .. } | Deviation::Changed { case, .. } => {
                format!("{name}: {d}{}", observed(case))
            }
            Deviation::Stale { .. } => format!("{name}: {d}"),
        })
        .collect()
}

/// The cases that failed or could not be judged, with what was observed.
pub fn bad(results: &[CaseResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail | Outcome::Error))
        .map(|r| format!("{} {:?}: {} / {}", r.id, r.outcome, r.observed, r.detail))
        .collect()
}

/// A folder under the test build's temporary folder, named `kind` and a
/// hash of `items`, that `install` fills once: every test and run that asks
/// for the same items shares it (a lock keeps two from filling it at once,
/// and a marker says it was filled whole).
fn installed_once(
    kind: &str,
    items: &[&str],
    install: impl FnOnce(&std::path::Path),
) -> std::path::PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    items.hash(&mut hasher);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{kind}-{:016x}", hasher.finish()));
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    let done = dir.join(".installed");
    if !done.exists() {
        install(&dir);
        std::fs::write(&done, items.join("\n")).unwrap();
    }
    dir
}

/// Runs `program` with `args`; panics unless it succeeds.
fn run_ok(program: &std::path::Path, args: &[&std::ffi::OsStr]) {
    let status = std::process::Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(status.success(), "{} {args:?}: {status}", program.display());
}

/// A Python interpreter with `requirements` (pinned `name==version`)
/// installed from PyPI, in a virtual environment made once.
pub fn python_packages(requirements: &[&str]) -> std::path::PathBuf {
    let dir = installed_once("python", requirements, |dir| {
        let python3 = std::path::Path::new("python3");
        run_ok(
            python3,
            &[
                "-m".as_ref(),
                "venv".as_ref(),
                "--clear".as_ref(),
                dir.as_os_str(),
            ],
        );
        let mut args: Vec<&std::ffi::OsStr> = ["-m", "pip", "install", "--quiet", "--no-input"]
            .map(AsRef::as_ref)
            .to_vec();
        args.extend(requirements.iter().map(std::ffi::OsStr::new));
        run_ok(&dir.join("bin/python"), &args);
    });
    dir.join("bin/python")
}

/// The folder `cargo install` put crate `name` at `version` (with
/// `features`) in, with its own lock file, once; its programs are in `bin/`.
pub fn cargo_installed(name: &str, version: &str, features: &[&str]) -> std::path::PathBuf {
    let items: Vec<&str> = [name, version]
        .into_iter()
        .chain(features.iter().copied())
        .collect();
    installed_once("cargo", &items, |dir| {
        let mut args: Vec<&std::ffi::OsStr> = ["install", "--locked", "--quiet", "--version"]
            .map(AsRef::as_ref)
            .to_vec();
        args.push(version.as_ref());
        if !features.is_empty() {
            args.push("--features".as_ref());
        }
        let joined = features.join(",");
        if !features.is_empty() {
            args.push(joined.as_ref());
        }
        args.extend(["--root".as_ref(), dir.as_os_str(), name.as_ref()]);
        run_ok(std::path::Path::new(env!("CARGO")), &args);
    })
}

/// A folder with `packages` (pinned `name@version`) installed from the npm
/// registry under `node_modules`, once.
pub fn node_packages(packages: &[&str]) -> std::path::PathBuf {
    installed_once("node", packages, |dir| {
        let mut args: Vec<&std::ffi::OsStr> = [
            "install",
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ]
        .map(AsRef::as_ref)
        .to_vec();
        args.push(dir.as_os_str());
        args.extend(packages.iter().map(std::ffi::OsStr::new));
        run_ok(std::path::Path::new("npm"), &args);
    })
}

/// A child process killed when the test ends.
pub struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `command`, a server that listens on `port`, started, once it listens.
pub async fn started(mut command: std::process::Command, port: u16) -> Running {
    let mut child = Running(
        command
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?}: {e}")),
    );
    listening(port, &mut child).await;
    child
}

/// Waits until something listens on `port`; panics if `child` exits first.
async fn listening(port: u16, child: &mut Running) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("the server exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {port}");
}

/// A CA and a certificate it signed for 127.0.0.1, written as PEM files
/// (generated here: no private key is committed). Returns the CA file, the
/// server's certificate chain and key.
pub fn certificates(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let files = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&files.0, ca_cert.pem()).unwrap();
    std::fs::write(&files.1, leaf_cert.pem()).unwrap();
    std::fs::write(&files.2, leaf_key.serialize_pem()).unwrap();
    files
}

/// How long the fuzz tests against real verifiers fuzz each: requests per
/// seed and seeds (`SIGCONFORM_FUZZ_REQUESTS`, `SIGCONFORM_FUZZ_SEEDS`;
/// by default a short run, the long one by hand).
pub fn fuzz_budget() -> (u64, u64) {
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    (
        var("SIGCONFORM_FUZZ_REQUESTS", 300),
        var("SIGCONFORM_FUZZ_SEEDS", 1),
    )
}

/// A defect a real verifier is known to have (the README lists it), as
/// the fuzzer's groups show it: what the target did, and the operators
/// the groups are made of (a name; `name-` a prefix; `-name` a suffix).
#[derive(Debug, Clone, Copy)]
pub struct KnownFinding {
    pub kind: runner::fuzz::FindingKind,
    pub operators: &'static [&'static str],
    /// An operator the group must have, where the defect needs it.
    pub needs: Option<&'static str>,
}

/// Whether `operator` is one of `patterns`.
fn operator_matches(operator: &str, patterns: &[&str]) -> bool {
    patterns.iter().any(|p| {
        operator == *p
            || (p.ends_with('-') && operator.starts_with(p))
            || (p.starts_with('-') && operator.ends_with(p))
    })
}

/// The groups of `run` no known defect explains: a group is explained by
/// one of `known` of its kind whose operators include each of the group's
/// (`sign-after` aside).
/// Whether operator `o` of a group of `kind` says nothing of the defect:
/// `sign-after` (the change signed, as a signer would), and, where the
/// finding is a request accepted, a forged copy refused before it (the
/// request after it being accepted is what a verifier must do).
fn neutral(o: &str, kind: runner::fuzz::FindingKind) -> bool {
    o == "sign-after"
        || (o == "replay-after-refused" && kind == runner::fuzz::FindingKind::Accepted)
}

pub fn unexplained(run: &runner::fuzz::FuzzRun, known: &[KnownFinding]) -> Vec<String> {
    // Every group, for whoever runs the test with --nocapture.
    for g in &run.groups {
        println!("{} ({:?}, {} findings)", g.id, g.kind, g.count);
    }
    run.groups
        .iter()
        .filter(|g| {
            !known.iter().any(|k| {
                k.kind == g.kind
                    && g.operators
                        .iter()
                        .filter(|o| !neutral(o, g.kind))
                        .all(|o| operator_matches(o, k.operators))
                    && k.needs.is_none_or(|n| g.operators.iter().any(|o| o == n))
            })
        })
        .map(|g| {
            let case = run.run.results.iter().find(|c| c.id == g.id);
            match case {
                Some(c) => format!(
                    "{} ({:?}): expected {}, observed {}\n{}\n{}",
                    g.id,
                    g.kind,
                    c.expected,
                    c.observed,
                    c.request,
                    run.run.notes.join("\n")
                ),
                None => format!("{} ({:?})", g.id, g.kind),
            }
        })
        .collect()
}
