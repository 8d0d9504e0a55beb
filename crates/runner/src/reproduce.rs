//! Commands that send a case's deciding request again: `curl`, or `printf
//! … | python3 -c …` (`| openssl s_client` over TLS) for the requests an
//! HTTP client will not send as they are. Every command runs on a fresh
//! machine as it is printed: curl, python3 and openssl are there, `nc` is
//! not. Bytes a shell word cannot hold as they are (a header value that is
//! not UTF-8) are written by `printf '%b'`, and an empty header value in
//! curl's own syntax for one (`-H 'name;'`: curl drops `name: `).
//!
//! A [`Replay`] keeps what a command needs; it renders two ways. Inline
//! ([`Replay::command`], kept in JSON reports) everything is in the
//! command. For the terminal ([`Replay::command_with_files`]) a payload
//! over [`INLINE_LIMIT`] goes into a file and the command refers to it, so
//! a 64 KiB body does not bury the report. Header values that came from
//! the environment (`--header-env`) are never written out: the command
//! reads the same variable.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sigconform_core::request::Request;

/// Payloads larger than this go into files in the terminal's commands.
pub const INLINE_LIMIT: usize = 1024;

/// Where a replayed request goes, and how its TLS is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// `scheme://authority`.
    pub origin: String,
    /// Host and port to connect to (for `nc` and `openssl s_client`).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Over TLS.
    pub tls: bool,
    /// `--insecure`: curl gets `-k`.
    pub insecure: bool,
    /// `--ca-cert`: curl gets `--cacert`.
    pub ca_cert: Option<PathBuf>,
}

/// A header whose value came from an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromEnv {
    /// The header's name (lower case).
    pub name: String,
    /// The variable, which a command reads as `$VAR`.
    pub var: String,
    /// The value it had (replaced by `$VAR` wherever it appears).
    pub value: String,
}

/// What sends one request again.
#[derive(Debug, Clone)]
pub struct Replay {
    destination: Destination,
    request: Sent,
    from_env: Vec<FromEnv>,
}

#[derive(Debug, Clone)]
enum Sent {
    Http(Box<Request>),
    Raw(Vec<u8>),
}

/// A stretch of a command's input: bytes, or the value of a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Bytes(Vec<u8>),
    Env(String),
}

impl Replay {
    /// `req`, sent through an HTTP client.
    pub fn http(destination: Destination, req: &Request, from_env: &[FromEnv]) -> Replay {
        Replay {
            destination,
            request: Sent::Http(Box::new(req.clone())),
            from_env: from_env.to_vec(),
        }
    }

    /// `bytes`, sent over a raw connection.
    pub fn raw(destination: Destination, bytes: &[u8], from_env: &[FromEnv]) -> Replay {
        Replay {
            destination,
            request: Sent::Raw(bytes.to_vec()),
            from_env: from_env.to_vec(),
        }
    }

    /// The command with everything in it.
    pub fn command(&self) -> String {
        self.render(&mut Inline)
    }

    /// The command with payloads over [`INLINE_LIMIT`] in files under
    /// `files` (created when first needed), named after `stem`.
    pub fn command_with_files(&self, files: &mut Files, stem: &str) -> std::io::Result<String> {
        let mut out = ToFiles {
            files,
            stem,
            error: None,
        };
        let command = self.render(&mut out);
        match out.error {
            Some(e) => Err(e),
            None => Ok(command),
        }
    }

