//! How requests reach the target: the [`Target`] a URL names, an HTTP
//! client (plain or over TLS), raw TCP (or raw TLS) for the bytes an HTTP
//! client will not send, and the target's clock, estimated from its `Date`
//! header. Everything the target answers becomes an [`Answer`]; nothing
//! here judges it.
//!
//! The transport never invents an error. Every request goes on a
//! connection of its own: a server may close a kept-alive connection after
//! any answer (uvicorn does after an error answer whose body it did not
//! read) without saying so, and a request written into that closing
//! connection would come back as a reset the server never meant. A request
//! whose connection could not be opened never left the runner, so it is
//! sent again on a new one ([`CONNECT_ATTEMPTS`]); one that may have reached
//! the server is never sent again (that would be a replay) and is reported
//! as what happened to it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::RunError;
use sigconform_core::request::Request;
use sigconform_core::time::{Clock, SystemClock};

/// A target as a URL names it: where to connect, the `Host` to send, and
/// the path (and query) its probes go under, or to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    url: String,
    tls: bool,
    /// For connecting and SNI (an IPv6 address without its brackets).
    host: String,
    port: u16,
    /// The `Host` header: the URL's authority as written.
    authority: String,
    /// The URL's path without a trailing `/` (empty for the root).
    path: String,
    /// The URL's query, carried by every probe before the probe's own.
    query: Option<String>,
}

impl Target {
    /// Reads `http://host[:port][/path][?query]` or the same with `https`.
    pub fn parse(url: &str) -> Result<Target, RunError> {
        let bad = || RunError::Target(url.to_owned());
        let uri: http::Uri = url.parse().map_err(|_| bad())?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad()),
        };
        let authority = uri.authority().ok_or_else(bad)?;
        if authority.as_str().contains('@') {
            return Err(bad()); // credentials belong in --header-env, never in a URL
        }
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let path = uri.path().trim_end_matches('/').to_owned();
        Ok(Target {
            url: url.trim_end_matches('/').to_owned(),
            tls,
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(if tls { 443 } else { 80 }),
            authority: authority.as_str().to_owned(),
            path,
            query: uri.query().filter(|q| !q.is_empty()).map(str::to_owned),
        })
    }

    /// The URL as given (without a trailing `/`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether requests go over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The `Host` header every request carries.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// `scheme://authority`, what a request's path and query follow.
    pub fn origin(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }

    /// The host and port to connect to.
    pub fn host_port(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// Where a probe for the runner's own `path_and_query` is sent: below
    /// the target's path, or, for a fixed route, to the target's path
    /// itself. The target's query comes first, then the probe's.
    pub fn place(&self, path_and_query: &str, fixed_route: bool) -> String {
        let (path, query) = path_and_query
            .split_once('?')
            .map_or((path_and_query, None), |(p, q)| (p, Some(q)));
        let path = if fixed_route {
            self.route().to_owned()
        } else {
            format!("{}{path}", self.path)
        };
        match (self.query.as_deref(), query.filter(|q| !q.is_empty())) {
            (None, None) => path,
            (Some(q), None) | (None, Some(q)) => format!("{path}?{q}"),
            (Some(ours), Some(probe)) => format!("{path}?{ours}&{probe}"),
        }
    }

    /// The target's path as a route: `/` for the root.
    pub fn route(&self) -> &str {
        if self.path.is_empty() {
            "/"
        } else {
            &self.path
        }
    }

    /// The target's URL path and query, as sent to it (`/` for the root).
    pub fn path_and_query(&self) -> String {
        self.place("", true)
    }
}

/// How the runner trusts a TLS target's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// A PEM file of CA certificates trusted besides the usual roots (a
    /// private CA).
    pub ca_cert: Option<PathBuf>,
    /// Trust any certificate (self-signed staging servers). Every report
    /// says so.
    pub insecure: bool,
}

/// The client HTTP requests go through: plain HTTP, or HTTPS with rustls.
pub(super) type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The connections of one run to one target.
#[derive(Clone)]
pub(super) struct Transport {
    pub(super) target: Target,
    pub(super) client: HttpClient,
    tls: Arc<rustls::ClientConfig>,
}

impl Transport {
    /// A transport to `target`, trusting certificates as `options` say.
    pub(super) fn new(target: Target, options: &TlsOptions) -> Result<Transport, RunError> {
        let tls = Arc::new(client_tls(options)?);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http()
            .enable_http1()
            .build();
        // No idle connection is kept, so none is reused (see the module's
        // documentation).
        let client = Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        Ok(Transport {
            target,
            client,
            tls,
        })
    }

