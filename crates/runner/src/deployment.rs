//! What a run is given, resolved once before anything is sent: the
//! [`Deployment`] (what is probed: its instances, the scheme they verify
//! and its settings, the key to sign with, and what else the deployment
//! offers the cases) and the [`RunOptions`] (how the run goes whatever is
//! probed: which cases, how many at once, limits, TLS, the headers every
//! request carries, progress).

use std::sync::Arc;
use std::time::Duration;

use sigconform_core::keys::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;

use crate::base::Body;
use crate::reproduce::FromEnv;
use crate::transport::TlsOptions;

/// The largest body the runner sends by default: past a 1 MiB buffer.
pub const DEFAULT_MAX_BODY: usize = 2 * 1024 * 1024;

/// What is probed.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The instances of the deployment, each a URL whose path the probes
    /// go below, or, for a fixed route, to (see [`Deployment::fixed_route`]).
    /// Every instance runs the catalog; with more than one, a request
    /// accepted by the first must be refused by the others
    /// (`replay/cross-instance`).
    pub targets: Vec<String>,
    /// The scheme the target verifies.
    pub scheme: SchemeRef,
    /// Scheme settings (windows, header names, endpoint).
    pub scheme_config: SchemeConfig,
    /// The key id to sign with.
    pub key_id: String,
    /// The secret of that key.
    pub secret: Secret,
    /// The target's key lifecycle API, for the lifecycle cases (`keys`).
    pub admin: Option<AdminAccess>,
    /// A key the target knows but must refuse on one route, for
    /// `keys/key-not-allowed`.
    pub denied_key: Option<DeniedKey>,
    /// An admin-only route of the target (seed 001), for `keys/admin-route`:
    /// the runner's own key, not an admin key, must get 403 there.
    pub admin_path: Option<String>,
    /// The body the target needs (`--body-file`: an event in its
    /// provider's envelope): the runner signs it and makes its variations
    /// inside it. `None`: a profile's sample, else the runner's own.
    pub body: Option<Body>,
    /// The methods the acceptance cases use, each of which must be
    /// accepted. When empty, the scheme's (an endpoint's senders' methods;
    /// GET, POST, PUT, DELETE for an API), and a method the target does not
    /// route makes its case `skip`.
    pub methods: Vec<http::Method>,
    /// Whether the target URL is one route that every probe goes to
    /// exactly (`Some(true)`), or a path the probes go below
    /// (`Some(false)`). `None`: a fixed route for schemes delivered to one
    /// endpoint (`webhook`, `quable`), a path for APIs.
    pub fixed_route: Option<bool>,
    /// Probe a fixed route with a query of the runner's own too (the
    /// route does not match the URL exactly). Without it a fixed route
    /// gets a query only where the scheme signs the query.
    pub with_query: bool,
    /// Statuses the target refuses with besides 4xx answers about the
    /// signature (`--reject-status 404` for a verifier that hides its
    /// route). Empty: learned, where the target's answers show them.
    pub reject_statuses: Vec<u16>,
    /// A path (and query) on the target that a GET reads what the target
    /// kept of the last request it accepted from: every refused write is
    /// read back (it must change nothing), and an accepted one must be kept
    /// exactly as signed. S3 objects are read back without it.
    pub read_back: Option<String>,
}

impl Deployment {
    /// One instance at `target` verifying `scheme` with its default
    /// settings, signed by `key_id` with `secret`, offering nothing else.
    pub fn new(
        target: impl Into<String>,
        scheme: impl Into<SchemeRef>,
        key_id: impl Into<String>,
        secret: Secret,
    ) -> Deployment {
        Deployment {
            targets: vec![target.into()],
            scheme: scheme.into(),
            scheme_config: SchemeConfig::default(),
            key_id: key_id.into(),
            secret,
            admin: None,
            denied_key: None,
            admin_path: None,
            body: None,
            methods: Vec::new(),
            fixed_route: None,
            with_query: false,
            reject_statuses: Vec::new(),
            read_back: None,
        }
    }
}

/// How a run goes, whatever it probes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Only cases whose id matches one of these globs (all when empty).
    pub only: Vec<glob::Pattern>,
    /// Leave out cases whose id matches one of these globs.
    pub skip: Vec<glob::Pattern>,
    /// Time limit for each request.
    pub timeout: Duration,
    /// Limit for each instance's run; cases not finished by then are
    /// `error`.
    pub deadline: Duration,
    /// How many cases run at once (one where they write a resource).
    pub concurrency: usize,
    /// Also run the timing case (advisory; sends `2 * TIMING_SAMPLES` requests,
    /// twice that when the first batch is over the threshold).
    pub timing: bool,
    /// Also replay a request near the end of the window (waits for most
    /// of it: the deadline must be longer than the window).
    pub slow: bool,
    /// How an `https` target's certificate is trusted.
    pub tls: TlsOptions,
    /// Headers every request carries (a gateway's tenant id or token).
    pub extra_headers: Vec<ExtraHeader>,
    /// The largest body the runner sends, in bytes: the `shape` cases past
    /// read buffers larger than this are left out.
    pub max_body: usize,
    /// Told how many cases of an instance's run have finished, out of how
    /// many, as they finish.
    pub progress: Option<Progress>,
}

impl Default for RunOptions {
    /// The whole catalog, a 5 s request timeout, a 60 s deadline, 8 cases
    /// at a time, and no optional cases.
    fn default() -> RunOptions {
        RunOptions {
            only: Vec::new(),
            skip: Vec::new(),
            timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
            concurrency: 8,
            timing: false,
            slow: false,
            tls: TlsOptions::default(),
            extra_headers: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
            progress: None,
        }
    }
}

impl RunOptions {
    /// Whether `--only` and `--skip` select the case `id`.
    pub fn selects(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|g| g.matches(id)))
            && !self.skip.iter().any(|g| g.matches(id))
    }

    /// The extra headers whose values came from the environment: reports
    /// and commands name the variable, never the value.
    pub(crate) fn values_from_env(&self) -> Vec<FromEnv> {
        self.extra_headers
            .iter()
            .filter_map(|h| {
                Some(FromEnv {
                    name: h.name.as_str().to_owned(),
                    var: h.from_env.clone()?,
                    value: h.value.expose().to_owned(),
                })
            })
            .collect()
    }
}

/// Access to a target's key lifecycle API.
#[derive(Debug, Clone)]
pub struct AdminAccess {
    /// Where the API is (`http://host:port`; the paths are seed 002's).
    pub url: String,
    /// The admin bearer token.
    pub token: Secret,
}

/// A header every request of a run carries, in front of the signature
/// (for a gateway that wants a tenant id, a bearer token or basic auth).
#[derive(Debug, Clone)]
pub struct ExtraHeader {
    /// Its name.
    pub name: http::HeaderName,
    /// Its value.
    pub value: Secret,
    /// The environment variable the value came from; such a value is
    /// redacted like the secret (commands read the variable instead).
    pub from_env: Option<String>,
}

/// A key the target knows (its signatures verify) but must not accept on
/// `path`: seed 001's `allowed_key_ids` leaves it out there.
#[derive(Debug, Clone)]
pub struct DeniedKey {
    /// Its id.
    pub key_id: String,
    /// Its secret.
    pub secret: Secret,
    /// A path (and query) the target restricts to other keys.
    pub path: String,
}

/// A progress callback: `(finished, total)` cases.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}
