//! The command line as a user runs it: `sigconform conform` against the
//! built-in servers, usage errors, and `sigconform serve --instances 2`
//! probed by `sigconform conform` with two targets, with and without a
//! shared Redis (`SIGCONFORM_REDIS_URL`; `cargo xtask test` starts one).

use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

fn sigconform(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigconform"));
    cmd.args(args).env("NO_COLOR", "1");
    cmd
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_main_command_passes_and_writes_its_reports() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("report.json");
    let output = sigconform(&["conform", "--scheme", "webhook"])
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .output()
        .unwrap();
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("scheme") && printed.contains("webhook"),
        "{printed}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["summary"]["fail"], 0);
    assert!(report["summary"]["pass"].as_u64().unwrap() > 30);
}

/// `--fail-on` sets the least outcome that fails the run; `--rerun-failed`
/// runs exactly the cases that failed or erred in a JSON report.
#[test]
fn fail_on_and_rerun_failed() {
    let status = |extra: &[&str]| {
        sigconform(&["conform", "--scheme", "a2a"])
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    // The built-in a2a server has `info` findings (its query, which a2a
    // does not sign, changed and accepted), no failure or warning.
    assert_eq!(status(&[]), Some(0));
    assert_eq!(status(&["--fail-on", "error"]), Some(0));
    assert_eq!(status(&["--fail-on", "warn"]), Some(0));
    assert_eq!(status(&["--fail-on", "info"]), Some(1));

    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-rerun");
    std::fs::create_dir_all(&dir).unwrap();
    let earlier = dir.join("earlier.json");
    std::fs::write(
        &earlier,
        r#"{"targets":[{"cases":[
            {"id":"a2a/acceptance/post","outcome":"fail"},
            {"id":"a2a/replay/identical","outcome":"error"},
            {"id":"a2a/tamper/body","outcome":"pass"},
            {"id":"a2a/tamper/query","outcome":"warn"}]}]}"#,
    )
    .unwrap();
    let again = dir.join("again.json");
    let output = sigconform(&["conform", "--scheme", "a2a", "--rerun-failed"])
        .arg(&earlier)
        .arg("--report")
        .arg(format!("json={}", again.display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&again).unwrap()).unwrap();
    let mut ids: Vec<&str> = report["targets"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["a2a/acceptance/post", "a2a/replay/identical"]);
}

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    for line in [
        "conform --target http://127.0.0.1:1 --scheme a2a --secret s",
        "conform --target ftp://example --scheme a2a --secret s",
        "conform --target http://127.0.0.1:1 --scheme a2a",
        "conform --scheme a2a --report xml=out",
        "conform --scheme a2a --report json=/nonexistent/dir/r.json",
        "conform --scheme a2a --secret-env SIGCONFORM_UNSET_VARIABLE --target http://127.0.0.1:1",
        "serve --scheme a2a --key no-equals-sign",
        "conform --scheme a2a --report html=/nonexistent/dir/r.html",
        "conform --scheme a2a --rerun-failed /nonexistent/report.json",
        "conform --scheme a2a --header no-colon-here",
        "conform --scheme a2a --header host:evil.test",
        "conform --scheme a2a --header-env X-Token=SIGCONFORM_UNSET_VARIABLE",
        "conform --target https://127.0.0.1:1/api --scheme a2a --secret s",
        "conform --target http://127.0.0.1:1 --scheme a2a --secret s --ca-cert /nonexistent.pem",
        "serve --scheme webhook --base-path api",
        "serve --scheme webhook --tls-cert /nonexistent.pem --tls-key /nonexistent.key",
        "conform --profile no-such-profile",
        "conform --scheme stripee",
        "serve --profile /nonexistent/profile.yaml",
        "serve --profile standard-webhooks --keys-db sqlite://unused.db --key default=whsec_AAAA",
        "serve --profile standard-webhooks --key default=not-base64! --port 1",
        "conform --scheme a2a --expect /nonexistent/expectations.yaml",
        "conform --scheme a2a --write-expect /nonexistent/dir/expectations.yaml",
    ] {
        let args: Vec<&str> = line.split_whitespace().collect();
        let output = sigconform(&args).output().unwrap();
        let printed = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {printed}");
        let lines: Vec<&str> = printed.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {printed}");
        assert!(lines[0].starts_with("error: "), "{args:?}: {printed}");
        assert!(!printed.contains("panicked"), "{args:?}: {printed}");
    }
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// Waits until something listens on `port`.
fn wait_for(port: u16) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_webhook_route_served_over_tls_probed_as_deployed() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-tls");
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = common::certificates(&dir);
    let port = free_port();
    let _served = Served::start(
        &[
            "--scheme",
            "webhook",
            "--key",
            "default=cli-tls-secret",
            "--route",
            "/webhooks/payment",
            "--route-methods",
            "POST",
            "--tls-cert",
            cert_path(&cert),
            "--tls-key",
            cert_path(&key),
        ],
        port,
    );
    wait_for(port);
    let target = format!("https://127.0.0.1:{port}/webhooks/payment");
    let conform = |extra: &[&str]| {
        sigconform(&[
            "conform",
            "--scheme",
            "webhook",
            "--secret-env",
            "CLI_SECRET",
        ])
        .args(["--target", &target])
        .args(extra)
        .env("CLI_SECRET", "cli-tls-secret")
        .output()
        .unwrap()
    };
    // Trusting the private CA: clean (the webhook scheme is probed as one
    // route by default), with an HTML report.
    let html = dir.join("report.html");
    let output = conform(&[
        "--ca-cert",
        cert_path(&ca),
        "--report",
        &format!("html={}", html.display()),
    ]);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("webhook/acceptance/post")
    );
    // Not trusting it: one line, exit 2, and no report left behind (the
    // one asked for is not there, whole or in part; nothing else is either).
    let refused = dir.join("refused");
    std::fs::create_dir_all(&refused).unwrap();
    let json = refused.join("report.json");
    let output = conform(&["--report", &format!("json={}", json.display())]);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(2), "{printed}");
    assert_eq!(printed.trim().lines().count(), 1, "{printed}");
    assert!(printed.contains("certificate is not trusted"), "{printed}");
    assert_eq!(std::fs::read_dir(&refused).unwrap().count(), 0);
    // --insecure: clean, and said so.
    let output = conform(&["--insecure"]);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(printed.contains("NOT verified (--insecure)"), "{printed}");
}