    /// Sends `req` (its path and query as they are) to the target, on a new
    /// connection.
    pub(super) async fn send(&self, req: &Request, timeout: Duration) -> Answer {
        if req.body().len() > LARGE_BODY {
            return self.send_large(req, timeout).await;
        }
        until_connected(timeout, |left| self.send_once(req, left)).await
    }

    /// [`Self::send`], one connection attempt.
    async fn send_once(&self, req: &Request, timeout: Duration) -> Answer {
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let uri = match format!("{}{path}", self.target.origin()).parse::<http::Uri>() {
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
        let exchange = async {
            let resp = self.client.request(outgoing).await.map_err(|e| {
                if e.is_connect() {
                    Answer::Refused(with_causes(&e))
                } else {
                    Answer::Broken(with_causes(&e))
                }
            })?;
            let reason = resp
                .extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .map(|r| r.as_bytes().to_vec());
            let head = Head::of(resp.status().as_u16(), reason.as_deref(), resp.headers());
            // Bodies are read up to a cap; a larger answer is not judged.
            let body = Limited::new(resp.into_body(), MAX_RESPONSE_BODY)
                .collect()
                .await
                .map_err(|e| {
                    Answer::Broken(format!(
                        "status {}, unreadable or oversized body: {e}",
                        head.status
                    ))
                })?
                .to_bytes();
            Ok::<_, Answer>(head.answer(&body))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer) | Err(answer)) => answer,
            Err(_) => Answer::Broken(format!("no answer within {timeout:?}")),
        }
    }

    /// Sends `req` like [`Self::send`] and reads the whole body of the
    /// answer (up to `limit` bytes): its status and bytes, or what went
    /// wrong (a read-back of what the target keeps).
    pub(super) async fn fetch(
        &self,
        req: &Request,
        timeout: Duration,
        limit: usize,
    ) -> Result<(u16, Bytes), String> {
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let uri = format!("{}{path}", self.target.origin())
            .parse::<http::Uri>()
            .map_err(|e| e.to_string())?;
        let mut outgoing = http::Request::builder().method(req.method()).uri(uri);
        for (name, value) in req.headers() {
            outgoing = outgoing.header(name, value);
        }
        let outgoing = outgoing
            .body(Full::new(req.body().clone()))
            .map_err(|e| e.to_string())?;
        let exchange = async {
            let resp = self
                .client
                .request(outgoing)
                .await
                .map_err(|e| with_causes(&e))?;
            let status = resp.status().as_u16();
            let body = Limited::new(resp.into_body(), limit)
                .collect()
                .await
                .map_err(|e| format!("status {status}, unreadable or oversized body: {e}"))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")))
    }

    /// Sends raw bytes to the target (over TLS for an `https` target) on a
    /// new connection, and reads the head of the answer.
    pub(super) async fn send_raw(&self, bytes: &[u8], timeout: Duration) -> Answer {
        let parts = [bytes];
        until_connected(timeout, |left| self.send_raw_once(&parts, left)).await
    }

    /// Sends `req`, whose body is large, over a raw connection: its head,
    /// then its body from where it is (never copied), and reads the answer
    /// even where the target answered before it read the whole body and
    /// closed the connection (a 403 or a 429 for what it will not take),
    /// which an HTTP client reports as a failed write instead.
    pub(super) async fn send_large(&self, req: &Request, timeout: Duration) -> Answer {
        let head = raw_head(req, |name| name.to_owned(), &[], None);
        let parts = [head.as_slice(), req.body()];
        until_connected(timeout, |left| self.send_raw_once(&parts, left)).await
    }

    /// [`Self::send_raw`], one connection attempt, `parts` written one
    /// after the other.
    async fn send_raw_once(&self, parts: &[&[u8]], timeout: Duration) -> Answer {
        let exchange = async {
            let (host, port) = self.target.host_port();
            let stream = tokio::net::TcpStream::connect((host, port))
                .await
                .map_err(|e| Answer::Refused(e.to_string()))?;
            if !self.target.is_tls() {
                return exchange_raw(stream, parts).await;
            }
            let name = ServerName::try_from(host.to_owned())
                .map_err(|e| Answer::Refused(format!("{host}: {e}")))?;
            let stream = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, stream)
                .await
                .map_err(|e| Answer::Refused(with_causes(&e)))?;
            exchange_raw(stream, parts).await
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer) | Err(answer)) => answer,
            Err(_) => Answer::Broken(format!("no answer within {timeout:?}")),
        }
    }

    /// Estimates the target's clock from three round trips, keeping the
    /// one with the shortest round trip (the least uncertain).
    pub(super) async fn estimate_clock(&self, timeout: Duration) -> ClockEstimate {
        let mut best: Option<ClockEstimate> = None;
        for _ in 0..3 {
            let Ok(uri) = self.target.url().parse::<http::Uri>() else {
                break;
            };
            let Ok(req) = http::Request::get(uri).body(Full::new(Bytes::new())) else {
                break;
            };
            let sent = SystemClock.now_ms();
            let Ok(Ok(resp)) = tokio::time::timeout(timeout, self.client.request(req)).await else {
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
}

/// How many times a request is tried whose connection could not be opened.
pub(super) const CONNECT_ATTEMPTS: u32 = 3;

/// The pause before the second attempt; the third waits twice as long.
const CONNECT_BACKOFF: Duration = Duration::from_millis(100);

/// `attempt` on a new connection, again while the connection could not be
/// opened ([`Answer::Refused`]: nothing was written) and `timeout` leaves
/// time. Any other answer, an error after the connection opened included,
/// is final: the request may have reached the server.
async fn until_connected<F: std::future::Future<Output = Answer>>(
    timeout: Duration,
    attempt: impl Fn(Duration) -> F,
) -> Answer {
    let until = tokio::time::Instant::now() + timeout;
    let mut tried = 1;
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        let answer = attempt(left).await;
        let pause = CONNECT_BACKOFF * tried;
        if !matches!(answer, Answer::Refused(_))
            || tried >= CONNECT_ATTEMPTS
            || tokio::time::Instant::now() + pause >= until
        {
            return answer;
        }
        tokio::time::sleep(pause).await;
        tried += 1;
    }
}

/// Every certificate of a PEM file; an error when it holds none.
fn read_certificates(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject as _;
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no PEM certificate in it".into());
    }
    Ok(certs)
}

