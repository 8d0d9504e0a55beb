//! The reference server: a verifying HTTP server on loopback, built on the
//! library, that the runner probes and client authors test signers against.
//!
//! Every path it is mounted at accepts signed requests: 200 with a small
//! JSON body when the request verifies; otherwise the [`Rejection`]'s
//! status with `{"error": REASON, "message": ...}`. It can be mounted the
//! way applications are deployed ([`Mount`]): at the root, under a path
//! prefix, or as one route with its methods; and it can serve TLS. In
//! diagnose mode every rejection is logged with the canonical string the
//! server expected — never the secret. [`built_in`] starts the built-in
//! deployments, a server for a scheme mounted as its senders deliver, with
//! keys, a key store and key policy routes.
//!
//! For the runner's own tests a server can be started altered from outside
//! ([`start_altered`] with an [`Alteration`], such as a deliberate
//! [`Defect`]): each defect swaps a part (window, nonce store, key lookup,
//! the scheme's parsing) or answers 500 to some requests; the verifier has
//! no special cases for any.

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

use crate::sql_keys::SqlKeys;
use sigconform_core::keys::{KeyLookup, KeyPolicy, Secret, StaticKeys};
use sigconform_core::nonce::{MemoryNonceStore, NonceStore};
use sigconform_core::registry::SchemeRef;
use sigconform_core::request::Request;
use sigconform_core::scheme::{Scheme, SchemeConfig};

pub mod admin;
pub mod built_in;
mod defect;
mod objects;
pub mod redis_nonces;
pub mod sql_keys;
pub mod tls;

pub use objects::Keeping;
use sigconform_core::{Rejection, SystemClock, Verifier};
pub use sigconform_defects::{Defect, Gate, ScopePart};

/// Largest body the server reads; a larger one is answered 413.
pub const MAX_BODY: usize = 2 << 20;

/// How long a client may take to send its headers, and then its body: a
/// client that stalls must not hold a connection forever.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Where a reference server's keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Keys fixed at start, by id and secret (each made into a key as the
    /// scheme says: a profile may decode its secrets).
    Static(Vec<(String, Secret)>),
    /// Keys in a SQL database; with an admin token, the key lifecycle API
    /// ([`crate::admin`]) is served too.
    Sql {
        /// The store.
        store: Arc<SqlKeys>,
        /// The bearer token of the admin API.
        admin_token: Option<Secret>,
    },
}

impl KeySource {
    /// Keys fixed at start, from `(id, secret)` pairs.
    pub fn secrets<I, K, S>(pairs: I) -> KeySource
    where
        I: IntoIterator<Item = (K, S)>,
        K: Into<String>,
        S: Into<String>,
    {
        KeySource::Static(
            pairs
                .into_iter()
                .map(|(id, secret)| (id.into(), Secret::new(secret)))
                .collect(),
        )
    }
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
    pub scheme: SchemeRef,
    /// Scheme settings.
    pub scheme_config: SchemeConfig,
    /// Where its keys come from.
    pub keys: KeySource,
    /// Which keys may do what.
    pub policy: KeyPolicy,
    /// Log each rejection with the canonical string expected.
    pub diagnose: bool,
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
    /// Whether it keeps what verified PUTs send and answers verified GETs
    /// with it, as an object store does ([`objects`]): by default for
    /// `sigv4` under S3's rules.
    pub objects: bool,
}