fn cert_path(path: &std::path::Path) -> &str {
    path.to_str().unwrap()
}

/// `sigconform serve` in the background; killed when dropped.
struct Served(Child);

impl Served {
    /// Starts `sigconform serve` with `args` on `port` (the first of them,
    /// with `--instances`), its output discarded.
    fn start(args: &[&str], port: u16) -> Served {
        let child = sigconform(&["serve"])
            .args(args)
            .args(["--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Served(child)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two instances of one a2a deployment on consecutive free ports.
fn serve_two(nonce_store: &str) -> (Served, [String; 2]) {
    for _ in 0..20 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        if port == u16::MAX || TcpStream::connect(("127.0.0.1", port + 1)).is_ok() {
            continue;
        }
        let served = Served::start(
            &[
                "--scheme",
                "a2a",
                "--key",
                "k=cli-test-secret",
                "--instances",
                "2",
                "--nonce-store",
                nonce_store,
            ],
            port,
        );
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if [port, port + 1]
                .iter()
                .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok())
            {
                return (
                    served,
                    [port, port + 1].map(|p| format!("http://127.0.0.1:{p}")),
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("no two consecutive free ports for the servers");
}

fn conform_two(urls: &[String; 2]) -> Output {
    sigconform(&[
        "conform",
        "--scheme",
        "a2a",
        "--key-id",
        "k",
        "--secret-env",
        "CLI_SECRET",
    ])
    .args(["--target", &urls[0], "--target", &urls[1]])
    .args(["--only", "a2a/replay/*"])
    .env("CLI_SECRET", "cli-test-secret")
    .output()
    .unwrap()
}

#[test]
fn instances_sharing_redis_pass_the_cross_instance_case_and_separate_ones_fail_it() {
    let redis = match std::env::var("SIGCONFORM_REDIS_URL") {
        Ok(url) => url,
        Err(_) if std::env::var_os("SIGCONFORM_REQUIRE_SERVICES").is_some() => {
            panic!("SIGCONFORM_REDIS_URL is required here")
        }
        Err(_) => {
            eprintln!("Redis not configured: skipped (cargo xtask test runs it)");
            return;
        }
    };
    let (_served, urls) = serve_two(&redis);
    let output = conform_two(&urls);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(!printed.contains("FAIL"), "{printed}");

    let (_served, urls) = serve_two("memory");
    let output = conform_two(&urls);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("FAIL  a2a/replay/cross-instance"),
        "{printed}"
    );
    // Each instance alone still passes its own replay cases.
    assert_eq!(printed.matches("FAIL").count(), 1, "{printed}");
}

/// `--expect`: a run as its expectations file says exits 0, and each way
/// of deviating from it exits 1 and says how: a `fail` no entry names, an
/// expected `fail` that now passes, an expected outcome that is now
/// another, an entry that matches no case. `--write-expect` writes the
/// run's failures as a file to start from, refused until its reasons are
/// written. The target is a reference server whose window (300 s) is wider
/// than the one the runner is told (100 s): `webhook/expiry/outside-limit`
/// fails, `webhook/tamper/method` is `info` (the scheme does not sign the
/// method), `webhook/tamper/body` passes.
#[test]
fn expectations_judge_the_run_and_each_deviation_fails_it() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-expect");
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let _served = Served::start(
        &["--scheme", "webhook", "--key", "default=cli-expect"],
        port,
    );
    wait_for(port);
    let target = format!("http://127.0.0.1:{port}/hook");
    let conform = |extra: &[&str]| {
        let output = sigconform(&["conform", "--scheme", "webhook", "--secret", "cli-expect"])
            .args(["--target", &target, "--tolerance", "100"])
            .args(extra)
            .output()
            .unwrap();
        (output.status.code(), text(&output))
    };
    let file = |name: &str, entries: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("expectations:\n{entries}")).unwrap();
        path.display().to_string()
    };
    const KNOWN: &str = "  - cases: [webhook/expiry/outside-limit]\n    outcome: fail\n    reason: the window is ten minutes on purpose\n";

    let (status, printed) = conform(&[]);
    assert_eq!(status, Some(1), "{printed}");

    // A file to start from: the failure, with a reason still to write.
    let start = dir.join("start.yaml");
    let (status, printed) = conform(&["--write-expect", start.to_str().unwrap()]);
    assert_eq!(status, Some(1), "{printed}");
    let written = std::fs::read_to_string(&start).unwrap();
    assert!(
        written.contains("webhook/expiry/outside-limit"),
        "{written}"
    );
    assert!(!written.contains("webhook/tamper/method"), "{written}");
    let (status, printed) = conform(&["--expect", start.to_str().unwrap()]);
    assert_eq!(status, Some(2), "{printed}");
    assert!(printed.contains("placeholder"), "{printed}");
    assert_eq!(printed.trim().lines().count(), 1, "{printed}");

    // As expected: exit 0, and every report says why.
    let accepted = file("accepted.yaml", KNOWN);
    let json = dir.join("report.json");
    let (status, printed) = conform(&[
        "--expect",
        &accepted,
        "--report",
        &format!("json={}", json.display()),
    ]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(
        printed.contains("as expected (fail by webhook/expiry/outside-limit, line 2): the window is ten minutes on purpose"),
        "{printed}"
    );
    assert!(
        printed.contains("1 case as expected, 0 deviations"),
        "{printed}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["expectations"]["expected"], 1);
    assert_eq!(report["schema_version"], 1);

    // Each deviation: exit 1, named.
    for (name, entries, says) in [
        (
            "new-fail.yaml",
            "  - {cases: [webhook/tamper/method], outcome: info, reason: unsigned by design}\n"
                .to_owned(),
            "webhook/expiry/outside-limit: fail at",
        ),
        (
            "now-passes.yaml",
            format!(
                "{KNOWN}  - {{cases: [webhook/tamper/body], outcome: fail, reason: was broken}}\n"
            ),
            "webhook/tamper/body: pass at",
        ),
        (
            "now-differs.yaml",
            format!("{KNOWN}  - {{cases: [webhook/tamper/method], outcome: fail, reason: r}}\n"),
            "webhook/tamper/method: info at",
        ),
        (
            "stale.yaml",
            format!("{KNOWN}  - {{cases: ['webhook/no-such/*'], outcome: fail, reason: r}}\n"),
            "webhook/no-such/* (line 5): matches no case",
        ),
    ] {
        let (status, printed) = conform(&["--expect", &file(name, &entries)]);
        assert_eq!(status, Some(1), "{name}: {printed}");
        assert!(printed.contains("1 deviation\n"), "{name}: {printed}");
        assert!(printed.contains(says), "{name}: {printed}");
    }
    // An entry outside a narrowed selection is not stale.
    let stale = dir.join("stale.yaml").display().to_string();
    let (status, printed) = conform(&["--expect", &stale, "--only", "webhook/expiry/*"]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(
        printed.contains("1 entry outside this run's selection"),
        "{printed}"
    );
    // --fail-on decides which unnamed cases deviate: `info` ones too.
    let (status, printed) = conform(&["--expect", &accepted, "--fail-on", "info"]);
    assert_eq!(status, Some(1), "{printed}");
    assert!(
        printed.contains("webhook/tamper/method: info at"),
        "{printed}"
    );
}

/// A profile file with one mistake: one line naming the file, the field
/// and what was expected; exit 2.
#[test]
fn a_bad_profile_file_is_one_line_naming_file_and_field() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-profile");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("acme-typo.yaml");
    std::fs::write(
        &file,
        ACME.replace("{timestamp}:{body}", "{timestmp}:{body}"),
    )
    .unwrap();
    for task in ["conform", "serve"] {
        let output = sigconform(&[task, "--profile", file.to_str().unwrap()])
            .output()
            .unwrap();
        let printed = text(&output);
        assert_eq!(output.status.code(), Some(2), "{printed}");
        assert_eq!(printed.trim().lines().count(), 1, "{printed}");
        assert!(
            printed.contains("acme-typo.yaml: signed: unknown placeholder `{timestmp}`"),
            "{printed}"
        );
    }
}

/// A provider's scheme no one built in, as a user writes it.
const ACME: &str = r#"name: acme
description: "ACME webhooks: X-Acme-Signature `sha256=<hex>` over `{timestamp}:{body}`"
hash: sha256
encoding: hex
signature:
  header: X-Acme-Signature
  prefix: "sha256="
signed: "{timestamp}:{body}"
timestamp:
  header: X-Acme-Timestamp
  unit: s
  past: 300
  future: 60
"#;

/// `serve --profile` and `conform --profile`, with a profile file and with
/// a built-in profile's name: clean.
#[test]
fn a_profile_is_served_and_probed_by_file_and_by_name() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-profile");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("acme.yaml");
    std::fs::write(&file, ACME).unwrap();
    let file = file.to_str().unwrap().to_owned();
    for (profile, secret) in [(file.as_str(), "acme-secret"), ("stripe", "whsec_cli")] {
        let port = free_port();
        let key = format!("default={secret}");
        let _served = Served::start(
            &["--profile", profile, "--key", &key, "--route", "/hooks"],
            port,
        );
        wait_for(port);
        let output = sigconform(&[
            "conform",
            "--profile",
            profile,
            "--secret-env",
            "CLI_SECRET",
        ])
        .args(["--target", &format!("http://127.0.0.1:{port}/hooks")])
        .env("CLI_SECRET", secret)
        .output()
        .unwrap();
        let printed = text(&output);
        assert_eq!(output.status.code(), Some(0), "{profile}: {printed}");
        // The summary's row: the profile's name, then pass and fail.
        let name = if profile == "stripe" {
            "stripe"
        } else {
            "acme"
        };
        let row: Vec<&str> = printed
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no summary row for {name}: {printed}"))
            .split_whitespace()
            .collect();
        assert!(row[1].parse::<u32>().unwrap() > 30, "{printed}");
        assert_eq!(row[2], "0", "{printed}");
    }
}

/// `sign` prints the headers a scheme adds; `verify` accepts the request
/// that carries them, and refuses it (exit 1, with the reason) once its
/// body is changed or its time has passed.
#[test]
fn sign_then_verify_by_hand() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sign-verify");
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("body.json");
    std::fs::write(&body, r#"{"qty":1}"#).unwrap();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let common = |command: &str| {
        let mut cmd = sigconform(&[command, "--scheme", "a2a", "--key-id", "k"]);
        cmd.args(["--secret-env", "SIGNING_SECRET", "--method", "POST"])
            .args([
                "--path",
                "/v1/orders",
                "--header",
                "content-type: application/json",
            ])
            .env("SIGNING_SECRET", "s3cret-for-the-cli-test");
        cmd
    };
    let signed = common("sign")
        .args(["--timestamp", &now_s.to_string(), "--nonce", "n-1"])
        .arg("--body-file")
        .arg(&body)
        .output()
        .unwrap();
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed));
    let headers: Vec<String> = String::from_utf8(signed.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(
        headers.iter().any(|h| h.starts_with("x-signature: ")),
        "{headers:?}"
    );
    let verify = |body_text: &str, now_ms: Option<u64>| {
        std::fs::write(&body, body_text).unwrap();
        let mut cmd = common("verify");
        for header in &headers {
            cmd.args(["--header", header]);
        }
        cmd.arg("--body-file").arg(&body);
        if let Some(ms) = now_ms {
            cmd.args(["--now-ms", &ms.to_string()]);
        }
        cmd.output().unwrap()
    };
    let valid = verify(r#"{"qty":1}"#, None);
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid));
    assert!(text(&valid).starts_with("valid: signed by key k"));
    let changed = verify(r#"{"qty":9}"#, None);
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed));
    assert!(
        text(&changed).contains("invalid: body_hash_mismatch"),
        "{}",
        text(&changed)
    );
    let later = verify(r#"{"qty":1}"#, Some((now_s + 3600) * 1000));
    assert_eq!(later.status.code(), Some(1));
    assert!(
        text(&later).contains("invalid: expired"),
        "{}",
        text(&later)
    );
}

