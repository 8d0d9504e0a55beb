//! The SQL key store and the key lifecycle API: against SQLite always, and
//! against PostgreSQL when `SIGCONFORM_POSTGRES_URL` is set (`cargo xtask
//! test` starts one and sets it).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::Either;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sigconform_core::keys::{Key, KeyLookup, LookupError, Permissions, Secret};
use sigconform_core::scheme::{SchemeConfig, SchemeId, SignInput};
use sigconform_core::{Clock, SystemClock};
use sigconform_server::sql_keys::{SqlKeys, SqlKeysConfig, StoreError};
use sigconform_server::{self as server, KeySource, ServerConfig};

/// A fresh SQLite file in the test's scratch directory.
fn sqlite_url(name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("key-store");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("sqlite://{}", path.display())
}

/// The databases to test against: SQLite, and PostgreSQL when configured.
/// `cargo xtask test` sets `SIGCONFORM_REQUIRE_SERVICES`, so that a missing
/// PostgreSQL is a failure there rather than a silent skip.
fn urls(name: &str) -> Vec<String> {
    let mut urls = vec![sqlite_url(name)];
    match std::env::var("SIGCONFORM_POSTGRES_URL") {
        Ok(url) => urls.push(url),
        Err(_) if std::env::var_os("SIGCONFORM_REQUIRE_SERVICES").is_some() => {
            panic!("SIGCONFORM_POSTGRES_URL is required here")
        }
        Err(_) => eprintln!("PostgreSQL not configured: SQLite only"),
    }
    urls
}

fn config(url: &str) -> SqlKeysConfig {
    SqlKeysConfig {
        cache_ttl: Duration::from_millis(300),
        ..SqlKeysConfig::new(url)
    }
}

/// Key ids unique to this run: the PostgreSQL database outlives it.
fn unique(name: &str) -> String {
    format!(
        "{name}-{}-{}",
        std::process::id(),
        sigconform_runner::random_u64() % 1_000_000
    )
}

/// Whether `key` has the secret `secret` (its MAC agrees).
fn has_secret(key: &Key, secret: &Secret) -> bool {
    let probe = Key::new("probe", secret);
    key.mac().sign(Default::default(), b"m") == probe.mac().sign(Default::default(), b"m")
}

async fn lookup(store: &SqlKeys, key_id: &str) -> Result<Arc<Key>, LookupError> {
    store.lookup(key_id).await
}

#[tokio::test]
async fn keys_are_created_rotated_and_revoked() {
    for url in urls("lifecycle") {
        let store = SqlKeys::connect(&config(&url)).await.unwrap();
        let id = unique("svc");
        let issued = store
            .create(
                Some(&id),
                Permissions::READ | Permissions::WRITE,
                "a service",
            )
            .await
            .unwrap();
        assert_eq!(issued.record.key_id, id);
        assert!(issued.record.active);
        // 32 random bytes in base64.
        assert_eq!(issued.secret.expose().len(), 44);
        let key = lookup(&store, &id).await.unwrap();
        assert!(has_secret(&key, &issued.secret));
        assert_eq!(
            key.permissions(),
            Some(Permissions::READ | Permissions::WRITE)
        );
        assert_eq!(
            store
                .create(Some(&id), Permissions::READ, "")
                .await
                .unwrap_err(),
            StoreError::Exists(id.clone())
        );
        assert!(matches!(
            store.create(Some("has.dot"), Permissions::READ, "").await,
            Err(StoreError::Invalid(_))
        ));
        let generated = store.create(None, Permissions::A2A, "").await.unwrap();
        assert!(generated.record.key_id.starts_with("key_"));

        // Rotation: the cached key is dropped, the new secret is the one.
        let rotated = store.rotate(&id).await.unwrap();
        assert_ne!(rotated.secret, issued.secret);
        assert!(rotated.record.rotated_at_ms.is_some());
        let key = lookup(&store, &id).await.unwrap();
        assert!(has_secret(&key, &rotated.secret) && !has_secret(&key, &issued.secret));

        // Revocation: inactive at once, and it cannot be rotated back.
        let revoked = store.revoke(&id).await.unwrap();
        assert!(!revoked.active && revoked.revoked_at_ms.is_some());
        assert_eq!(
            lookup(&store, &id).await.unwrap_err(),
            LookupError::Inactive
        );
        assert_eq!(
            store.rotate(&id).await.unwrap_err(),
            StoreError::Revoked(id.clone())
        );

        assert_eq!(
            lookup(&store, &unique("nobody")).await.unwrap_err(),
            LookupError::Unknown
        );
        assert!(matches!(
            store.get("no-such-key").await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.revoke("no-such-key").await,
            Err(StoreError::NotFound(_))
        ));
        let listed = store.list().await.unwrap();
        assert!(listed.iter().any(|r| r.key_id == id && !r.active));
    }
}

