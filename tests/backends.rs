//! The two crypto backends against each other, and the shared-secret cache.
//!
//! - On every RTDS CS02 message, RustCrypto and aws-lc-rs agree: each signature verifies with
//!   the originator's key on both, each MAC with the Z that both compute, and a signature with
//!   one bit changed fails on both.
//! - Over random keys and messages (property tests): a signature made on either backend
//!   verifies on the other, a changed message fails on both, and both compute the same Z.
//! - The cache: one ECDH per pair, bounded with the oldest evicted first, nothing kept on
//!   failure or at capacity 0, a replaced peer forgotten, safe to share between threads.

#[path = "support/shared.rs"]
mod shared;

use gbcs::crypto::keystore::KeyRole;
use gbcs::crypto::{
    Backend, CachedKeyAgreement, CryptoError, KeyAgreement, KeyAgreementKey, PublicKey,
    SharedSecret, SharedSecretCache, Signature, SignatureSigner, SignatureVerifier, SigningKey,
};
use gbcs::frame::{EntityId, SignatureTail};
use proptest::prelude::*;

fn on(key: &PublicKey, b: Backend) -> PublicKey {
    key.clone().with_backend(b).expect("backend")
}

#[test]
fn both_backends_are_compiled_into_the_test_build() {
    // The differential tests below compare nothing unless both are here (`--all-features`).
    assert_eq!(Backend::ALL.len(), 2, "{:?}", Backend::ALL);
}

#[test]
fn both_backends_agree_on_every_rtds_cs02_signature_and_mac() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = shared::keystore(&dir);
    let files = shared::cs02_files(&dir);
    assert!(files.len() >= 60, "found {} CS02 files", files.len());
    let acb = ks
        .key_agreement_key(EntityId::from_u64(shared::ACB), KeyRole::KeyAgreement)
        .expect("ACB KA key");
    let (mut signatures, mut macs) = (0, 0);
    for file in &files {
        let m = gbcs::parse(&file.bytes).unwrap_or_else(|e| panic!("{}: {e}", file.name));
        if let SignatureTail::Signature(sig) = *m.tail() {
            let key = ks
                .public_key(m.header().originator, KeyRole::DigitalSignature)
                .expect("DS certificate");
            let signed = m.frame().general_signing().signed_bytes();
            let mut flipped = sig;
            flipped[17] ^= 0x04;
            for &b in Backend::ALL {
                let key = on(&key, b);
                assert_eq!(key.backend(), b);
                m.verify_signature(&key)
                    .unwrap_or_else(|e| panic!("{} on {b}: {e}", file.name));
                assert_eq!(
                    key.verify(signed, &Signature(flipped)),
                    Err(CryptoError::BadSignature),
                    "{} on {b}: a changed signature verified",
                    file.name
                );
            }
            signatures += 1;
        }
        if m.frame().mac().is_some() {
            let h = m.header();
            let device = if h.originator.0.starts_with(&[0x00, 0xDB]) {
                h.originator
            } else {
                h.recipient
            };
            let peer = ks
                .public_key(device, KeyRole::KeyAgreement)
                .expect("device KA certificate");
            let zs: Vec<SharedSecret> = Backend::ALL
                .iter()
                .map(|&b| {
                    let own = acb.clone().with_backend(b).expect("backend");
                    assert_eq!(own.backend(), b);
                    own.agree(&on(&peer, b)).expect("ECDH")
                })
                .collect();
            for z in &zs {
                assert_eq!(z.as_bytes(), zs[0].as_bytes(), "{}: Z differs", file.name);
                m.verify_mac(z)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.name));
            }
            macs += 1;
        }
    }
    eprintln!(
        "{signatures} signatures and {macs} MACs of {} CS02 files agree on {:?}",
        files.len(),
        Backend::ALL
    );
    assert!(signatures >= 40 && macs >= 20, "{signatures} / {macs}");
}

#[test]
fn a_key_on_the_rustcrypto_backend_signs_deterministically() {
    let key = SigningKey::from_scalar(&[0x42; 32])
        .and_then(|k| k.with_backend(Backend::RustCrypto))
        .expect("key");
    assert_eq!(key.backend(), Backend::RustCrypto);
    assert!(Backend::RustCrypto.deterministic_signatures());
    let a = key.sign(b"same message").expect("sign");
    assert_eq!(a, key.sign(b"same message").expect("sign"));
    assert_ne!(a, key.sign(b"another message").expect("sign"));
}