/// The rustls client configuration `options` ask for: the Mozilla roots
/// (webpki-roots) plus any private CA, or no verification at all.
fn client_tls(options: &TlsOptions) -> Result<rustls::ClientConfig, RunError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| RunError::Tls(e.to_string()))?;
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut named = Vec::new();
    if let Some(path) = &options.ca_cert {
        let ca_error = |reason: String| RunError::CaCert(path.display().to_string(), reason);
        named = read_certificates(path).map_err(ca_error)?;
        for cert in &named {
            roots
                .add(cert.clone())
                .map_err(|e| ca_error(e.to_string()))?;
        }
    }
    let webpki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider)
            .build()
            .map_err(|e| RunError::Tls(e.to_string()))?;
    let trust = ServerTrust {
        webpki,
        named,
        any: options.insecure,
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(trust))
        .with_no_client_auth())
}

/// How a server's certificate is trusted: issued by a trusted CA (the
/// Mozilla roots and `--ca-cert`), or one of the certificates `--ca-cert`
/// names, trusted as the server's own as curl, Python and Node trust them
/// (a self-signed certificate made the usual way, `openssl req -x509`, is
/// marked as a CA, which WebPKI refuses as a server's certificate however
/// it is trusted; it must still name the host, and its dates are not
/// checked, nor are they by curl for a certificate it was given); or, with
/// `--insecure`, any certificate. The handshake's signatures are verified
/// in every case: the server holds the certificate's key.
#[derive(Debug)]
struct ServerTrust {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    named: Vec<CertificateDer<'static>>,
    any: bool,
}

impl rustls::client::danger::ServerCertVerifier for ServerTrust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if self.any {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        }
        let issued =
            self.webpki
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        if issued.is_err() && self.named.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        }
        issued
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Writes `bytes` and reads the head of the answer.
async fn exchange_raw(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    parts: &[&[u8]],
) -> Result<Answer, Answer> {
    // A target may answer before it has read the whole request, and close
    // the connection: the write then fails, and the answer is read anyway.
    let mut write_failed = None;
    for part in parts {
        if let Err(e) = stream.write_all(part).await {
            write_failed = Some(e.to_string());
            break;
        }
    }
    let answer = read_answer(&mut stream).await;
    match (answer, write_failed) {
        (Err(_), Some(write)) => Err(Answer::Broken(format!(
            "the target closed the connection while the request was sent, without an answer: {write}"
        ))),
        (answer, _) => answer,
    }
}

