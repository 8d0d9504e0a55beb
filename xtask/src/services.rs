//! PostgreSQL and Redis for the tests and benchmarks that need real
//! servers: started from the system's packages on free loopback ports, with
//! their data under `target/services`, and stopped again when dropped.
//! Missing packages are installed with apt-get when running as root, with
//! the programs the tests run besides: Chromium (the HTML report is read in
//! a real browser) and curl (printed reproductions are run as printed).
//!
//! When `SIGCONFORM_POSTGRES_URL` and `SIGCONFORM_REDIS_URL` are both set,
//! those servers are used and nothing is started.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Running servers (or the ones given in the environment).
pub(crate) struct Services {
    pub(crate) postgres_url: String,
    pub(crate) redis_url: String,
    started: Option<Started>,
}

struct Started {
    pg_bin: PathBuf,
    pg_data: PathBuf,
    redis_port: u16,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command run as the `postgres` user when we are root (PostgreSQL
/// refuses to run as root), as ourselves otherwise.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let output = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        ))
    }
}

/// The newest PostgreSQL's binaries directory, if one is installed.
fn postgres_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
}

/// Whether `program --version` runs.
fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Installs the programs the tests run besides the servers, when missing.
pub(crate) fn install_test_tools() -> Result<(), String> {
    let missing: Vec<&str> = ["chromium", "curl"]
        .into_iter()
        .filter(|program| !has(program))
        .collect();
    install(&missing)
}

/// Installs these Debian packages (when there are any).
fn install(missing: &[&str]) -> Result<(), String> {
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() || Command::new("apt-get").arg("--version").output().is_err() {
        return Err(format!(
            "needed: {}. Install these packages (PostgreSQL and Redis may instead be \
             given as SIGCONFORM_POSTGRES_URL and SIGCONFORM_REDIS_URL)",
            missing.join(", ")
        ));
    }
    println!("installing {} (apt-get)", missing.join(" "));
    run(
        Command::new("apt-get")
            .args(["update", "-qq"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        "apt-get update",
    )?;
    run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {}", missing.join(" ")),
    )
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Waits until `ready` holds, for at most `limit`.
fn wait(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let started = Instant::now();
    while !ready() {
        if started.elapsed() > limit {
            return Err(format!("{what} did not come up within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Sends one inline command to the Redis on `port`; its first answer bytes.
fn redis_command(port: u16, command: &[u8]) -> Option<[u8; 7]> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    stream.write_all(command).ok()?;
    let mut answer = [0u8; 7];
    stream.read_exact(&mut answer).ok()?;
    Some(answer)
}

fn redis_answers(port: u16) -> bool {
    redis_command(port, b"PING\r\n") == Some(*b"+PONG\r\n")
}

impl Services {
    /// Starts PostgreSQL and Redis (or takes them from the environment).
    pub(crate) fn start(root: &Path) -> Result<Services, String> {
        if let (Ok(postgres_url), Ok(redis_url)) = (
            std::env::var("SIGCONFORM_POSTGRES_URL"),
            std::env::var("SIGCONFORM_REDIS_URL"),
        ) {
            return Ok(Services {
                postgres_url,
                redis_url,
                started: None,
            });
        }
        let mut missing = Vec::new();
        if postgres_bin().is_none() {
            missing.push("postgresql");
        }
        if !has("redis-server") {
            missing.push("redis-server");
        }
        install(&missing)?;
        let pg_bin = postgres_bin().ok_or("PostgreSQL is not installed")?;
        let dir = root.join("target/services");
        let pg_data = dir.join("pg");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&pg_data).map_err(|e| format!("{}: {e}", pg_data.display()))?;
        let mut services = Services {
            postgres_url: String::new(),
            redis_url: String::new(),
            started: None,
        };

        let redis_port = free_port()?;
        services.started = Some(Started {
            pg_bin: pg_bin.clone(),
            pg_data: pg_data.clone(),
            redis_port,
        });
        start_redis(&dir, redis_port)?;
        services.redis_url = format!("redis://127.0.0.1:{redis_port}/");
        let pg_port = free_port()?;
        start_postgres(&dir, &pg_bin, &pg_data, pg_port)?;
        services.postgres_url = format!("postgres://postgres@127.0.0.1:{pg_port}/sigconform");
        println!(
            "started PostgreSQL on 127.0.0.1:{pg_port} and Redis on 127.0.0.1:{redis_port} (target/services)"
        );
        Ok(services)
    }

    /// The environment that points tests and benchmarks at the servers.
    pub(crate) fn env(&self) -> [(&'static str, &str); 2] {
        [
            ("SIGCONFORM_POSTGRES_URL", &self.postgres_url),
            ("SIGCONFORM_REDIS_URL", &self.redis_url),
        ]
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let Some(started) = &self.started else {
            return;
        };
        let _ = run(
            as_postgres(&started.pg_bin.join("pg_ctl"))
                .arg("-D")
                .arg(&started.pg_data)
                .args(["-m", "fast", "-w", "stop"]),
            "pg_ctl stop",
        );
        // Redis stops when asked (no `kill`: procps is not on every machine).
        let _ = redis_command(started.redis_port, b"SHUTDOWN NOSAVE\r\n");
        println!("stopped PostgreSQL and Redis");
    }
}

/// Redis on loopback at `port`, without persistence, its files in `dir`.
fn start_redis(dir: &Path, port: u16) -> Result<(), String> {
    run(
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "yes"])
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .arg("--dir")
            .arg(dir),
        "redis-server",
    )?;
    wait("redis", Duration::from_secs(10), || redis_answers(port))?;
    Ok(())
}

/// A throwaway PostgreSQL cluster in `data` on loopback at `port`, trusting
/// loopback, without fsync, with a database `sigconform`.
fn start_postgres(dir: &Path, bin: &Path, data: &Path, port: u16) -> Result<(), String> {
    if is_root() {
        run(
            Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(dir),
            "chown",
        )?;
    }
    run(
        as_postgres(&bin.join("initdb")).arg("-D").arg(data).args([
            "--auth=trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]),
        "initdb",
    )?;
    run(
        as_postgres(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(data)
            .arg("-l")
            .arg(dir.join("pg.log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                data.display()
            ))
            .args(["-w", "start"]),
        "pg_ctl start",
    )?;
    run(
        as_postgres(&bin.join("createdb")).args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "sigconform",
        ]),
        "createdb",
    )?;
    Ok(())
}