    /// The request as it went on the wire, for a person to read: text
    /// as text, other bytes as `\xNN`, values from the environment as
    /// `$VAR`, and the body cut after `limit` bytes.
    pub fn as_sent(&self, limit: usize) -> String {
        let bytes = match &self.request {
            Sent::Raw(bytes) => bytes.clone(),
            Sent::Http(req) => {
                let mut head = format!(
                    "{} {} HTTP/1.1\r\n",
                    req.method(),
                    req.uri().path_and_query().map_or("/", |p| p.as_str())
                )
                .into_bytes();
                for (name, value) in req.headers() {
                    head.extend_from_slice(name.as_str().as_bytes());
                    head.extend_from_slice(b": ");
                    head.extend_from_slice(value.as_bytes());
                    head.extend_from_slice(b"\r\n");
                }
                head.extend_from_slice(b"\r\n");
                head.extend_from_slice(req.body());
                head
            }
        };
        let mut text = String::new();
        for piece in self.pieces(&bytes) {
            match piece {
                Piece::Env(var) => text.push_str(&format!("${var}")),
                Piece::Bytes(b) => text.push_str(&printable(&b)),
            }
        }
        if text.len() > limit {
            let cut = prefix_within(&text, limit).len();
            text.truncate(cut);
            let _ = write!(text, "… ({} bytes in all)", bytes.len());
        }
        text
    }

    /// `bytes` split where a value from the environment appears.
    fn pieces(&self, bytes: &[u8]) -> Vec<Piece> {
        let mut pieces = vec![Piece::Bytes(bytes.to_vec())];
        for env in self.from_env.iter().filter(|e| !e.value.is_empty()) {
            pieces = pieces
                .into_iter()
                .flat_map(|piece| match piece {
                    Piece::Bytes(b) => split_on(&b, env.value.as_bytes(), &env.var),
                    env => vec![env],
                })
                .collect();
        }
        pieces.retain(|p| !matches!(p, Piece::Bytes(b) if b.is_empty()));
        pieces
    }

    fn render(&self, sink: &mut dyn PayloadSink) -> String {
        match &self.request {
            Sent::Raw(bytes) => self.raw_command(bytes, sink),
            Sent::Http(req) => self.curl_command(req, sink),
        }
    }

    /// `printf … | python3 -c …`, or `openssl s_client` over TLS.
    fn raw_command(&self, bytes: &[u8], sink: &mut dyn PayloadSink) -> String {
        let d = &self.destination;
        let receiver = if d.tls {
            format!(
                "openssl s_client -quiet -connect {}:{} -servername {}",
                shell_quote(&d.host),
                d.port,
                shell_quote(&d.host)
            )
        } else {
            format!(
                "python3 -c {} {} {}",
                shell_quote(RAW_SENDER),
                shell_quote(&d.host),
                d.port
            )
        };
        let writers: Vec<String> = self
            .pieces(bytes)
            .iter()
            .map(|piece| writer(piece, sink, "raw"))
            .collect();
        match writers.as_slice() {
            [one] => format!("{one} | {receiver}"),
            many => format!("{{ {}; }} | {receiver}", many.join("; ")),
        }
    }

    /// `curl` with every header as sent and the body as sent.
    fn curl_command(&self, req: &Request, sink: &mut dyn PayloadSink) -> String {
        let d = &self.destination;
        let mut cmd = String::from("curl -sS");
        if d.insecure {
            cmd.push_str(" -k");
        }
        if let Some(ca) = &d.ca_cert {
            let _ = write!(cmd, " --cacert {}", shell_quote(&ca.display().to_string()));
        }
        let url = format!(
            "{}{}",
            d.origin,
            req.uri().path_and_query().map_or("/", |p| p.as_str())
        );
        let _ = write!(cmd, " -X {} {}", req.method(), shell_quote(&url));
        for (name, value) in req.headers() {
            let line = [name.as_str().as_bytes(), b": ", value.as_bytes()].concat();
            let pieces = self.pieces(&line);
            let arg = match pieces.as_slice() {
                // curl sends `name:` for `-H 'name;'`, and drops `name: `.
                _ if value.is_empty() => shell_quote(&format!("{name};")),
                [Piece::Bytes(b)] if b.len() > INLINE_LIMIT => {
                    // curl reads headers from a file with `-H @FILE`.
                    match sink.file(b, "header") {
                        Some(path) => format!("@{}", shell_quote(&path)),
                        None => shell_quote(&String::from_utf8_lossy(b)),
                    }
                }
                [Piece::Bytes(b)] if !is_shell_text(b) => {
                    format!("\"$(printf '%b' '{}')\"", printf_escaped(b))
                }
                _ => double_quote(&pieces),
            };
            let _ = write!(cmd, " -H {arg}");
        }
        let body = req.body();
        if body.is_empty() {
            return cmd;
        }
        let text = std::str::from_utf8(body).ok().filter(|t| !t.contains('\0'));
        match (text, sink.file(body, "body")) {
            (_, Some(path)) => format!("{cmd} --data-binary @{}", shell_quote(&path)),
            (Some(text), None) => format!("{cmd} --data-binary {}", shell_quote(text)),
            (None, None) => format!(
                "{} | {cmd} --data-binary @-",
                writer(&Piece::Bytes(body.to_vec()), &mut Inline, "body")
            ),
        }
    }
}

