//! The reference server: a verifying HTTP server on loopback, built on the
//! library, that the runner probes and client authors test signers against.
//!
//! Every path it is mounted at accepts signed requests: 200 with a small
//! JSON body when the request verifies; otherwise the [`Rejection`]'s
//! status with `{"error": REASON, "message": ...}`. It can be mounted the
//! way applications are deployed ([`Mount`]): at the root, under a path
//! prefix, or as one route with its methods; and it can serve TLS. In
//! diagnose mode every rejection is logged with the canonical string the
//! server expected — never the secret.
//!
//! For the runner's own tests a server can be started with one deliberate
//! [`Defect`]; each defect is made by swapping a part (window, nonce store),
//! not by special cases in the verifier.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::answer::{self, Answer};
use crate::keys::sql::SqlKeys;
use crate::keys::{KeyLookup, KeyPolicy, Secret, StaticKeys};
use crate::nonce::{ForgetfulNonces, MemoryNonceStore, NonceError, NonceStore};
use crate::scheme::{SchemeConfig, SchemeId};
use crate::{Rejection, SystemClock, Verifier};

/// Largest body the server reads; a larger one is answered 413.
pub const MAX_BODY: usize = 1 << 20;

/// How long a client may take to send its headers, and then its body: a
/// client that stalls must not hold a connection forever.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A deliberate bug, for proving that the runner finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// Accepts any timestamp, however old or new.
    IgnoresExpiry,
    /// Never records nonces: every replay is accepted.
    NeverRecordsNonces,
    /// Checks, then records, in two steps with a pause between: identical
    /// concurrent requests can all pass the check.
    NonAtomicNonces,
    /// Accepts any future timestamp (no future limit).
    AcceptsAnyFuture,
    /// Reads a window in seconds as milliseconds: the window shrinks to
    /// almost nothing.
    WindowInMilliseconds,
    /// `a2a`: trusts `X-Body-Hash` without recomputing it over the body.
    TrustsBodyHash,
    /// Answers 500 to a malformed timestamp.
    ServerErrorOnMalformedTimestamp,
    /// Falls back to the default key for unknown key ids.
    AcceptsUnknownKeys,
    /// Compares tags byte by byte, stopping at the first difference, with
    /// a measurable cost per matching byte.
    ByteByByteCompare,
    /// `a2a`: a missing `X-Nonce` is read as an empty nonce.
    AcceptsMissingNonce,
    /// Does not cover the method: accepts a tag made for any standard
    /// method ("tolerating" clients behind method-rewriting proxies).
    MethodNotCovered,
    /// Does not cover the path as received: verifies against the path with
    /// dot segments and empty segments removed, as `new URL(...).pathname`
    /// or `os.path.normpath` would give it.
    PathNotCovered,
    /// Does not cover the body bytes: verifies against the body parsed and
    /// re-serialised (`JSON.stringify(req.body)` after a JSON middleware has
    /// consumed the raw body), so whitespace and duplicate keys are free.
    BodyNotCovered,
    /// Compares only as many bytes as the received tag has: a prefix of
    /// the right tag, the empty tag included, is accepted.
    AcceptsTagPrefix,
    /// Verifies signatures but enforces no key policy: keys outside an
    /// allow-list and non-admin keys on admin routes are accepted.
    IgnoresKeyPolicy,
    /// Looks key ids up ignoring letter case (a case-insensitive SQL
    /// collation) while its nonce store keys nonces by the id as sent.
    CaseInsensitiveKeyIds,
    /// Reads only the first 16 KiB of a body (one fixed buffer) and
    /// verifies that: larger bodies never verify.
    ReadsFirstChunkOnly,
}

/// How much of a body [`Defect::ReadsFirstChunkOnly`] reads.
const FIRST_CHUNK: usize = 16 * 1024;

