//! Static–static shared secrets computed once (`std`).
//!
//! Z of a GBCS key pair — a local KA key (the ACB's, a head-end's) and a peer's KA certificate
//! (a meter's) — changes only when one of the certificates does. A [`SharedSecretCache`] keeps
//! the Z of recent pairs, keyed by both SMKI key identifiers, so verifying a device's messages
//! or MAC'ing several commands to it costs one ECDH, not one per message.
//!
//! - **Bounded**: at most `capacity` pairs; the oldest is evicted first (FIFO). Capacity 0
//!   caches nothing.
//! - **Wiped**: an evicted, replaced or forgotten Z is dropped, and [`SharedSecret`] zeroizes
//!   itself on drop; every Z handed out is a copy that does the same.
//! - **Exact**: an entry also records the peer's point, so two keys that shared a 60-bit key
//!   identifier could never be given each other's Z.
//! - **Shared**: `&SharedSecretCache` is `Sync`; the ECDH of a miss runs outside the lock, so
//!   the bulk engine's threads never wait on each other's elliptic-curve work.
//! - **Invalidated** by the caller when a certificate changes: [`SharedSecretCache::forget_peer`].
//!
//! ```
//! use gbcs::crypto::{CachedKeyAgreement, KeyAgreement, KeyAgreementKey, SharedSecretCache};
//! # fn main() -> Result<(), gbcs::crypto::CryptoError> {
//! let acb = KeyAgreementKey::from_scalar(&[7; 32])?;
//! let meter = KeyAgreementKey::from_scalar(&[9; 32])?.public_key();
//!
//! let cache = SharedSecretCache::new(100_000);
//! let cached = CachedKeyAgreement::for_key(&acb, &cache);
//! let first = cached.agree(&meter)?; // one ECDH
//! let again = cached.agree(&meter)?; // from the cache
//! assert_eq!(first.as_bytes(), again.as_bytes());
//! assert_eq!(cache.stats().hits, 1);
//! # Ok(()) }
//! ```

use alloc::collections::VecDeque;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::crypto::{CryptoError, KeyAgreement, KeyAgreementKey, PublicKey, SharedSecret};
use crate::payload::KeyId;

/// The cache's key: (local KA key identifier, peer KA key identifier).
type PairId = (KeyId, KeyId);

struct Entry {
    peer_point: [u8; 65],
    z: SharedSecret,
}

#[derive(Default)]
struct Inner {
    map: HashMap<PairId, Entry>,
    order: VecDeque<PairId>,
    stats: CacheStats,
}

/// Counters of a [`SharedSecretCache`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Look-ups answered from the cache.
    pub hits: u64,
    /// Look-ups that ran an ECDH.
    pub misses: u64,
    /// Entries evicted to stay within capacity.
    pub evictions: u64,
}

/// A bounded, thread-safe cache of static–static shared secrets; see the module docs.
pub struct SharedSecretCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl core::fmt::Debug for SharedSecretCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedSecretCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .field("stats", &self.stats())
            .finish()
    }
}

impl SharedSecretCache {
    /// A cache of at most `capacity` pairs (0: nothing is kept).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave an entry half-written: every change is one insert or
        // one remove. Carry on with the data as it is.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most pairs it keeps.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many pairs it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether it holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hits, misses and evictions so far.
    #[must_use]
    pub fn stats(&self) -> CacheStats {
        self.lock().stats
    }

