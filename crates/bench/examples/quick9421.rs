// Throwaway: RFC 9421 verifications per second (not committed).
use sigconform_bench::{measure, workload::Workload};
use sigconform_core::registry::SchemeRef;
use std::time::Duration;
fn main() {
    let scheme = SchemeRef::by_name("rfc9421").unwrap();
    let secret = sigconform_core::Secret::new("c2lnY29uZm9ybS1iZW5jaC1zZWNyZXQtb2YtMzItYnl0ZXMh");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    for size in [0, 1024] {
        let w = Workload::new(
            scheme.clone(),
            size,
            5000,
            "api.example.com",
            &secret,
            now_ms,
        )
        .unwrap();
        let mut best = 0f64;
        for _ in 0..3 {
            best = best.max(measure::verifications(&w, Duration::from_millis(700)).per_second);
        }
        println!("{size}: {best:.0}/s");
    }
}