/// The secret of the scheme options' tests, in base64 (as RFC 9421 keys
/// are given).
const OPTIONS_SECRET: &str = "c2NoZW1lLW9wdGlvbnMtc2VjcmV0";

/// The headers `sign` prints for `scheme` with `extra` arguments, signed
/// with [`OPTIONS_SECRET`] (no `Request-Target:` line).
fn signed_headers(scheme: &str, extra: &[&str]) -> Vec<String> {
    let signed = sigconform(&["sign", "--scheme", scheme, "--secret-env", "OPTIONS_SECRET"])
        .args(extra)
        .env("OPTIONS_SECRET", OPTIONS_SECRET)
        .output()
        .unwrap();
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed));
    String::from_utf8(signed.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("Request-Target:"))
        .map(str::to_owned)
        .collect()
}

/// `verify`'s exit status and output for a request of `scheme` carrying
/// `headers`, with `extra` arguments.
fn verified(scheme: &str, headers: &[String], extra: &[&str]) -> (Option<i32>, String) {
    let mut cmd = sigconform(&[
        "verify",
        "--scheme",
        scheme,
        "--secret-env",
        "OPTIONS_SECRET",
    ]);
    for header in headers {
        cmd.args(["--header", header]);
    }
    let output = cmd
        .args(extra)
        .env("OPTIONS_SECRET", OPTIONS_SECRET)
        .output()
        .unwrap();
    (output.status.code(), text(&output))
}