/// The answer on `stream`, read after a request was written.
async fn read_answer(mut stream: impl AsyncRead + Unpin) -> Result<Answer, Answer> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        if let Ok(httparse::Status::Complete(head_len)) = response.parse(&buf) {
            let status = response.code.unwrap_or(0);
            let mut map = http::HeaderMap::new();
            for h in response.headers.iter() {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(h.name.as_bytes()),
                    http::HeaderValue::from_bytes(h.value),
                ) {
                    map.append(name, value);
                }
            }
            // The same cap as for the HTTP client: a larger answer is not judged.
            let declared = map
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok());
            if declared.is_some_and(|n| n > MAX_RESPONSE_BODY) {
                return Err(Answer::Broken(format!("status {status}, oversized body")));
            }
            let reason = response.reason.map(str::as_bytes);
            return Ok(Head::of(status, reason, &map).answer(&buf[head_len..]));
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
}

/// Serialises `req` as HTTP/1.1 with header names written by `header_case`;
/// with `mangle`, the first signature header's value is replaced by those bytes.
pub(super) fn raw_request(
    req: &Request,
    header_case: fn(&str) -> String,
    signature_headers: &[String],
    mangle: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = raw_head(req, header_case, signature_headers, mangle);
    out.extend_from_slice(req.body());
    out
}

/// [`raw_request`]'s head, without the body.
fn raw_head(
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
    out
}

/// Serialises `req` as HTTP/1.1 with its body in chunks of `size` bytes
/// (`req` says `transfer-encoding: chunked`).
pub(super) fn raw_chunked(req: &Request, size: usize) -> Vec<u8> {
    let mut head = req.clone();
    *head.body_mut() = Bytes::new();
    let mut out = raw_request(&head, str::to_owned, &[], None);
    for chunk in req.body().chunks(size.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Boundary probes stay at least this far from a limit (the seed rules ask 2 s).
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

/// What one request got back.
#[derive(Debug, Clone)]
pub(super) enum Answer {
    /// An HTTP answer.
    Status(Response),
    /// Connected (or not) but got no usable answer: timeout, reset, garbage,
    /// an oversized body.
    Broken(String),
    /// The connection itself was refused (or its TLS handshake failed):
    /// the target is not there.
    Refused(String),
}

/// An HTTP answer: its status, the start of its body, and the headers the
/// runner acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Response {
    pub(super) status: u16,
    /// The first 200 bytes of the body, as text.
    pub(super) body: String,
    /// `Retry-After`, as a delay from when the answer came.
    pub(super) retry_after: Option<Duration>,
    /// `Allow` (on a 405): the methods the route takes.
    pub(super) allow: Option<String>,
    /// Everything it said.
    pub(super) said: Said,
}

/// Everything an answer says, for what the runner searches it for (a
/// refusal must not disclose what the verifier computed): its status line,
/// its headers and its body as read (up to [`MAX_RESPONSE_BODY`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Said {
    /// `HTTP/1.1 401 Unauthorized`, with the reason phrase the target wrote.
    pub(super) status_line: String,
    pub(super) headers: http::HeaderMap,
    pub(super) body: Bytes,
}

impl Response {
    /// Whether the target accepted the request.
    pub(super) fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A response head, before its body is read.
struct Head {
    status: u16,
    retry_after: Option<Duration>,
    allow: Option<String>,
    status_line: String,
    headers: http::HeaderMap,
}

impl Head {
    /// The head of an answer with `status`, the reason phrase the target
    /// wrote (`None`: the status's own), and `headers`.
    fn of(status: u16, reason: Option<&[u8]>, headers: &http::HeaderMap) -> Head {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &http::HeaderValue| v.to_str().ok())
        };
        let reason = match reason {
            Some(reason) => String::from_utf8_lossy(reason).into_owned(),
            None => http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or_default()
                .to_owned(),
        };
        Head {
            status,
            retry_after: text(http::header::RETRY_AFTER).and_then(retry_after),
            allow: text(http::header::ALLOW).map(str::to_owned),
            status_line: format!("HTTP/1.1 {status} {reason}"),
            headers: headers.clone(),
        }
    }

    fn answer(self, body: &[u8]) -> Answer {
        Answer::Status(Response {
            status: self.status,
            body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            retry_after: self.retry_after,
            allow: self.allow,
            said: Said {
                status_line: self.status_line,
                headers: self.headers,
                body: Bytes::copy_from_slice(&body[..body.len().min(MAX_RESPONSE_BODY)]),
            },
        })
    }
}

