//! How requests reach the target: the HTTP client, raw TCP for the bytes
//! an HTTP client will not send, and the target's clock, estimated from
//! its `Date` header. Everything the target answers becomes an [`Answer`];
//! nothing here judges it.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use serde::Serialize;

use crate::request::Request;
use crate::time::{Clock, SystemClock};

/// Serialises `req` as HTTP/1.1 with header names written by `header_case`;
/// with `mangle`, the first signature header's value is replaced by those bytes.
pub(super) fn raw_request(
    req: &Request,
    header_case: fn(&str) -> String,
    signature_headers: &[String],
    mangle: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = format!(
        "{} {} HTTP/1.1\r\n",
        req.method(),
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    )
    .into_bytes();
    let mut mangled = false;
    for (name, value) in req.headers() {
        out.extend_from_slice(header_case(name.as_str()).as_bytes());
        out.extend_from_slice(b": ");
        match mangle {
            Some(bytes) if !mangled && signature_headers.iter().any(|s| s == name.as_str()) => {
                out.extend_from_slice(bytes);
                mangled = true;
            }
            _ => out.extend_from_slice(value.as_bytes()),
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(req.body());
    out
}

/// Sends raw bytes to `authority` and reads the status of the answer.
pub(super) async fn send_raw(authority: &str, bytes: &[u8], timeout: Duration) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(authority)
            .await
            .map_err(|e| Answer::Refused(e.to_string()))?;
        stream
            .write_all(bytes)
            .await
            .map_err(|e| Answer::Broken(e.to_string()))?;
        let mut buf = Vec::with_capacity(4096);
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(_)) = response.parse(&buf) {
                let status = response.code.unwrap_or(0);
                // The same cap as for the HTTP client: a larger answer is not judged.
                let declared = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    });
                if declared.is_some_and(|n| n > MAX_RESPONSE_BODY) {
                    return Err(Answer::Broken(format!("status {status}, oversized body")));
                }
                return Ok(Answer::Status(
                    status,
                    response.reason.unwrap_or("").to_owned(),
                ));
            }
            if buf.len() > MAX_RESPONSE_BODY {
                return Err(Answer::Broken("response head too large".into()));
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) => return Err(Answer::Broken("connection closed before a response".into())),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(Answer::Broken(e.to_string())),
            }
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(answer) | Err(answer)) => answer,
        Err(_) => Answer::Broken(format!("no answer within {timeout:?}")),
    }
}

/// Boundary probes stay at least this far from a limit (SCHEMES.md asks 2 s).
pub(super) const MIN_MARGIN_MS: u64 = 2000;

/// The target's clock relative to ours, from its `Date` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockEstimate {
    /// Target clock minus ours, in milliseconds (0 when no `Date` header).
    pub offset_ms: i64,
    /// Half-width of the estimate: `Date`'s one-second resolution plus half
    /// the round trip. `None` when the target sends no `Date` header.
    pub uncertainty_ms: Option<u64>,
}

impl ClockEstimate {
    /// The margin boundary probes keep from each limit.
    pub fn margin_ms(&self) -> u64 {
        // Without a Date header we cannot do better than the minimum.
        MIN_MARGIN_MS.max(self.uncertainty_ms.unwrap_or(0) + 1000)
    }
}

/// Estimates the target's clock from three round trips, keeping the one
/// with the shortest round trip (the least uncertain).
pub(super) async fn estimate_clock(
    client: &HttpClient,
    target: &str,
    timeout: Duration,
) -> ClockEstimate {
    let mut best: Option<ClockEstimate> = None;
    for _ in 0..3 {
        let Ok(uri) = format!("{target}/").parse::<http::Uri>() else {
            break;
        };
        let Ok(req) = http::Request::get(uri).body(Full::new(Bytes::new())) else {
            break;
        };
        let sent = SystemClock.now_ms();
        let Ok(Ok(resp)) = tokio::time::timeout(timeout, client.request(req)).await else {
            continue;
        };
        let received = SystemClock.now_ms();
        let date = resp
            .headers()
            .get(http::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let Some(date) = date else { continue };
        // Date truncates to the second: its middle is the best point estimate.
        let server_ms = date.as_millis() as i64 + 500;
        let midpoint = ((sent + received) / 2) as i64;
        let estimate = ClockEstimate {
            offset_ms: server_ms - midpoint,
            uncertainty_ms: Some(500 + (received - sent) / 2),
        };
        if best.is_none_or(|b| estimate.uncertainty_ms < b.uncertainty_ms) {
            best = Some(estimate);
        }
    }
    best.unwrap_or(ClockEstimate {
        offset_ms: 0,
        uncertainty_ms: None,
    })
}

/// What one request got back.
#[derive(Debug, Clone)]
pub(super) enum Answer {
    Status(u16, String),
    /// Connected (or not) but got no usable answer: timeout, reset, garbage,
    /// an oversized body.
    Broken(String),
    /// The connection itself was refused: the target is not there.
    Refused(String),
}

impl Answer {
    /// The status and the start of the body, or what went wrong.
    pub(super) fn describe(&self) -> String {
        match self {
            Answer::Status(s, body) => format!("{s} {body}"),
            Answer::Broken(e) | Answer::Refused(e) => e.clone(),
        }
    }
}

/// The most of a response body the runner reads.
pub(super) const MAX_RESPONSE_BODY: usize = 64 * 1024;

pub(super) type HttpClient =
    Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// The client every request of a run goes through.
pub(super) fn client() -> HttpClient {
    Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

pub(super) async fn send(
    client: &HttpClient,
    target: &str,
    req: &Request,
    timeout: Duration,
) -> Answer {
    let uri = match format!(
        "{target}{}",
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    )
    .parse::<http::Uri>()
    {
        Ok(u) => u,
        Err(e) => return Answer::Broken(e.to_string()),
    };
    let mut outgoing = http::Request::builder().method(req.method()).uri(uri);
    for (name, value) in req.headers() {
        outgoing = outgoing.header(name, value);
    }
    let Ok(outgoing) = outgoing.body(Full::new(req.body().clone())) else {
        return Answer::Broken("request cannot be built".into());
    };
    match tokio::time::timeout(timeout, async {
        let resp = client.request(outgoing).await.map_err(|e| {
            if e.is_connect() {
                Answer::Refused(with_causes(&e))
            } else {
                Answer::Broken(with_causes(&e))
            }
        })?;
        let status = resp.status().as_u16();
        // Bodies are read up to a cap; a larger answer is not judged.
        let body = Limited::new(resp.into_body(), MAX_RESPONSE_BODY)
            .collect()
            .await
            .map_err(|e| {
                Answer::Broken(format!(
                    "status {status}, unreadable or oversized body: {e}"
                ))
            })?
            .to_bytes();
        Ok::<_, Answer>(Answer::Status(
            status,
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        ))
    })
    .await
    {
        Ok(Ok(answer) | Err(answer)) => answer,
        Err(_) => Answer::Broken(format!("no answer within {timeout:?}")),
    }
}

/// An error with its causes, `outer: inner: innermost` (hyper's own
/// message is only "client error (Connect)"; the cause says why).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