/// `sign` and `verify` take the scheme options `conform` takes, and each
/// takes effect: a SigV4 request signed with `--region` names that region
/// in its scope and verifies only where that region is served; a webhook
/// request two minutes old verifies under the scheme's own limit and not
/// under `--tolerance 60`, one two minutes ahead only under
/// `--future-tolerance 300`; an RFC 9421 signature carries `--label`,
/// `--covered` and `--signature-tag`, and `verify --signature-tag` refuses
/// one without the tag.
#[test]
fn sign_and_verify_take_the_scheme_options() {
    // SigV4 at a fixed time (2015-08-30T12:36:00Z), for eu-west-1.
    let request = ["--path", "/bucket/object", "--header", "host: s3.example"];
    let at = ["--now-ms", "1440938160000"];
    let sigv4 = |region: Option<&str>| {
        let mut extra = vec!["--key-id", "AKID", "--timestamp", "20150830T123600Z"];
        extra.extend(request);
        if let Some(region) = region {
            extra.extend(["--region", region]);
        }
        let mut headers = signed_headers("sigv4", &extra);
        headers.push("host: s3.example".into());
        headers
    };
    let in_eu = sigv4(Some("eu-west-1"));
    assert!(
        in_eu
            .iter()
            .any(|h| h.contains("Credential=AKID/20150830/eu-west-1/s3/aws4_request")),
        "{in_eu:?}"
    );
    let verify_sigv4 = |headers: &[String], region: Option<&str>| {
        let mut extra = vec!["--key-id", "AKID"];
        extra.extend(request.iter().take(2));
        extra.extend(at);
        if let Some(region) = region {
            extra.extend(["--region", region]);
        }
        verified("sigv4", headers, &extra)
    };
    let (status, printed) = verify_sigv4(&in_eu, Some("eu-west-1"));
    assert_eq!(status, Some(0), "{printed}");
    let (status, printed) = verify_sigv4(&in_eu, None);
    assert_eq!(status, Some(1), "{printed}");
    let (status, printed) = verify_sigv4(&sigv4(None), Some("eu-west-1"));
    assert_eq!(status, Some(1), "{printed}");
    assert!(printed.starts_with("invalid: "), "{printed}");

    // A webhook request two minutes old, and one two minutes ahead, at a
    // fixed `now`.
    let now_s: u64 = 1_800_000_000;
    let now_ms = (now_s * 1000).to_string();
    let webhook = |timestamp: u64, extra: &[&str]| {
        let headers = signed_headers("webhook", &["--timestamp", &timestamp.to_string()]);
        let mut args = vec!["--now-ms", now_ms.as_str()];
        args.extend(extra);
        verified("webhook", &headers, &args)
    };
    let (status, printed) = webhook(now_s - 120, &[]);
    assert_eq!(status, Some(0), "{printed}");
    let (status, printed) = webhook(now_s - 120, &["--tolerance", "60"]);
    assert_eq!(status, Some(1), "{printed}");
    assert!(printed.starts_with("invalid: expired"), "{printed}");
    let (status, printed) = webhook(now_s + 120, &[]);
    assert_eq!(status, Some(1), "{printed}");
    assert!(printed.starts_with("invalid: from_the_future"), "{printed}");
    let (status, printed) = webhook(now_s + 120, &["--future-tolerance", "300"]);
    assert_eq!(status, Some(0), "{printed}");

    // RFC 9421: the signature as the options ask, and a verifier that
    // requires a tag.
    let rfc9421 = |extra: &[&str]| {
        let mut args = vec![
            "--key-id",
            "k",
            "--timestamp",
            "1800000000",
            "--path",
            "/x",
            "--header",
            "host: a.example",
        ];
        args.extend(extra);
        let mut headers = signed_headers("rfc9421", &args);
        headers.push("host: a.example".into());
        headers
    };
    let tagged = rfc9421(&[
        "--label",
        "edge",
        "--covered",
        "@method @authority @path @query",
        "--signature-tag",
        "app",
    ]);
    assert!(
        tagged.iter().any(|h| h.starts_with(
            r#"signature-input: edge=("@method" "@authority" "@path" "@query");created=1800000000;keyid="k";tag="app""#
        )),
        "{tagged:?}"
    );
    let verify_rfc9421 = |headers: &[String], extra: &[&str]| {
        let mut args = vec!["--key-id", "k", "--path", "/x", "--now-ms", "1800000000000"];
        args.extend(extra);
        verified("rfc9421", headers, &args)
    };
    let (status, printed) = verify_rfc9421(&tagged, &["--signature-tag", "app"]);
    assert_eq!(status, Some(0), "{printed}");
    let untagged = rfc9421(&[]);
    let (status, printed) = verify_rfc9421(&untagged, &[]);
    assert_eq!(status, Some(0), "{printed}");
    let (status, printed) = verify_rfc9421(&untagged, &["--signature-tag", "app"]);
    assert_eq!(status, Some(1), "{printed}");
}

