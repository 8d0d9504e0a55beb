//! Secrets, keys and asynchronous key lookup.
//!
//! Verifiers find the secret for a request by its key id through
//! [`KeyLookup`], which is asynchronous because real deployments ask a
//! database (seed 000's `getSecretKey(integrationId)`). [`StaticKeys`] is the
//! in-memory implementation used by tests, vectors and the reference server.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::answer::{self, Answer};
use crate::crypto::MacKey;

/// The key id under which schemes without key ids (`webhook`, `quable`)
/// look up their one shared secret.
pub const DEFAULT_KEY_ID: &str = "default";

/// A shared secret. Its `Debug` and `Display` never show the value, so it
/// cannot leak into logs, reports or panic messages by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret string; its UTF-8 bytes are the HMAC key.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// A new secret: 32 bytes from the operating system's random number
    /// generator, in standard base64 (44 characters). Fails only when the
    /// operating system has no randomness to give.
    pub fn generate() -> Result<Self, getrandom::Error> {
        use base64::Engine as _;
        let bytes = crate::crypto::random_bytes::<32>()?;
        Ok(Secret(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    }

    /// The secret itself. Call sites that need it are easy to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A key as the verifier uses it: its id, its precomputed HMAC state, and
/// what it may do.
#[derive(Debug, Clone)]
pub struct Key {
    id: String,
    mac: MacKey,
    /// `None`: unrestricted (keys given in configuration).
    permissions: Option<Permissions>,
}

impl Key {
    /// An unrestricted key whose HMAC key is `bytes` (a secret a scheme
    /// decodes, such as a `whsec_` secret's base64).
    pub fn from_bytes(id: impl Into<String>, bytes: &[u8]) -> Self {
        Key {
            id: id.into(),
            mac: MacKey::new(bytes),
            permissions: None,
        }
    }

    /// An unrestricted key with id `id` and secret `secret`.
    pub fn new(id: impl Into<String>, secret: &Secret) -> Self {
        Key {
            id: id.into(),
            mac: MacKey::new(secret.expose().as_bytes()),
            permissions: None,
        }
    }

    /// A key that may do only what `permissions` allow.
    pub fn with_permissions(
        id: impl Into<String>,
        secret: &Secret,
        permissions: Permissions,
    ) -> Self {
        Key {
            permissions: Some(permissions),
            ..Key::new(id, secret)
        }
    }

    /// This key, allowed only what `permissions` allow.
    pub fn restricted_to(self, permissions: Permissions) -> Self {
        Key {
            permissions: Some(permissions),
            ..self
        }
    }

    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The keyed HMAC state.
    pub fn mac(&self) -> &MacKey {
        &self.mac
    }

    /// What the key may do (`None`: anything).
    pub fn permissions(&self) -> Option<Permissions> {
        self.permissions
    }

    /// Whether the key may sign a `method` request for `path`.
    pub fn may(&self, method: &http::Method, path: &str) -> bool {
        self.permissions
            .is_none_or(|p| p.contains(Permissions::required_for(method, path)))
    }
}

bitflags::bitflags! {
    /// Seed 002's permissions, stored with each key and checked per request
    /// after the signature (403 when missing).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Permissions: u8 {
        /// Read access: `GET`, `HEAD` and `OPTIONS` requests.
        const READ = 1;
        /// Write access: every other method.
        const WRITE = 1 << 1;
        /// Administrative routes: paths under `/api/v1/admin/`.
        const ADMIN = 1 << 2;
        /// Agent-to-agent routes: paths under `/a2a/`.
        const A2A = 1 << 3;
    }
}

impl Permissions {
    /// The names used in the admin API and the key store, in order.
    pub const NAMES: [(&'static str, Permissions); 4] = [
        ("read", Permissions::READ),
        ("write", Permissions::WRITE),
        ("admin", Permissions::ADMIN),
        ("a2a", Permissions::A2A),
    ];

    /// The permission a request needs. The seed names the permissions but
    /// not the routes; this is the project's rule: admin and agent-to-agent
    /// routes by path prefix, everything else by method.
    pub fn required_for(method: &http::Method, path: &str) -> Permissions {
        if path.starts_with("/api/v1/admin/") {
            Permissions::ADMIN
        } else if path.starts_with("/a2a/") {
            Permissions::A2A
        } else if matches!(
            *method,
            http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
        ) {
            Permissions::READ
        } else {
            Permissions::WRITE
        }
    }

    /// Parses permission names; an unknown name is an error naming it.
    pub fn from_names<'n>(names: impl IntoIterator<Item = &'n str>) -> Result<Self, String> {
        names
            .into_iter()
            .try_fold(Permissions::empty(), |all, name| {
                Self::NAMES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, p)| all | *p)
                    .ok_or_else(|| format!("unknown permission `{name}` (read, write, admin, a2a)"))
            })
    }

    /// The names of the permissions held, in [`NAMES`](Self::NAMES) order.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(_, p)| self.contains(*p))
            .map(|(n, _)| *n)
            .collect()
    }
}

