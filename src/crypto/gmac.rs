//! AES-128-GMAC (GCM with an empty plaintext), streaming the AAD from several slices.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;

use crate::crypto::MacKey;

/// The full 16-byte GCM tag over the concatenation of `aad` parts, with a 96-bit `iv` and no
/// plaintext. GBCS keeps the leftmost 12 bytes.
#[must_use]
pub fn gmac(key: &MacKey, iv: &[u8; 12], aad: &[&[u8]]) -> [u8; 16] {
    let cipher = Aes128::new(key.as_bytes().into());
    let mut h = ghash::Block::default();
    cipher.encrypt_block(&mut h);
    let mut ghash = GHash::new(&h);

    let mut pending = [0u8; 16];
    let mut filled = 0usize;
    let mut total = 0u64;
    for part in aad {
        total = total.saturating_add(u64::try_from(part.len()).unwrap_or(u64::MAX));
        let mut rest: &[u8] = part;
        if filled > 0 {
            let take = (16 - filled).min(rest.len());
            let (head, tail) = rest.split_at(take);
            if let Some(dst) = pending.get_mut(filled..filled + take) {
                dst.copy_from_slice(head);
            }
            filled += take;
            rest = tail;
            if filled == 16 {
                ghash.update_padded(&pending);
                filled = 0;
            }
        }
        let whole = rest.len() - rest.len() % 16;
        let (blocks, tail) = rest.split_at(whole);
        ghash.update_padded(blocks);
        // `filled` is zero here whenever `tail` is non-empty.
        if let Some(dst) = pending.get_mut(filled..filled + tail.len()) {
            dst.copy_from_slice(tail);
        }
        filled += tail.len();
    }
    ghash.update_padded(pending.get(..filled).unwrap_or_default());
    let mut lengths = [0u8; 16];
    if let Some(dst) = lengths.get_mut(..8) {
        dst.copy_from_slice(&total.saturating_mul(8).to_be_bytes());
    }
    ghash.update_padded(&lengths);
    let s = ghash.finalize();

    let mut j0 = ghash::Block::default();
    if let Some(dst) = j0.get_mut(..12) {
        dst.copy_from_slice(iv);
    }
    if let Some(last) = j0.get_mut(15) {
        *last = 1;
    }
    cipher.encrypt_block(&mut j0);
    let mut tag = [0u8; 16];
    for ((t, a), b) in tag.iter_mut().zip(j0.iter()).zip(s.iter()) {
        *t = a ^ b;
    }
    tag
}
