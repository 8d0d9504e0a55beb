//! `cargo xtask bench`: the figures the README quotes, measured in one run.
//!
//! Always: the full catalog of each scheme against its local reference
//! server (wall time), and the reference server under loopback load.
//! With `--compare`: the same signed requests verified by the library and
//! by the Python, Node and Java peers (`benches/peers/`), the hash limits and
//! `openssl speed` beside ours, and the nonce store and canonical JSON
//! rates, each judged against its floor (`docs/performance.md`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sigconform_bench::measure::{self, NonceRecord, Rate};
use sigconform_bench::workload::Workload;
use sigconform_core::Secret;
use sigconform_core::crypto::Algorithm;
use sigconform_core::keys::Permissions;
use sigconform_core::registry::SEED_PROFILES;
use sigconform_core::registry::SchemeRef;
use sigconform_core::sample::json_document;
use sigconform_core::scheme::{SchemeConfig, SchemeId};
use sigconform_runner::{self as runner, Deployment, RunOptions};
use sigconform_server::redis_nonces::RedisNonceStore;
use sigconform_server::sql_keys::{SqlKeys, SqlKeysConfig};
use sigconform_server::{KeySource, ServerConfig};

/// `a2a` with a 1 KiB body against its two hashes alone: the floor.
const A2A_1K_FLOOR: f64 = 1.6;

/// `a2a` with an empty body against one HMAC-SHA256 of 256 B as OpenSSL
/// computes it in the same run: the floor. A ratio, because this machine's
/// speed drifts from hour to hour and a rate would judge the hour.
const A2A_EMPTY_FLOOR: f64 = 1.3;

/// `authorization` with an empty body against the same HMAC: the floor.
const AUTHORIZATION_EMPTY_FLOOR: f64 = 2.5;

/// Requests in each side-by-side workload.
const COMPARED_REQUESTS: usize = 20_000;

pub(crate) fn run(
    root: &Path,
    requests: usize,
    connections: usize,
    compare: bool,
    seconds: f64,
) -> Result<(), String> {
    // Figures from an unoptimised build would mean nothing: re-run in release.
    if cfg!(debug_assertions) {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["run", "--release", "--quiet", "--package", "xtask", "--"])
            .args(["bench", "--requests", &requests.to_string()])
            .args(["--connections", &connections.to_string()])
            .args(["--seconds", &seconds.to_string()]);
        if compare {
            cmd.arg("--compare");
        }
        return crate::run(&mut cmd);
    }
    let budget = Duration::from_secs_f64(seconds);
    if compare {
        side_by_side(root, budget)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(servers(requests, connections))
}

/// The catalog's wall time per scheme, and the server under load.
async fn servers(requests: usize, connections: usize) -> Result<(), String> {
    let config = SchemeConfig {
        endpoint: Some("https:sigconform.test/app".into()),
        ..SchemeConfig::default()
    };
    println!("\n== the runner's catalog against the local reference server");
    for scheme in SchemeRef::all_built_in() {
        // The servers `cargo xtask conform` starts, and the same cases
        // (the key lifecycle ones included).
        let planned = sigconform::built_in::built_in(scheme.clone(), &config, "sigconform").await?;
        let deployment = planned.deployment("sigconform");
        let started = std::time::Instant::now();
        let run = only_run(&deployment, &RunOptions::default()).await?;
        let elapsed = started.elapsed();
        // The replay after a pause waits on purpose; the target is about
        // the rest.
        let paused = runner::REPLAY_PAUSE
            * run
                .results
                .iter()
                .filter(|r| r.id.ends_with("/replay/after-pause"))
                .count() as u32;
        let working = elapsed.saturating_sub(paused);
        println!(
            "catalog {:<18} {:>3} cases in {:>6.1} ms, {:.0} s of it the replay's pause (target: under 2 s without it: {})",
            scheme.name(),
            run.results.len(),
            elapsed.as_secs_f64() * 1e3,
            paused.as_secs_f64(),
            met(working < Duration::from_secs(2))
        );
    }
    far_away(&config).await?;
    fuzzer(&config).await?;
    println!("\n== the reference server under loopback load");
    let load_secret = sigconform::random_secret()?;
    let keys = KeySource::secrets([(
        sigconform_bench::workload::KEY_ID,
        load_secret.expose().to_owned(),
    )]);
    let server =
        sigconform::start_reference(ServerConfig::new(SchemeId::A2a, config.clone(), keys), 0)
            .await?;
    let host = server.url().trim_start_matches("http://").to_owned();
    let now_ms = sigconform_core::Clock::now_ms(&sigconform_core::SystemClock);
    let workload = Workload::new(SchemeId::A2a, 256, requests, &host, &load_secret, now_ms)?;
    let result = sigconform_bench::load::run(&server.url(), &workload, connections).await?;
    println!(
        "server a2a: {} verified requests (256 B bodies) in {:.2} s over {connections} connections: {:.0} per second (target: 30 000; {} not accepted)",
        result.accepted,
        result.elapsed.as_secs_f64(),
        result.per_second(),
        result.other
    );
    if result.other > 0 {
        return Err(format!(
            "{} requests were not accepted: the measurement is void",
            result.other
        ));
    }
    Ok(())
}