/// Why a key could not be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// No key has this id.
    #[error("unknown key id")]
    Unknown,
    /// The key exists but is revoked or inactive.
    #[error("key is not active")]
    Inactive,
    /// The store could not answer (timeout, connection refused, …).
    #[error("key store unavailable: {0}")]
    Unavailable(String),
}

/// Finds the key for a key id.
pub trait KeyLookup: Send + Sync {
    /// The key with id `key_id`: at once ([`answer::now`]) when it is in
    /// memory, or [`answer::later`] when a backend must be asked.
    fn lookup<'a>(&'a self, key_id: &'a str) -> Answer<'a, Result<Arc<Key>, LookupError>>;
}

/// Keys held in memory, fixed at construction.
#[derive(Debug, Default, Clone)]
pub struct StaticKeys {
    /// foldhash: an attacker chooses the ids looked up, but cannot insert,
    /// so collisions cannot be piled up; SipHash would cost more than the
    /// rest of the lookup.
    keys: HashMap<String, Arc<Key>, foldhash::fast::RandomState>,
}

impl StaticKeys {
    /// An empty key set.
    pub fn new() -> Self {
        StaticKeys::default()
    }

    /// Adds (or replaces) a key made elsewhere (a scheme that decodes its
    /// secrets makes its keys itself).
    pub fn insert_key(&mut self, key: Key) {
        self.keys.insert(key.id().to_owned(), Arc::new(key));
    }

    /// Adds (or replaces) the key `id`.
    pub fn insert(&mut self, id: impl Into<String>, secret: &Secret) {
        let id = id.into();
        self.keys.insert(id.clone(), Arc::new(Key::new(id, secret)));
    }

    /// Builds a key set from `(id, secret)` pairs.
    pub fn from_pairs<I, K, S>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, S)>,
        K: Into<String>,
        S: Into<String>,
    {
        let mut keys = StaticKeys::new();
        for (id, secret) in pairs {
            keys.insert(id, &Secret::new(secret));
        }
        keys
    }

    /// The key `id`, without going through the async interface (signers).
    pub fn get(&self, id: &str) -> Option<&Arc<Key>> {
        self.keys.get(id)
    }
}

impl KeyLookup for StaticKeys {
    fn lookup<'a>(&'a self, key_id: &'a str) -> Answer<'a, Result<Arc<Key>, LookupError>> {
        answer::now(self.keys.get(key_id).cloned().ok_or(LookupError::Unknown))
    }
}

