//! Commands that send a case's deciding request again: `curl`, or
//! `printf … | nc` for the requests an HTTP client will not send as they
//! are.

use crate::request::Request;

/// A shell command that sends `bytes` to `target` over a plain TCP
/// connection, for requests an HTTP client will not send as they are (odd
/// header-name case, non-UTF-8 bytes): `printf` with octal escapes for
/// every byte outside printable ASCII, piped to `nc`.
pub fn netcat(target: &str, bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut escaped = String::with_capacity(bytes.len());
    for &b in bytes {
        // What the shell's quotes or printf would read otherwise is escaped too.
        if (0x20..=0x7e).contains(&b) && !matches!(b, b'\\' | b'\'' | b'%') {
            escaped.push(char::from(b));
        } else {
            let _ = write!(escaped, "\\0{b:03o}");
        }
    }
    let authority = target.trim_start_matches("http://");
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "80"));
    format!("printf '%b' '{escaped}' | nc {host} {port}")
}

/// A curl command that sends `req` to `target` again (no secret in it: the
/// request carries only the tag).
pub fn curl(target: &str, req: &Request) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut cmd = format!(
        "curl -sS -X {} {}",
        req.method(),
        quote(&format!(
            "{target}{}",
            req.uri().path_and_query().map_or("/", |p| p.as_str())
        ))
    );
    for (name, value) in req.headers() {
        cmd.push_str(&format!(
            " -H {}",
            quote(&format!(
                "{name}: {}",
                String::from_utf8_lossy(value.as_bytes())
            ))
        ));
    }
    if !req.body().is_empty() {
        cmd.push_str(&format!(
            " --data-binary {}",
            quote(&String::from_utf8_lossy(req.body()))
        ));
    }
    cmd
}
