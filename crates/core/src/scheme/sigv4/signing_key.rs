//! SigV4's signing key, derived from the secret by a chain of HMACs, and a
//! cache of the keys derived.
//!
//! ```text
//! kDate    = HMAC("AWS4" + secret, "20150830")
//! kRegion  = HMAC(kDate, region)
//! kService = HMAC(kRegion, service)
//! kSigning = HMAC(kService, "aws4_request")
//! ```
//!
//! The scheme's keys hold `"AWS4" + secret` (`SigV4::key`), so kDate is one
//! HMAC with a precomputed state. The cache is keyed by kDate itself: a
//! rotated secret under the same key id, or another day, derives another
//! kDate and so never meets a key derived from the old one; each entry
//! holds the region and service it was derived for.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::crypto::{Algorithm, MacKey};
use crate::keys::Key;

/// A signing key and the region and service it was derived for.
type Derived = (Box<str>, Box<str>, MacKey);

/// Derived signing keys, by kDate (a scheme serves one region and service,
/// unless it serves any region: then the last one derived for the day).
#[derive(Default)]
pub(super) struct SigningKeys {
    derived: RwLock<HashMap<[u8; 32], Derived>>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKeys([redacted])")
    }
}

/// At most this many derived keys are kept; then the cache starts again
/// (a day's keys for a few thousand access keys).
const CAPACITY: usize = 4096;

impl SigningKeys {
    /// The signing key of `key` (holding `"AWS4" + secret`) for `date`
    /// (`YYYYMMDD`), `region`, `service` and `terminator` (`aws4_request`;
    /// a key for another is never cached).
    pub(super) fn derive(
        &self,
        key: &Key,
        date: &str,
        region: &str,
        service: &str,
        terminator: &str,
    ) -> MacKey {
        let k_date: [u8; 32] = key
            .mac()
            .sign(Algorithm::Sha256, date.as_bytes())
            .as_bytes()
            .try_into()
            .expect("an HMAC-SHA256 tag is 32 bytes");
        let cached = terminator == super::TERMINATOR;
        if cached
            && let Some((r, s, found)) = self.read().get(&k_date)
            && **r == *region
            && **s == *service
        {
            return found.clone();
        }
        let step = |key: &[u8], data: &str| {
            MacKey::new(key)
                .sign(Algorithm::Sha256, data.as_bytes())
                .as_bytes()
                .to_vec()
        };
        let k_region = step(&k_date, region);
        let k_service = step(&k_region, service);
        let k_signing = MacKey::new(&step(&k_service, terminator));
        if !cached {
            return k_signing;
        }
        let mut derived = self.derived.write().unwrap_or_else(|e| e.into_inner());
        if derived.len() >= CAPACITY {
            derived.clear();
        }
        derived.insert(k_date, (region.into(), service.into(), k_signing.clone()));
        k_signing
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<[u8; 32], Derived>> {
        // A poisoned lock held only a map of derived keys: still usable.
        self.derived.read().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The signing key of the published suite's credentials, for
    // 20150830/us-east-1/service, as the chain above derives it by hand.
    #[test]
    fn the_cached_key_is_the_chain_s_key() {
        let key = Key::from_bytes(
            "AKIDEXAMPLE",
            b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        );
        let keys = SigningKeys::default();
        let derive = |day: &str, region: &str| {
            keys.derive(&key, day, region, "service", super::super::TERMINATOR)
        };
        let first = derive("20150830", "us-east-1");
        let again = derive("20150830", "us-east-1");
        let tag = |k: &MacKey| k.sign(Algorithm::Sha256, b"m");
        let other_day = derive("20150831", "us-east-1");
        let other_region = derive("20150830", "us-west-2");
        assert_ne!(tag(&first), tag(&other_region));
        assert_eq!(tag(&derive("20150830", "us-east-1")), tag(&first));
        assert_eq!(tag(&first), tag(&again));
        assert_ne!(tag(&first), tag(&other_day));
        let by_hand = ["20150830", "us-east-1", "service", "aws4_request"]
            .iter()
            .fold(
                b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_vec(),
                |k, data| {
                    MacKey::new(&k)
                        .sign(Algorithm::Sha256, data.as_bytes())
                        .as_bytes()
                        .to_vec()
                },
            );
        assert_eq!(tag(&first), tag(&MacKey::new(&by_hand)));
    }
}