impl Defect {
    /// Whether the defect lives in how the scheme parses, canonicalises or
    /// compares (a [`Defective`] wrapper) rather than in a swapped part.
    const fn in_scheme(self) -> bool {
        matches!(
            self,
            Defect::TrustsBodyHash
                | Defect::ByteByByteCompare
                | Defect::AcceptsMissingNonce
                | Defect::MethodNotCovered
                | Defect::PathNotCovered
                | Defect::BodyNotCovered
                | Defect::AcceptsTagPrefix
                | Defect::ReadsFirstChunkOnly
        )
    }
}

/// A scheme with a defect in how it parses, canonicalises or compares;
/// everything else is delegated to the correct scheme.
#[derive(Debug)]
struct Defective {
    inner: Box<dyn crate::scheme::Scheme>,
    defect: Defect,
}

/// The methods [`Defect::MethodNotCovered`] tries.
const ANY_METHOD: [http::Method; 7] = [
    http::Method::GET,
    http::Method::HEAD,
    http::Method::POST,
    http::Method::PUT,
    http::Method::PATCH,
    http::Method::DELETE,
    http::Method::OPTIONS,
];

impl Defective {
    /// The request as the defective verifier sees it.
    fn seen(&self, req: &crate::Request) -> crate::Request {
        let mut seen = req.clone();
        match self.defect {
            Defect::PathNotCovered => {
                let path = normalize_path(req.uri().path());
                let uri = match req.uri().query() {
                    Some(q) => format!("{path}?{q}"),
                    None => path,
                };
                if let Ok(uri) = uri.parse() {
                    *seen.uri_mut() = uri;
                }
            }
            Defect::ReadsFirstChunkOnly => {
                *seen.body_mut() = req.body().slice(..req.body().len().min(FIRST_CHUNK));
            }
            Defect::BodyNotCovered => {
                if let Ok(value) = serde_json::from_slice::<serde_json::Value>(req.body()) {
                    *seen.body_mut() = serde_json::to_vec(&value)
                        .expect("a parsed value serialises")
                        .into();
                }
            }
            // Parse as if the header were right; the claimed hash is put
            // back into the signed parameters afterwards.
            Defect::TrustsBodyHash
                if !req.body().is_empty() && req.headers().contains_key(X_BODY_HASH) =>
            {
                let actual =
                    crate::crypto::TagEncoding::Base64.encode(&crate::crypto::sha256(req.body()));
                seen.headers_mut().insert(
                    X_BODY_HASH,
                    actual.parse().expect("base64 is a valid header value"),
                );
            }
            Defect::AcceptsMissingNonce if !req.headers().contains_key(X_NONCE) => {
                seen.headers_mut()
                    .insert(X_NONCE, http::HeaderValue::from_static("-"));
            }
            _ => {}
        }
        seen
    }
}

const X_BODY_HASH: &str = "x-body-hash";
const X_NONCE: &str = "x-nonce";

/// Removes `.` and `..` segments and empty segments from a path.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
}