/// Requests the fuzzer makes and classifies on one core, and sends to a
/// built-in reference server, per second: the floors of docs/performance.md.
const FUZZ_OFFLINE_FLOOR: f64 = 100_000.0;
const FUZZ_LIVE_FLOOR: f64 = 5_000.0;

/// The fuzzer: requests drawn and classified by the reference with
/// nothing sent (one core), then sent to `a2a`'s built-in server at
/// concurrency 8.
async fn fuzzer(config: &SchemeConfig) -> Result<(), String> {
    println!("\n== sigconform fuzz");
    for scheme in [
        SchemeId::A2a,
        SchemeId::Authorization,
        SchemeId::Webhook,
        SchemeId::Sigv4,
        SchemeId::Rfc9421,
    ] {
        let deployment = Deployment {
            scheme_config: config.clone(),
            ..Deployment::new(
                "http://sigconform.test",
                scheme,
                "sigconform",
                sigconform::random_secret()?,
            )
        };
        let started = std::time::Instant::now();
        let made = runner::fuzz::generate_and_classify(&deployment, 1, 50_000)
            .map_err(|e| e.to_string())?;
        let rate = made as f64 / started.elapsed().as_secs_f64();
        println!(
            "fuzz {:<14} drawn, built and classified, nothing sent: {rate:>9.0} requests/s, one core (floor {FUZZ_OFFLINE_FLOOR:.0}: {})",
            scheme.as_str(),
            met(rate >= FUZZ_OFFLINE_FLOOR)
        );
    }
    let planned =
        sigconform::built_in::built_in(SchemeId::A2a.into(), config, "sigconform").await?;
    let deployment = planned.deployment("sigconform");
    let run_options = RunOptions {
        concurrency: 8,
        ..RunOptions::default()
    };
    let options = runner::fuzz::FuzzOptions {
        seed: 1,
        requests: 50_000,
        ..runner::fuzz::FuzzOptions::default()
    };
    let fuzzed = runner::fuzz::fuzz(&deployment, &run_options, &options)
        .await
        .map_err(|e| e.to_string())?;
    let rate = fuzzed.stats.requests as f64 / (fuzzed.stats.sending_ms as f64 / 1e3).max(0.001);
    println!(
        "fuzz a2a against its built-in server, 8 at a time: {} requests in {:.2} s: {rate:.0} requests/s (floor {FUZZ_LIVE_FLOOR:.0}: {}; {} findings)",
        fuzzed.stats.requests,
        fuzzed.stats.sending_ms as f64 / 1e3,
        met(rate >= FUZZ_LIVE_FLOOR),
        fuzzed.groups.len()
    );
    Ok(())
}

/// How far away the target of [`far_away`] is, each way and back.
const FAR: Duration = Duration::from_millis(50);