/// The status and body `sigconform serve` on `port` answers a POST of
/// `body` to `path` with `headers` (HTTP/1.1, the connection closed after
/// it).
fn post(port: u16, path: &str, headers: &[String], body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = response.parse(&answer).unwrap().unwrap();
    (
        response.code.unwrap(),
        String::from_utf8_lossy(&answer[head..]).into_owned(),
    )
}

/// `serve` takes the scheme options `conform` takes, and each takes
/// effect: with `--tolerance 60` a webhook request two minutes old is
/// refused (and accepted under the scheme's own limit), a fresh one
/// accepted; with `--signature-tag app` an RFC 9421 signature without the
/// tag is refused and one with it accepted.
#[test]
fn serve_takes_the_scheme_options() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-options");
    std::fs::create_dir_all(&dir).unwrap();
    let body = r#"{"qty":1}"#;
    let body_file = dir.join("body.json");
    std::fs::write(&body_file, body).unwrap();
    let body_path = body_file.to_str().unwrap();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let webhook_status = |options: &[&str], timestamp: u64| {
        let port = free_port();
        let key = format!("default={OPTIONS_SECRET}");
        let mut args = vec!["--scheme", "webhook", "--key", &key];
        args.extend(options);
        let _served = Served::start(&args, port);
        wait_for(port);
        let headers = signed_headers(
            "webhook",
            &[
                "--timestamp",
                &timestamp.to_string(),
                "--method",
                "POST",
                "--path",
                "/hook",
                "--body-file",
                body_path,
            ],
        );
        post(port, "/hook", &headers, body).0
    };
    assert_eq!(webhook_status(&[], now_s - 120), 200);
    assert_eq!(webhook_status(&["--tolerance", "60"], now_s - 120), 401);
    assert_eq!(webhook_status(&["--tolerance", "60"], now_s), 200);

    let port = free_port();
    let key = format!("k={OPTIONS_SECRET}");
    let _served = Served::start(
        &[
            "--scheme",
            "rfc9421",
            "--key",
            &key,
            "--signature-tag",
            "app",
        ],
        port,
    );
    wait_for(port);
    let authority = format!("host: 127.0.0.1:{port}");
    let now = now_s.to_string();
    let rfc9421 = |extra: &[&str]| {
        let mut args = vec![
            "--key-id",
            "k",
            "--timestamp",
            &now,
            "--method",
            "POST",
            "--path",
            "/orders",
            "--header",
            &authority,
            "--header",
            "content-type: application/json",
            "--body-file",
            body_path,
        ];
        args.extend(extra);
        signed_headers("rfc9421", &args)
    };
    let (status, answer) = post(port, "/orders", &rfc9421(&[]), body);
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("tag is not the application's"), "{answer}");
    let (status, answer) = post(port, "/orders", &rfc9421(&["--signature-tag", "app"]), body);
    assert_eq!(status, 200, "{answer}");
}

