//! Nonces shared by every instance of a deployment, in Redis (seed 001:
//! "use Redis when there is more than one server").
//!
//! One command per check-and-record, atomic in Redis:
//! `SET sigconform:nonce:{len}:{key id}{nonce} 1 NX PX {ttl}` sets the key
//! only if it is absent, so of any number of identical requests arriving at
//! any number of instances exactly one records the nonce. When Redis cannot
//! be reached, or does not answer within the timeout, the answer is
//! [`NonceError::Unavailable`] and the request is refused (503): never
//! accepted without its nonce recorded.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use sigconform_core::answer::{self, Answer};
use sigconform_core::nonce::{NonceError, NonceStore};

/// The Redis nonce store.
#[derive(Clone)]
pub struct RedisNonceStore {
    connection: ConnectionManager,
    timeout: Duration,
}

impl std::fmt::Debug for RedisNonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisNonceStore").finish_non_exhaustive()
    }
}

/// The Redis key of a nonce: the key id's length keeps ("ab", "c") and
/// ("a", "bc") apart.
fn redis_key(key_id: &str, nonce: &str) -> Vec<u8> {
    let mut key = format!("sigconform:nonce:{}:", key_id.len()).into_bytes();
    key.extend_from_slice(key_id.as_bytes());
    key.extend_from_slice(nonce.as_bytes());
    key
}

impl RedisNonceStore {
    /// Connects to `url` (`redis://host:port/db`). Every command, and every
    /// reconnection, is limited to `timeout`.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, NonceError> {
        let unavailable =
            |e: redis::RedisError| NonceError::Unavailable(format!("redis: {}", e.category()));
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(timeout);
        let connection =
            tokio::time::timeout(timeout, ConnectionManager::new_with_config(client, config))
                .await
                .map_err(|_| {
                    NonceError::Unavailable(format!("redis: no answer within {timeout:?}"))
                })?
                .map_err(unavailable)?;
        Ok(RedisNonceStore {
            connection,
            timeout,
        })
    }

    async fn set_if_absent(&self, key: Vec<u8>, ttl_ms: u64) -> Result<(), NonceError> {
        let mut connection = self.connection.clone();
        let mut set = redis::cmd("SET");
        set.arg(key).arg(1).arg("NX").arg("PX").arg(ttl_ms.max(1));
        let command = set.query_async::<Option<String>>(&mut connection);
        match tokio::time::timeout(self.timeout, command).await {
            Ok(Ok(Some(_))) => Ok(()),
            Ok(Ok(None)) => Err(NonceError::Replayed),
            Ok(Err(e)) => Err(NonceError::Unavailable(format!("redis: {}", e.category()))),
            Err(_) => Err(NonceError::Unavailable(format!(
                "redis: no answer within {:?}",
                self.timeout
            ))),
        }
    }
}

impl NonceStore for RedisNonceStore {
    fn check_and_record<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        _now_ms: u64,
        ttl_ms: u64,
    ) -> Answer<'a, Result<(), NonceError>> {
        // Redis keeps its own time for the expiry: instances whose clocks
        // differ still agree on when a nonce may come back.
        answer::later(self.set_if_absent(redis_key(key_id, nonce), ttl_ms))
    }
}
