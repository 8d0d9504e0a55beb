//! The test vectors: their file format, and running them against the
//! reference implementation.
//!
//! A vector file (`vectors/<scheme>.yaml`, JSON Schema in
//! `vectors/schema.json`) holds cases; a case is a sequence of steps
//! against one verifier (one clock, one nonce store), so replay sequences
//! are data too. Each step holds:
//!
//! - `request`: the concrete request the verifier receives;
//! - `sign`: how it was signed ([`Recipe`]), including any deliberate
//!   tampering, so a reader sees what changed after signing;
//! - `canonical` / `tag`: the string a correct verifier signs for this
//!   request and the tag the file's key gives it, so an implementer sees
//!   the first step where they differ;
//! - `result` (`valid`, `invalid`, `acceptable`) and `reason`.
//!
//! `request`, `canonical` and `tag` are derived from the rest by
//! [`fill`] (`cargo xtask vectors fill`); the tests check they stay in step,
//! and the Python and Node cross-checks recompute them independently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::keys::{DEFAULT_KEY_ID, KeyPolicy, StaticKeys};
use crate::nonce::MemoryNonceStore;
use crate::registry::SchemeRef;
use crate::request::Request;
use crate::scheme::{Scheme, SchemeConfig};
use crate::tamper::{Header, Recipe, RecipeError, build_uri};
use crate::time::FixedClock;
use crate::{ReasonCode, Rejection, Verifier};

/// One vector file: all cases of one scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile {
    /// The scheme every case uses.
    pub scheme: SchemeRef,
    /// What the file covers.
    pub description: String,
    /// Where the rules come from (seed documents, provider documentation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Key id -> secret. Test secrets only; published on purpose.
    pub keys: BTreeMap<String, String>,
    /// Scheme configuration for every case without its own.
    #[serde(default, skip_serializing_if = "is_default")]
    pub config: SchemeConfig,
    /// Key policy for every case without its own.
    #[serde(default, skip_serializing_if = "is_default")]
    pub policy: KeyPolicy,
    /// The cases.
    pub cases: Vec<Case>,
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

/// One case: a sequence of requests against one verifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Stable identifier, `<scheme>-<category>-<name>`.
    pub id: String,
    /// One line saying what the case checks.
    pub description: String,
    /// The rules this case tests, by name: each resolves, for the file's
    /// scheme, to a rule of `docs/rules/` ([`crate::registry::SchemeRef::rule`]).
    pub flags: Vec<String>,
    /// Scheme configuration replacing the file's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<SchemeConfig>,
    /// Key policy replacing the file's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<KeyPolicy>,
    /// Keys replacing the file's keys of the same ids (a provider's test
    /// with a secret of its own).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, String>,
    /// The requests, in order.
    pub steps: Vec<Step>,
}

/// What a verifier must do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    /// Must be accepted.
    Valid,
    /// Must be rejected (with `reason`, for the reference implementation).
    Invalid,
    /// Either is conformant; the reference implementation gives `reason`.
    Acceptable,
}

/// One request of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The verifier's clock, in milliseconds since the epoch.
    pub now_ms: u64,
    /// How the request was signed (absent: the headers are hand-written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<Recipe>,
    /// The request the verifier receives.
    pub request: HttpRequest,
    /// The string a verifier signs for `request` (when it parses that far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    /// `canonical` in base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_base64: Option<String>,
    /// `sigv4`: the canonical request, whose SHA-256 ends `canonical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_request: Option<String>,
    /// The correct tag for `canonical` with the named key, encoded as the
    /// scheme encodes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The expected outcome.
    pub result: Expected,
    /// The reference implementation's rejection reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReasonCode>,
}

/// A request as written in a vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequest {
    /// The method, as sent.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, without `?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The headers, in order; a name may repeat.
    #[serde(default)]
    pub headers: Vec<Header>,
    /// The body, as UTF-8 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body in base64, for bodies that are not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

/// A vector file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a well-formed vector file.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What the YAML parser said.
        message: String,
    },
    /// A case cannot be built (bad request, scheme configuration, recipe).
    #[error("case {case}: {message}")]
    Case {
        /// The case id.
        case: String,
        /// What is wrong.
        message: String,
    },
}