/// One scheme's catalog (`a2a`: an API, with nonces) against its reference
/// server behind a relay that delays each connection by [`FAR`], at the
/// default `--concurrency 8`: a deployment across a network.
async fn far_away(config: &SchemeConfig) -> Result<(), String> {
    let scheme = SchemeRef::from(SchemeId::A2a);
    let planned = sigconform::built_in::built_in(scheme, config, "sigconform").await?;
    let server: std::net::SocketAddr = planned
        .target()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .ok_or("the built-in target is not on loopback")?;
    let relay = sigconform_bench::latency::Relay::start(server, FAR)
        .await
        .map_err(|e| e.to_string())?;
    let target = planned
        .target()
        .replacen(&server.to_string(), &relay.addr().to_string(), 1);
    let deployment = Deployment {
        targets: vec![target],
        ..planned.deployment("sigconform")
    };
    let options = RunOptions {
        concurrency: 8,
        ..RunOptions::default()
    };
    let started = std::time::Instant::now();
    let run = only_run(&deployment, &options).await?;
    let elapsed = started.elapsed();
    println!(
        "catalog a2a, {} ms away, --concurrency 8: {} cases in {:.1} s (target: under 20 s: {})",
        FAR.as_millis(),
        run.results.len(),
        elapsed.as_secs_f64(),
        met(elapsed < Duration::from_secs(20))
    );
    Ok(())
}

/// The run of `deployment`'s one instance.
async fn only_run(deployment: &Deployment, options: &RunOptions) -> Result<runner::Run, String> {
    let report = runner::run(deployment, options)
        .await
        .map_err(|e| e.to_string())?;
    let [instance] = <[runner::Instance; 1]>::try_from(report.instances)
        .map_err(|instances| format!("{} instances run, not one", instances.len()))?;
    Ok(instance.run)
}

/// What a peer printed.
#[derive(serde::Deserialize)]
struct PeerResult {
    requests: usize,
    accepted: usize,
    per_second: f64,
}

/// `done` run once: `marker` is written after it succeeded.
pub(crate) fn once(marker: &Path, done: impl FnOnce() -> bool) -> bool {
    marker.exists() || (done() && std::fs::write(marker, "").is_ok())
}

/// A Python with `package` (pinned) installed: the virtual environment
/// `venv` under `dir`, made once; `None`, with the reason printed, where it
/// cannot be made (the peer's column then stays empty).
pub(crate) fn python_with(dir: &Path, venv: &str, package: &str) -> Option<PathBuf> {
    let venv = dir.join(venv);
    let python = venv.join("bin/python");
    let installed = once(&venv.join(package), || {
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", package])
                .status()
                .is_ok_and(|s| s.success())
    });
    installed.then_some(python).or_else(|| {
        eprintln!("cannot install {package}: its column stays empty");
        None
    })
}

/// `w` written to `path` for the peers while `run` measures, removed after.
pub(crate) fn with_workload_file<T>(
    w: &Workload,
    path: &Path,
    run: impl FnOnce() -> T,
) -> Result<T, String> {
    std::fs::write(path, w.to_json().to_string())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let measured = run();
    std::fs::remove_file(path).ok();
    Ok(measured)
}

/// Runs a peer (`command`: the program and its script) on a workload file;
/// `None` (with the reason printed) when it cannot run or did not accept
/// every request.
pub(crate) fn peer(
    program: &str,
    mut command: Command,
    workload: &Path,
    budget: Duration,
) -> Option<f64> {
    command.arg(workload).arg(budget.as_secs_f64().to_string());
    let output = succeeded(&format!("{program} peer"), &mut command)?;
    let result: PeerResult = match serde_json::from_slice(&output.stdout) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{program} peer printed something else: {e}");
            return None;
        }
    };
    if result.accepted != result.requests {
        eprintln!(
            "{program} peer accepted {} of {} requests: not comparable",
            result.accepted, result.requests
        );
        return None;
    }
    Some(result.per_second)
}

/// The peers `--compare` runs: Python's and Node's scripts, and the Java
/// peer's classes with the schemes it covers (`None` without a JDK).
struct Peers<'a> {
    root: &'a Path,
    java: Option<(PathBuf, Vec<String>)>,
}

impl Peers<'_> {
    /// The library and every peer on the workload `w`, written at `path`.
    fn row(&self, scheme: &SchemeRef, w: &Workload, path: &Path, budget: Duration) -> Row {
        let script = |program: &str, name: &str| {
            let mut command = Command::new(program);
            command.arg(self.root.join("benches/peers").join(name));
            command
        };
        // The Java peer covers the seeds the JDK alone can verify.
        let java = self
            .java
            .as_ref()
            .filter(|(_, schemes)| schemes.iter().any(|s| s == scheme.name()));
        Row {
            ours: measure::verifications(w, budget).per_second,
            python: peer("python3", script("python3", "verify.py"), path, budget),
            node: peer("node", script("node", "verify.mjs"), path, budget),
            java: java.and_then(|(classes, _)| peer("java", java_command(classes), path, budget)),
        }
    }
}

