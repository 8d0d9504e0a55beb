//! Keys in a SQL database, as seed 000 keeps them: a table of integrations
//! with a secret and an active flag, looked up asynchronously by id
//! (`SELECT secret_key FROM integrations WHERE integration_id = ? AND
//! active = 1`), with a cache in front.
//!
//! SQLite (a file, created on first use) and PostgreSQL, chosen by the URL:
//! `sqlite://keys.db`, `postgres://user@host/db`. Lookups distinguish an
//! unknown key, an inactive (revoked) key and a store that cannot answer;
//! the last is never cached and never an accept. Transient failures are
//! retried with backoff within the lookup timeout.
//!
//! The same store creates, lists, rotates and revokes keys for the admin
//! API (seed 002): new secrets are 32 bytes from the OS RNG in base64, and
//! every change drops the key from this process's cache. Other processes
//! sharing the database see a change once their cached entry expires
//! ([`SqlKeysConfig::cache_ttl`]).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

use sigconform_core::answer::{self, Answer};
use sigconform_core::keys::{Key, KeyLookup, LookupError, Permissions, Secret};
use sigconform_core::scheme::Scheme;

/// The table, portable between SQLite and PostgreSQL (integers are
/// BIGINT on both; timestamps are milliseconds since the epoch).
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS integrations (
    integration_id TEXT PRIMARY KEY,
    secret_key TEXT NOT NULL,
    active BIGINT NOT NULL,
    permissions TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
)";

/// How to reach and use the database.
#[derive(Debug, Clone)]
pub struct SqlKeysConfig {
    /// `sqlite://PATH` or `postgres://…`. Never printed: it may hold a password.
    pub url: String,
    /// How long a looked-up key (or its absence) is remembered.
    pub cache_ttl: Duration,
    /// How many key ids the cache holds at most.
    pub cache_capacity: u64,
    /// How long a lookup may take, retries included, before the store
    /// counts as unavailable.
    pub lookup_timeout: Duration,
    /// Connections in the pool.
    pub max_connections: u32,
}

impl SqlKeysConfig {
    /// Defaults for `url`: a 2 s cache of up to 100 000 ids, a 2 s lookup
    /// timeout, 8 connections.
    pub fn new(url: impl Into<String>) -> Self {
        SqlKeysConfig {
            url: url.into(),
            cache_ttl: Duration::from_secs(2),
            cache_capacity: 100_000,
            lookup_timeout: Duration::from_secs(2),
            max_connections: 8,
        }
    }
}

/// Why a key store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or did not answer in time.
    #[error("key store unavailable: {0}")]
    Unavailable(String),
    /// A key with this id exists already.
    #[error("key `{0}` exists already")]
    Exists(String),
    /// No key has this id.
    #[error("no key `{0}`")]
    NotFound(String),
    /// The key is revoked; it cannot be rotated.
    #[error("key `{0}` is revoked")]
    Revoked(String),
    /// The request is not valid (a key id, a URL).
    #[error("{0}")]
    Invalid(String),
}

/// A key as the admin API shows it: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key (integration) id.
    pub key_id: String,
    /// False once revoked.
    pub active: bool,
    /// What the key may do.
    pub permissions: Permissions,
    /// Free text from whoever created it.
    pub description: String,
    /// When it was created (ms since the epoch).
    pub created_at_ms: u64,
    /// When its secret was last replaced.
    pub rotated_at_ms: Option<u64>,
    /// When it was revoked.
    pub revoked_at_ms: Option<u64>,
}

/// A key with its new secret: shown once, when created or rotated.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The key.
    pub record: KeyRecord,
    /// Its secret.
    pub secret: Secret,
}

/// A cached lookup: the key, or the definite answer that there is none.
type Cached = Result<Arc<Key>, LookupError>;

/// The SQL key store.
pub struct SqlKeys {
    pool: AnyPool,
    cache: moka::sync::Cache<String, Cached>,
    lookup_timeout: Duration,
    make_key: KeyMaker,
}