/// Where a command's payloads go: nowhere (inline), or files.
trait PayloadSink {
    /// Writes `bytes` to a file of this kind and returns its path, when the
    /// payload belongs in a file.
    fn file(&mut self, bytes: &[u8], kind: &str) -> Option<String>;
}

struct Inline;

impl PayloadSink for Inline {
    fn file(&mut self, _: &[u8], _: &str) -> Option<String> {
        None
    }
}

struct ToFiles<'a> {
    files: &'a mut Files,
    stem: &'a str,
    error: Option<std::io::Error>,
}

impl PayloadSink for ToFiles<'_> {
    fn file(&mut self, bytes: &[u8], kind: &str) -> Option<String> {
        if bytes.len() <= INLINE_LIMIT {
            return None;
        }
        match self.files.write(self.stem, kind, bytes) {
            Ok(path) => Some(path.display().to_string()),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }
}

/// The folder one run writes its payload files to, created when the first
/// file is written.
#[derive(Debug)]
pub struct Files {
    dir: PathBuf,
    written: Vec<PathBuf>,
}

impl Files {
    /// Files under `dir` (one folder per run).
    pub fn new(dir: impl Into<PathBuf>) -> Files {
        Files {
            dir: dir.into(),
            written: Vec::new(),
        }
    }

    /// The run's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether any file was written.
    pub fn is_empty(&self) -> bool {
        self.written.is_empty()
    }

    /// Writes `bytes` as `<stem>.<kind>` (numbered when taken).
    fn write(&mut self, stem: &str, kind: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let stem: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let mut path = self.dir.join(format!("{stem}.{kind}"));
        let mut n = 2;
        while self.written.contains(&path) {
            path = self.dir.join(format!("{stem}.{n}.{kind}"));
            n += 1;
        }
        std::fs::write(&path, bytes)?;
        self.written.push(path.clone());
        Ok(path)
    }
}

/// Sends standard input to the host and port its arguments name and
/// prints the answer (the requests it sends ask the server to close).
const RAW_SENDER: &str = r#"import socket,sys;s=socket.create_connection((sys.argv[1],int(sys.argv[2])));s.sendall(sys.stdin.buffer.read());[sys.stdout.buffer.write(c) for c in iter(lambda:s.recv(65536),b"")]"#;

/// Whether `bytes` can stand in a double-quoted shell word as they are:
/// UTF-8 text without control characters.
fn is_shell_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|t| !t.chars().any(char::is_control))
}

/// A shell command writing one piece to standard output.
fn writer(piece: &Piece, sink: &mut dyn PayloadSink, kind: &str) -> String {
    match piece {
        Piece::Env(var) => format!("printf '%s' \"${var}\""),
        Piece::Bytes(bytes) => match sink.file(bytes, kind) {
            Some(path) => format!("cat {}", shell_quote(&path)),
            None => format!("printf '%b' '{}'", printf_escaped(bytes)),
        },
    }
}

/// `bytes` for `printf '%b'` inside single quotes: printable ASCII as it
/// is, everything else (and what the quotes or printf would read) as an
/// octal escape.
fn printf_escaped(bytes: &[u8]) -> String {
    let mut escaped = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..=0x7e).contains(&b) && !matches!(b, b'\\' | b'\'' | b'%') {
            escaped.push(char::from(b));
        } else {
            let _ = write!(escaped, "\\0{b:03o}");
        }
    }
    escaped
}