/// One line of the peer table: verifications per second by the library and
/// by each peer (`None`: the peer did not run, or does not cover the scheme).
struct Row {
    ours: f64,
    python: Option<f64>,
    node: Option<f64>,
    java: Option<f64>,
}

impl Row {
    fn print(&self, scheme: &SchemeRef, size: usize) {
        let Row {
            ours,
            python,
            node,
            java,
        } = *self;
        println!(
            "{:<18} {:>5} {:>10.0} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9}",
            scheme.name(),
            size,
            ours,
            per_second(python),
            per_second(node),
            per_second(java),
            ratio(ours, python),
            ratio(ours, node),
            ratio(ours, java)
        );
    }

    /// Whether ours is at least `times` both Python's and Node's.
    fn at_least(&self, times: f64) -> bool {
        let beaten = |peer: Option<f64>| peer.is_some_and(|p| self.ours >= times * p);
        beaten(self.python) && beaten(self.node)
    }

    /// The empty-body floors of `a2a` and `authorization`
    /// (`docs/performance.md`): against one HMAC-SHA256 of 256 B as
    /// OpenSSL computes it in this run (`openssl_ns`; not judged without
    /// it), and against the peers. `openssl speed` divides by its CPU time,
    /// so the verifications of `w` are timed by CPU time too for the ratio:
    /// with other work on the machine, wall-clock time would count its turns
    /// and OpenSSL's figure would not.
    fn print_floors(
        &self,
        scheme: &SchemeRef,
        w: &Workload,
        budget: Duration,
        openssl_ns: Option<f64>,
    ) {
        let ours = self.ours;
        let java = |times: f64| met(self.java.is_some_and(|j| ours >= times * j));
        let against_openssl = |floor: f64| {
            let ns = measure::verifications_on_cpu(w, budget).ns();
            match openssl_ns {
                Some(hmac) => format!(
                    "{ns:.0} ns of CPU time, {:.2}x OpenSSL's HMAC-SHA256 of 256 B (floor {floor}x: {})",
                    ns / hmac,
                    met(ns <= floor * hmac)
                ),
                None => format!(
                    "{ns:.0} ns of CPU time (floor {floor}x OpenSSL's HMAC-SHA256 of 256 B: not judged, openssl speed did not run)"
                ),
            }
        };
        if *scheme == SchemeRef::Seed(SchemeId::A2a) {
            let faster_peer = self.python.into_iter().chain(self.node).fold(0.0, f64::max);
            println!(
                "  a2a, empty body: {}; {:.1}x the faster peer (floor 7x: {}); {} Java (floor 1.8x: {})",
                against_openssl(A2A_EMPTY_FLOOR),
                ours / faster_peer.max(1.0),
                met(self.at_least(7.0)),
                ratio(ours, self.java),
                java(1.8)
            );
        } else if *scheme == SchemeRef::Seed(SchemeId::Authorization) {
            println!(
                "  authorization, empty body: {}; {} Java (floor 2x: {})",
                against_openssl(AUTHORIZATION_EMPTY_FLOOR),
                ratio(ours, self.java),
                java(2.0)
            );
        }
    }
}

