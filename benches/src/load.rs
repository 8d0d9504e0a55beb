//! A loopback load generator for the reference server: the figure behind
//! "verified requests per second" (`cargo xtask bench`).
//!
//! The requests of a [`Workload`] are signed before the clock starts (each
//! with its own nonce, so every one is a real verification and nonce
//! record), then sent over `connections` keep-alive connections as fast as
//! the server answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::workload::Workload;

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

/// Sends every request of `workload` (each signed with its own nonce, so
/// each is a full verification and nonce record) to `url`.
pub async fn run(url: &str, workload: &Workload, connections: usize) -> Result<LoadResult, String> {
    let mut requests = Vec::with_capacity(workload.requests.len());
    for req in &workload.requests {
        let mut req = req.clone();
        let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
        *req.uri_mut() = format!("{url}{target}")
            .parse()
            .map_err(|e| format!("{url}: {e}"))?;
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
