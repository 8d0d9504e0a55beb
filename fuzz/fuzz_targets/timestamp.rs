//! Timestamp syntax and window arithmetic: never a panic or an overflow.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform_core::time::{TimeUnit, Window, parse_timestamp};

fuzz_target!(|data: (&str, u64, u64, u64)| {
    let (text, now_ms, past, future) = data;
    if let Ok(ts) = parse_timestamp(text) {
        assert!(text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit()));
        for unit in [TimeUnit::Seconds, TimeUnit::Milliseconds] {
            let _ = Window { unit, past, future }.check(ts, now_ms);
            let _ = Window { unit, past, future }.nonce_ttl_ms();
        }
    }
});
