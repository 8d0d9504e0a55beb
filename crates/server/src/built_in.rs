//! The built-in deployments: a reference server for a scheme, started on
//! loopback and mounted as a deployment would mount it, with its keys, key
//! store and key policy routes, and what a client needs to know about it
//! (its URL, a key, the key lifecycle API, a key it denies on one route,
//! its admin-only route). `sigconform conform` and `fuzz` probe these when
//! given no target; `cargo xtask bench` times the catalog against them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sigconform_core::keys::{DEFAULT_KEY_ID, KeyPolicy, Permissions, Secret};
use sigconform_core::profile::SecretDecoding;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::{ConfigError, Delivery, SchemeConfig};

use crate::sql_keys::{SqlKeys, SqlKeysConfig, StoreError, key_maker};
use crate::{KeySource, Mount, RunningServer, ServerConfig};

/// Where the built-in servers of API schemes are mounted, as an
/// application under a path.
pub const API_PREFIX: &str = "/api";
/// The route of the built-in servers of endpoint schemes (seed 001's
/// webhook receiver's).
pub const ENDPOINT_ROUTE: &str = "/webhooks/payment";
/// An object store's bucket (the reference for `sigv4` under S3's rules),
/// and the object in it a client writes.
const BUCKET: &str = "/sigconform-bucket";
const BUCKET_OBJECT: &str = "/sigconform-bucket/probe";
/// The built-in servers' route whose allow-list leaves out
/// [`DENIED_KEY_ID`], and their admin-only route (seed 001), under
/// [`API_PREFIX`].
const RESTRICTED_PREFIX: &str = "/api/sigconform/restricted/";
const ADMIN_PREFIX: &str = "/api/admin/";
/// A key the built-in servers know but do not allow on [`RESTRICTED_PREFIX`].
pub const DENIED_KEY_ID: &str = "sigconform-denied";

/// A started built-in server and what a client needs to know about it.
/// Dropping it (its [`Guard`]) stops the server.
pub struct BuiltIn {
    /// The scheme it verifies.
    pub scheme: SchemeRef,
    /// Its scheme settings.
    pub scheme_config: SchemeConfig,
    /// The URL requests go to (or below, for an API).
    pub target: String,
    /// The key id it knows [`BuiltIn::secret`] by.
    pub key_id: String,
    /// The secret to sign with, in the form the provider issues it.
    pub secret: Secret,
    /// Its key lifecycle API (a seed's server; a profile's has none).
    pub admin: Option<AdminApi>,
    /// A key it knows but refuses on one route (an API's server).
    pub denied_key: Option<DeniedKey>,
    /// Its admin-only route, where [`BuiltIn::key_id`] must be refused
    /// (an API's server, unless that key is an admin key).
    pub admin_path: Option<String>,
    /// Keeps the server running.
    pub guard: Guard,
}

/// Where a built-in server's key lifecycle API is, and its bearer token.
#[derive(Debug, Clone)]
pub struct AdminApi {
    /// The server's URL (the API is at its own paths under it).
    pub url: String,
    /// The bearer token.
    pub token: Secret,
}

/// A key a built-in server knows but does not allow on one route.
#[derive(Debug, Clone)]
pub struct DeniedKey {
    /// Its id.
    pub key_id: String,
    /// Its secret.
    pub secret: Secret,
    /// A path under the route it is refused on.
    pub path: String,
}

/// A built-in server kept running: dropping it stops the server and
/// removes its key database.
pub struct Guard {
    _server: RunningServer,
    db: Option<PathBuf>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(db) = &self.db {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
    }
}

/// Why a built-in server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum BuiltInError {
    /// No secret could be made.
    #[error("no randomness from the operating system: {0}")]
    NoRandomness(getrandom::Error),
    /// The scheme cannot be built from the settings given.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The folder of its key database cannot be made.
    #[error("{}: {source}", .path.display())]
    KeyFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Its key store refused to open or to take a key.
    #[error("the built-in key store: {0}")]
    KeyStore(#[from] StoreError),
    /// It could not listen on loopback.
    #[error("cannot start the reference server on 127.0.0.1:0: {0}")]
    Start(std::io::Error),
}