/// How a stored secret becomes a key: as the scheme makes its keys (a
/// profile may decode its secrets; SigV4's keys are `"AWS4" + secret`).
pub type KeyMaker = Arc<dyn Fn(&str, &Secret) -> Key + Send + Sync>;

/// The [`KeyMaker`] of `scheme`: its [`Scheme::key`], or the secret's bytes
/// where the scheme cannot make one (a secret it cannot decode, which then
/// signs nothing the sender signs).
pub fn key_maker(scheme: Arc<dyn Scheme>) -> KeyMaker {
    Arc::new(move |id, secret| {
        scheme
            .key(id, secret)
            .unwrap_or_else(|_| Key::new(id, secret))
    })
}

impl std::fmt::Debug for SqlKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlKeys").finish_non_exhaustive()
    }
}

/// Milliseconds since the epoch, now.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What a store says when the operating system has no randomness to give.
fn no_randomness(e: getrandom::Error) -> StoreError {
    StoreError::Unavailable(format!("no randomness from the OS: {e}"))
}

/// Key ids go into headers of every scheme (and `partner` splits its header
/// on `.`): letters, digits, `_` and `-`, 1 to 64 of them.
fn check_key_id(key_id: &str) -> Result<(), StoreError> {
    let valid = (1..=64).contains(&key_id.len())
        && key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "a key id is 1 to 64 letters, digits, `_` or `-`".into(),
        ))
    }
}

/// Whether a failed query may succeed if tried again soon.
fn transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed => true,
        // SQLite busy/locked; PostgreSQL serialization failure, deadlock,
        // shutting down, starting up, and every connection exception.
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            matches!(&*code, "5" | "6" | "40001" | "40P01" | "57P01" | "57P03")
                || code.starts_with("08")
        }),
        _ => false,
    }
}

/// Runs `attempt` until it succeeds, fails for good, or `timeout` has
/// passed: a failure that may pass if tried again ([`transient`]) is tried
/// again after 10 ms, 20 ms, 40 ms, … while the next try can still start
/// in time. The error says why the last try failed, without details.
async fn within<T, F>(timeout: Duration, mut attempt: impl FnMut() -> F) -> Result<T, String>
where
    F: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(10);
    loop {
        match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(Ok(found)) => return Ok(found),
            Ok(Err(e)) if transient(&e) && tokio::time::Instant::now() + delay < deadline => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Ok(Err(e)) => return Err(describe(&e)),
            Err(_) => return Err(format!("no answer within {timeout:?}")),
        }
    }
}

/// A failure described without the query's parameters or the URL.
fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(e) => format!("database error {}", e.code().unwrap_or_default()),
        sqlx::Error::Io(e) => format!("i/o: {}", e.kind()),
        sqlx::Error::PoolTimedOut => "no connection free in time".into(),
        sqlx::Error::PoolClosed => "the pool is closed".into(),
        other => format!("{}", ErrorKind(other)),
    }
}

/// The kind of a sqlx error, without its details.
struct ErrorKind<'e>(&'e sqlx::Error);

impl std::fmt::Display for ErrorKind<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            sqlx::Error::Configuration(_) => "configuration error",
            sqlx::Error::Tls(_) => "TLS error",
            sqlx::Error::Protocol(_) => "protocol error",
            sqlx::Error::RowNotFound => "row not found",
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => "unexpected column type",
            _ => "database driver error",
        })
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Unavailable(describe(&error))
    }
}

/// SQLite creates the file only when asked to (`mode=rwc`).
fn connect_url(url: &str) -> Result<String, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(if url.contains("mode=") {
            url.to_owned()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        })
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(url.to_owned())
    } else {
        Err(StoreError::Invalid(
            "the key store URL is sqlite://PATH or postgres://…".into(),
        ))
    }
}