fn case_error(case: &Case, message: impl std::fmt::Display) -> VectorError {
    VectorError::Case {
        case: case.id.clone(),
        message: message.to_string(),
    }
}

/// Reads one vector file.
pub fn load_file(path: &Path) -> Result<VectorFile, VectorError> {
    let text = std::fs::read_to_string(path).map_err(|source| VectorError::Io {
        path: path.to_owned(),
        source,
    })?;
    from_yaml(path, &text)
}

/// Reads one vector file's text; `origin` names it in errors.
pub fn from_yaml(origin: &Path, text: &str) -> Result<VectorFile, VectorError> {
    serde_saphyr::from_str(text).map_err(|e| VectorError::Format {
        path: origin.to_owned(),
        message: e.to_string(),
    })
}

/// The vector files (`*.yaml`) in `dir`, sorted by name.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>, VectorError> {
    let entries = std::fs::read_dir(dir).map_err(|source| VectorError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Writes a vector file back as YAML.
pub fn to_yaml(file: &VectorFile) -> Result<String, VectorError> {
    serde_saphyr::to_string(file).map_err(|e| VectorError::Format {
        path: PathBuf::new(),
        message: e.to_string(),
    })
}

/// A vector file as JSON, for other languages: with the rules its cases'
/// flags name (`rules`), and for a profile's file the profile itself
/// (`profile`), so that an implementation can read the scheme from the
/// file as well as the cases.
pub fn to_json(file: &VectorFile) -> serde_json::Value {
    let mut json = serde_json::to_value(file).expect("vector files serialise");
    // The rules the flags name, resolved for this scheme: id, text, source.
    let names: std::collections::BTreeSet<&String> =
        file.cases.iter().flat_map(|c| &c.flags).collect();
    let rules: serde_json::Map<String, serde_json::Value> = names
        .into_iter()
        .filter_map(|name| {
            let rule = file.scheme.rule(name)?;
            let value =
                serde_json::json!({"id": rule.id, "text": rule.text, "source": rule.source});
            Some((name.clone(), value))
        })
        .collect();
    if let Some(object) = json.as_object_mut() {
        object.insert("rules".into(), rules.into());
    }
    if let (SchemeRef::Profile(profile), Some(object)) = (&file.scheme, json.as_object_mut()) {
        let profile = serde_json::to_value(profile.as_ref()).expect("profiles serialise");
        object.insert("profile".into(), profile);
    }
    json
}

impl VectorFile {
    /// The keys of `case`: the file's, with the case's own in their place.
    ///
    /// Each key is made as the scheme makes keys (a profile may decode its
    /// secrets: `whsec_` and base64).
    pub fn key_store_for(&self, case: &Case) -> Result<StaticKeys, VectorError> {
        let scheme = self
            .scheme
            .build(&self.config)
            .map_err(|e| VectorError::Format {
                path: PathBuf::from(self.scheme.name()),
                message: e.to_string(),
            })?;
        let mut keys = StaticKeys::new();
        let mut secrets = self.keys.clone();
        secrets.extend(case.keys.clone());
        for (id, secret) in &secrets {
            let key = scheme
                .key(id, &crate::keys::Secret::new(secret.clone()))
                .map_err(|e| VectorError::Format {
                    path: PathBuf::from(self.scheme.name()),
                    message: e.to_string(),
                })?;
            keys.insert_key(key);
        }
        Ok(keys)
    }

    /// The scheme as configured for `case`.
    pub fn scheme_for(&self, case: &Case) -> Result<Box<dyn Scheme>, VectorError> {
        self.scheme
            .build(case.config.as_ref().unwrap_or(&self.config))
            .map_err(|e| case_error(case, e))
    }

    /// The key policy for `case`.
    pub fn policy_for(&self, case: &Case) -> KeyPolicy {
        case.policy.clone().unwrap_or_else(|| self.policy.clone())
    }
}

impl HttpRequest {
    /// The body bytes.
    pub fn body_bytes(&self) -> Result<Vec<u8>, String> {
        match (&self.body, &self.body_base64) {
            (Some(_), Some(_)) => Err("both body and body_base64 are set".into()),
            (Some(text), None) => Ok(text.clone().into_bytes()),
            (None, Some(b64)) => STANDARD
                .decode(b64)
                .map_err(|e| format!("body_base64: {e}")),
            (None, None) => Ok(Vec::new()),
        }
    }

    /// Builds the request.
    pub fn to_request(&self) -> Result<Request, String> {
        let mut builder = http::Request::builder()
            .method(self.method.as_str())
            .uri(build_uri(&self.path, self.query.as_deref()).map_err(|e| e.to_string())?);
        for Header(name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder
            .body(self.body_bytes()?.into())
            .map_err(|e| e.to_string())
    }

    /// Replaces the headers by those of `req` (names are lower case).
    /// Takes the headers of a signed `req`, and its query where the scheme
    /// added to it (Twilio's body hash).
    fn set_signed_from(&mut self, req: &Request) {
        self.query = req.uri().query().map(str::to_owned);
        self.headers = req
            .headers()
            .iter()
            .map(|(name, value)| {
                Header(
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
    }
}

/// What the reference implementation derives from one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The request the recipe produces (steps with `sign` only).
    pub signed_request: Option<HttpRequest>,
    /// The canonical string of the received request, if it parses.
    pub canonical: Option<Vec<u8>>,
    /// What the scheme hashes into `canonical`, where it has such a stage.
    pub canonical_request: Option<String>,
    /// The correct tag for `canonical`, if its key exists.
    pub tag: Option<String>,
}

impl Derived {
    /// `canonical` as the vector fields `canonical` / `canonical_base64`.
    pub fn canonical_fields(&self) -> (Option<String>, Option<String>) {
        match &self.canonical {
            None => (None, None),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => (Some(text.to_owned()), None),
                Err(_) => (None, Some(STANDARD.encode(bytes))),
            },
        }
    }
}

/// Derives the concrete request, canonical string and tag of `step`.
pub fn derive(
    scheme: &dyn Scheme,
    keys: &StaticKeys,
    case: &Case,
    step: &Step,
) -> Result<Derived, VectorError> {
    let mut received = step.request.clone();
    let signed_request = match &step.sign {
        None => None,
        Some(recipe) => {
            let key_id = recipe
                .secret_of
                .as_deref()
                .or(recipe.input.key_id.as_deref())
                .unwrap_or(DEFAULT_KEY_ID);
            let key = keys.get(key_id).ok_or_else(|| {
                case_error(
                    case,
                    format!("recipe key `{key_id}` is not in the file's keys"),
                )
            })?;
            let req = step.request.to_request().map_err(|e| case_error(case, e))?;
            let signed = recipe
                .apply(scheme, &req, key)
                .map_err(|e: RecipeError| case_error(case, e))?;
            received.set_signed_from(&signed);
            Some(received.clone())
        }
    };

    let req = received.to_request().map_err(|e| case_error(case, e))?;
    let (canonical, tag, canonical_request) = match scheme.parse(&req) {
        Err(_) => (None, None, None),
        Ok(params) => {
            let canonical_request = scheme
                .canonical_request(&req, &params)
                .and_then(Result::ok)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
            let mut canonical = Vec::new();
            match scheme.canonicalize(&req, &params, &mut canonical) {
                Err(_) => (None, None, None),
                Ok(()) => {
                    let key_id = params.key_id.as_deref().unwrap_or(DEFAULT_KEY_ID);
                    let tag = keys.get(key_id).map(|key| {
                        let tag = scheme
                            .signing_key(key, &params)
                            .sign(params.algorithm, &canonical);
                        scheme.tag_encoding().encode(tag.as_bytes())
                    });
                    (Some(canonical), tag, canonical_request)
                }
            }
        }
    };
    Ok(Derived {
        signed_request,
        canonical,
        canonical_request,
        tag,
    })
}

/// Recomputes every derived field of `file` (`cargo xtask vectors fill`).
pub fn fill(file: &VectorFile) -> Result<VectorFile, VectorError> {
    let mut out = file.clone();
    for case in &mut out.cases {
        let keys = file.key_store_for(case)?;
        let scheme = file.scheme_for(case)?;
        let snapshot = case.clone();
        for step in &mut case.steps {
            let derived = derive(scheme.as_ref(), &keys, &snapshot, step)?;
            if let Some(req) = derived.signed_request.clone() {
                step.request = req;
            }
            (step.canonical, step.canonical_base64) = derived.canonical_fields();
            step.canonical_request = derived.canonical_request;
            step.tag = derived.tag;
        }
    }
    Ok(out)
}

/// The outcome of one step against the reference implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// What was derived from the step.
    pub derived: Derived,
    /// What the verifier answered.
    pub verdict: Result<String, Rejection>,
}

/// Runs every step of `case` through one verifier, in order.
pub async fn run_case(file: &VectorFile, case: &Case) -> Result<Vec<StepOutcome>, VectorError> {
    let keys = file.key_store_for(case)?;
    let clock = Arc::new(FixedClock::new(0));
    let verifier = Verifier::new(
        file.scheme_for(case)?,
        clock.clone(),
        Arc::new(MemoryNonceStore::new(1024)),
        Arc::new(keys.clone()),
        file.policy_for(case),
    );
    let mut outcomes = Vec::with_capacity(case.steps.len());
    for step in &case.steps {
        let derived = derive(verifier.scheme(), &keys, case, step)?;
        clock.set(step.now_ms);
        let req = step.request.to_request().map_err(|e| case_error(case, e))?;
        let verdict = verifier.verify(&req).await.map(|v| v.key_id().to_owned());
        outcomes.push(StepOutcome { derived, verdict });
    }
    Ok(outcomes)
}

/// Every difference between `case`'s expectations and the reference
/// implementation, each naming the step and the first point of divergence.
pub async fn check_case(file: &VectorFile, case: &Case) -> Result<Vec<String>, VectorError> {
    let outcomes = run_case(file, case).await?;
    let mut problems = Vec::new();
    for (i, (step, outcome)) in case.steps.iter().zip(&outcomes).enumerate() {
        let at = format!("{} step {}", case.id, i + 1);
        if let Some(req) = &outcome.derived.signed_request
            && *req != step.request
        {
            problems.push(format!(
                "{at}: the recipe produces other headers than `request` holds (run `cargo xtask vectors fill`)\n  recipe:  {:?}\n  request: {:?}",
                req.headers, step.request.headers
            ));
        }
        let (canonical, canonical_base64) = outcome.derived.canonical_fields();
        if canonical != step.canonical || canonical_base64 != step.canonical_base64 {
            problems.push(format!(
                "{at}: canonical string differs\n{}",
                first_divergence(
                    step.canonical.as_deref().unwrap_or("<none>"),
                    canonical.as_deref().unwrap_or("<none>")
                )
            ));
        }
        if outcome.derived.canonical_request != step.canonical_request {
            problems.push(format!(
                "{at}: canonical request differs\n{}",
                first_divergence(
                    step.canonical_request.as_deref().unwrap_or("<none>"),
                    outcome
                        .derived
                        .canonical_request
                        .as_deref()
                        .unwrap_or("<none>")
                )
            ));
        }
        if outcome.derived.tag != step.tag {
            problems.push(format!(
                "{at}: tag differs: vector {:?}, reference {:?}",
                step.tag, outcome.derived.tag
            ));
        }
        let verdict_ok = match (&outcome.verdict, step.result, step.reason) {
            (Ok(_), Expected::Valid, None) => true,
            (Err(r), Expected::Invalid | Expected::Acceptable, Some(reason)) => r.code() == reason,
            (Ok(_), Expected::Acceptable, None) => true,
            _ => false,
        };
        if !verdict_ok {
            problems.push(format!(
                "{at}: expected {:?}{}, reference gave {}",
                step.result,
                step.reason.map(|r| format!(" ({r:?})")).unwrap_or_default(),
                match &outcome.verdict {
                    Ok(key) => format!("accept (key {key})"),
                    Err(r) => format!("reject {:?}: {r}", r.code()),
                }
            ));
        }
    }
    Ok(problems)
}

/// Describes where two canonical strings first differ, line by line.
pub fn first_divergence(expected: &str, actual: &str) -> String {
    for (n, (e, a)) in expected.split('\n').zip(actual.split('\n')).enumerate() {
        if e != a {
            return format!(
                "  line {}: expected {e:?}\n  line {}: actual   {a:?}",
                n + 1,
                n + 1
            );
        }
    }
    let (e, a) = (expected.split('\n').count(), actual.split('\n').count());
    format!("  expected {e} lines, actual {a} lines")
}