/// Instances of a deployment start together against one database that has
/// no table yet: every one of them must come up. (PostgreSQL's `CREATE
/// TABLE IF NOT EXISTS` run by several sessions at once fails in all but
/// one with a unique violation unless the store serialises it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_against_an_empty_database_all_come_up() {
    let Some(url) = urls("together")
        .into_iter()
        .find(|u| u.starts_with("postgres"))
    else {
        return;
    };
    // A database of its own, so that the table does not exist yet.
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let name = format!("sigconform_together_{}", unique("db").replace('-', "_"));
    // The name is letters, digits and `_` only (sqlx wants that said).
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let fresh = match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("a database URL ends in /name: {url}"),
    };
    let configs: Vec<SqlKeysConfig> = (0..8).map(|_| config(&fresh)).collect();
    let started = futures_util::future::join_all(configs.iter().map(SqlKeys::connect)).await;
    let failures: Vec<String> = started
        .iter()
        .filter_map(|s| s.as_ref().err().map(ToString::to_string))
        .collect();
    for store in started.into_iter().flatten() {
        store.close().await;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    assert!(failures.is_empty(), "{failures:?}");
}

#[tokio::test]
async fn the_cache_answers_at_once_and_forgets_after_its_ttl() {
    for url in urls("cache") {
        let here = SqlKeys::connect(&config(&url)).await.unwrap();
        // Another instance of the deployment, on the same database.
        let there = SqlKeys::connect(&config(&url)).await.unwrap();
        let id = unique("cached");
        here.create(Some(&id), Permissions::READ, "").await.unwrap();
        assert!(
            matches!(here.lookup(&id), Either::Right(_)),
            "first lookup asks the database"
        );
        lookup(&here, &id).await.unwrap();
        assert!(
            matches!(here.lookup(&id), Either::Left(_)),
            "then the cache answers"
        );
        // Unknown ids are remembered too: a flood of them does not reach
        // the database.
        let nobody = unique("nobody");
        lookup(&here, &nobody).await.unwrap_err();
        assert!(matches!(here.lookup(&nobody), Either::Left(_)));

        // Revoked elsewhere: this instance learns it when its entry expires.
        there.revoke(&id).await.unwrap();
        assert!(lookup(&here, &id).await.is_ok(), "still cached");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(lookup(&here, &id).await.unwrap_err(), LookupError::Inactive);
    }
}

#[tokio::test]
async fn a_store_that_cannot_answer_is_never_an_accept() {
    for url in urls("unavailable") {
        let store = Arc::new(SqlKeys::connect(&config(&url)).await.unwrap());
        let id = unique("gone");
        let issued = store
            .create(Some(&id), Permissions::all(), "")
            .await
            .unwrap();
        store.close().await;
        assert!(matches!(
            lookup(&store, &id).await,
            Err(LookupError::Unavailable(_))
        ));

        // Through the verifier: 503, never an accept.
        let scheme = SchemeId::A2a.build(&SchemeConfig::default()).unwrap();
        let mut req = http::Request::get("/v1/orders").body(Bytes::new()).unwrap();
        let input = SignInput {
            key_id: Some(id.clone()),
            timestamp: (SystemClock.now_ms() / 1000).to_string(),
            nonce: Some("n-1".into()),
            ..SignInput::default()
        };
        for (name, value) in scheme
            .sign(&req, &input, &Key::new(id.as_str(), &issued.secret))
            .unwrap()
        {
            req.headers_mut().append(name, value.parse().unwrap());
        }
        let verifier = sigconform_core::Verifier::new(
            scheme,
            Arc::new(SystemClock),
            Arc::new(sigconform_core::MemoryNonceStore::default()),
            store.clone(),
            Default::default(),
        );
        let rejection = verifier.verify(&req).await.unwrap_err();
        assert_eq!(rejection, sigconform_core::Rejection::KeyStoreUnavailable);
        assert_eq!(rejection.status(), 503);
    }
    // A database that is not there at all: a clear error, not a hang.
    let started = std::time::Instant::now();
    let config = SqlKeysConfig {
        lookup_timeout: Duration::from_millis(500),
        ..SqlKeysConfig::new("postgres://nobody@127.0.0.1:1/none")
    };
    assert!(matches!(
        SqlKeys::connect(&config).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(
        SqlKeys::connect(&SqlKeysConfig::new("mysql://x")).await,
        Err(StoreError::Invalid(_))
    ));
}

/// One call to the admin API: status, JSON body, and `Cache-Control`.
async fn call(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value, Option<String>) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("{url}{path}"));
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body.to_owned()))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let cache = resp
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap(), cache)
}

