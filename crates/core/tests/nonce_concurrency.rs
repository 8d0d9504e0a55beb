//! The nonce store under concurrency: one nonce, many threads, one winner.

use std::sync::{Arc, Barrier};
use std::thread;

use sigconform_core::MemoryNonceStore;
use sigconform_core::nonce::NonceError;

#[test]
fn exactly_one_thread_wins_each_nonce() {
    const THREADS: usize = 16;
    const ROUNDS: usize = 200;
    let store = Arc::new(MemoryNonceStore::new(1 << 16));
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(THREADS));
        let nonce = format!("nonce-{round}");
        let winners: usize = (0..THREADS)
            .map(|_| {
                let (store, barrier, nonce) = (store.clone(), barrier.clone(), nonce.clone());
                thread::spawn(move || {
                    barrier.wait(); // all threads race for the same nonce at once
                    match store.check_and_record_sync("key", &nonce, 1_000, 60_000) {
                        Ok(()) => 1,
                        Err(NonceError::Replayed) => 0,
                        Err(e) => panic!("unexpected {e}"),
                    }
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(
            winners, 1,
            "round {round}: {winners} threads accepted the same nonce"
        );
    }
}

/// The same through the async verifier path: identical signed requests sent
/// at the same moment, at most one accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_requests_through_the_verifier() {
    use sigconform_core::scheme::{SchemeConfig, SchemeId, SignInput};
    use sigconform_core::{FixedClock, KeyPolicy, StaticKeys, Verifier};

    let keys = StaticKeys::from_pairs([("k", "secret")]);
    let scheme = SchemeId::A2a.build(&SchemeConfig::default()).unwrap();
    let mut req = http::Request::post("/x").body("{}".into()).unwrap();
    let input = SignInput {
        key_id: Some("k".into()),
        timestamp: "1700000000".into(),
        nonce: Some("same".into()),
        ..SignInput::default()
    };
    for (name, value) in scheme.sign(&req, &input, keys.get("k").unwrap()).unwrap() {
        req.headers_mut().append(name, value.parse().unwrap());
    }
    let verifier = Arc::new(Verifier::new(
        scheme,
        Arc::new(FixedClock::new(1_700_000_000_000)),
        Arc::new(MemoryNonceStore::default()),
        Arc::new(keys),
        KeyPolicy::default(),
    ));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (verifier, req) = (verifier.clone(), req.clone());
            tokio::spawn(async move { verifier.verify(&req).await.is_ok() })
        })
        .collect();
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(t.await.unwrap());
    }
    assert_eq!(accepted, 1);
}