#[test]
fn a_key_on_aws_lc_signs_with_fresh_randomness_and_can_still_sign_deterministically() {
    let key = SigningKey::from_scalar(&[0x42; 32])
        .and_then(|k| k.with_backend(Backend::AwsLc))
        .expect("key");
    assert_eq!(key.backend(), Backend::AwsLc);
    assert!(!Backend::AwsLc.deterministic_signatures());
    let a = key.sign(b"same message").expect("sign");
    let b = key.sign(b"same message").expect("sign");
    assert_ne!(a, b, "two AWS-LC signatures of one message were equal");
    for s in [a, b] {
        key.public_key()
            .verify(b"same message", &s)
            .expect("verify");
    }
    let rustcrypto = key.clone().with_backend(Backend::RustCrypto).expect("key");
    assert_eq!(
        key.sign_deterministic(b"same message").expect("sign"),
        rustcrypto.sign(b"same message").expect("sign")
    );
}

#[test]
fn keys_are_made_for_the_default_backend_and_keep_their_key_id_across_backends() {
    let ka = KeyAgreementKey::from_scalar(&[9; 32]).expect("key");
    assert_eq!(ka.backend(), Backend::DEFAULT);
    assert_eq!(
        Backend::DEFAULT,
        Backend::AwsLc,
        "aws-lc is in the default features"
    );
    let public = ka.public_key();
    assert_eq!(public.backend(), Backend::DEFAULT);
    assert_eq!(
        public.key_id(),
        gbcs::smki::key_id(&public.to_uncompressed())
    );
    let moved = on(&public, Backend::RustCrypto);
    assert_eq!(moved.backend(), Backend::RustCrypto);
    assert_eq!(moved, public, "equality is the point, not the backend");
    assert_eq!(moved.key_id(), public.key_id());
}

#[test]
fn backend_names_round_trip_and_unknown_names_are_refused() {
    for &b in Backend::ALL {
        assert_eq!(b.name().parse::<Backend>(), Ok(b));
        assert_eq!(b.to_string(), b.name());
    }
    assert_eq!(
        "openssl".parse::<Backend>(),
        Err(gbcs::crypto::backend::BackendParseError::Unknown)
    );
    assert_eq!(
        "AWS-LC".parse::<Backend>(),
        Err(gbcs::crypto::backend::BackendParseError::Unknown)
    );
}