impl crate::scheme::Scheme for Defective {
    fn id(&self) -> SchemeId {
        self.inner.id()
    }
    fn window(&self) -> crate::time::Window {
        self.inner.window()
    }
    fn tag_encoding(&self) -> crate::crypto::TagEncoding {
        self.inner.tag_encoding()
    }
    fn parse<'r>(
        &self,
        req: &'r crate::Request,
    ) -> Result<crate::scheme::SignatureParams<'r>, Rejection> {
        let mut params = self.inner.parse(&self.seen(req))?.into_owned();
        match self.defect {
            Defect::TrustsBodyHash => {
                if let Some(claimed) = req.headers().get(X_BODY_HASH) {
                    params.body_hash = claimed.to_str().ok().map(|c| c.to_owned().into());
                }
            }
            Defect::AcceptsMissingNonce if !req.headers().contains_key(X_NONCE) => {
                params.nonce = Some("".into());
            }
            _ => {}
        }
        Ok(params)
    }
    fn canonicalize(
        &self,
        req: &crate::Request,
        params: &crate::scheme::SignatureParams<'_>,
        out: &mut dyn crate::crypto::ByteSink,
    ) -> Result<(), Rejection> {
        self.inner.canonicalize(&self.seen(req), params, out)
    }
    fn signing_params<'a>(
        &self,
        req: &crate::Request,
        input: &'a crate::scheme::SignInput,
    ) -> Result<crate::scheme::SignatureParams<'a>, crate::scheme::SignError> {
        self.inner.signing_params(req, input)
    }
    fn signature_headers(
        &self,
        params: &crate::scheme::SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(http::HeaderName, String)> {
        self.inner.signature_headers(params, encoded_tag)
    }
    fn verify(
        &self,
        req: &crate::Request,
        params: &crate::scheme::SignatureParams<'_>,
        key: &crate::Key,
    ) -> Result<(), Rejection> {
        let expected = |req: &crate::Request| {
            key.mac()
                .sign_streamed(params.algorithm, |out| self.canonicalize(req, params, out))
        };
        match self.defect {
            Defect::MethodNotCovered => {
                let mut other = req.clone();
                for method in ANY_METHOD {
                    *other.method_mut() = method;
                    if self.inner.verify(&self.seen(&other), params, key).is_ok() {
                        return Ok(());
                    }
                }
                Err(Rejection::BadSignature)
            }
            Defect::AcceptsTagPrefix => {
                // The bug: `expected.starts_with(received)`.
                if expected(req)?.as_bytes().starts_with(params.tag.as_bytes()) {
                    Ok(())
                } else {
                    Err(Rejection::BadSignature)
                }
            }
            Defect::ByteByByteCompare => {
                if params.tag.as_bytes().len() != params.algorithm.tag_len() {
                    return Err(Rejection::MalformedSignature);
                }
                for (a, b) in expected(req)?.as_bytes().iter().zip(params.tag.as_bytes()) {
                    if a != b {
                        return Err(Rejection::BadSignature);
                    }
                    // The bug made visible: work per matching byte.
                    let until = std::time::Instant::now() + std::time::Duration::from_micros(20);
                    while std::time::Instant::now() < until {
                        std::hint::spin_loop();
                    }
                }
                Ok(())
            }
            _ => self.inner.verify(&self.seen(req), params, key),
        }
    }
}

/// Unknown key ids looked up a second time under another id: the default
/// key ([`Defect::AcceptsUnknownKeys`]) or the id in lower case
/// ([`Defect::CaseInsensitiveKeyIds`]).
struct SecondLookup {
    keys: Arc<dyn KeyLookup>,
    instead: fn(&str) -> String,
}

impl KeyLookup for SecondLookup {
    fn lookup<'a>(
        &'a self,
        key_id: &'a str,
    ) -> Answer<'a, Result<Arc<crate::Key>, crate::keys::LookupError>> {
        answer::later(async move {
            match self.keys.lookup(key_id).await {
                Err(crate::keys::LookupError::Unknown) => {
                    self.keys.lookup(&(self.instead)(key_id)).await
                }
                other => other,
            }
        })
    }
}

/// Where a reference server's keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Keys fixed at start.
    Static(StaticKeys),
    /// Keys in a SQL database; with an admin token, the key lifecycle API
    /// ([`crate::admin`]) is served too.
    Sql {
        /// The store.
        store: Arc<SqlKeys>,
        /// The bearer token of the admin API.
        admin_token: Option<Secret>,
    },
}

/// Where a server answers signed requests, as an application is deployed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Mount {
    /// Every path.
    #[default]
    Root,
    /// Paths under this prefix (`/api`: `/api` and `/api/…`); 404 elsewhere.
    Prefix(String),
    /// One route: exactly this path (404 elsewhere), with these methods
    /// (405 with `Allow` for others; every method when empty).
    Route {
        /// The route's path.
        path: String,
        /// Its methods.
        methods: Vec<http::Method>,
        /// Answer other methods 404 rather than 405, as Express's router
        /// does.
        not_found_for_other_methods: bool,
    },
}

