//! Single-use nonces.
//!
//! A [`NonceStore`] answers one question atomically: "has this nonce been
//! seen for this key within its lifetime? If not, remember it now." Doing the
//! check and the record as one step is what stops two identical requests
//! that arrive at the same moment from both being accepted.
//!
//! The verifier calls the store only after the signature has verified, so a
//! forged request cannot burn a legitimate client's nonce.

use std::hash::Hasher as _;
use std::sync::Mutex;

use siphasher::sip128::{Hasher128 as _, SipHasher13};

use hashbrown::HashTable;

use crate::answer::{self, Answer};

/// Why a nonce could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// The nonce was already recorded for this key and has not expired.
    #[error("nonce already used")]
    Replayed,
    /// The store cannot record the nonce (full, or its backend is down).
    /// The request must be refused: forgetting a nonce would allow a replay.
    #[error("nonce store unavailable: {0}")]
    Unavailable(String),
}

/// Records nonces so each is accepted at most once per key within its lifetime.
pub trait NonceStore: Send + Sync {
    /// Atomically checks that `nonce` is unused for `key_id` at `now_ms` and
    /// records it until `now_ms + ttl_ms`: at once ([`answer::now`]) for a
    /// store in memory, or [`answer::later`] when a backend must be asked.
    fn check_and_record<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Answer<'a, Result<(), NonceError>>;
}

impl std::fmt::Debug for dyn NonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn NonceStore")
    }
}

/// A store that records nothing and accepts every nonce, replays included.
///
/// Never for a real verifier. It models a server that forgets nonces (the
/// reference server's deliberate defect `NeverRecordsNonces`) and shows
/// what verification costs without the nonce record (in the benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct ForgetfulNonces;

impl NonceStore for ForgetfulNonces {
    fn check_and_record<'a>(
        &'a self,
        _key_id: &'a str,
        _nonce: &'a str,
        _now_ms: u64,
        _ttl_ms: u64,
    ) -> Answer<'a, Result<(), NonceError>> {
        answer::now(Ok(()))
    }
}

/// Number of independently locked shards; a power of two so the shard index
/// is a mask of the hash. Enough that two threads seldom want the same one.
const SHARDS: usize = 16;

/// A shard on cache lines of its own: two threads locking neighbouring
/// shards must not contend for one line (measured: without it, two threads
/// did little more than one).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(Mutex<Shard>);

impl std::ops::Deref for Padded {
    type Target = Mutex<Shard>;
    fn deref(&self) -> &Mutex<Shard> {
        &self.0
    }
}

/// An in-memory nonce store, bounded in size, safe to share between threads.
///
/// Entries expire after their TTL and are swept out before a shard's table
/// would grow. When the store holds `capacity` live nonces it refuses new
/// ones ([`NonceError::Unavailable`]) rather than evicting live entries,
/// because evicting would let a replay through.
///
/// A nonce is remembered by a 128-bit fingerprint of the key id and nonce,
/// computed with a keyed PRF (SipHash-1-3, the variant Rust's standard
/// library keys its hash tables with, under a random key per store); one
/// half of it picks the shard and the slot. Two different nonces share a
/// fingerprint with probability 2^-128, and the error would be on the safe
/// side: the second would be refused as a replay, never a replay accepted.
/// In exchange an operation allocates nothing and an entry is 24 bytes:
/// with two threads on one store, heap copies of the nonces (allocated,
/// compared and freed by either thread) cost more than everything else
/// (`cargo xtask bench --compare`: 4.2 million operations a second with
/// copies, 8.4 million with fingerprints). Clients choose nonces, but cannot
/// aim them at a shard or slot without the key.
pub struct MemoryNonceStore {
    shards: Box<[Padded]>,
    capacity_per_shard: usize,
    /// The PRF's key: random per store, never shown.
    key: [u8; 16],
}

impl std::fmt::Debug for MemoryNonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryNonceStore")
            .field("capacity_per_shard", &self.capacity_per_shard)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Shard {
    entries: HashTable<Entry>,
    /// The earliest expiry in `entries`, so a full shard is swept only when
    /// a sweep can actually free something.
    earliest_expiry: u64,
    /// Whether the last sweep of a full table freed enough to try again
    /// rather than grow (see [`Shard::sweep_before_growing`]).
    sweep_pays_off: bool,
}

/// One recorded nonce, as its fingerprint: 24 bytes however long the key
/// id and nonce are, and nothing on the heap.
#[derive(Debug)]
struct Entry {
    /// The fingerprint's first half, which also places the entry.
    hash: u64,
    /// Its second half.
    check: u64,
    expires: u64,
}

impl MemoryNonceStore {
    /// A store holding at most `capacity` live nonces (rounded up to a
    /// multiple of the shard count).
    pub fn new(capacity: usize) -> Self {
        MemoryNonceStore {
            shards: (0..SHARDS).map(|_| Padded::default()).collect(),
            capacity_per_shard: capacity.div_ceil(SHARDS).max(1),
            key: random_key(),
        }
    }

