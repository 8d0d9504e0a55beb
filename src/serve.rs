//! `sigconform serve`: reference servers on loopback.
//!
//! One server with keys given on the command line by default; with
//! `--keys-db`, keys in a SQL database (and with `--admin-token-env`, the
//! key lifecycle API); with `--instances N`, N servers of one deployment on
//! consecutive ports, sharing the database and, with `--nonce-store
//! redis://…`, one nonce store. Mounted at the root, under `--base-path`,
//! or as one `--route`; over TLS with `--tls-cert` and `--tls-key`.

use std::sync::Arc;
use std::time::Duration;

use sigconform_core::keys::{KeyPolicy, Permissions, Secret};
use sigconform_core::nonce::NonceStore;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;
use sigconform_server::redis_nonces::RedisNonceStore;
use sigconform_server::sql_keys::{SqlKeys, SqlKeysConfig, key_maker};
use sigconform_server::{Defect, KeySource, Mount, ServerConfig};

use crate::scheme_options::SchemeOptions;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("verifies").required(true).args(["scheme", "profile"])))]
pub struct ServeArgs {
    /// partner, authorization, webhook, a2a, ia-json, quable, sigv4 or rfc9421, or a
    /// built-in profile's name.
    #[arg(long)]
    scheme: Option<String>,
    /// A built-in profile's name or a profile file.
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "scheme")]
    profile: Option<String>,
    /// The first instance's port (the others follow it).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// KEY_ID=SECRET; may repeat. With --keys-db they are stored there.
    #[arg(long = "key", value_name = "ID=SECRET")]
    keys: Vec<String>,
    #[command(flatten)]
    scheme_options: SchemeOptions,
    /// Log each rejection with the canonical string expected.
    #[arg(long)]
    diagnose: bool,
    /// Keys in a SQL database: sqlite://PATH (created on first use) or
    /// postgres://USER@HOST/DB.
    #[arg(long, value_name = "URL")]
    keys_db: Option<String>,
    /// Serve the key lifecycle API (/api/v1/admin/api-keys), with the
    /// bearer token held by this environment variable. Needs --keys-db.
    #[arg(long, value_name = "VAR", requires = "keys_db")]
    admin_token_env: Option<String>,
    /// Instances of one deployment, on consecutive ports.
    #[arg(long, default_value_t = 1)]
    instances: u16,
    /// The nonce store: `memory` (each instance its own) or redis://HOST:PORT
    /// (shared by all instances).
    #[arg(long, default_value = "memory")]
    nonce_store: String,
    /// Seed 001's allow-list: only these key ids may sign requests under
    /// --restricted-path (under every path without one); may repeat.
    #[arg(long = "allow-key", value_name = "ID")]
    allowed_keys: Vec<String>,
    /// A path prefix the allow-list applies to; may repeat.
    #[arg(
        long = "restricted-path",
        value_name = "PREFIX",
        requires = "allowed_keys"
    )]
    restricted_paths: Vec<String>,
    /// An admin-only path prefix: there only key ids starting with `admin_`
    /// are accepted (403 for others); may repeat.
    #[arg(long = "admin-path", value_name = "PREFIX")]
    admin_paths: Vec<String>,
    /// Answer signed requests only under this path prefix (404 elsewhere),
    /// as an application mounted at `/api`.
    #[arg(long, value_name = "PREFIX", conflicts_with = "route")]
    base_path: Option<String>,
    /// Answer signed requests at this one path only (404 elsewhere), as a
    /// webhook receiver.
    #[arg(long, value_name = "PATH")]
    route: Option<String>,
    /// The methods --route takes (405 for others), e.g. POST; default: any.
    #[arg(long, value_delimiter = ',', requires = "route")]
    route_methods: Vec<http::Method>,
    /// Serve TLS with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Serve with a deliberate defect (one of `DEFECTS`), to show what
    /// `conform` and `fuzz` find: CI checks that they still find one.
    #[arg(long, hide = true, value_parser = defect)]
    defect: Option<Defect>,
}

/// The deliberate defects `serve --defect` takes, by name.
const DEFECTS: [(&str, Defect); 6] = [
    ("ignores-expiry", Defect::IgnoresExpiry),
    ("never-records-nonces", Defect::NeverRecordsNonces),
    ("accepts-tag-prefix", Defect::AcceptsTagPrefix),
    ("method-not-covered", Defect::MethodNotCovered),
    ("accepts-unknown-keys", Defect::AcceptsUnknownKeys),
    ("first-of-duplicates", Defect::FirstOfDuplicates),
];

fn defect(name: &str) -> Result<Defect, String> {
    DEFECTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| d.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = DEFECTS.iter().map(|(n, _)| *n).collect();
            format!("one of {}", names.join(", "))
        })
}

/// Where the arguments mount the server, and the path its URL shows.
fn mount(args: &ServeArgs) -> Result<(Mount, String), String> {
    let path = |p: &str, flag: &str| {
        if p.starts_with('/') {
            Ok(p.to_owned())
        } else {
            Err(format!("{flag} takes a path starting with /, not `{p}`"))
        }
    };
    Ok(match (&args.base_path, &args.route) {
        (Some(prefix), _) => {
            let prefix = path(prefix, "--base-path")?;
            let shown = prefix.trim_end_matches('/').to_owned();
            (Mount::Prefix(prefix), shown)
        }
        (None, Some(route)) => {
            let route = path(route, "--route")?;
            (
                Mount::Route {
                    path: route.clone(),
                    methods: args.route_methods.clone(),
                    not_found_for_other_methods: false,
                },
                route,
            )
        }
        (None, None) => (Mount::Root, String::new()),
    })
}