impl Mount {
    /// The answer for a request the mount does not route, if it does not.
    fn refuse(&self, method: &http::Method, path: &str) -> Option<http::Response<Full<Bytes>>> {
        let not_found = || {
            json_response(
                404,
                serde_json::json!({"error": "not_found", "message": "no route here"}),
            )
        };
        match self {
            Mount::Root => None,
            Mount::Prefix(prefix) => {
                let prefix = prefix.trim_end_matches('/');
                let under = path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
                (!under).then(not_found)
            }
            Mount::Route { path: route, .. } if route != path => Some(not_found()),
            Mount::Route {
                methods,
                not_found_for_other_methods: true,
                ..
            } if !methods.is_empty() && !methods.contains(method) => Some(not_found()),
            Mount::Route { methods, .. } if !methods.is_empty() && !methods.contains(method) => {
                let allow: Vec<&str> = methods.iter().map(http::Method::as_str).collect();
                let mut response = json_response(
                    405,
                    serde_json::json!({"error": "method_not_allowed", "message": format!("{} only", allow.join(", "))}),
                );
                response.headers_mut().insert(
                    http::header::ALLOW,
                    http::HeaderValue::from_str(&allow.join(", "))
                        .expect("method names are valid header values"),
                );
                Some(response)
            }
            Mount::Route { .. } => None,
        }
    }
}

/// What stands in front of the verifier, as a gateway would (runner tests
/// only): a rate limit, a token the gateway wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Front {
    /// At most so many requests per window, then 429.
    pub rate_limit: Option<RateLimit>,
    /// A header every request must carry with this value; without it the
    /// gateway answers 407 before the verifier sees the request.
    pub required_header: Option<(http::HeaderName, String)>,
}

/// A deliberately rate-limiting front: at most `requests` in each
/// `window`, then 429, with `Retry-After` when set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests let through per window.
    pub requests: usize,
    /// The window.
    pub window: std::time::Duration,
    /// The `Retry-After` seconds sent with a 429, if any.
    pub retry_after: Option<u64>,
}

/// The state of a [`RateLimit`]: when the current window started and how
/// many requests it let through.
struct Limiter {
    limit: RateLimit,
    state: std::sync::Mutex<(std::time::Instant, usize)>,
}

impl Limiter {
    /// A 429 when the current window is spent.
    fn refuse(&self) -> Option<http::Response<Full<Bytes>>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.0.elapsed() >= self.limit.window {
            *state = (std::time::Instant::now(), 0);
        }
        state.1 += 1;
        if state.1 <= self.limit.requests {
            return None;
        }
        let mut response = json_response(
            429,
            serde_json::json!({"error": "rate_limited", "message": "slow down"}),
        );
        if let Some(seconds) = self.limit.retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, seconds.into());
        }
        Some(response)
    }
}

/// How to run a reference server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The scheme it verifies.
    pub scheme: SchemeId,
    /// Scheme settings.
    pub scheme_config: SchemeConfig,
    /// Where its keys come from.
    pub keys: KeySource,
    /// Which keys may do what.
    pub policy: KeyPolicy,
    /// Log each rejection with the canonical string expected.
    pub diagnose: bool,
    /// A deliberate bug (runner tests only).
    pub defect: Option<Defect>,
    /// A nonce store shared with other instances of one deployment; `None`
    /// gives this server its own in-memory store.
    pub shared_nonces: Option<Arc<dyn NonceStore>>,
    /// Where it answers signed requests (the key lifecycle API is at its
    /// own paths, whatever the mount).
    pub mount: Mount,
    /// Serve TLS with this configuration instead of plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// What stands in front of the verifier (runner tests only).
    pub front: Front,
}

impl ServerConfig {
    /// A correct server for `scheme` with these keys: no policy beyond the
    /// keys' own permissions, no diagnostics, its own in-memory nonce store.
    pub fn new(scheme: SchemeId, scheme_config: SchemeConfig, keys: KeySource) -> Self {
        ServerConfig {
            scheme,
            scheme_config,
            keys,
            policy: KeyPolicy::default(),
            diagnose: false,
            defect: None,
            shared_nonces: None,
            mount: Mount::Root,
            tls: None,
            front: Front::default(),
        }
    }
}

/// A running server; dropping it stops the server.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    _shutdown: oneshot::Sender<()>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (`https://` when it serves TLS), for the runner.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
}