/// `text` in single quotes, for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Pieces as one double-quoted shell word: variables expand, everything
/// else is literal.
fn double_quote(pieces: &[Piece]) -> String {
    let mut out = String::from("\"");
    for piece in pieces {
        match piece {
            Piece::Env(var) => {
                let _ = write!(out, "${{{var}}}");
            }
            Piece::Bytes(b) => {
                for c in String::from_utf8_lossy(b).chars() {
                    if matches!(c, '"' | '\\' | '$' | '`') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    out.push('"');
    out
}

/// `bytes` as text a person can read: printable ASCII and UTF-8 as they
/// are, line breaks kept, other bytes as `\xNN`.
fn printable(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && c != '\n' && c != '\r' && c != '\t' {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// `bytes` split around each occurrence of `needle`, which becomes `$var`.
fn split_on(bytes: &[u8], needle: &[u8], var: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.push(Piece::Bytes(rest[..at].to_vec()));
        out.push(Piece::Env(var.to_owned()));
        rest = &rest[at + needle.len()..];
    }
    out.push(Piece::Bytes(rest.to_vec()));
    out
}

/// The longest prefix of `text` of at most `limit` bytes that ends on a
/// character boundary.
pub(crate) fn prefix_within(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let cut = (0..=limit)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..cut]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(tls: bool) -> Destination {
        Destination {
            origin: format!("{}://h:1", if tls { "https" } else { "http" }),
            host: "h".into(),
            port: 1,
            tls,
            insecure: tls,
            ca_cert: None,
        }
    }

    #[test]
    fn values_from_the_environment_are_never_written_out() {
        let req = http::Request::post("/p")
            .header("x-gateway-token", "tok-123456")
            .body(bytes::Bytes::from_static(b"{}"))
            .unwrap();
        let env = [FromEnv {
            name: "x-gateway-token".into(),
            var: "GW".into(),
            value: "tok-123456".into(),
        }];
        let replay = Replay::http(destination(true), &req, &env);
        let command = replay.command();
        assert!(!command.contains("tok-123456"), "{command}");
        assert!(
            command.contains("-H \"x-gateway-token: ${GW}\""),
            "{command}"
        );
        assert!(command.starts_with("curl -sS -k -X POST 'https://h:1/p'"));
        assert!(replay.as_sent(100).contains("x-gateway-token: $GW"));

        let raw = Replay::raw(
            destination(false),
            b"GET / HTTP/1.1\r\nx-gateway-token: tok-123456\r\n\r\n",
            &env,
        );
        let command = raw.command();
        assert!(!command.contains("tok-123456"), "{command}");
        assert!(command.contains("printf '%s' \"$GW\""), "{command}");
        assert!(command.ends_with("' 'h' 1"), "{command}");
        assert!(command.contains("| python3 -c 'import socket"), "{command}");
    }

    #[test]
    fn large_payloads_go_to_files_and_small_ones_stay_inline() {
        let dir = std::env::temp_dir().join(format!("sigconform-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut files = Files::new(&dir);
        let small = http::Request::post("/p")
            .body(bytes::Bytes::from_static(b"{}"))
            .unwrap();
        let replay = Replay::http(destination(false), &small, &[]);
        assert_eq!(
            replay.command_with_files(&mut files, "a/b").unwrap(),
            replay.command()
        );
        assert!(files.is_empty() && !dir.exists());

        let big = vec![b'x'; 2 * INLINE_LIMIT];
        let large = http::Request::post("/p")
            .body(bytes::Bytes::from(big.clone()))
            .unwrap();
        let replay = Replay::http(destination(false), &large, &[]);
        let command = replay.command_with_files(&mut files, "a/b").unwrap();
        let path = dir.join("a-b.body");
        assert!(command.len() < 200, "{command}");
        assert!(
            command.ends_with(&format!("--data-binary @'{}'", path.display())),
            "{command}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), big);
        // The same stem again gets a file of its own.
        replay.command_with_files(&mut files, "a/b").unwrap();
        assert!(dir.join("a-b.2.body").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