/// The Java peer, compiled once: its classes' directory and the schemes it
/// verifies. `None`, with the reason printed, without a JDK.
fn java_peer(root: &Path, dir: &Path) -> Option<(PathBuf, Vec<String>)> {
    let classes = dir.join("java");
    let mut javac = Command::new("javac");
    javac
        .arg("-d")
        .arg(&classes)
        .arg(root.join("benches/peers/Verify.java"));
    succeeded("javac (the Java peer)", &mut javac)?;
    let schemes = succeeded("java peer", java_command(&classes).arg("--schemes"))?;
    let schemes = String::from_utf8_lossy(&schemes.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    Some((classes, schemes))
}

/// The output of `command` if it ran and succeeded; `None`, with why
/// printed, if not.
fn succeeded(what: &str, command: &mut Command) -> Option<std::process::Output> {
    match command.output() {
        Ok(o) if o.status.success() => Some(o),
        Ok(o) => {
            eprintln!(
                "{what} failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Err(e) => {
            eprintln!("{what} cannot start: {e}");
            None
        }
    }
}

/// Prints a 1 KiB workload's verification time (`per_second`) against SHA-256
/// of its body plus HMAC of its canonical string alone, with its floor
/// where it has one; returns that limit.
fn against_its_hashes(
    scheme: &str,
    w: &Workload,
    per_second: f64,
    floor: Option<f64>,
    budget: Duration,
) -> Rate {
    let limit = measure::hash_limit(w, budget, true);
    let ours = Rate { per_second };
    let ratio = ours.ns() / limit.ns();
    let judged = floor.map_or_else(String::new, |f| {
        format!(" (floor {f}x: {})", met(ratio <= f))
    });
    println!(
        "{scheme}, 1 KiB body: {:.0} ns per verification; SHA-256 of the body + HMAC of the canonical string alone: {:.0} ns; ratio {ratio:.2}{judged}",
        ours.ns(),
        limit.ns(),
    );
    limit
}

fn java_command(classes: &Path) -> Command {
    let mut java = Command::new("java");
    java.arg("-cp").arg(classes).arg("Verify");
    java
}

fn per_second(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".into(), |r| format!("{r:.0}"))
}

fn ratio(ours: f64, theirs: Option<f64>) -> String {
    theirs.map_or_else(|| "-".into(), |t| format!("{:.1}x", ours / t))
}

pub(crate) fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

/// `openssl speed -hmac sha256` on `len`-byte messages: HMACs per second,
/// as that command computes them (its count over its own CPU time). `-mr`
/// only makes its result line machine-readable, `-bytes` measures the one
/// size asked instead of six, and `-seconds` keeps it within the budget
/// (at least a second, its smallest).
fn openssl_hmac(len: usize, budget: Duration) -> Option<f64> {
    let seconds = budget.as_secs().max(1).to_string();
    let output = Command::new("openssl")
        .args([
            "speed",
            "-mr",
            "-seconds",
            &seconds,
            "-bytes",
            &len.to_string(),
        ])
        .args(["-hmac", "sha256"])
        .output()
        .ok()?;
    // Machine-readable result line: `+R:COUNT:hmac(sha256):SECONDS`.
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&output.stderr).lines())
        .find_map(|line| {
            let mut fields = line.strip_prefix("+R:")?.split(':');
            let count: f64 = fields.next()?.parse().ok()?;
            let seconds: f64 = fields.nth(1)?.parse().ok()?;
            Some(count / seconds)
        })
}

fn side_by_side(root: &Path, budget: Duration) -> Result<(), String> {
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // In the form the profiles' providers issue (`whsec_`, which Standard
    // Webhooks decodes and the others use as text).
    let secret = Secret::new(format!("whsec_{}", sigconform::random_secret()?.expose()));
    let now_ms = sigconform_core::Clock::now_ms(&sigconform_core::SystemClock);
    // The yardstick of the absolute floors, measured once, first.
    let openssl_ns = openssl_hmac(256, budget).map(|per_second| 1e9 / per_second);
    match openssl_ns {
        Some(ns) => println!(
            "== one HMAC-SHA256 of 256 B, openssl speed -hmac sha256: {ns:.0} ns (the yardstick of the empty-body floors)\n"
        ),
        None => println!("== openssl speed did not run: the empty-body floors are not judged\n"),
    }
    let kept = peer_table(root, &dir, &secret, now_ms, budget, openssl_ns)?;
    crate::sigv4_bench::table(root, &dir, now_ms, budget)?;
    crate::rfc9421_bench::table(root, &dir, now_ms, budget)?;
    engine_against_seeds(&secret, now_ms, budget)?;
    against_the_limits(kept, budget, openssl_ns);
    parts(root, budget)
}

/// The 1 KiB workloads kept from [`peer_table`] for [`against_the_limits`],
/// with their measured rates: `a2a`'s and `authorization`'s.
struct KeptWorkloads {
    a2a: Option<(Workload, f64)>,
    authorization: Option<(Workload, f64)>,
}

