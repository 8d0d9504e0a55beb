//! Verification throughput (`cargo bench --bench verify`).
//!
//! - `verify/<scheme>/<body bytes>`: the whole verification — parse, window,
//!   key lookup, canonical string, body hash where the scheme has one, HMAC,
//!   constant-time compare, nonce check-and-record — of a typical request,
//!   every request with its own nonce, for bodies of 0 B to 1 MiB. A pool of
//!   20 000 signed requests is verified in batches of 256, each batch read
//!   into cache first (untimed), as a server verifies a request it has just
//!   parsed; each pass over the pool starts a fresh nonce store, whose
//!   growth to 20 000 nonces is part of the figure.
//! - `limit/...`: the hashes a verification cannot avoid, alone: HMAC-SHA256
//!   and HMAC-SHA512 over the same sizes, and SHA-256 of a body.
//! - `nonce/check_and_record/<threads>`: the in-memory nonce store, with
//!   one thread and with two contending.
//! - `canonical_json/<bytes>`: `partner`'s canonical JSON.
//! - `engine/<seed>/<body bytes>/{hand-written,profile}`: the same whole
//!   verification by a seed's hand-written scheme and by the profile engine
//!   running the seed's profile (`profiles/seed-*.yaml`), side by side.
//! - `profile/<name>/<body bytes>`: every built-in public profile.
//!
//! `cargo xtask bench --compare` sets the main figures side by side with
//! `openssl speed` and the Python and Node peers, in one run.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sigconform_bench::measure;
use sigconform_bench::workload::{BODY_SIZES, Workload};
use sigconform_core::crypto::{Algorithm, MacKey, sha256};
use sigconform_core::registry::SEED_PROFILES;
use sigconform_core::registry::SchemeRef;
use sigconform_core::sample::json_document;
use sigconform_core::scheme::SchemeId;
use sigconform_core::{MemoryNonceStore, Secret};

const NOW_MS: u64 = 1_700_000_000_000;

/// Requests per workload: each nonce is used once, so a measurement longer
/// than the pool starts again with a fresh nonce store (outside the timing).
const POOL: usize = 20_000;

fn verification(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for scheme in SchemeId::ALL {
        let mut group = c.benchmark_group(format!("verify/{scheme}"));
        group.throughput(Throughput::Elements(1));
        for size in BODY_SIZES {
            group.bench_function(BenchmarkId::from_parameter(size), |b| {
                // Built here, so that a filtered run builds only what it measures.
                let pool = if size >= 1 << 20 { 256 } else { POOL };
                let w = Workload::new(
                    scheme,
                    size,
                    pool,
                    "api.example.com",
                    &Secret::new("bench-secret"),
                    NOW_MS,
                )
                .unwrap();
                b.iter_custom(|iters| verify_pool(&w, iters, &runtime))
            });
        }
        group.finish();
    }
}

/// The whole verification of `w`'s requests, `iters` of them, as
/// [`verification`] measures it.
fn verify_pool(w: &Workload, iters: u64, runtime: &tokio::runtime::Runtime) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let n = left.min(w.requests.len());
        total += measure::verify_first(w, n, runtime);
        left -= n;
    }
    total
}

/// The profile engine against the hand-written scheme it describes, and
/// every public profile.
fn profiles(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // `whsec_` and base64: a secret every profile can use.
    let secret = Secret::new("whsec_YmVuY2gtc2VjcmV0LW9mLTI0LWJ5dGVzIQ==");
    let workload = |scheme: SchemeRef, size| {
        Workload::new(scheme, size, POOL, "api.example.com", &secret, NOW_MS).unwrap()
    };
    for (seed, profile) in SEED_PROFILES {
        for size in [0, 1024] {
            let mut group = c.benchmark_group(format!("engine/{seed}/{size}"));
            group.throughput(Throughput::Elements(1));
            let written = workload(SchemeRef::Seed(seed), size);
            let described = workload(SchemeRef::by_name(profile).unwrap(), size);
            group.bench_function("hand-written", |b| {
                b.iter_custom(|iters| verify_pool(&written, iters, &runtime))
            });
            group.bench_function("profile", |b| {
                b.iter_custom(|iters| verify_pool(&described, iters, &runtime))
            });
            group.finish();
        }
    }
    for scheme in SchemeRef::all_built_in() {
        if !matches!(scheme, SchemeRef::Profile(ref p) if !p.name.starts_with("seed-")) {
            continue;
        }
        let mut group = c.benchmark_group(format!("profile/{}", scheme.name()));
        group.throughput(Throughput::Elements(1));
        for size in [0, 1024] {
            let w = workload(scheme.clone(), size);
            group.bench_function(BenchmarkId::from_parameter(size), |b| {
                b.iter_custom(|iters| verify_pool(&w, iters, &runtime))
            });
        }
        group.finish();
    }
}

fn limits(c: &mut Criterion) {
    let key = MacKey::new(b"bench-secret");
    for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
        let mut group = c.benchmark_group(format!("limit/hmac-{algorithm:?}").to_lowercase());
        for size in BODY_SIZES {
            let message = vec![b'm'; size];
            let tag = key.sign(algorithm, &message);
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(BenchmarkId::from_parameter(size), |b| {
                b.iter(|| assert!(key.verify(algorithm, &message, tag.as_bytes())))
            });
        }
        group.finish();
    }
    let mut group = c.benchmark_group("limit/sha256");
    for size in BODY_SIZES {
        let body = vec![b'b'; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| sha256(&body))
        });
    }
    group.finish();
}

/// Distinct nonces per thread, reused only after they have expired.
const NONCES: usize = 1 << 20;
/// The `a2a` window both ways plus a second, in ms.
const NONCE_TTL_MS: u64 = 601_000;

fn nonce_store(c: &mut Criterion) {
    let mut group = c.benchmark_group("nonce/check_and_record");
    group.throughput(Throughput::Elements(1));
    for threads in [1, 2] {
        group.bench_function(BenchmarkId::from_parameter(threads), |b| {
            let nonces: Vec<Vec<String>> = (0..threads)
                .map(|t| (0..NONCES).map(|i| format!("t{t}-{i:08}")).collect())
                .collect();
            b.iter_custom(|iters| {
                let store = MemoryNonceStore::default();
                let per_thread = iters as usize / threads;
                let started = Instant::now();
                std::thread::scope(|scope| {
                    for nonces in &nonces[..threads] {
                        let store = &store;
                        scope.spawn(move || {
                            for i in 0..per_thread {
                                // Ten simulated milliseconds per operation:
                                // entries expire and are swept, as in a
                                // server's steady state.
                                let now = NOW_MS + 10 * i as u64;
                                store
                                    .check_and_record_sync(
                                        "bench-key",
                                        &nonces[i % NONCES],
                                        now,
                                        NONCE_TTL_MS,
                                    )
                                    .expect("a fresh nonce is accepted");
                            }
                        });
                    }
                });
                started.elapsed()
            })
        });
    }
    group.finish();
}

fn canonical_json(c: &mut Criterion) {
    let mut group = c.benchmark_group("canonical_json");
    for size in [256, 1 << 20] {
        let doc = json_document(size);
        let mut out = Vec::with_capacity(size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| {
                out.clear();
                sigconform_core::canonical_json::canonicalize_body(&doc, &mut out).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = verification, profiles, limits, nonce_store, canonical_json
}
criterion_main!(benches);
