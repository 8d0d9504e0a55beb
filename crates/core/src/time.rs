//! Clocks, timestamps and acceptance windows.
//!
//! Time is injected: verifiers ask a [`Clock`] for "now", so every expiry and
//! skew test runs against a [`FixedClock`] and is deterministic. Timestamp
//! syntax and the window arithmetic are defined here once for all schemes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Rejection;

/// A source of the current time, in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> u64;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock before 1970 is a broken machine; treat it as the epoch
        // rather than panicking in a verifier.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock that says what it is told: for tests and vectors.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicU64);

impl FixedClock {
    /// A clock stopped at `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        FixedClock(AtomicU64::new(now_ms))
    }

    /// Moves the clock to `now_ms` (forwards or backwards).
    pub fn set(&self, now_ms: u64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The unit a scheme writes its timestamps in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds since the epoch (every scheme but `partner`).
    Seconds,
    /// Milliseconds since the epoch (`partner`).
    Milliseconds,
}

impl TimeUnit {
    /// Converts a millisecond instant to this unit, rounding down.
    pub const fn from_ms(self, ms: u64) -> u64 {
        match self {
            TimeUnit::Seconds => ms / 1000,
            TimeUnit::Milliseconds => ms,
        }
    }

    /// Converts an amount in this unit to milliseconds, saturating.
    pub const fn to_ms(self, amount: u64) -> u64 {
        match self {
            TimeUnit::Seconds => amount.saturating_mul(1000),
            TimeUnit::Milliseconds => amount,
        }
    }
}

/// The longest timestamp accepted, in digits. `u64::MAX` has 20 digits, so
/// every 19-digit decimal fits and parsing cannot overflow.
pub const MAX_TIMESTAMP_DIGITS: usize = 19;

/// Parses a timestamp: a plain ASCII decimal integer of 1 to 19 digits.
///
/// No sign, spaces, `_`, fraction or exponent. Leading zeros are allowed
/// (they are digits), but the signed string is always the one received.
pub fn parse_timestamp(text: &str) -> Result<u64, Rejection> {
    let bytes = text.as_bytes();
    if bytes.is_empty()
        || bytes.len() > MAX_TIMESTAMP_DIGITS
        || !bytes.iter().all(u8::is_ascii_digit)
    {
        return Err(Rejection::MalformedTimestamp);
    }
    // Cannot fail: at most 19 ASCII digits.
    text.parse().map_err(|_| Rejection::MalformedTimestamp)
}

/// How far from "now" a timestamp may be, in the scheme's unit.
///
/// Both limits are inclusive: `now - past <= ts <= now + future` is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The unit of `past`, `future` and of the timestamps checked.
    pub unit: TimeUnit,
    /// How old a timestamp may be.
    pub past: u64,
    /// How far in the future a timestamp may be.
    pub future: u64,
}

impl Window {
    /// A window with the same limit both ways.
    pub const fn symmetric(unit: TimeUnit, tolerance: u64) -> Self {
        Window {
            unit,
            past: tolerance,
            future: tolerance,
        }
    }

    /// Checks `timestamp` (in this window's unit) against `now_ms`.
    pub fn check(&self, timestamp: u64, now_ms: u64) -> Result<(), Rejection> {
        let now = self.unit.from_ms(now_ms);
        // i128 so that neither subtraction can overflow for any u64 inputs.
        let age = i128::from(now) - i128::from(timestamp);
        if age > i128::from(self.past) {
            Err(Rejection::Expired)
        } else if -age > i128::from(self.future) {
            Err(Rejection::FromTheFuture)
        } else {
            Ok(())
        }
    }

    /// How long a nonce must be remembered so that it cannot be replayed
    /// while its request is still inside the window, in milliseconds.
    ///
    /// A request stamped `ts` is acceptable until `ts + past`, and `ts` may
    /// be up to `future` ahead of the moment it is first seen, so the whole
    /// span plus one unit (for rounding `now` down) is enough.
    pub const fn nonce_ttl_ms(&self) -> u64 {
        self.unit
            .to_ms(self.past.saturating_add(self.future).saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_syntax() {
        assert_eq!(parse_timestamp("0"), Ok(0));
        assert_eq!(parse_timestamp("1707753600"), Ok(1_707_753_600));
        assert_eq!(
            parse_timestamp("9999999999999999999"),
            Ok(9_999_999_999_999_999_999)
        );
        for bad in [
            "",
            " 1",
            "1 ",
            "+1",
            "-1",
            "1.0",
            "1e3",
            "1_000",
            "0x10",
            "١٢",
            "99999999999999999999",
        ] {
            assert_eq!(
                parse_timestamp(bad),
                Err(Rejection::MalformedTimestamp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn window_limits_are_inclusive() {
        let w = Window {
            unit: TimeUnit::Seconds,
            past: 300,
            future: 30,
        };
        let now_ms = 1_000_000_500; // 1_000_000 s and a half
        assert_eq!(w.check(1_000_000 - 300, now_ms), Ok(()));
        assert_eq!(w.check(1_000_000 - 301, now_ms), Err(Rejection::Expired));
        assert_eq!(w.check(1_000_000 + 30, now_ms), Ok(()));
        assert_eq!(
            w.check(1_000_000 + 31, now_ms),
            Err(Rejection::FromTheFuture)
        );
        assert_eq!(w.check(0, now_ms), Err(Rejection::Expired));
        assert_eq!(w.check(u64::MAX, now_ms), Err(Rejection::FromTheFuture));
    }

    #[test]
    fn milliseconds_window() {
        let w = Window::symmetric(TimeUnit::Milliseconds, 300_000);
        assert_eq!(w.check(1_700_000_300_000, 1_700_000_000_000), Ok(()));
        assert_eq!(
            w.check(1_700_000_300_001, 1_700_000_000_000),
            Err(Rejection::FromTheFuture)
        );
        // Seconds where milliseconds are expected look 50 years old.
        assert_eq!(
            w.check(1_700_000_000, 1_700_000_000_000),
            Err(Rejection::Expired)
        );
    }

    #[test]
    fn system_clock_is_the_wall_clock() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let now = SystemClock.now_ms();
        // After 2020-01-01 and not behind the reading taken just before.
        assert!(now >= before && now > 1_577_836_800_000, "{now}");
    }

    #[test]
    fn fixed_clock_moves() {
        let c = FixedClock::new(5);
        c.set(7);
        assert_eq!(c.now_ms(), 7);
    }
}
