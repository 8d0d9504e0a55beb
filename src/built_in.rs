//! The built-in targets: `sigconform conform` without `--target` starts a
//! reference server for each scheme, mounted as a deployment would mount
//! it, and probes it. `cargo xtask bench` times the catalog against them.

use std::path::PathBuf;

use sigconform_core::keys::{KeyPolicy, Permissions, Secret};
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;
use sigconform_runner as runner;
use sigconform_server::sql_keys::{SqlKeys, SqlKeysConfig, key_maker};
use sigconform_server::{self as server, KeySource, ServerConfig};

/// One deployment to probe, and what it takes.
pub struct Planned {
    /// The scheme it verifies.
    pub scheme: SchemeRef,
    /// Its instances' URLs.
    pub targets: Vec<String>,
    /// Its scheme settings.
    pub scheme_config: SchemeConfig,
    /// The secret to sign with.
    pub secret: Secret,
    /// Its key lifecycle API.
    pub admin: Option<runner::AdminAccess>,
    /// A key it knows but refuses on one route.
    pub denied_key: Option<runner::DeniedKey>,
    /// Its admin-only route.
    pub admin_path: Option<String>,
    /// A built-in server, kept alive for the run.
    pub(crate) _server: Option<server::RunningServer>,
    /// A built-in server's key database, removed after the run.
    pub(crate) db: Option<PathBuf>,
}

impl Planned {
    /// The first instance's URL, naming the deployment.
    pub fn target(&self) -> &str {
        &self.targets[0]
    }
}