/// Which keys may be used for which requests, beyond "the key exists".
///
/// Seed 001 restricts endpoints to an allow-list of key ids (403 otherwise)
/// and admin routes to key ids with the `admin_` prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPolicy {
    /// If set, only these key ids are accepted (on the restricted paths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_key_ids: Option<Vec<String>>,
    /// Path prefixes the allow-list applies to; every path when empty. (The
    /// seed sets `allowed_key_ids` on one endpoint's decorator, not on the
    /// whole service.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restricted_path_prefixes: Vec<String>,
    /// Path prefixes of admin routes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_path_prefixes: Vec<String>,
    /// The key id prefix required on admin routes (seed 001: `admin_`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_key_prefix: Option<String>,
}

impl KeyPolicy {
    /// Whether `key_id` may sign a request for `path`.
    pub fn allows(&self, key_id: &str, path: &str) -> bool {
        let under = |prefixes: &[String]| prefixes.iter().any(|p| path.starts_with(p.as_str()));
        if let Some(allowed) = &self.allowed_key_ids
            && (self.restricted_path_prefixes.is_empty() || under(&self.restricted_path_prefixes))
            && !allowed.iter().any(|k| k == key_id)
        {
            return false;
        }
        let admin_route = under(&self.admin_path_prefixes);
        !admin_route || key_id.starts_with(self.admin_key_prefix.as_deref().unwrap_or("admin_"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let k = Key::new("id", &s);
        assert!(!format!("{k:?}").contains("hunter2"));
    }

    #[test]
    fn generated_secrets_are_32_random_bytes_in_base64() {
        use base64::Engine as _;
        let (a, b) = (Secret::generate().unwrap(), Secret::generate().unwrap());
        assert_ne!(a, b);
        for s in [&a, &b] {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.expose())
                .unwrap();
            assert_eq!(bytes.len(), 32);
        }
    }

    #[tokio::test]
    async fn static_lookup() {
        let keys = StaticKeys::from_pairs([("a", "s")]);
        assert_eq!(keys.lookup("a").await.unwrap().id(), "a");
        assert_eq!(keys.lookup("b").await.unwrap_err(), LookupError::Unknown);
    }

    #[test]
    fn permissions_by_route() {
        let get = http::Method::GET;
        let post = http::Method::POST;
        assert_eq!(
            Permissions::required_for(&get, "/orders"),
            Permissions::READ
        );
        assert_eq!(
            Permissions::required_for(&post, "/orders"),
            Permissions::WRITE
        );
        assert_eq!(
            Permissions::required_for(&get, "/api/v1/admin/users"),
            Permissions::ADMIN
        );
        assert_eq!(
            Permissions::required_for(&post, "/a2a/tasks"),
            Permissions::A2A
        );
        let reader = Key::with_permissions("r", &Secret::new("s"), Permissions::READ);
        assert!(reader.may(&get, "/orders"));
        assert!(!reader.may(&post, "/orders"));
        assert!(Key::new("any", &Secret::new("s")).may(&post, "/api/v1/admin/x"));
        assert_eq!(
            Permissions::from_names(["read", "a2a"]),
            Ok(Permissions::READ | Permissions::A2A)
        );
        assert_eq!(
            (Permissions::READ | Permissions::A2A).names(),
            ["read", "a2a"]
        );
        assert!(
            Permissions::from_names(["root"])
                .unwrap_err()
                .contains("root")
        );
    }

    #[test]
    fn policy() {
        let mut p = KeyPolicy {
            allowed_key_ids: Some(vec!["key1".into(), "admin_1".into()]),
            restricted_path_prefixes: Vec::new(),
            admin_path_prefixes: vec!["/admin/".into()],
            admin_key_prefix: None,
        };
        assert!(p.allows("key1", "/orders"));
        assert!(!p.allows("key2", "/orders"));
        assert!(!p.allows("key1", "/admin/x"));
        assert!(p.allows("admin_1", "/admin/x"));
        // An allow-list on some routes only.
        p.restricted_path_prefixes = vec!["/payments/".into()];
        assert!(p.allows("key2", "/orders"));
        assert!(!p.allows("key2", "/payments/1"));
        assert!(p.allows("key1", "/payments/1"));
        assert!(!p.allows("key2", "/admin/x"));
    }
}