/// Every seed and built-in profile, at 0 B and 1 KiB, verified by the
/// library and each peer, with the targets measured against them.
fn peer_table(
    root: &Path,
    dir: &Path,
    secret: &Secret,
    now_ms: u64,
    budget: Duration,
    openssl_ns: Option<f64>,
) -> Result<KeptWorkloads, String> {
    let peers = Peers {
        root,
        java: java_peer(root, dir),
    };
    println!(
        "== whole verifications per second, {COMPARED_REQUESTS} requests each with its own nonce, one core"
    );
    println!(
        "{:<18} {:>5} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9}",
        "scheme", "body", "sigconform", "python", "node", "java", "x python", "x node", "x java"
    );
    let mut a2a_1k = None;
    let mut authorization_1k = None;
    let mut profiles_below_5x = Vec::new();
    // The standards are compared with their own peers below (aws-sigv4
    // and botocore; the RFC 9421 libraries).
    for scheme in SchemeRef::all_built_in()
        .into_iter()
        .filter(|s| !matches!(s, SchemeRef::Seed(id) if SchemeId::STANDARDS.contains(id)))
    {
        for size in [0, 1024] {
            let w = Workload::new(
                scheme.clone(),
                size,
                COMPARED_REQUESTS,
                "api.example.com",
                secret,
                now_ms,
            )?;
            let path = dir.join(format!("workload-{scheme}-{size}.json"));
            let row = with_workload_file(&w, &path, || peers.row(&scheme, &w, &path, budget))?;
            row.print(&scheme, size);
            if size == 0 {
                // Every built-in profile at least 5x both peers.
                if matches!(scheme, SchemeRef::Profile(_)) && !row.at_least(5.0) {
                    profiles_below_5x.push(scheme.name().to_owned());
                }
                row.print_floors(&scheme, &w, budget, openssl_ns);
            }
            let ours = row.ours;
            // Kept for the limits.
            if size == 1024 && scheme == SchemeRef::Seed(SchemeId::A2a) {
                a2a_1k = Some((w, ours));
            } else if size == 1024 && scheme == SchemeRef::Seed(SchemeId::Authorization) {
                authorization_1k = Some((w, ours));
            }
        }
    }

    println!(
        "every built-in profile, empty body, at least 5x the Python and Node verifiers: {}{}",
        met(profiles_below_5x.is_empty()),
        if profiles_below_5x.is_empty() {
            String::new()
        } else {
            format!(" ({})", profiles_below_5x.join(", "))
        }
    );
    Ok(KeptWorkloads {
        a2a: a2a_1k,
        authorization: authorization_1k,
    })
}

/// The profile engine against the hand-written scheme each seed profile
/// describes.
fn engine_against_seeds(secret: &Secret, now_ms: u64, budget: Duration) -> Result<(), String> {
    println!("\n== the profile engine against the hand-written scheme it describes");
    let mut engine_met = true;
    for (seed, profile) in SEED_PROFILES {
        for size in [0, 1024] {
            let workload = |scheme: SchemeRef| {
                Workload::new(
                    scheme,
                    size,
                    COMPARED_REQUESTS,
                    "api.example.com",
                    secret,
                    now_ms,
                )
            };
            let written = workload(SchemeRef::Seed(seed))?;
            let described = workload(
                SchemeRef::by_name(profile).ok_or_else(|| format!("no profile {profile}"))?,
            )?;
            let written = measure::verifications(&written, budget);
            let described = measure::verifications(&described, budget);
            let ratio = described.ns() / written.ns();
            engine_met &= ratio <= 1.2;
            println!(
                "{:<14} {size:>5} B: {:>6.0} ns hand-written, {:>6.0} ns as {profile}; ratio {ratio:.2} (floor 1.2: {})",
                seed.as_str(),
                written.ns(),
                described.ns(),
                met(ratio <= 1.2)
            );
        }
    }
    println!(
        "the profile engine within 1.2x of every hand-written scheme: {}",
        met(engine_met)
    );
    Ok(())
}