/// A `Retry-After` value, seconds or an HTTP date, as a delay from now.
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

impl Answer {
    /// The status and the start of the body, or what went wrong.
    pub(super) fn describe(&self) -> String {
        match self {
            Answer::Status(r) => format!("{} {}", r.status, r.body),
            Answer::Broken(e) | Answer::Refused(e) => e.clone(),
        }
    }

    /// The HTTP answer, if there was one.
    pub(super) fn response(&self) -> Option<&Response> {
        match self {
            Answer::Status(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the target accepted the request.
    pub(super) fn accepted(&self) -> bool {
        self.response().is_some_and(Response::accepted)
    }
}

/// Bodies longer than this go over a raw connection (see
/// [`Transport::send_large`]): a target is likelier to answer one before
/// it has read it all.
const LARGE_BODY: usize = 64 * 1024;

/// The most of a response body the runner reads.
pub(super) const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// An error with its causes, `outer: inner: innermost` (hyper's own
/// message is only "client error (Connect)"; the cause says why).
pub(super) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_with_paths_and_queries() {
        let t = Target::parse("https://api.example.com/v1/").unwrap();
        assert!(t.is_tls());
        assert_eq!(t.host_port(), ("api.example.com", 443));
        assert_eq!(t.authority(), "api.example.com");
        assert_eq!(
            t.place("/sigconform/probe?page=1", false),
            "/v1/sigconform/probe?page=1"
        );
        assert_eq!(t.place("/sigconform/probe?page=1", true), "/v1?page=1");

        let t = Target::parse("http://[::1]:8080/hook?tenant=a%20b").unwrap();
        assert_eq!(t.host_port(), ("::1", 8080));
        assert_eq!(t.authority(), "[::1]:8080");
        assert_eq!(t.place("/p?x=1", true), "/hook?tenant=a%20b&x=1");
        assert_eq!(t.place("/p", false), "/hook/p?tenant=a%20b");
        assert_eq!(t.path_and_query(), "/hook?tenant=a%20b");

        let root = Target::parse("http://127.0.0.1:9").unwrap();
        assert_eq!(root.place("/p?q", false), "/p?q");
        assert_eq!(root.place("/p", true), "/");
        assert_eq!(root.origin(), "http://127.0.0.1:9");

        for bad in [
            "ftp://example",
            "example.com",
            "http://user:pw@example.com/",
            "/just/a/path",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    /// Counts the attempts of [`until_connected`], answering each with the
    /// next of `answers`.
    async fn attempts(answers: Vec<Answer>) -> (Answer, usize) {
        let left = std::sync::Mutex::new(answers.into_iter());
        let tried = std::sync::atomic::AtomicUsize::new(0);
        let answer = until_connected(Duration::from_secs(5), |_| {
            tried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let next = left.lock().unwrap().next().unwrap();
            async move { next }
        })
        .await;
        (answer, tried.into_inner())
    }

    #[tokio::test(start_paused = true)]
    async fn only_a_request_that_never_left_is_sent_again() {
        let refused = || Answer::Refused("connection refused".into());
        let ok = || {
            Answer::Status(Response {
                status: 401,
                body: String::new(),
                retry_after: None,
                allow: None,
                said: Said::default(),
            })
        };
        // Refused twice, then answered: sent again on a new connection.
        let (answer, tried) = attempts(vec![refused(), refused(), ok()]).await;
        assert_eq!((answer.response().map(|r| r.status), tried), (Some(401), 3));
        // Refused every time: given up after CONNECT_ATTEMPTS.
        let (answer, tried) = attempts(vec![refused(), refused(), refused(), ok()]).await;
        assert!(matches!(answer, Answer::Refused(_)));
        assert_eq!(tried, CONNECT_ATTEMPTS as usize);
        // Reset after the connection opened: it may have reached the
        // server, so it is never sent again.
        let (answer, tried) = attempts(vec![Answer::Broken("connection reset".into()), ok()]).await;
        assert!(matches!(answer, Answer::Broken(_)));
        assert_eq!(tried, 1);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }
}
