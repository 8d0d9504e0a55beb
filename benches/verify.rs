//! Whole verification per scheme (parse, canonical string, body hash where
//! the scheme has one, HMAC, constant-time compare, nonce check) on a
//! typical request with a 256-byte body, and HMAC-SHA256 alone over the
//! same size as the limit. Run with `cargo bench --bench verify`.

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sigconform::crypto::{Algorithm, MacKey};
use sigconform::nonce::NonceStore;
use sigconform::scheme::{SchemeConfig, SchemeId, SignInput};
use sigconform::{Clock, FixedClock, KeyPolicy, StaticKeys, Verifier};

/// A nonce store that accepts everything: the benchmark re-sends one
/// request, so a real store would reject all but the first. The store has
/// its own benchmark (issue 5).
struct AcceptAll;

#[async_trait::async_trait]
impl NonceStore for AcceptAll {
    async fn check_and_record(
        &self,
        _: &str,
        _: &str,
        _: u64,
        _: u64,
    ) -> Result<(), sigconform::nonce::NonceError> {
        Ok(())
    }
}

fn verification(c: &mut Criterion) {
    let body: Vec<u8> = serde_json::to_vec(&serde_json::json!({
        "order": "ord_0123456789", "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-22", "qty": 1}],
        "note": "x".repeat(150)
    }))
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let clock = Arc::new(FixedClock::new(1_700_000_000_000));
    let keys = StaticKeys::from_pairs([("key-1", "bench-secret"), ("default", "bench-secret")]);
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Bytes(body.len() as u64));
    for id in SchemeId::ALL {
        let config = SchemeConfig {
            endpoint: Some("https:app.example/hook".into()),
            ..SchemeConfig::default()
        };
        let scheme = id.build(&config).unwrap();
        let mut req = http::Request::post("/api/v1/orders?limit=10")
            .header("host", "api.example.com")
            .header("content-type", "application/json")
            .body(body.clone().into())
            .unwrap();
        let ts = match id {
            SchemeId::Partner => clock.now_ms().to_string(),
            _ => (clock.now_ms() / 1000).to_string(),
        };
        let input = SignInput {
            key_id: Some("key-1".into()),
            timestamp: ts,
            nonce: Some("n-1".into()),
            ..SignInput::default()
        };
        let key = keys.get("key-1").unwrap().clone();
        for (name, value) in scheme.sign(&req, &input, &key).unwrap() {
            req.headers_mut().append(name, value.parse().unwrap());
        }
        let verifier = Verifier::new(
            scheme,
            clock.clone(),
            Arc::new(AcceptAll),
            Arc::new(keys.clone()),
            KeyPolicy::default(),
        );
        assert!(runtime.block_on(verifier.verify(&req)).is_ok());
        group.bench_function(BenchmarkId::new("scheme", id.as_str()), |b| {
            b.iter(|| runtime.block_on(verifier.verify(&req)).unwrap())
        });
    }
    let key = MacKey::new(b"bench-secret");
    group.bench_function("hmac-sha256-alone", |b| {
        b.iter(|| key.sign(Algorithm::Sha256, &body))
    });
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