/// Starts a built-in reference server for `scheme` with `config`, where
/// `key_id` names the client's key, as a deployment would run it: an API
/// under [`API_PREFIX`], an endpoint as the one route [`ENDPOINT_ROUTE`]
/// with its senders' methods, an object store as a bucket; seed 001's key
/// policies on two routes of their own, and an in-memory nonce store. A
/// seed's server keeps its keys in an SQLite database (a fresh file in the
/// temporary folder, removed when the [`Guard`] drops) with the key
/// lifecycle API behind a random token; a profile's server has its keys in
/// memory, as secrets in the form the provider issues them (`whsec_…`),
/// which the profile may decode.
pub async fn start_built_in(
    scheme: SchemeRef,
    config: &SchemeConfig,
    key_id: &str,
) -> Result<BuiltIn, BuiltInError> {
    let issued = |secret: Secret| match &scheme {
        SchemeRef::Profile(p) if p.secret != SecretDecoding::Base64 => {
            Secret::new(format!("whsec_{}", secret.expose()))
        }
        _ => secret,
    };
    let secret = issued(random_secret()?);
    let denied_secret = issued(random_secret()?);
    let secrets = [
        (key_id, secret.clone()),
        (DEFAULT_KEY_ID, secret.clone()),
        (DENIED_KEY_ID, denied_secret.clone()),
    ];
    let (keys, admin_token, db) = key_source(&scheme, config, &secrets).await?;
    let mut server_config = ServerConfig::new(scheme.clone(), config.clone(), keys);
    let (mount, path) = if server_config.objects {
        // An object store: a bucket, the target an object in it.
        (Mount::Prefix(BUCKET.into()), BUCKET_OBJECT)
    } else {
        mount_for(&scheme, config)?
    };
    // Seed 001's key policy routes are an API's: an endpoint has one route,
    // an object store a bucket.
    let api = matches!(mount, Mount::Prefix(_)) && !server_config.objects;
    server_config.mount = mount;
    server_config.policy = KeyPolicy {
        allowed_key_ids: Some(vec![key_id.into(), DEFAULT_KEY_ID.into()]),
        restricted_path_prefixes: vec![RESTRICTED_PREFIX.into()],
        admin_path_prefixes: vec![ADMIN_PREFIX.into()],
        admin_key_prefix: None,
    };
    let server = crate::start(
        server_config,
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .map_err(BuiltInError::Start)?;
    Ok(BuiltIn {
        target: format!("{}{path}", server.url()),
        key_id: key_id.into(),
        secret,
        admin: admin_token.map(|token| AdminApi {
            url: server.url(),
            token,
        }),
        denied_key: api.then(|| DeniedKey {
            key_id: DENIED_KEY_ID.into(),
            secret: denied_secret,
            path: format!("{RESTRICTED_PREFIX}probe"),
        }),
        // An admin key on the admin route is accepted, as it should be.
        admin_path: (api && !key_id.starts_with("admin_"))
            .then(|| format!("{ADMIN_PREFIX}sigconform-probe")),
        scheme,
        scheme_config: config.clone(),
        guard: Guard {
            _server: server,
            db,
        },
    })
}

fn random_secret() -> Result<Secret, BuiltInError> {
    Secret::generate().map_err(BuiltInError::NoRandomness)
}

/// A seed's server keeps its keys in a fresh SQLite store (with the key
/// lifecycle API's token, and the database to remove when it stops); a
/// profile's in memory.
async fn key_source(
    scheme: &SchemeRef,
    config: &SchemeConfig,
    secrets: &[(&str, Secret)],
) -> Result<(KeySource, Option<Secret>, Option<PathBuf>), BuiltInError> {
    match scheme {
        SchemeRef::Seed(_) => {
            let (keys, token, db) = sql_keys(scheme, config, secrets).await?;
            Ok((keys, Some(token), Some(db)))
        }
        SchemeRef::Profile(_) => {
            let pairs = secrets
                .iter()
                .map(|(id, s)| ((*id).to_owned(), s.clone()))
                .collect();
            Ok((KeySource::Static(pairs), None, None))
        }
    }
}

/// A fresh SQLite key store with `secrets`, and the token of its key
/// lifecycle API.
async fn sql_keys(
    scheme: &SchemeRef,
    config: &SchemeConfig,
    secrets: &[(&str, Secret)],
) -> Result<(KeySource, Secret, PathBuf), BuiltInError> {
    let dir = std::env::temp_dir().join("sigconform");
    std::fs::create_dir_all(&dir).map_err(|source| BuiltInError::KeyFolder {
        path: dir.clone(),
        source,
    })?;
    // One file per server, even for two of one scheme in one process.
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    let db = dir.join(format!("keys-{scheme}-{}-{n}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let made_by = scheme.build(config)?;
    let store = SqlKeys::connect(&SqlKeysConfig::new(format!("sqlite://{}", db.display())))
        .await?
        .making_keys_with(key_maker(made_by.into()));
    for (id, secret) in secrets {
        store.put(id, secret, Permissions::all()).await?;
    }
    let token = random_secret()?;
    let keys = KeySource::Sql {
        store: Arc::new(store),
        admin_token: Some(token.clone()),
    };
    Ok((keys, token, db))
}

/// Where a scheme's server is mounted, as its senders deliver: an API
/// under [`API_PREFIX`], an endpoint as the one route [`ENDPOINT_ROUTE`]
/// with its senders' methods; and the path of its URL.
fn mount_for(
    scheme: &SchemeRef,
    config: &SchemeConfig,
) -> Result<(Mount, &'static str), BuiltInError> {
    Ok(match scheme.build(config)?.delivery() {
        Delivery::Api => (Mount::Prefix(API_PREFIX.into()), API_PREFIX),
        Delivery::Endpoint { methods } => (
            Mount::Route {
                path: ENDPOINT_ROUTE.into(),
                methods: methods.iter().filter_map(|m| m.parse().ok()).collect(),
                not_found_for_other_methods: false,
            },
            ENDPOINT_ROUTE,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigconform_core::scheme::SchemeId;

    /// A seed's API server: mounted under /api, with its key lifecycle
    /// API, denied key and admin route; its database gone once dropped.
    #[tokio::test]
    async fn a_seeds_api_server_has_its_keys_routes_and_admin_api() {
        let config = SchemeConfig::default();
        let built = start_built_in(SchemeId::A2a.into(), &config, "k")
            .await
            .unwrap();
        assert!(built.target.starts_with("http://127.0.0.1:"));
        assert!(built.target.ends_with(API_PREFIX));
        assert_eq!(built.key_id, "k");
        let admin = built.admin.clone().unwrap();
        assert!(built.target.starts_with(&admin.url));
        assert_ne!(admin.token, built.secret);
        let denied = built.denied_key.clone().unwrap();
        assert_eq!(denied.key_id, DENIED_KEY_ID);
        assert_ne!(denied.secret, built.secret);
        assert!(built.admin_path.is_some());
        let db = built.guard.db.clone().unwrap();
        assert!(db.exists());
        let addr = admin.url.trim_start_matches("http://").to_owned();
        drop(built);
        assert!(!db.exists());
        // Stopped: soon nothing answers there any more.
        let stopping = std::time::Instant::now();
        while tokio::net::TcpStream::connect(&addr).await.is_ok() {
            assert!(stopping.elapsed() < std::time::Duration::from_secs(5));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// An endpoint scheme's server is one route, with no key policy routes;
    /// an admin key id leaves out the admin route.
    #[tokio::test]
    async fn an_endpoint_is_one_route_without_policy_routes() {
        let built = start_built_in(SchemeId::Webhook.into(), &SchemeConfig::default(), "k")
            .await
            .unwrap();
        assert!(built.target.ends_with(ENDPOINT_ROUTE));
        assert!(built.denied_key.is_none() && built.admin_path.is_none());
        let admin_key = start_built_in(SchemeId::A2a.into(), &SchemeConfig::default(), "admin_1")
            .await
            .unwrap();
        assert!(admin_key.admin_path.is_none());
    }
}