/// `profiles` lists, shows and validates; `vectors` exports the built-in
/// files with their rules and checks a file against the reference.
#[test]
fn profiles_and_vectors_commands() {
    let listed = sigconform(&["profiles", "list"]).output().unwrap();
    assert_eq!(listed.status.code(), Some(0));
    assert!(text(&listed).lines().any(|l| l.starts_with("stripe ")));
    let shown = sigconform(&["profiles", "show", "stripe"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).starts_with("name: stripe"));
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("profiles-vectors");
    std::fs::create_dir_all(&dir).unwrap();
    let mine = dir.join("mine.yaml");
    std::fs::write(&mine, &shown.stdout).unwrap();
    let valid = sigconform(&["profiles", "validate"])
        .arg(&mine)
        .output()
        .unwrap();
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid));
    let text_of_mine =
        String::from_utf8_lossy(&shown.stdout).replace("{timestamp}.{body}", "{bdy}");
    std::fs::write(&mine, text_of_mine).unwrap();
    let refused = sigconform(&["profiles", "validate"])
        .arg(&mine)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused).contains("signed"), "{}", text(&refused));

    let out = dir.join("json");
    let exported = sigconform(&["vectors", "export", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(exported.status.code(), Some(0), "{}", text(&exported));
    let a2a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("a2a.json")).unwrap()).unwrap();
    assert_eq!(a2a["rules"]["valid-basic"]["id"], "common.valid-basic");
    let checked = sigconform(&["vectors", "check"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/webhook.yaml"))
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked));
    assert!(
        text(&checked).contains("0 problem(s)"),
        "{}",
        text(&checked)
    );
}