fn scalar() -> impl Strategy<Value = [u8; 32]> {
    // Below the group order: the top byte is kept under 0xFF, and zero is avoided.
    (any::<[u8; 31]>(), 1u8..0xFF).prop_map(|(low, top)| {
        let mut s = [0u8; 32];
        s[0] = top;
        s[1..].copy_from_slice(&low);
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_signature_made_on_either_backend_verifies_on_the_other(
        d in scalar(),
        message in proptest::collection::vec(any::<u8>(), 0..600),
        flip in any::<prop::sample::Index>(),
    ) {
        let base = SigningKey::from_scalar(&d).expect("scalar");
        for &signer in Backend::ALL {
            let key = base.clone().with_backend(signer).expect("backend");
            let sig = key.sign(&message).expect("sign");
            for &verifier in Backend::ALL {
                let public = on(&key.public_key(), verifier);
                prop_assert_eq!(public.verify(&message, &sig), Ok(()), "{} → {}", signer, verifier);
                let mut changed = message.clone();
                changed.push(0);
                if !message.is_empty() {
                    let i = flip.index(message.len());
                    changed = message.clone();
                    changed[i] ^= 0x80;
                }
                prop_assert_eq!(
                    public.verify(&changed, &sig),
                    Err(CryptoError::BadSignature),
                    "{} → {}: changed message verified", signer, verifier
                );
            }
        }
    }

    #[test]
    fn both_backends_compute_the_same_z(a in scalar(), b in scalar()) {
        let ours = KeyAgreementKey::from_scalar(&a).expect("scalar");
        let theirs = KeyAgreementKey::from_scalar(&b).expect("scalar");
        let mut zs = Vec::new();
        for &x in Backend::ALL {
            for &y in Backend::ALL {
                let own = ours.clone().with_backend(x).expect("backend");
                zs.push(*own.agree(&on(&theirs.public_key(), y)).expect("ECDH").as_bytes());
                let other = theirs.clone().with_backend(y).expect("backend");
                zs.push(*other.agree(&on(&ours.public_key(), x)).expect("ECDH").as_bytes());
            }
        }
        prop_assert!(zs.iter().all(|z| *z == zs[0]));
    }
}

fn ka(n: u8) -> KeyAgreementKey {
    KeyAgreementKey::from_scalar(&[n; 32]).expect("key")
}

#[test]
fn the_cache_agrees_once_per_pair() {
    let cache = SharedSecretCache::new(8);
    let acb = ka(1);
    let cached = CachedKeyAgreement::for_key(&acb, &cache);
    let (m1, m2) = (ka(2).public_key(), ka(3).public_key());
    let z1 = cached.agree(&m1).expect("z");
    assert_eq!(z1.as_bytes(), acb.agree(&m1).expect("z").as_bytes());
    for _ in 0..3 {
        assert_eq!(cached.agree(&m1).expect("z").as_bytes(), z1.as_bytes());
    }
    cached.agree(&m2).expect("z");
    let s = cache.stats();
    assert_eq!((s.hits, s.misses, s.evictions, cache.len()), (3, 2, 0, 2));
}

#[test]
fn the_cache_is_bounded_and_evicts_the_oldest_pair_first() {
    let cache = SharedSecretCache::new(2);
    let acb = ka(1);
    let cached = CachedKeyAgreement::for_key(&acb, &cache);
    let peers: Vec<PublicKey> = (2..5).map(|n| ka(n).public_key()).collect();
    for p in &peers {
        cached.agree(p).expect("z");
    }
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.stats().evictions, 1);
    // The newest two are kept; the first was evicted and costs an ECDH again.
    cached.agree(&peers[2]).expect("z");
    cached.agree(&peers[1]).expect("z");
    assert_eq!(cache.stats().hits, 2);
    cached.agree(&peers[0]).expect("z");
    assert_eq!(cache.stats().misses, 4);
    assert_eq!(cache.len(), 2);
}

#[test]
fn a_cache_of_capacity_zero_keeps_nothing() {
    let cache = SharedSecretCache::new(0);
    let acb = ka(1);
    let cached = CachedKeyAgreement::for_key(&acb, &cache);
    let peer = ka(2).public_key();
    cached.agree(&peer).expect("z");
    cached.agree(&peer).expect("z");
    assert!(cache.is_empty());
    assert_eq!(cache.stats().hits, 0);
}

#[test]
fn the_cache_keys_by_both_identifiers_so_two_local_keys_do_not_share_z() {
    let cache = SharedSecretCache::new(8);
    let (a, b) = (ka(1), ka(7));
    let peer = ka(2).public_key();
    let za = CachedKeyAgreement::for_key(&a, &cache)
        .agree(&peer)
        .expect("z");
    let zb = CachedKeyAgreement::for_key(&b, &cache)
        .agree(&peer)
        .expect("z");
    assert_ne!(za.as_bytes(), zb.as_bytes());
    assert_eq!(cache.len(), 2);
}

#[test]
fn a_replaced_peer_is_forgotten_and_cleared_caches_agree_again() {
    let cache = SharedSecretCache::new(8);
    let acb = ka(1);
    let cached = CachedKeyAgreement::for_key(&acb, &cache);
    let (m1, m2) = (ka(2).public_key(), ka(3).public_key());
    cached.agree(&m1).expect("z");
    cached.agree(&m2).expect("z");
    assert_eq!(cache.forget_peer(m1.key_id()), 1);
    assert_eq!(cache.forget_peer(m1.key_id()), 0);
    assert_eq!(cache.len(), 1);
    cached.agree(&m1).expect("z");
    assert_eq!(cache.stats().misses, 3);
    cache.clear();
    assert!(cache.is_empty());
}

/// A key agreement that always fails, like an HSM that does not answer.
struct Failing;

impl KeyAgreement for Failing {
    fn agree(&self, _: &PublicKey) -> Result<SharedSecret, CryptoError> {
        Err(CryptoError::Backend)
    }
}

#[test]
fn a_failed_agreement_is_returned_and_not_cached() {
    let cache = SharedSecretCache::new(8);
    let id = ka(1).key_id();
    let cached = CachedKeyAgreement::new(Failing, id, &cache);
    assert_eq!(cached.key_id(), id);
    let peer = ka(2).public_key();
    assert_eq!(cached.agree(&peer).map(|_| ()), Err(CryptoError::Backend));
    assert!(cache.is_empty());
}

#[test]
fn threads_sharing_the_cache_get_the_same_z() {
    let cache = SharedSecretCache::new(64);
    let acb = ka(1);
    let peers: Vec<PublicKey> = (2..34).map(|n| ka(n).public_key()).collect();
    let want: Vec<[u8; 32]> = peers
        .iter()
        .map(|p| *acb.agree(p).expect("z").as_bytes())
        .collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let cached = CachedKeyAgreement::for_key(&acb, &cache);
                for (p, w) in peers.iter().zip(&want) {
                    assert_eq!(cached.agree(p).expect("z").as_bytes(), w);
                }
            });
        }
    });
    let st = cache.stats();
    assert_eq!(st.hits + st.misses, 4 * 32);
    assert_eq!(cache.len(), 32);
}