/// Check-then-record in two steps ([`Defect::NonAtomicNonces`]).
#[derive(Default)]
struct RacyNonces(std::sync::Mutex<std::collections::HashSet<String>>);

impl NonceStore for RacyNonces {
    fn check_and_record<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        _: u64,
        _: u64,
    ) -> Answer<'a, Result<(), NonceError>> {
        answer::later(self.check_then_record(format!("{key_id}\n{nonce}")))
    }
}

impl RacyNonces {
    async fn check_then_record(&self, key: String) -> Result<(), NonceError> {
        if self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
        {
            return Err(NonceError::Replayed);
        }
        // The bug: the lock is released between the check and the record.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
        Ok(())
    }
}

/// Starts a server on `addr` (port 0 picks a free port) in the current
/// tokio runtime.
pub async fn start(config: ServerConfig, addr: SocketAddr) -> std::io::Result<RunningServer> {
    let mut scheme_config = config.scheme_config.clone();
    let build = |c: &SchemeConfig| {
        config
            .scheme
            .build(c)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    match config.defect {
        Some(Defect::IgnoresExpiry) => {
            scheme_config.tolerance_past = Some(u64::MAX);
            scheme_config.tolerance_future = Some(u64::MAX);
        }
        Some(Defect::AcceptsAnyFuture) => scheme_config.tolerance_future = Some(u64::MAX),
        Some(Defect::WindowInMilliseconds) => {
            let default_window = build(&scheme_config)?.window();
            scheme_config.tolerance_past = Some(default_window.past / 1000);
            scheme_config.tolerance_future = Some(default_window.future / 1000);
        }
        _ => {}
    }
    let mut scheme = build(&scheme_config)?;
    if let Some(defect) = config.defect.filter(|d| d.in_scheme()) {
        scheme = Box::new(Defective {
            inner: scheme,
            defect,
        });
    }
    let (mut keys, admin): (Arc<dyn KeyLookup>, _) = match &config.keys {
        KeySource::Static(keys) => (Arc::new(keys.clone()), None),
        KeySource::Sql { store, admin_token } => (
            store.clone(),
            admin_token.clone().map(|token| (store.clone(), token)),
        ),
    };
    let instead: Option<fn(&str) -> String> = match config.defect {
        Some(Defect::AcceptsUnknownKeys) => Some(|_| crate::keys::DEFAULT_KEY_ID.to_owned()),
        Some(Defect::CaseInsensitiveKeyIds) => Some(str::to_ascii_lowercase),
        _ => None,
    };
    if let Some(instead) = instead {
        keys = Arc::new(SecondLookup { keys, instead });
    }
    let nonces: Arc<dyn NonceStore> = match config.defect {
        Some(Defect::NeverRecordsNonces) => Arc::new(ForgetfulNonces),
        Some(Defect::NonAtomicNonces) => Arc::new(RacyNonces::default()),
        _ => config
            .shared_nonces
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryNonceStore::default())),
    };
    let policy = if config.defect == Some(Defect::IgnoresKeyPolicy) {
        KeyPolicy::default()
    } else {
        config.policy.clone()
    };
    let verifier = Arc::new(Verifier::new(
        scheme,
        Arc::new(SystemClock),
        nonces,
        keys,
        policy,
    ));
    let service = Arc::new(Service {
        verifier,
        admin,
        diagnose: config.diagnose,
        crash_on_malformed: config.defect == Some(Defect::ServerErrorOnMalformedTimestamp),
        mount: config.mount.clone(),
        limiter: config.front.rate_limit.map(|limit| Limiter {
            limit,
            state: std::sync::Mutex::new((std::time::Instant::now(), 0)),
        }),
        required_header: config.front.required_header.clone(),
    });
    let tls = config.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = &mut stopped => break,
            };
            // A failed accept (e.g. too many open files) must not stop the
            // server, nor spin on the error: wait for connections to close.
            let Ok((stream, _)) = accepted else {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            let (service, tls) = (service.clone(), tls.clone());
            tokio::spawn(async move {
                // Connection errors (client resets, garbage, failed
                // handshakes) end that connection only.
                match tls {
                    None => serve_connection(service, stream).await,
                    Some(acceptor) => {
                        if let Ok(Ok(stream)) =
                            tokio::time::timeout(READ_TIMEOUT, acceptor.accept(stream)).await
                        {
                            serve_connection(service, stream).await;
                        }
                    }
                }
            });
        }
    });
    Ok(RunningServer {
        addr,
        tls: config.tls.is_some(),
        _shutdown: shutdown,
    })
}