/// Verifications against the hashes they must compute, and our HMAC
/// against OpenSSL's (`openssl_ns`, measured at the start of the run).
fn against_the_limits(kept: KeptWorkloads, budget: Duration, openssl_ns: Option<f64>) {
    println!("\n== against the limit: the hashes a verification must compute");
    if let Some((w, ours)) = kept.authorization {
        against_its_hashes("authorization", &w, ours, None, budget);
    }
    if let Some((w, ours)) = kept.a2a {
        let limit = against_its_hashes("a2a", &w, ours, Some(A2A_1K_FLOOR), budget);
        // What the ratio would be without the nonce record (not a target:
        // to show where the time goes).
        let unrecorded = measure::verifications_recording(&w, budget, NonceRecord::Skipped);
        println!(
            "  the same without recording nonces: {:.0} ns; ratio {:.2}",
            unrecorded.ns(),
            unrecorded.ns() / limit.ns()
        );
    }
    let hmac = measure::hmac(Algorithm::Sha256, 256, budget);
    match openssl_ns {
        Some(openssl) => println!(
            "HMAC-SHA256 of 256 B: {:.0} ns (sigconform), {openssl:.0} ns (openssl speed -hmac sha256); ratio {:.2} (floor 1.2: {})",
            hmac.ns(),
            hmac.ns() / openssl,
            met(hmac.ns() <= 1.2 * openssl)
        ),
        None => println!(
            "HMAC-SHA256 of 256 B: {:.0} ns (sigconform); openssl speed did not run",
            hmac.ns()
        ),
    }
}

/// The nonce store, the key and nonce stores of deployments, and canonical
/// JSON, each alone.
fn parts(root: &Path, budget: Duration) -> Result<(), String> {
    println!("\n== parts");
    for threads in [1, 2] {
        let rate = measure::nonce_store(threads, budget);
        println!(
            "nonce store, {threads} thread(s): {:.0} check-and-record per second{}",
            rate.per_second,
            if threads == 2 {
                format!(" (floor 5 000 000: {})", met(rate.per_second >= 5e6))
            } else {
                String::new()
            }
        );
    }
    stores(root, budget)?;
    for size in [256, 1 << 20] {
        let rate = measure::canonical_json(&json_document(size), budget);
        println!(
            "partner canonical JSON, {size} B document: {:.0} MB/s{}",
            rate.per_second / 1e6,
            if size == 1 << 20 {
                format!(" (floor 200: {})", met(rate.per_second >= 200e6))
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// Key lookups in SQLite and PostgreSQL, cached and not, and Redis
/// check-and-record operations (PostgreSQL and Redis from
/// [`crate::services`]; skipped, with the reason, when they cannot run).
fn stores(root: &Path, budget: Duration) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let services = crate::services::Services::start(root)
        .map_err(|e| println!("PostgreSQL and Redis not measured: {e}"))
        .ok();
    let dir = root.join("target/bench");
    let sqlite = format!("sqlite://{}", dir.join("keys.db").display());
    let _ = std::fs::remove_file(dir.join("keys.db"));
    let mut databases = vec![("SQLite", sqlite)];
    if let Some(services) = &services {
        databases.push(("PostgreSQL", services.postgres_url.clone()));
    }
    let secret = sigconform::random_secret()?;
    for (name, url) in databases {
        for cached in [true, false] {
            let config = SqlKeysConfig {
                cache_capacity: if cached { 100_000 } else { 0 },
                ..SqlKeysConfig::new(url.as_str())
            };
            let store = runtime
                .block_on(async {
                    let store = SqlKeys::connect(&config).await?;
                    store.put("bench-key", &secret, Permissions::all()).await?;
                    Ok::<_, sigconform_server::sql_keys::StoreError>(store)
                })
                .map_err(|e| format!("{name}: {e}"))?;
            let in_flight = if cached { 1 } else { 8 };
            let rate = measure::key_lookups(&runtime, &store, "bench-key", in_flight, budget);
            println!(
                "key lookup, {name}, {}: {:.0} per second",
                if cached {
                    "cached".to_owned()
                } else {
                    format!("every lookup a query, {in_flight} at a time")
                },
                rate.per_second
            );
        }
    }
    if let Some(services) = &services {
        let store = runtime
            .block_on(RedisNonceStore::connect(
                &services.redis_url,
                Duration::from_secs(1),
            ))
            .map_err(|e| format!("redis: {e}"))?;
        for in_flight in [1, 64] {
            let rate = measure::nonce_records(&runtime, &store, in_flight, budget);
            println!(
                "nonce check-and-record, Redis (SET NX PX), {in_flight} at a time: {:.0} per second",
                rate.per_second
            );
        }
    }
    Ok(())
}
