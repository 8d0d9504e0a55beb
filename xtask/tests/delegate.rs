//! `cargo xtask conform` and `cargo xtask serve` are the `sigconform`
//! binary's commands, delegated: the same arguments, help and exit status.

use std::process::Command;

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn conform_and_serve_are_the_binary_commands() {
    let listed = xtask(&["conform", "--scheme", "webhook", "--list"]);
    assert_eq!(listed.status.code(), Some(0));
    let ids = String::from_utf8(listed.stdout).unwrap();
    assert!(
        ids.lines().any(|l| l.starts_with("webhook/tamper/body ")),
        "{ids}"
    );
    let help = xtask(&["conform", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--fail-on"));
    // A usage error of the binary: exit 2 with its one-line message.
    let wrong = xtask(&["serve", "--scheme", "nonsense"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).starts_with("error: unknown scheme `nonsense`"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
}
