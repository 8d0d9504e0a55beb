//! Timing loops behind `cargo xtask bench`: each measures one thing in
//! rounds until a time budget is spent and reports the best round, so that
//! figures compared side by side come from one run on one machine.
//!
//! The criterion benches (`benches/verify.rs`) measure the same operations
//! with criterion's statistics; these loops exist to put them next to
//! `openssl speed` and the Python and Node peers in one table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::workload::Workload;
use sigconform_core::MemoryNonceStore;
use sigconform_core::crypto::{Algorithm, MacKey, sha256};
use sigconform_core::nonce::ForgetfulNonces;

/// Requests verified back to back between two readings of the clock; each
/// batch is read once just before (untimed), as a server has just parsed a
/// request when it verifies it.
pub const BATCH: usize = 256;

/// How fast something went in its best round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Operations per second.
    pub per_second: f64,
}

impl Rate {
    fn of(operations: usize, elapsed: Duration) -> Rate {
        Rate {
            per_second: operations as f64 / elapsed.as_secs_f64().max(1e-12),
        }
    }

    /// Nanoseconds per operation.
    pub fn ns(&self) -> f64 {
        1e9 / self.per_second
    }
}

/// Runs `round` until `budget` is spent (at least twice) and keeps the
/// best rate. `round` returns how many operations it timed and how long
/// they took.
pub fn best_of(budget: Duration, mut round: impl FnMut() -> (usize, Duration)) -> Rate {
    let started = Instant::now();
    let mut best = Rate { per_second: 0.0 };
    let mut rounds = 0;
    while rounds < 2 || started.elapsed() < budget {
        let (operations, elapsed) = round();
        let rate = Rate::of(operations, elapsed);
        if rate.per_second > best.per_second {
            best = rate;
        }
        rounds += 1;
    }
    best
}

/// Reads every header name and value, byte by byte, and a byte of the body
/// of each request, so that the batch about to be timed is in cache, as a
/// request a server has just parsed is. (A workload's requests share one
/// body, which stays in cache once read.)
fn touch(batch: &[sigconform_core::Request]) {
    let mut sum = 0usize;
    for req in batch {
        for (name, value) in req.headers() {
            let bytes = name
                .as_str()
                .bytes()
                .chain(value.as_bytes().iter().copied());
            sum = bytes.fold(sum, |sum, b| sum.wrapping_add(usize::from(b)));
        }
        sum += usize::from(req.body().first().copied().unwrap_or(0));
    }
    std::hint::black_box(sum);
}

/// Where timed verifications record their nonces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceRecord {
    /// A fresh in-memory store per pass, as a server records them.
    Memory,
    /// Nowhere ([`ForgetfulNonces`]): only to show what the nonce record
    /// costs.
    Skipped,
}

/// Verifies the first `count` requests of `w` against a verifier with a
/// fresh nonce store, batch by batch, and returns the time spent verifying
/// (reading each batch into cache first is not timed). Panics if a request
/// is rejected: a rate of rejections would mean nothing.
pub fn verify_first(w: &Workload, count: usize, runtime: &tokio::runtime::Runtime) -> Duration {
    verify_first_recording(w, count, runtime, NonceRecord::Memory)
}

/// What a measurement's time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Wall-clock time, as the peers time themselves.
    Wall,
    /// The measuring thread's CPU time: what `openssl speed` divides by (its
    /// own CPU time), so that a ratio to its figure holds on a machine busy
    /// with other work, whose wall-clock time counts the other work's turns
    /// too.
    ThreadCpu,
}

impl Timer {
    /// A reading; two readings' difference is the time between them.
    fn now(self, wall: Instant) -> Duration {
        match self {
            Timer::Wall => wall.elapsed(),
            Timer::ThreadCpu => thread_cpu_time().unwrap_or_else(|| wall.elapsed()),
        }
    }
}

