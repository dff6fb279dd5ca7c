//! The GBCS key derivation: NIST SP 800-56A single-step KDF with SHA-256, one block, the
//! leftmost 128 bits (`gbcs-cs02.md` A.6; GBCS v0.8.1 4.3.3.3).

use core::fmt;

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::frame::GroupingHeader;

/// The AES-GCM-128 algorithm ID of the Green Book, first field of OtherInfo.
pub const ALGORITHM_ID: [u8; 7] = [0x60, 0x85, 0x74, 0x06, 0x08, 0x03, 0x00];

/// An ECDH shared secret Z (the 32-byte x-coordinate). Zeroized on drop; `Debug` redacts it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SharedSecret([u8; 32]);

impl SharedSecret {
    /// Wraps raw Z bytes (from an HSM, or a test vector).
    #[must_use]
    pub const fn from_bytes(z: [u8; 32]) -> Self {
        Self(z)
    }

    /// The raw bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

/// The 33-byte OtherInfo for a grouping header:
/// `AlgorithmID(7) || originator(8) || 09 || CRA(1) || counter(8) || recipient(8)`.
#[must_use]
pub fn other_info(header: &GroupingHeader<'_>) -> [u8; 33] {
    let mut out = [0u8; 33];
    let parts: [&[u8]; 6] = [
        &ALGORITHM_ID,
        &header.originator.0,
        &[0x09, header.cra_flag.0],
        &header.originator_counter.to_be_bytes(),
        &header.recipient.0,
        &[],
    ];
    let mut at = 0;
    for p in parts {
        if let Some(dst) = out.get_mut(at..at + p.len()) {
            dst.copy_from_slice(p);
        }
        at += p.len();
    }
    out
}

/// A derived AES-128 MAC key K. Zeroized on drop; `Debug` redacts it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MacKey([u8; 16]);

impl MacKey {
    /// `K = leftmost16(SHA-256(00000001 || Z || OtherInfo))` for the message `header` names.
    #[must_use]
    pub fn derive(z: &SharedSecret, header: &GroupingHeader<'_>) -> Self {
        Self::derive_with(z, &other_info(header))
    }

    /// `K` for an explicit OtherInfo.
    #[must_use]
    pub fn derive_with(z: &SharedSecret, other_info: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update([0, 0, 0, 1]);
        h.update(z.0);
        h.update(other_info);
        let mut digest = h.finalize();
        let mut k = [0u8; 16];
        k.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
        digest.zeroize();
        Self(k)
    }

    /// Wraps raw key bytes.
    #[must_use]
    pub const fn from_bytes(k: [u8; 16]) -> Self {
        Self(k)
    }

    /// The raw bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(..)")
    }
}
