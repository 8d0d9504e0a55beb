//! The HTML report in a real browser: headless Chromium loads the file, and
//! the test reads the DOM it rendered (every case there, the counts equal
//! to the JSON report's, the filters hiding what they should, no script
//! errors, a target's markup shown as text and never run).
//!
//! `cargo xtask test` installs Debian's `chromium` when it is missing;
//! elsewhere the test says it skipped, unless `SIGCONFORM_REQUIRE_SERVICES`
//! is set.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{API, run_at, run_config, scheme_config, server_config, start_with};
use scraper::{Html, Selector};
use sigconform_core::scheme::SchemeId;
use sigconform_runner::{self as runner, Outcome, Run};
use sigconform_server::Defect;

/// The Chromium binary: `SIGCONFORM_CHROMIUM`, else `chromium` on the path.
fn chromium() -> Option<String> {
    let candidate = std::env::var("SIGCONFORM_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    Command::new(&candidate)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        .then_some(candidate)
}

/// Chromium, headless, with a profile of its own and nothing it would
/// fetch or sync on its own.
fn headless(chromium: &str, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// Runs `command`, which must succeed; its output.
fn succeeded(command: &mut Command) -> std::process::Output {
    let output = command.output().expect("chromium runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The DOM Chromium renders for `file` (with `fragment` after `#`), and
/// what it logged.
fn render(chromium: &str, file: &Path, fragment: &str, profile: &Path) -> (Html, String) {
    let url = format!("file://{}#{fragment}", file.display());
    let output = succeeded(
        headless(chromium, profile)
            .args(["--enable-logging=stderr", "--v=0", "--dump-dom"])
            .arg(&url),
    );
    (
        Html::parse_document(&String::from_utf8(output.stdout).unwrap()),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn select<'a>(dom: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    dom.select(&Selector::parse(css).unwrap()).collect()
}

fn text(element: &scraper::ElementRef<'_>) -> String {
    element.text().collect()
}

async fn runs() -> Vec<(String, Run)> {
    let mut out = Vec::new();
    for (scheme, defect) in [
        (SchemeId::A2a, Some(Defect::NeverRecordsNonces)),
        (SchemeId::Webhook, Some(Defect::IgnoresExpiry)),
    ] {
        let server = start_with(server_config(scheme, defect, API)).await;
        let (deployment, options) = run_config(
            scheme,
            scheme_config(),
            std::time::Duration::from_secs(5),
            std::time::Duration::from_secs(30),
            API,
        );
        let target = API.target(&server);
        let run = run_at(&deployment, &options, &target).await.unwrap();
        out.push((target, run));
    }
    let hostile = runner::CaseResult::new(
        "a2a/malformed/hostile-answer".into(),
        runner::Category::Malformed,
        "a target whose answer is markup",
        Outcome::Fail,
        "4xx (rejected)",
        "500 <script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">",
    );
    out[0].1.results.push(hostile);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_in_a_browser() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("SIGCONFORM_REQUIRE_SERVICES").is_none(),
            "Chromium is required here (SIGCONFORM_CHROMIUM or chromium on the path)"
        );
        eprintln!("Chromium not installed: skipped (cargo xtask test installs it)");
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let runs = runs().await;
    let json = runner::render_json(&runs);
    let file: PathBuf = dir.join("report.html");
    std::fs::write(&file, runner::render_html(&runs)).unwrap();
    let profile = dir.join("profile");

    // Unfiltered: every case of every target, in the JSON report's numbers.
    let (dom, log) = render(&chromium, &file, "", &profile);
    assert!(!log.contains("Uncaught"), "script errors: {log}");
    assert!(
        select(&dom, "html[data-errors]").is_empty(),
        "a script error was caught"
    );
    assert_eq!(
        select(&dom, "body[data-ready='1']").len(),
        1,
        "the script ran to its end"
    );
    for (index, target) in json["targets"].as_array().unwrap().iter().enumerate() {
        let mut expected: Vec<String> = target["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        let mut shown: Vec<String> = select(&dom, &format!("#target-{index} details.case code.id"))
            .iter()
            .map(text)
            .collect();
        expected.sort();
        shown.sort();
        assert_eq!(shown, expected, "target {index}");
        // The summary table's "all" row and each category row.
        let mut per_category: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for c in target["cases"].as_array().unwrap() {
            let category = c["category"].as_str().unwrap().to_owned();
            let outcome = c["outcome"].as_str().unwrap().to_owned();
            *per_category
                .entry(category)
                .or_default()
                .entry(outcome)
                .or_default() += 1;
        }
        for (outcome, count) in target["summary"].as_object().unwrap() {
            let cell = select(
                &dom,
                &format!("#summary-{index} tr[data-category='all'] td[data-outcome='{outcome}']"),
            );
            assert_eq!(
                text(&cell[0]),
                count.to_string(),
                "target {index} {outcome}"
            );
            for (category, counts) in &per_category {
                let cell = select(
                    &dom,
                    &format!(
                        "#summary-{index} tr[data-category='{category}'] td[data-outcome='{outcome}']"
                    ),
                );
                let want = counts.get(outcome).copied().unwrap_or(0);
                assert_eq!(text(&cell[0]), want.to_string(), "{category} {outcome}");
            }
        }
    }
    let all = select(&dom, "details.case").len();
    assert!(select(&dom, "details.case[hidden]").is_empty());
    assert_eq!(
        text(&select(&dom, "#shown")[0]),
        format!("{all} of {all} cases shown")
    );
    // Failing cases come first, open.
    let first = &select(&dom, "#target-0 details.case")[0];
    assert_eq!(first.value().attr("data-outcome"), Some("fail"));
    assert!(first.value().attr("open").is_some());
    // A target's markup is text on the page, never run.
    assert_eq!(text(&select(&dom, "title")[0]), "sigconform report");
    assert!(
        select(&dom, "dd")
            .iter()
            .any(|dd| text(dd).contains("<script>document.title='pwned'</script>"))
    );
    assert!(select(&dom, "main img, main script").is_empty());

    // Only failures: everything else hidden, and the count says so.
    let (dom, log) = render(&chromium, &file, "outcome=fail", &profile);
    assert!(!log.contains("Uncaught"), "{log}");
    let fails = json["summary"]["fail"].as_u64().unwrap() as usize;
    assert!(fails >= 3);
    let visible: Vec<_> = select(&dom, "details.case:not([hidden])");
    assert_eq!(visible.len(), fails);
    assert!(
        visible
            .iter()
            .all(|c| c.value().attr("data-outcome") == Some("fail"))
    );
    assert_eq!(
        select(&dom, "details.case[hidden]").len(),
        all - fails,
        "every other case is hidden"
    );
    assert_eq!(
        text(&select(&dom, "#shown")[0]),
        format!("{fails} of {all} cases shown")
    );

    // Failures and passes of one category.
    let (dom, _) = render(
        &chromium,
        &file,
        "outcome=fail,pass&category=replay",
        &profile,
    );
    let visible: Vec<_> = select(&dom, "details.case:not([hidden])");
    assert!(!visible.is_empty());
    assert!(visible.iter().all(|c| {
        c.value().attr("data-category") == Some("replay")
            && matches!(c.value().attr("data-outcome"), Some("fail" | "pass"))
    }));
    let expected = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["cases"].as_array().unwrap().iter())
        .filter(|c| c["category"] == "replay" && (c["outcome"] == "fail" || c["outcome"] == "pass"))
        .count();
    assert_eq!(visible.len(), expected);

    // The picture of the report in the README: what Chromium shows of the
    // failures, taken by this test. `SIGCONFORM_SCREENSHOT=docs/images/report.png`
    // writes it there.
    let png = dir.join("report.png");
    screenshot(&chromium, &file, "outcome=fail,error,warn", &profile, &png);
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "not a picture of a page"
    );
    if let Some(to) = std::env::var_os("SIGCONFORM_SCREENSHOT") {
        std::fs::copy(&png, Path::new(env!("CARGO_MANIFEST_DIR")).join(to)).unwrap();
    }
}

/// A picture of `file` (with `fragment`) as Chromium draws it, 1200 by 1500 px.
fn screenshot(chromium: &str, file: &Path, fragment: &str, profile: &Path, png: &Path) {
    let url = format!("file://{}#{fragment}", file.display());
    succeeded(
        headless(chromium, profile)
            .args(["--hide-scrollbars", "--window-size=1200,1500"])
            .arg(format!("--screenshot={}", png.display()))
            .arg(&url),
    );
}