impl Drop for Planned {
    fn drop(&mut self) {
        if let Some(db) = &self.db {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
    }
}

/// Where the built-in servers of API schemes are mounted, as an
/// application under a path.
const API_PREFIX: &str = "/api";
/// The route of the built-in servers of endpoint schemes (seed 001's
/// webhook receiver's).
const ENDPOINT_ROUTE: &str = "/webhooks/payment";
/// An object store's bucket (the reference for `sigv4` under S3's rules),
/// and the object in it the runner writes.
const BUCKET: &str = "/sigconform-bucket";
const BUCKET_OBJECT: &str = "/sigconform-bucket/probe";
/// The built-in servers' route whose allow-list leaves out
/// [`DENIED_KEY_ID`], and their admin-only route (seed 001), under
/// [`API_PREFIX`].
const RESTRICTED_PREFIX: &str = "/api/sigconform/restricted/";
const ADMIN_PREFIX: &str = "/api/admin/";
/// A key the built-in servers know but do not allow on [`RESTRICTED_PREFIX`].
const DENIED_KEY_ID: &str = "sigconform-denied";

/// A built-in reference server for `scheme`, as a deployment would run
/// it: an API under [`API_PREFIX`], an endpoint as one route with its
/// senders' methods; seed 001's key policies on two routes of their own,
/// and an in-memory nonce store. A seed's server keeps its keys in an
/// SQLite database (a fresh file in the temporary folder, removed after the run) with the key
/// lifecycle API behind a random token (so the lifecycle cases run too); a
/// profile's server has its keys in memory, as secrets in the form the
/// provider issues them (`whsec_…`), which the profile may decode.
pub async fn built_in(
    scheme: SchemeRef,
    config: &SchemeConfig,
    key_id: &str,
) -> Result<Planned, String> {
    let issued = |secret: Secret| match &scheme {
        SchemeRef::Profile(p) if p.secret != sigconform_core::profile::SecretDecoding::Base64 => {
            Secret::new(format!("whsec_{}", secret.expose()))
        }
        _ => secret,
    };
    let secret = issued(crate::random_secret()?);
    let denied_secret = issued(crate::random_secret()?);
    let secrets = [
        (key_id, secret.clone()),
        (sigconform_core::keys::DEFAULT_KEY_ID, secret.clone()),
        (DENIED_KEY_ID, denied_secret.clone()),
    ];
    let (keys, admin, db) = key_source(&scheme, config, &secrets).await?;
    let mut server_config = ServerConfig::new(scheme.clone(), config.clone(), keys);
    let (mount, path) = if server_config.objects {
        // An object store: a bucket, the target an object in it.
        (server::Mount::Prefix(BUCKET.into()), BUCKET_OBJECT)
    } else {
        mount_for(&scheme, config)?
    };
    // Seed 001's key policy routes are an API's: an endpoint has one route,
    // an object store a bucket.
    let api = matches!(mount, server::Mount::Prefix(_)) && !server_config.objects;
    server_config.mount = mount;
    server_config.policy = KeyPolicy {
        allowed_key_ids: Some(vec![
            key_id.into(),
            sigconform_core::keys::DEFAULT_KEY_ID.into(),
        ]),
        restricted_path_prefixes: vec![RESTRICTED_PREFIX.into()],
        admin_path_prefixes: vec![ADMIN_PREFIX.into()],
        admin_key_prefix: None,
    };
    let server = crate::start_reference(server_config, 0).await?;
    Ok(Planned {
        scheme,
        targets: vec![format!("{}{path}", server.url())],
        scheme_config: config.clone(),
        secret,
        admin: admin.map(|token| runner::AdminAccess {
            url: server.url(),
            token,
        }),
        denied_key: api.then(|| runner::DeniedKey {
            key_id: DENIED_KEY_ID.into(),
            secret: denied_secret,
            path: format!("{RESTRICTED_PREFIX}probe"),
        }),
        // An admin key on the admin route is accepted, as it should be.
        admin_path: (api && !key_id.starts_with("admin_"))
            .then(|| format!("{ADMIN_PREFIX}sigconform-probe")),
        _server: Some(server),
        db,
    })
}

/// A fresh SQLite key store for a built-in server with `secrets`, and the
/// token of its key lifecycle API.
async fn sql_keys(
    scheme: &SchemeRef,
    config: &SchemeConfig,
    secrets: &[(&str, Secret)],
) -> Result<(KeySource, Secret, PathBuf), String> {
    let dir = std::env::temp_dir().join("sigconform");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let db = dir.join(format!("keys-{scheme}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let made_by = scheme.build(config).map_err(|e| e.to_string())?;
    let store = SqlKeys::connect(&SqlKeysConfig::new(format!("sqlite://{}", db.display())))
        .await
        .map_err(|e| format!("the built-in key store: {e}"))?
        .making_keys_with(key_maker(made_by.into()));
    for (id, secret) in secrets {
        store
            .put(id, secret, Permissions::all())
            .await
            .map_err(|e| format!("the built-in key store: {e}"))?;
    }
    let token = crate::random_secret()?;
    let keys = KeySource::Sql {
        store: std::sync::Arc::new(store),
        admin_token: Some(token.clone()),
    };
    Ok((keys, token, db))
}

/// A seed's server keeps its keys in a fresh SQLite store (with the key
/// lifecycle API's token, and the database to remove after the run); a
/// profile's in memory.
async fn key_source(
    scheme: &SchemeRef,
    config: &SchemeConfig,
    secrets: &[(&str, Secret)],
) -> Result<(KeySource, Option<Secret>, Option<PathBuf>), String> {
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

/// Where a scheme's server is mounted, as its senders deliver: an API
/// under [`API_PREFIX`], an endpoint as the one route [`ENDPOINT_ROUTE`]
/// with its senders' methods; and the path of its URL.
fn mount_for(
    scheme: &SchemeRef,
    config: &SchemeConfig,
) -> Result<(server::Mount, &'static str), String> {
    let delivery = scheme.build(config).map_err(|e| e.to_string())?.delivery();
    Ok(match delivery {
        sigconform_core::scheme::Delivery::Api => {
            (server::Mount::Prefix(API_PREFIX.into()), API_PREFIX)
        }
        sigconform_core::scheme::Delivery::Endpoint { methods } => (
            server::Mount::Route {
                path: ENDPOINT_ROUTE.into(),
                methods: methods.iter().filter_map(|m| m.parse().ok()).collect(),
                not_found_for_other_methods: false,
            },
            ENDPOINT_ROUTE,
        ),
    })
}