    /// Z of `local` (whose key identifier is `local_id`) with `peer`: from the cache, or by
    /// one ECDH whose result is then kept.
    ///
    /// # Errors
    /// What `local.agree` returns; nothing is cached then.
    pub fn get_or_agree(
        &self,
        local: &(impl KeyAgreement + ?Sized),
        local_id: KeyId,
        peer: &PublicKey,
    ) -> Result<SharedSecret, CryptoError> {
        let pair = (local_id, peer.key_id());
        {
            let mut inner = self.lock();
            let hit = inner
                .map
                .get(&pair)
                .filter(|e| e.peer_point == *peer.as_uncompressed())
                .map(|e| e.z.clone());
            if let Some(z) = hit {
                inner.stats.hits += 1;
                return Ok(z);
            }
            inner.stats.misses += 1;
        }
        // The ECDH runs without the lock.
        let z = local.agree(peer)?;
        if self.capacity > 0 {
            let mut inner = self.lock();
            let entry = Entry {
                peer_point: *peer.as_uncompressed(),
                z: z.clone(),
            };
            if inner.map.insert(pair, entry).is_none() {
                inner.order.push_back(pair);
            }
            while inner.map.len() > self.capacity {
                let Some(oldest) = inner.order.pop_front() else {
                    break;
                };
                // Dropping the entry zeroizes its Z.
                if inner.map.remove(&oldest).is_some() {
                    inner.stats.evictions += 1;
                }
            }
        }
        Ok(z)
    }

    /// Forgets every Z agreed with the peer key `peer_id` (its certificate was replaced);
    /// returns how many were dropped.
    pub fn forget_peer(&self, peer_id: KeyId) -> usize {
        let mut inner = self.lock();
        let before = inner.map.len();
        inner.map.retain(|(_, peer), _| *peer != peer_id);
        inner.order.retain(|(_, peer)| *peer != peer_id);
        before - inner.map.len()
    }

    /// Forgets everything (each Z zeroized as it is dropped).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.map.clear();
        inner.order.clear();
    }
}

/// A key agreement that goes through a [`SharedSecretCache`]: use it wherever a
/// [`KeyAgreement`] is taken (the migration engine's ACB, a head-end's verifier).
#[derive(Clone, Copy)]
pub struct CachedKeyAgreement<'c, K> {
    key: K,
    key_id: KeyId,
    cache: &'c SharedSecretCache,
}

impl<'c, K: KeyAgreement> CachedKeyAgreement<'c, K> {
    /// `key`, whose public key has the identifier `key_id` (its KA certificate's SKI; an HSM
    /// key's identifier comes from its certificate), through `cache`.
    pub const fn new(key: K, key_id: KeyId, cache: &'c SharedSecretCache) -> Self {
        Self { key, key_id, cache }
    }

    /// The key's own identifier.
    #[must_use]
    pub const fn key_id(&self) -> KeyId {
        self.key_id
    }
}

impl<'k, 'c> CachedKeyAgreement<'c, &'k KeyAgreementKey> {
    /// A software key through `cache`, under the identifier computed from its public key.
    #[must_use]
    pub const fn for_key(key: &'k KeyAgreementKey, cache: &'c SharedSecretCache) -> Self {
        Self::new(key, key.key_id(), cache)
    }
}

impl<K> core::fmt::Debug for CachedKeyAgreement<'_, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CachedKeyAgreement")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl<K: KeyAgreement> KeyAgreement for CachedKeyAgreement<'_, K> {
    fn agree(&self, peer: &PublicKey) -> Result<SharedSecret, CryptoError> {
        self.cache.get_or_agree(&self.key, self.key_id, peer)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_whose_key_id_collides_gets_its_own_z_not_the_cached_one() {
        let acb = KeyAgreementKey::from_scalar(&[1; 32]).expect("key");
        let first = KeyAgreementKey::from_scalar(&[2; 32])
            .expect("key")
            .public_key();
        let other = KeyAgreementKey::from_scalar(&[3; 32])
            .expect("key")
            .public_key()
            .with_key_id_for_test(first.key_id());
        assert_eq!(first.key_id(), other.key_id());
        let cache = SharedSecretCache::new(8);
        let cached = CachedKeyAgreement::for_key(&acb, &cache);
        let z1 = cached.agree(&first).expect("z");
        let z2 = cached.agree(&other).expect("z");
        assert_ne!(z1.as_bytes(), z2.as_bytes());
        assert_eq!(z2.as_bytes(), acb.agree(&other).expect("z").as_bytes());
        assert_eq!(
            cache.stats().hits,
            0,
            "the first peer's Z was not handed out"
        );
        assert_eq!(cache.len(), 1, "the newer peer replaced the entry");
    }
}