    /// The synchronous operation behind [`NonceStore::check_and_record`].
    pub fn check_and_record_sync(
        &self,
        key_id: &str,
        nonce: &str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Result<(), NonceError> {
        let mut prf = SipHasher13::new_with_key(&self.key);
        // The length prefix makes ("ab", "c") and ("a", "bc") distinct.
        prf.write_usize(key_id.len());
        prf.write(key_id.as_bytes());
        prf.write(nonce.as_bytes());
        let fingerprint = prf.finish128();
        let (hash, check) = (fingerprint.h1, fingerprint.h2);
        // Bits the table does not use for its slot or tag choose the shard.
        let shard_index = (hash >> 40) as usize & (SHARDS - 1);
        // A poisoned lock means another thread panicked mid-update; the table
        // itself is still consistent (every update is a single insert).
        let mut shard = self.shards[shard_index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());

        let expires = now_ms.saturating_add(ttl_ms);
        if let Some(existing) = shard
            .entries
            .find_mut(hash, |e| e.hash == hash && e.check == check)
        {
            if existing.expires > now_ms {
                return Err(NonceError::Replayed);
            }
            existing.expires = expires;
        } else {
            if shard.entries.len() >= self.capacity_per_shard {
                shard.sweep(now_ms);
                if shard.entries.len() >= self.capacity_per_shard {
                    return Err(NonceError::Unavailable("nonce store is full".into()));
                }
            } else if shard.entries.len() == shard.entries.capacity() {
                shard.sweep_before_growing(now_ms);
            }
            shard.entries.insert_unique(
                hash,
                Entry {
                    hash,
                    check,
                    expires,
                },
                |e| e.hash,
            );
        }
        if shard.entries.len() == 1 || expires < shard.earliest_expiry {
            shard.earliest_expiry = expires;
        }
        Ok(())
    }

    /// Live and expired-but-not-yet-swept entries, for tests and metrics.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).entries.len())
            .sum()
    }

    /// Whether the store holds no entries at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A PRF key from the operating system's random number generator.
fn random_key() -> [u8; 16] {
    crate::crypto::random_bytes().unwrap_or_else(|_| {
        // The standard library's hasher keys come from the OS too, with
        // fallbacks of their own.
        use std::hash::{BuildHasher, Hasher};
        let mut key = [0u8; 16];
        for half in key.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u8(0);
            half.copy_from_slice(&hasher.finish().to_le_bytes());
        }
        key
    })
}

impl Default for MemoryNonceStore {
    /// One million nonces: about 50 MB at worst, far above any single
    /// server's request rate times a five-minute window in the seeds.
    fn default() -> Self {
        MemoryNonceStore::new(1 << 20)
    }
}

impl Shard {
    /// Drops expired entries, if any can have expired.
    fn sweep(&mut self, now_ms: u64) {
        if now_ms < self.earliest_expiry {
            return;
        }
        self.entries.retain(|e| e.expires > now_ms);
        self.earliest_expiry = self.entries.iter().map(|e| e.expires).min().unwrap_or(0);
    }

    /// Called when the table is full: sweeps instead of growing, so that
    /// memory follows the live nonces rather than the most ever seen. A
    /// sweep that frees less than an eighth of the table lets the next
    /// fill grow it instead, so sweeps stay amortised O(1) per insert.
    fn sweep_before_growing(&mut self, now_ms: u64) {
        if !self.sweep_pays_off {
            self.sweep_pays_off = true;
            return;
        }
        let before = self.entries.len();
        self.sweep(now_ms);
        self.sweep_pays_off = before - self.entries.len() >= before / 8;
    }
}

impl NonceStore for MemoryNonceStore {
    fn check_and_record<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Answer<'a, Result<(), NonceError>> {
        answer::now(self.check_and_record_sync(key_id, nonce, now_ms, ttl_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_use_is_a_replay_until_expiry() {
        let s = MemoryNonceStore::new(64);
        assert_eq!(s.check_and_record_sync("k", "n", 1000, 500), Ok(()));
        assert_eq!(
            s.check_and_record_sync("k", "n", 1499, 500),
            Err(NonceError::Replayed)
        );
        // Another key may use the same nonce.
        assert_eq!(s.check_and_record_sync("k2", "n", 1499, 500), Ok(()));
        // Key/nonce boundaries cannot be shifted to collide.
        assert_eq!(s.check_and_record_sync("k", "2n", 1000, 500), Ok(()));
        assert_eq!(
            s.check_and_record_sync("k2", "n", 1000, 500),
            Err(NonceError::Replayed)
        );
        // Expired: usable again.
        assert_eq!(s.check_and_record_sync("k", "n", 1500, 500), Ok(()));
    }

    #[test]
    fn full_store_refuses_instead_of_forgetting() {
        let s = MemoryNonceStore::new(SHARDS); // one entry per shard
        let mut refused = 0;
        for i in 0..(SHARDS * 4) {
            match s.check_and_record_sync("k", &i.to_string(), 0, 1000) {
                Ok(()) => {}
                Err(NonceError::Unavailable(_)) => refused += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(refused > 0, "a full store must refuse");
        assert!(s.len() <= SHARDS);
        // Every recorded nonce is still a replay: nothing was evicted early.
        let mut replays = 0;
        for i in 0..(SHARDS * 4) {
            if s.check_and_record_sync("k", &i.to_string(), 10, 1000) == Err(NonceError::Replayed) {
                replays += 1;
            }
        }
        assert_eq!(replays, s.len());
        // Once the entries expire, a full shard is swept and has room again.
        assert_eq!(s.check_and_record_sync("k", "0", 5000, 1000), Ok(()));
        assert_eq!(
            s.check_and_record_sync("k", "0", 5001, 1000),
            Err(NonceError::Replayed)
        );
    }
}