/// A signed a2a request from `key_id` with `secret`; its status.
async fn signed(url: &str, method: &str, path: &str, key_id: &str, secret: &str) -> u16 {
    let scheme = SchemeId::A2a.build(&SchemeConfig::default()).unwrap();
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .body(Bytes::new())
        .unwrap();
    let input = SignInput {
        key_id: Some(key_id.into()),
        timestamp: (SystemClock.now_ms() / 1000).to_string(),
        nonce: Some(format!("n-{}", sigconform_runner::random_u64())),
        ..SignInput::default()
    };
    for (name, value) in scheme
        .sign(&req, &input, &Key::new(key_id, &Secret::new(secret)))
        .unwrap()
    {
        req.headers_mut().append(name, value.parse().unwrap());
    }
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let (parts, body) = req.into_parts();
    let mut outgoing = http::Request::from_parts(parts, Full::new(body));
    *outgoing.uri_mut() = format!("{url}{path}").parse().unwrap();
    client.request(outgoing).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_manages_keys_the_verifier_then_honours() {
    for db in urls("admin") {
        let store = Arc::new(SqlKeys::connect(&config(&db)).await.unwrap());
        let token = "admin-token-for-tests";
        let server = server::start(
            ServerConfig::new(
                SchemeId::A2a,
                SchemeConfig::default(),
                KeySource::Sql {
                    store,
                    admin_token: Some(Secret::new(token)),
                },
            ),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let url = server.url();
        let keys = "/api/v1/admin/api-keys";

        assert_eq!(call(&url, "GET", keys, None, "").await.0, 401);
        assert_eq!(call(&url, "GET", keys, Some("wrong"), "").await.0, 401);

        let id = unique("svc");
        let (status, created, cache) = call(
            &url,
            "POST",
            keys,
            Some(token),
            &format!(r#"{{"key_id":"{id}","permissions":["read"],"description":"reader"}}"#),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(cache.as_deref(), Some("no-store"));
        assert_eq!(created["permissions"], serde_json::json!(["read"]));
        let secret = created["secret"].as_str().unwrap().to_owned();
        // Shown once: never again.
        let (status, shown, _) = call(&url, "GET", &format!("{keys}/{id}"), Some(token), "").await;
        assert_eq!(status, 200);
        assert!(shown.get("secret").is_none() && shown["active"] == true);
        let (_, listed, _) = call(&url, "GET", keys, Some(token), "").await;
        assert!(
            listed["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["key_id"] == id.as_str())
        );
        assert!(!listed.to_string().contains(&secret));

        // A read-only key reads, and may not write (403 after the signature).
        assert_eq!(signed(&url, "GET", "/v1/orders", &id, &secret).await, 200);
        assert_eq!(signed(&url, "POST", "/v1/orders", &id, &secret).await, 403);
        assert_eq!(
            signed(&url, "GET", "/v1/orders", &id, "not-the-secret").await,
            401
        );

        // Rotation: the old secret fails from the next request.
        let (status, rotated, _) = call(
            &url,
            "POST",
            &format!("{keys}/{id}/rotate"),
            Some(token),
            "",
        )
        .await;
        assert_eq!(status, 200);
        let new_secret = rotated["secret"].as_str().unwrap().to_owned();
        assert_eq!(signed(&url, "GET", "/v1/orders", &id, &secret).await, 401);
        assert_eq!(
            signed(&url, "GET", "/v1/orders", &id, &new_secret).await,
            200
        );

        // Revocation: rejected from the next request.
        let (status, revoked, _) =
            call(&url, "DELETE", &format!("{keys}/{id}"), Some(token), "").await;
        assert_eq!(
            (status, &revoked["active"]),
            (200, &serde_json::json!(false))
        );
        assert_eq!(
            signed(&url, "GET", "/v1/orders", &id, &new_secret).await,
            401
        );
        assert_eq!(
            call(
                &url,
                "POST",
                &format!("{keys}/{id}/rotate"),
                Some(token),
                ""
            )
            .await
            .0,
            409
        );

        // Bad requests get their own answers.
        let bad = [
            ("POST", keys.to_owned(), r#"{"permissions":["root"]}"#, 400),
            ("POST", keys.to_owned(), "not json", 400),
            (
                "POST",
                keys.to_owned(),
                &format!(r#"{{"key_id":"{id}"}}"#) as &str,
                409,
            ),
            ("GET", format!("{keys}/no-such-key"), "", 404),
            ("PUT", keys.to_owned(), "", 405),
            ("GET", format!("{keys}/a/b/c"), "", 404),
        ];
        for (method, path, body, expected) in bad {
            let (status, answer, _) = call(&url, method, &path, Some(token), body).await;
            assert_eq!(status, expected, "{method} {path}: {answer}");
            assert!(answer["error"].is_string());
        }
    }
}