/// The CPU time the calling thread has used (`None` where the OS does not
/// say).
#[cfg(unix)]
fn thread_cpu_time() -> Option<Duration> {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a valid, writable timespec for the call's duration.
    let read = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    (read == 0).then(|| {
        Duration::new(
            u64::try_from(time.tv_sec).unwrap_or(0),
            u32::try_from(time.tv_nsec).unwrap_or(0),
        )
    })
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// [`verify_first`], with the nonces recorded as `record` says.
pub fn verify_first_recording(
    w: &Workload,
    count: usize,
    runtime: &tokio::runtime::Runtime,
    record: NonceRecord,
) -> Duration {
    verify_first_timed(w, count, runtime, record, Timer::Wall)
}

/// [`verify_first_recording`], timed by `timer`.
pub fn verify_first_timed(
    w: &Workload,
    count: usize,
    runtime: &tokio::runtime::Runtime,
    record: NonceRecord,
    timer: Timer,
) -> Duration {
    let verifier = w.verifier(match record {
        NonceRecord::Memory => Arc::new(MemoryNonceStore::default()),
        NonceRecord::Skipped => Arc::new(ForgetfulNonces),
    });
    let mut elapsed = Duration::ZERO;
    let wall = Instant::now();
    for batch in w.requests[..count].chunks(BATCH) {
        touch(batch);
        let started = timer.now(wall);
        let accepted = runtime.block_on(async {
            let mut accepted = 0;
            for req in batch {
                accepted += usize::from(verifier.verify(req).await.is_ok());
            }
            accepted
        });
        elapsed += timer.now(wall).saturating_sub(started);
        assert_eq!(
            accepted,
            batch.len(),
            "{}: a request was rejected",
            w.scheme
        );
    }
    elapsed
}

/// Whole verifications of every request of `w`: one round is every
/// request once ([`verify_first`]).
pub fn verifications(w: &Workload, budget: Duration) -> Rate {
    verifications_recording(w, budget, NonceRecord::Memory)
}

/// [`verifications`], with the nonces recorded as `record` says.
pub fn verifications_recording(w: &Workload, budget: Duration, record: NonceRecord) -> Rate {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime starts");
    best_of(budget, || {
        (
            w.requests.len(),
            verify_first_recording(w, w.requests.len(), &runtime, record),
        )
    })
}

/// [`verifications`], timed by the measuring thread's CPU time
/// ([`Timer::ThreadCpu`]).
pub fn verifications_on_cpu(w: &Workload, budget: Duration) -> Rate {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime starts");
    best_of(budget, || {
        (
            w.requests.len(),
            verify_first_timed(
                w,
                w.requests.len(),
                &runtime,
                NonceRecord::Memory,
                Timer::ThreadCpu,
            ),
        )
    })
}

/// The hashing a verification of `w`'s requests cannot avoid: SHA-256 of
/// the body (for schemes that hash it apart from the MAC) and the HMAC of
/// each request's canonical string, computed alone.
pub fn hash_limit(w: &Workload, budget: Duration, hashes_body: bool) -> Rate {
    let scheme = w.scheme.build(&w.config).expect("the workload's scheme");
    let canonical: Vec<Vec<u8>> = w
        .requests
        .iter()
        .map(|req| {
            let mut out = Vec::new();
            let params = scheme.parse(req).expect("workload requests parse");
            scheme
                .canonicalize(req, &params, &mut out)
                .expect("workload requests have a canonical string");
            out
        })
        .collect();
    let key = MacKey::new(w.secret.expose().as_bytes());
    let tag = [0u8; 32];
    best_of(budget, || {
        let mut elapsed = Duration::ZERO;
        for (batch, canonical) in w.requests.chunks(BATCH).zip(canonical.chunks(BATCH)) {
            touch(batch);
            let started = Instant::now();
            for (req, canonical) in batch.iter().zip(canonical) {
                if hashes_body && !req.body().is_empty() {
                    std::hint::black_box(sha256(req.body()));
                }
                std::hint::black_box(key.verify(Algorithm::Sha256, canonical, &tag));
            }
            elapsed += started.elapsed();
        }
        (w.requests.len(), elapsed)
    })
}

/// HMAC verifications of one `len`-byte message.
pub fn hmac(algorithm: Algorithm, len: usize, budget: Duration) -> Rate {
    let key = MacKey::new(b"bench-secret");
    let message = vec![b'm'; len];
    let tag = key.sign(algorithm, &message);
    best_of(budget, || {
        const N: usize = 10_000;
        let started = Instant::now();
        for _ in 0..N {
            assert!(key.verify(algorithm, std::hint::black_box(&message), tag.as_bytes()));
        }
        (N, started.elapsed())
    })
}

/// Check-and-record operations per second on one store shared by
/// `threads` threads, each recording its own nonces, with the clock moving
/// 10 ms per operation so that entries expire and are swept as in a
/// server's steady state.
pub fn nonce_store(threads: usize, budget: Duration) -> Rate {
    const PER_THREAD: usize = 500_000;
    let nonces: Vec<Vec<String>> = (0..threads)
        .map(|t| (0..PER_THREAD).map(|i| format!("t{t}-{i:08}")).collect())
        .collect();
    let mut round_number = 0u64;
    best_of(budget, || {
        let store = MemoryNonceStore::default();
        round_number += 1;
        let started = Instant::now();
        std::thread::scope(|scope| {
            for nonces in &nonces {
                let store = &store;
                scope.spawn(move || {
                    for (i, nonce) in nonces.iter().enumerate() {
                        let now_ms = 1_700_000_000_000 + 10 * i as u64;
                        store
                            .check_and_record_sync("bench-key", nonce, now_ms, 601_000)
                            .expect("a fresh nonce is accepted");
                    }
                });
            }
        });
        (threads * PER_THREAD, started.elapsed())
    })
}

/// Bytes per second of `partner`'s canonical JSON of `doc`.
pub fn canonical_json(doc: &[u8], budget: Duration) -> Rate {
    let mut out = Vec::with_capacity(doc.len());
    best_of(budget, || {
        let started = Instant::now();
        out.clear();
        sigconform_core::canonical_json::canonicalize_body(doc, &mut out)
            .expect("the document is JSON");
        (doc.len(), started.elapsed())
    })
}

/// Lookups of `key_id` in `keys` per second, `in_flight` at a time, on
/// `runtime` (the one the store was connected on: its connections belong
/// to it). A cached store answers at once; an uncached one (cache capacity
/// 0) asks its database every time.
pub fn key_lookups(
    runtime: &tokio::runtime::Runtime,
    keys: &dyn sigconform_core::KeyLookup,
    key_id: &str,
    in_flight: usize,
    budget: Duration,
) -> Rate {
    best_of(budget, || {
        const N: usize = 2_000;
        let started = Instant::now();
        runtime.block_on(async {
            use futures_util::StreamExt as _;
            let failed = futures_util::stream::iter(0..N)
                .map(|_| keys.lookup(key_id))
                .buffer_unordered(in_flight.max(1))
                .filter_map(|found| std::future::ready(found.err()))
                .collect::<Vec<_>>()
                .await;
            assert!(failed.is_empty(), "lookups failed: {failed:?}");
        });
        (N, started.elapsed())
    })
}

/// Check-and-record operations per second on `store`, `in_flight` at a
/// time, each with a new nonce, on `runtime` (the store's).
pub fn nonce_records(
    runtime: &tokio::runtime::Runtime,
    store: &dyn sigconform_core::NonceStore,
    in_flight: usize,
    budget: Duration,
) -> Rate {
    let run = sigconform_runner::random_u64();
    let mut round = 0u64;
    best_of(budget, || {
        const N: usize = 2_000;
        round += 1;
        let nonces: Vec<String> = (0..N)
            .map(|i| format!("bench-{run:x}-{round}-{i}"))
            .collect();
        let started = Instant::now();
        runtime.block_on(async {
            use futures_util::StreamExt as _;
            let recorded = futures_util::stream::iter(&nonces)
                .map(|nonce| store.check_and_record("bench-key", nonce, 0, 60_000))
                .buffer_unordered(in_flight.max(1))
                .filter(|r| std::future::ready(r.is_ok()))
                .count()
                .await;
            assert_eq!(recorded, N, "a nonce was not recorded");
        });
        (N, started.elapsed())
    })
}