fn static_keys(pairs: &[String]) -> Result<Vec<(String, Secret)>, String> {
    pairs
        .iter()
        .map(|k| {
            k.split_once('=')
                .map(|(id, secret)| (id.to_owned(), Secret::new(secret)))
                // The value is not shown: without its `=` it may be a secret.
                .ok_or_else(|| "--key takes ID=SECRET (a value has no `=`)".to_owned())
        })
        .collect()
}

pub fn run(args: ServeArgs) -> Result<(), String> {
    let scheme = crate::chosen_scheme(args.scheme.as_deref(), args.profile.as_deref())?
        .expect("clap requires --scheme or --profile");
    if let (SchemeRef::Profile(p), Some(_)) = (&scheme, &args.keys_db)
        && p.secret != sigconform_core::profile::SecretDecoding::Utf8
    {
        return Err(format!(
            "--keys-db keeps secrets as they are given, but the profile {} decodes them ({:?}): give its keys with --key",
            p.name, p.secret
        ));
    }
    let pairs = static_keys(&args.keys)?;
    let admin_token = args
        .admin_token_env
        .as_deref()
        .map(crate::secret_from_env)
        .transpose()?;
    if args.instances == 0 {
        return Err("--instances must be at least 1".into());
    }
    let (mount, shown_path) = mount(&args)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(sigconform_server::tls::server_config(cert, key)?),
        _ => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let scheme_config = args.scheme_options.scheme_config(None);
        let mut servers = Vec::new();
        for i in 0..args.instances {
            // Each instance its own connections and cache, as separate
            // processes would have; they share the database and Redis.
            let keys = key_source(&args, &scheme, &scheme_config, &pairs, admin_token.as_ref()).await?;
            let mut config = ServerConfig::new(scheme.clone(), scheme_config.clone(), keys);
            config.diagnose = args.diagnose;
            config.mount = mount.clone();
            config.tls = tls.clone();
            config.policy = policy(&args);
            config.shared_nonces = shared_nonces(&args.nonce_store).await?;
            let port = args.port.checked_add(i).ok_or("port out of range")?;
            let server = match &args.defect {
                None => crate::start_reference(config, port).await?,
                Some(defect) => {
                    let altered = Arc::new(defect.clone()) as Arc<dyn sigconform_server::Alteration>;
                    sigconform_server::start_altered(
                        config,
                        Some(altered),
                        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                    )
                    .await
                    .map_err(|e| format!("cannot start the server on 127.0.0.1:{port}: {e}"))?
                }
            };
            println!(
                "{} reference server on {}{shown_path}",
                scheme,
                server.url()
            );
            servers.push(server);
        }
        if args.instances > 1 && args.nonce_store == "memory" {
            println!(
                "note: each instance has its own nonce store; a request accepted by one is accepted by the others (use --nonce-store redis://…)"
            );
        }
        if admin_token.is_some() {
            println!("key lifecycle API at /api/v1/admin/api-keys (bearer token from the environment)");
        }
        println!("Ctrl-C to stop");
        tokio::signal::ctrl_c().await.map_err(|e| e.to_string())
    })
}

/// One instance's keys: the `--key`s, in memory or stored in `--keys-db`
/// (each instance its own connections and cache, as separate processes
/// would have; they share the database).
async fn key_source(
    args: &ServeArgs,
    scheme: &SchemeRef,
    scheme_config: &SchemeConfig,
    pairs: &[(String, Secret)],
    admin_token: Option<&Secret>,
) -> Result<KeySource, String> {
    let Some(url) = &args.keys_db else {
        return Ok(KeySource::Static(pairs.to_vec()));
    };
    let made_by = scheme.build(scheme_config).map_err(|e| e.to_string())?;
    let store = SqlKeys::connect(&SqlKeysConfig::new(url.as_str()))
        .await
        .map_err(|e| format!("--keys-db: {e}"))?
        .making_keys_with(key_maker(made_by.into()));
    for (id, secret) in pairs {
        store
            .put(id, secret, Permissions::all())
            .await
            .map_err(|e| format!("--key {id}: {e}"))?;
    }
    Ok(KeySource::Sql {
        store: Arc::new(store),
        admin_token: admin_token.cloned(),
    })
}

/// The nonce store of `--nonce-store`: `None` for each instance its own in
/// memory, or one Redis shared by all.
async fn shared_nonces(spec: &str) -> Result<Option<Arc<dyn NonceStore>>, String> {
    match spec {
        "memory" => Ok(None),
        url if url.starts_with("redis://") => {
            let store = RedisNonceStore::connect(url, Duration::from_secs(1))
                .await
                .map_err(|e| format!("--nonce-store: {e}"))?;
            Ok(Some(Arc::new(store)))
        }
        other => Err(format!(
            "--nonce-store takes `memory` or redis://…, not `{other}`"
        )),
    }
}

/// Seed 001's key policies, from `--allow-key`, `--restricted-path` and
/// `--admin-path`.
fn policy(args: &ServeArgs) -> KeyPolicy {
    KeyPolicy {
        allowed_key_ids: (!args.allowed_keys.is_empty()).then(|| args.allowed_keys.clone()),
        restricted_path_prefixes: args.restricted_paths.clone(),
        admin_path_prefixes: args.admin_paths.clone(),
        admin_key_prefix: None,
    }
}