/// Serves the HTTP/1.1 requests of one connection.
async fn serve_connection(
    service: Arc<Service>,
    stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
) {
    let service = service_fn(move |req| handle(service.clone(), req));
    let _ = http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn json_response(status: u16, body: serde_json::Value) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response parts are valid")
}

/// What every connection of one server shares.
struct Service {
    verifier: Arc<Verifier>,
    /// The key store and admin token, when the admin API is served.
    admin: Option<(Arc<SqlKeys>, Secret)>,
    diagnose: bool,
    crash_on_malformed: bool,
    mount: Mount,
    limiter: Option<Limiter>,
    required_header: Option<(http::HeaderName, String)>,
}

async fn handle(
    service: Arc<Service>,
    req: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let Service {
        verifier,
        admin,
        diagnose,
        crash_on_malformed,
        mount,
        limiter,
        required_header,
    } = &*service;
    if let Some(refused) = limiter.as_ref().and_then(Limiter::refuse) {
        return Ok(refused);
    }
    if let Some((name, value)) = required_header
        && req
            .headers()
            .get(name)
            .is_none_or(|v| v.as_bytes() != value.as_bytes())
    {
        return Ok(json_response(
            407,
            serde_json::json!({"error": "gateway", "message": format!("the gateway wants {name}")}),
        ));
    }
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(READ_TIMEOUT, Limited::new(body, MAX_BODY).collect())
        .await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Err(_) => {
            return Ok(json_response(
                408,
                serde_json::json!({"error": "request_timeout", "message": "the body did not arrive in time"}),
            ));
        }
        Ok(Err(_)) => {
            return Ok(json_response(
                413,
                serde_json::json!({"error": "body_too_large", "message": format!("bodies are limited to {MAX_BODY} bytes")}),
            ));
        }
    };
    let req = http::Request::from_parts(parts, body);
    if let Some((store, token)) = admin
        && req.uri().path().starts_with(crate::admin::PREFIX)
    {
        let reply = crate::admin::handle(store, token, &req).await;
        let mut response = json_response(reply.status, reply.body);
        if reply.secret {
            response.headers_mut().insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
        }
        return Ok(response);
    }
    if let Some(refused) = mount.refuse(req.method(), req.uri().path()) {
        return Ok(refused);
    }
    Ok(match verifier.verify(&req).await {
        Ok(verified) => json_response(
            200,
            serde_json::json!({"ok": true, "key_id": verified.key_id()}),
        ),
        Err(rejection) => {
            if *diagnose {
                log_rejection(verifier, &req, &rejection);
            }
            if *crash_on_malformed && rejection == Rejection::MalformedTimestamp {
                return Ok(json_response(500, serde_json::json!({"error": "internal"})));
            }
            json_response(
                rejection.status(),
                serde_json::json!({"error": rejection.code(), "message": rejection.to_string()}),
            )
        }
    })
}

/// Logs why a request was rejected and what the server would have signed.
fn log_rejection(verifier: &Verifier, req: &crate::Request, rejection: &Rejection) {
    let scheme = verifier.scheme();
    let canonical = scheme.parse(req).ok().and_then(|params| {
        let mut out = Vec::new();
        scheme
            .canonicalize(req, &params, &mut out)
            .ok()
            .map(|()| out)
    });
    match canonical {
        Some(c) => eprintln!(
            "rejected {} {}: {rejection} ({:?}); expected canonical string: {:?}",
            req.method(),
            req.uri(),
            rejection.code(),
            String::from_utf8_lossy(&c)
        ),
        None => eprintln!(
            "rejected {} {}: {rejection} ({:?})",
            req.method(),
            req.uri(),
            rejection.code()
        ),
    }
}