impl ServerConfig {
    /// A correct server for `scheme` with these keys: no policy beyond the
    /// keys' own permissions, no diagnostics, its own in-memory nonce store.
    pub fn new(scheme: impl Into<SchemeRef>, scheme_config: SchemeConfig, keys: KeySource) -> Self {
        let scheme = scheme.into();
        let objects = matches!(
            scheme,
            SchemeRef::Seed(sigconform_core::scheme::SchemeId::Sigv4)
        ) && scheme_config.service.as_deref().is_none_or(|s| s == "s3");
        ServerConfig {
            objects,
            scheme,
            scheme_config,
            keys,
            policy: KeyPolicy::default(),
            diagnose: false,
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

/// A change made to a server's parts from outside it, before it starts:
/// what the runner's tests start servers with ([`Defect`]). Each method
/// leaves its part as it is unless the alteration is about that part.
pub trait Alteration: Send + Sync + 'static {
    /// Changes the scheme's configuration; `default` is its window.
    fn configure(&self, _config: &mut SchemeConfig, _default: sigconform_core::time::Window) {}

    /// The scheme the server verifies with.
    fn scheme(&self, inner: Box<dyn Scheme>) -> Box<dyn Scheme> {
        inner
    }

    /// The key lookup (`make_key` makes a key from a secret as the
    /// scheme does).
    fn keys(&self, keys: Arc<dyn KeyLookup>, _make_key: sql_keys::KeyMaker) -> Arc<dyn KeyLookup> {
        keys
    }

    /// A nonce store in place of the server's own.
    fn nonces(&self) -> Option<Arc<dyn NonceStore>> {
        None
    }

    /// The key policy.
    fn policy(&self, policy: &KeyPolicy) -> KeyPolicy {
        policy.clone()
    }

    /// Whether `req` reaches the handler without being verified (a check
    /// wired where only some requests pass).
    fn ungated(&self, _req: &Request) -> bool {
        false
    }

    /// Whether the server answers 500 to `req`, which `scheme` rejected
    /// (`rejection`) or is about to verify (`None`).
    fn crashes(
        &self,
        _scheme: &dyn Scheme,
        _req: &Request,
        _rejection: Option<&Rejection>,
    ) -> bool {
        false
    }

    /// Whether the answers to rejected requests say what the verifier
    /// computed for them ([`Self::disclose`]): only then does the server
    /// compute it.
    fn discloses(&self) -> bool {
        false
    }

    /// Adds to the answer of a rejected `req` (its JSON `body` and its
    /// `headers`) what the verifier computed for it: the expected signed
    /// string and tag, where it got that far. Nothing by default: a correct
    /// server never says it.
    fn disclose(
        &self,
        _scheme: &dyn Scheme,
        _req: &Request,
        _expected: Option<&sigconform_core::Expected>,
        _body: &mut serde_json::Value,
        _headers: &mut http::HeaderMap,
    ) {
    }

    /// How an object store keeps what a PUT sends.
    fn keeping(&self) -> Keeping {
        Keeping::AsSigned
    }
}

/// Starts a server on `addr` (port 0 picks a free port) in the current
/// tokio runtime.
pub async fn start(config: ServerConfig, addr: SocketAddr) -> std::io::Result<RunningServer> {
    start_altered(config, None, addr).await
}

/// The verifier `config` describes, with `alteration`'s changes, and the
/// key store and token of its key lifecycle API if it serves one.
#[allow(clippy::type_complexity)]
fn verifier(
    config: &ServerConfig,
    alteration: Option<&dyn Alteration>,
) -> std::io::Result<(Arc<Verifier>, Option<(Arc<SqlKeys>, Secret)>)> {
    let invalid = |e: sigconform_core::scheme::ConfigError| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    };
    let mut scheme_config = config.scheme_config.clone();
    if let Some(alteration) = alteration {
        let window = config
            .scheme
            .build(&scheme_config)
            .map_err(invalid)?
            .window();
        alteration.configure(&mut scheme_config, window);
    }
    let mut scheme = config.scheme.build(&scheme_config).map_err(invalid)?;
    let (mut keys, admin): (Arc<dyn KeyLookup>, _) = match &config.keys {
        KeySource::Static(pairs) => {
            let mut keys = StaticKeys::new();
            for (id, secret) in pairs {
                keys.insert_key(scheme.key(id, secret).map_err(invalid)?);
            }
            (Arc::new(keys), None)
        }
        KeySource::Sql { store, admin_token } => (
            store.clone(),
            admin_token.clone().map(|token| (store.clone(), token)),
        ),
    };
    let mut nonces: Arc<dyn NonceStore> = config
        .shared_nonces
        .clone()
        .unwrap_or_else(|| Arc::new(MemoryNonceStore::default()));
    let mut policy = config.policy.clone();
    if let Some(alteration) = alteration {
        scheme = alteration.scheme(scheme);
        let make_key =
            sql_keys::key_maker(config.scheme.build(&scheme_config).map_err(invalid)?.into());
        keys = alteration.keys(keys, make_key);
        nonces = alteration.nonces().unwrap_or(nonces);
        policy = alteration.policy(&policy);
    }
    let verifier = Arc::new(Verifier::new(
        scheme,
        Arc::new(SystemClock),
        nonces,
        keys,
        policy,
    ));
    Ok((verifier, admin))
}

/// [`start`], with its parts changed by `alteration`.
pub async fn start_altered(
    config: ServerConfig,
    alteration: Option<Arc<dyn Alteration>>,
    addr: SocketAddr,
) -> std::io::Result<RunningServer> {
    let (verifier, admin) = verifier(&config, alteration.as_deref())?;
    let service = Arc::new(Service {
        verifier,
        admin,
        diagnose: config.diagnose,
        alteration,
        mount: config.mount.clone(),
        limiter: config.front.rate_limit.map(|limit| Limiter {
            limit,
            state: std::sync::Mutex::new((std::time::Instant::now(), 0)),
        }),
        required_header: config.front.required_header.clone(),
        objects: config.objects.then(objects::Objects::default),
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
    /// An alteration that may answer 500 (its other changes are in the
    /// verifier's parts).
    alteration: Option<Arc<dyn Alteration>>,
    mount: Mount,
    limiter: Option<Limiter>,
    required_header: Option<(http::HeaderName, String)>,
    /// The objects kept, where the server is an object store.
    objects: Option<objects::Objects>,
}

async fn handle(
    service: Arc<Service>,
    req: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let req = match service.read(req).await {
        Ok(req) => req,
        Err(refused) => return Ok(refused),
    };
    if let Some((store, token)) = &service.admin
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
    if let Some(refused) = service.mount.refuse(req.method(), req.uri().path()) {
        return Ok(refused);
    }
    Ok(service.verify(&req).await)
}

impl Service {
    /// The request with its whole body, past what stands in front of the
    /// verifier (a rate limit, a gateway's header); or the answer that
    /// refuses it there.
    async fn read(
        &self,
        req: http::Request<Incoming>,
    ) -> Result<sigconform_core::Request, http::Response<Full<Bytes>>> {
        if let Some(refused) = self.limiter.as_ref().and_then(Limiter::refuse) {
            return Err(refused);
        }
        if let Some((name, value)) = &self.required_header
            && req
                .headers()
                .get(name)
                .is_none_or(|v| v.as_bytes() != value.as_bytes())
        {
            return Err(json_response(
                407,
                serde_json::json!({"error": "gateway", "message": format!("the gateway wants {name}")}),
            ));
        }
        let (parts, body) = req.into_parts();
        match tokio::time::timeout(READ_TIMEOUT, Limited::new(body, MAX_BODY).collect()).await {
            Ok(Ok(collected)) => Ok(http::Request::from_parts(parts, collected.to_bytes())),
            Err(_) => Err(json_response(
                408,
                serde_json::json!({"error": "request_timeout", "message": "the body did not arrive in time"}),
            )),
            Ok(Err(_)) => Err(json_response(
                413,
                serde_json::json!({"error": "body_too_large", "message": format!("bodies are limited to {MAX_BODY} bytes")}),
            )),
        }
    }

    /// The verifier's answer: 200 with the key id, or the rejection's
    /// status and reason (500 where an alteration crashes).
    async fn verify(&self, req: &sigconform_core::Request) -> http::Response<Full<Bytes>> {
        let crashes = |rejection: Option<&Rejection>| {
            self.alteration
                .as_ref()
                .is_some_and(|a| a.crashes(self.verifier.scheme(), req, rejection))
        };
        if crashes(None) {
            return json_response(500, serde_json::json!({"error": "internal"}));
        }
        if self.alteration.as_ref().is_some_and(|a| a.ungated(req)) {
            return json_response(200, serde_json::json!({"ok": true, "verified": false}));
        }
        let keeping = self
            .alteration
            .as_ref()
            .map_or(Keeping::AsSigned, |a| a.keeping());
        if keeping == Keeping::BeforeVerifying {
            self.keep_before_verifying(req);
        }
        match self.verifier.verify(req).await {
            Ok(verified) => self.stored(req, keeping).unwrap_or_else(|| {
                json_response(
                    200,
                    serde_json::json!({"ok": true, "key_id": verified.key_id()}),
                )
            }),
            Err(rejection) => {
                if self.diagnose {
                    log_rejection(&self.verifier, req, &rejection);
                }
                if crashes(Some(&rejection)) {
                    return json_response(500, serde_json::json!({"error": "internal"}));
                }
                let mut body = serde_json::json!({"error": rejection.code(), "message": rejection.to_string()});
                let mut headers = http::HeaderMap::new();
                if let Some(alteration) = self.alteration.as_ref().filter(|a| a.discloses()) {
                    let expected = self.verifier.expected(req).await;
                    let scheme = self.verifier.scheme();
                    alteration.disclose(scheme, req, expected.as_ref(), &mut body, &mut headers);
                }
                let mut response = json_response(rejection.status(), body);
                response.headers_mut().extend(headers);
                response
            }
        }
    }
}

impl Service {
    /// What an object store answers to a verified `req`: a PUT kept as
    /// `keeping` says, a GET read back (404 where nothing is kept), a DELETE
    /// done (204); `None` for a server that keeps no objects, or another
    /// method.
    fn stored(
        &self,
        req: &sigconform_core::Request,
        keeping: Keeping,
    ) -> Option<http::Response<Full<Bytes>>> {
        let objects = self.objects.as_ref()?;
        match *req.method() {
            http::Method::PUT => {
                if keeping != Keeping::BeforeVerifying {
                    objects.put(req, keeping);
                }
                None
            }
            http::Method::GET => Some(match objects.get(req) {
                Some(body) => http::Response::builder()
                    .status(200)
                    .header("content-type", "application/octet-stream")
                    .body(Full::new(body))
                    .expect("static response parts are valid"),
                None => json_response(
                    404,
                    serde_json::json!({"error": "no_such_key", "message": "nothing is kept here"}),
                ),
            }),
            http::Method::DELETE => {
                objects.delete(req);
                Some(
                    http::Response::builder()
                        .status(204)
                        .body(Full::new(Bytes::new()))
                        .expect("static response parts are valid"),
                )
            }
            _ => None,
        }
    }

    /// A store that writes before it verifies: a PUT's payload kept
    /// whatever its signature.
    fn keep_before_verifying(&self, req: &sigconform_core::Request) {
        if let Some(objects) = &self.objects
            && req.method() == http::Method::PUT
        {
            objects.put(req, Keeping::BeforeVerifying);
        }
    }
}

/// Logs why a request was rejected and what the server would have signed.
fn log_rejection(verifier: &Verifier, req: &sigconform_core::Request, rejection: &Rejection) {
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