/// Creates the table unless it exists. On PostgreSQL, `CREATE TABLE IF NOT
/// EXISTS` is not safe against itself: two sessions running it at once can
/// both find no table, and the second then fails on a unique index of the
/// catalog (error 23505). Instances of a deployment start together, so the
/// statement runs under a transaction-scoped advisory lock there. (SQLite
/// serialises writers itself.)
async fn create_schema(pool: &AnyPool, url: &str) -> Result<(), sqlx::Error> {
    if url.starts_with("sqlite:") {
        sqlx::query(SCHEMA).execute(pool).await?;
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    // Any constant names the lock; this one is "signconf" in ASCII.
    sqlx::query("SELECT pg_advisory_xact_lock(8316291910728642150)")
        .execute(&mut *tx)
        .await?;
    sqlx::query(SCHEMA).execute(&mut *tx).await?;
    tx.commit().await
}

/// The columns of a [`KeyRecord`] (a macro: sqlx takes SQL text only as
/// literals, so that no query is assembled from values).
macro_rules! record_columns {
    () => {
        "integration_id, active, permissions, description, created_at, rotated_at, revoked_at"
    };
}

fn record(row: &sqlx::any::AnyRow) -> Result<KeyRecord, StoreError> {
    let ms = |v: i64| u64::try_from(v).unwrap_or(0);
    let permissions: String = row.try_get("permissions")?;
    Ok(KeyRecord {
        key_id: row.try_get("integration_id")?,
        active: row.try_get::<i64, _>("active")? == 1,
        permissions: Permissions::from_names(permissions.split_whitespace())
            .map_err(StoreError::Invalid)?,
        description: row.try_get("description")?,
        created_at_ms: ms(row.try_get("created_at")?),
        rotated_at_ms: row.try_get::<Option<i64>, _>("rotated_at")?.map(ms),
        revoked_at_ms: row.try_get::<Option<i64>, _>("revoked_at")?.map(ms),
    })
}

impl SqlKeys {
    /// Connects and creates the table if it is not there.
    pub async fn connect(config: &SqlKeysConfig) -> Result<Self, StoreError> {
        install_default_drivers();
        let url = connect_url(&config.url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.lookup_timeout)
            .connect(&url)
            .await?;
        create_schema(&pool, &url).await?;
        Ok(SqlKeys {
            pool,
            cache: moka::sync::Cache::builder()
                .max_capacity(config.cache_capacity)
                .time_to_live(config.cache_ttl)
                .build(),
            lookup_timeout: config.lookup_timeout,
            make_key: Arc::new(|id, secret| Key::new(id, secret)),
        })
    }

    /// The store, making its keys with `make_key` ([`key_maker`]) rather
    /// than from the secret's bytes.
    pub fn making_keys_with(self, make_key: KeyMaker) -> Self {
        SqlKeys { make_key, ..self }
    }

    /// Stops using the database: every later lookup is
    /// [`LookupError::Unavailable`] (for tests of a store going away).
    pub async fn close(&self) {
        self.pool.close().await;
        self.cache.invalidate_all();
    }

    /// One query for `key_id`: the key, or why there is none.
    async fn query(&self, key_id: &str) -> Result<Cached, sqlx::Error> {
        let row = sqlx::query(
            "SELECT secret_key, active, permissions FROM integrations WHERE integration_id = $1",
        )
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Err(LookupError::Unknown));
        };
        if row.try_get::<i64, _>("active")? != 1 {
            return Ok(Err(LookupError::Inactive));
        }
        let secret = Secret::new(row.try_get::<String, _>("secret_key")?);
        let permissions: String = row.try_get("permissions")?;
        let permissions = Permissions::from_names(permissions.split_whitespace())
            .map_err(|e| sqlx::Error::Decode(e.into()))?;
        Ok(Ok(Arc::new(
            (self.make_key)(key_id, &secret).restricted_to(permissions),
        )))
    }

    /// [`query`](Self::query) within the lookup timeout, transient
    /// failures retried with backoff ([`within`]).
    async fn fetch(&self, key_id: &str) -> Cached {
        within(self.lookup_timeout, || self.query(key_id))
            .await
            .unwrap_or_else(|e| Err(LookupError::Unavailable(e)))
    }

    /// Creates a key with a new random secret (and a random id if `key_id`
    /// is `None`).
    pub async fn create(
        &self,
        key_id: Option<&str>,
        permissions: Permissions,
        description: &str,
    ) -> Result<Issued, StoreError> {
        let key_id = match key_id {
            Some(id) => id.to_owned(),
            None => format!(
                "key_{}",
                base16ct::lower::encode_string(
                    &sigconform_core::crypto::random_bytes::<8>().map_err(no_randomness)?,
                )
            ),
        };
        check_key_id(&key_id)?;
        let secret = new_secret()?;
        let record = KeyRecord {
            key_id,
            active: true,
            permissions,
            description: description.to_owned(),
            created_at_ms: now_ms(),
            rotated_at_ms: None,
            revoked_at_ms: None,
        };
        let inserted = sqlx::query(
            "INSERT INTO integrations (integration_id, secret_key, active, permissions, description, created_at) \
             VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT (integration_id) DO NOTHING",
        )
        .bind(&record.key_id)
        .bind(secret.expose())
        .bind(permissions.names().join(" "))
        .bind(&record.description)
        .bind(record.created_at_ms as i64)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Exists(record.key_id));
        }
        self.cache.invalidate(&record.key_id);
        Ok(Issued { record, secret })
    }

    /// Stores a key with a given secret, replacing one of the same id
    /// (configuration given on the command line, tests).
    pub async fn put(
        &self,
        key_id: &str,
        secret: &Secret,
        permissions: Permissions,
    ) -> Result<(), StoreError> {
        check_key_id(key_id)?;
        sqlx::query(
            "INSERT INTO integrations (integration_id, secret_key, active, permissions, description, created_at) \
             VALUES ($1, $2, 1, $3, '', $4) ON CONFLICT (integration_id) DO UPDATE SET \
             secret_key = $2, active = 1, permissions = $3, revoked_at = NULL",
        )
        .bind(key_id)
        .bind(secret.expose())
        .bind(permissions.names().join(" "))
        .bind(now_ms() as i64)
        .execute(&self.pool)
        .await?;
        self.cache.invalidate(key_id);
        Ok(())
    }

    /// Every key, oldest first.
    pub async fn list(&self) -> Result<Vec<KeyRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM integrations ORDER BY created_at, integration_id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(record)
        .collect()
    }

    /// One key.
    pub async fn get(&self, key_id: &str) -> Result<KeyRecord, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM integrations WHERE integration_id = $1"
        ))
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(record)
            .unwrap_or_else(|| Err(StoreError::NotFound(key_id.to_owned())))
    }

    /// Replaces an active key's secret: the old one stops working at once
    /// in this process.
    pub async fn rotate(&self, key_id: &str) -> Result<Issued, StoreError> {
        let secret = new_secret()?;
        let updated = sqlx::query(
            "UPDATE integrations SET secret_key = $1, rotated_at = $2 \
             WHERE integration_id = $3 AND active = 1",
        )
        .bind(secret.expose())
        .bind(now_ms() as i64)
        .bind(key_id)
        .execute(&self.pool)
        .await?;
        self.cache.invalidate(key_id);
        let record = self.get(key_id).await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Revoked(key_id.to_owned()));
        }
        Ok(Issued { record, secret })
    }

    /// Revokes a key: rejected from the next request on in this process.
    pub async fn revoke(&self, key_id: &str) -> Result<KeyRecord, StoreError> {
        sqlx::query(
            "UPDATE integrations SET active = 0, revoked_at = $1 \
             WHERE integration_id = $2 AND active = 1",
        )
        .bind(now_ms() as i64)
        .bind(key_id)
        .execute(&self.pool)
        .await?;
        self.cache.invalidate(key_id);
        self.get(key_id).await
    }
}

