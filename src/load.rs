//! A loopback load generator for the reference server: the figure behind
//! "verified requests per second" (`cargo xtask bench`).
//!
//! Requests are signed before the clock starts (each with its own nonce, so
//! every one is a real verification and nonce record), then sent over
//! `connections` keep-alive connections as fast as the server answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::keys::{Key, Secret};
use crate::scheme::{SchemeConfig, SchemeId, SignInput};
use crate::time::{Clock, SystemClock};

/// What a load run measured.
#[derive(Debug, Clone, Copy)]
pub struct LoadResult {
    /// Requests answered 2xx.
    pub accepted: usize,
    /// Requests answered otherwise (must be 0 for a valid measurement).
    pub other: usize,
    /// Wall time of the sending phase.
    pub elapsed: Duration,
}

impl LoadResult {
    /// Accepted requests per second.
    pub fn per_second(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64()
    }
}

/// Sends `total` distinct signed `scheme` requests to `url`.
pub async fn run(
    url: &str,
    scheme: SchemeId,
    key_id: &str,
    secret: &Secret,
    total: usize,
    connections: usize,
) -> Result<LoadResult, String> {
    let config = SchemeConfig {
        endpoint: Some("https:sigconform.test/app".into()),
        ..SchemeConfig::default()
    };
    let scheme_impl = scheme.build(&config).map_err(|e| e.to_string())?;
    let key = Key::new(key_id, secret);
    let now_ms = SystemClock.now_ms();
    let timestamp = match scheme_impl.window().unit {
        crate::time::TimeUnit::Seconds => now_ms / 1000,
        crate::time::TimeUnit::Milliseconds => now_ms,
    };
    let body = Bytes::from_static(br#"{"order":"ord_0123456789","qty":2}"#);
    let uri: http::Uri = format!("{url}/v1/orders")
        .parse()
        .map_err(|e| format!("{url}: {e}"))?;
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let mut requests = Vec::with_capacity(total);
    for i in 0..total {
        let mut req = http::Request::post(uri.clone())
            .header("host", authority.as_str())
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(body.clone())
            .map_err(|e| e.to_string())?;
        let input = SignInput {
            key_id: Some(key_id.into()),
            timestamp: timestamp.to_string(),
            nonce: Some(format!("load-{i}")),
            ..SignInput::default()
        };
        for (name, value) in scheme_impl
            .sign(&req, &input, &key)
            .map_err(|e| e.to_string())?
        {
            req.headers_mut()
                .append(name, value.parse().map_err(|_| "header value")?);
        }
        requests.push(req);
    }
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections.max(1) {
        let (requests, next, client) = (requests.clone(), next.clone(), client.clone());
        workers.spawn(async move {
            let (mut accepted, mut other) = (0, 0);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(req) = requests.get(i) else { break };
                let (parts, body) = req.clone().into_parts();
                match client
                    .request(http::Request::from_parts(parts, Full::new(body)))
                    .await
                {
                    Ok(resp) => {
                        let ok = resp.status().is_success();
                        let _ = resp.into_body().collect().await;
                        if ok { accepted += 1 } else { other += 1 }
                    }
                    Err(_) => other += 1,
                }
            }
            (accepted, other)
        });
    }
    let (mut accepted, mut other) = (0, 0);
    for (a, o) in workers.join_all().await {
        accepted += a;
        other += o;
    }
    Ok(LoadResult {
        accepted,
        other,
        elapsed: started.elapsed(),
    })
}