/// A new secret ([`Secret::generate`]).
fn new_secret() -> Result<Secret, StoreError> {
    Secret::generate().map_err(no_randomness)
}

impl KeyLookup for SqlKeys {
    fn lookup<'a>(&'a self, key_id: &'a str) -> Answer<'a, Result<Arc<Key>, LookupError>> {
        if let Some(cached) = self.cache.get(key_id) {
            return answer::now(cached);
        }
        answer::later(async move {
            let found = self.fetch(key_id).await;
            // Only definite answers are remembered: a store that could not
            // answer is asked again next time.
            if !matches!(found, Err(LookupError::Unavailable(_))) {
                self.cache.insert(key_id.to_owned(), found.clone());
            }
            found
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_key_ids() {
        assert_eq!(
            connect_url("sqlite://k.db").unwrap(),
            "sqlite://k.db?mode=rwc"
        );
        assert_eq!(
            connect_url("sqlite://k.db?x=1").unwrap(),
            "sqlite://k.db?x=1&mode=rwc"
        );
        assert_eq!(
            connect_url("sqlite://k.db?mode=ro").unwrap(),
            "sqlite://k.db?mode=ro"
        );
        assert!(connect_url("postgres://u@h/d").is_ok());
        assert!(matches!(
            connect_url("mysql://u@h/d"),
            Err(StoreError::Invalid(_))
        ));
        assert!(check_key_id("svc_1-a").is_ok());
        for bad in ["", "a.b", "a b", "é", &"x".repeat(65)] {
            assert!(check_key_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_failures_that_may_pass_are_retried() {
        assert!(transient(&sqlx::Error::PoolTimedOut));
        assert!(transient(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset
        ))));
        assert!(!transient(&sqlx::Error::RowNotFound));
        assert!(!transient(&sqlx::Error::PoolClosed));
        assert!(!transient(&sqlx::Error::Protocol("garbage".into())));
    }

    /// An attempt that fails `failures` times with `error`, then answers.
    fn flaky(
        failures: usize,
        error: fn() -> sqlx::Error,
    ) -> (
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
        impl FnMut() -> std::future::Ready<Result<&'static str, sqlx::Error>>,
    ) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let tries = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = tries.clone();
        let attempt = move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            std::future::ready(if n < failures {
                Err(error())
            } else {
                Ok("key")
            })
        };
        (tries, attempt)
    }

    fn reset() -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_with_backoff_within_the_timeout() {
        use std::sync::atomic::Ordering;
        // Three resets, then an answer: 10 + 20 + 40 ms of backoff.
        let (tries, attempt) = flaky(3, reset);
        let started = tokio::time::Instant::now();
        assert_eq!(within(Duration::from_secs(2), attempt).await, Ok("key"));
        assert_eq!(tries.load(Ordering::SeqCst), 4);
        assert_eq!(started.elapsed(), Duration::from_millis(70));

        // Resets for ever: given up once the next try could not start in
        // time, with the last failure named.
        let (tries, attempt) = flaky(usize::MAX, reset);
        let started = tokio::time::Instant::now();
        let failed = within(Duration::from_secs(2), attempt).await.unwrap_err();
        assert!(failed.contains("i/o"), "{failed}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // 10 + 20 + … + 640 ms fit in 2 s; 1 280 ms more would not.
        assert_eq!(tries.load(Ordering::SeqCst), 8);

        // A failure that will not pass is not tried again.
        let (tries, attempt) = flaky(1, || sqlx::Error::RowNotFound);
        assert!(within(Duration::from_secs(2), attempt).await.is_err());
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_that_hangs_ends_at_the_timeout() {
        let started = tokio::time::Instant::now();
        let hung = within(Duration::from_millis(500), || {
            std::future::pending::<Result<(), sqlx::Error>>()
        })
        .await;
        assert_eq!(hung, Err("no answer within 500ms".into()));
        assert_eq!(started.elapsed(), Duration::from_millis(500));
    }

    #[test]
    fn failures_are_described_without_their_details() {
        let e = sqlx::Error::Configuration("postgres://user:hunter2@db/keys".into());
        assert!(!describe(&e).contains("hunter2"));
    }
}
