//! A folder of keys and certificates laid out like the RTDS keystore:
//! `<entity-id>-<ds|ka|pp-ka>.<pem|key>` (lower-case hex entity ID; `ds` digital signature,
//! `ka` key agreement, `pp-ka` key agreement for prepayment top-up; `.pem` a certificate,
//! `.key` a PKCS#8 private key), e.g. `90b3d51f30010000-pp-ka.pem`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use gbcs::crypto::keystore::{KeyRole, Keystore};
//! let ks = Keystore::open("../shared/rtds/keystore")?;
//! let tcos = "90B3D51F30000004".parse()?;
//! let verifier = ks.public_key(tcos, KeyRole::DigitalSignature)?;
//! let signer = ks.signing_key(tcos)?;
//! # let _ = (verifier, signer); Ok(()) }
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use std::path::{Path, PathBuf};

use crate::crypto::{CryptoError, KeyAgreementKey, PublicKey, SigningKey};
use crate::frame::EntityId;

/// Which key of a party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// `-ds`: digital signature.
    DigitalSignature,
    /// `-ka`: key agreement (management).
    KeyAgreement,
    /// `-pp-ka`: key agreement for prepayment top-up.
    PrepaymentKeyAgreement,
}

impl KeyRole {
    const fn suffix(self) -> &'static str {
        match self {
            Self::DigitalSignature => "ds",
            Self::KeyAgreement => "ka",
            Self::PrepaymentKeyAgreement => "pp-ka",
        }
    }
}

/// Why a key could not be had from the keystore.
#[derive(Debug)]
pub enum KeystoreError {
    /// No such file.
    NotFound(PathBuf),
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// The file does not hold a usable P-256 key or certificate.
    Key(PathBuf, CryptoError),
}

impl fmt::Display for KeystoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(p) => write!(f, "no key file {}", p.display()),
            Self::Io(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            Self::Key(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl core::error::Error for KeystoreError {}

/// A keystore folder.
#[derive(Clone, Debug)]
pub struct Keystore {
    dir: PathBuf,
}

impl Keystore {
    /// Opens a keystore folder.
    ///
    /// # Errors
    /// [`KeystoreError::NotFound`] when the folder does not exist.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, KeystoreError> {
        let dir = dir.as_ref().to_path_buf();
        if dir.is_dir() {
            Ok(Self { dir })
        } else {
            Err(KeystoreError::NotFound(dir))
        }
    }

    /// The path of a party's file: `<id>-<role>.<ext>`.
    #[must_use]
    pub fn path(&self, id: EntityId, role: KeyRole, ext: &str) -> PathBuf {
        let name = alloc::format!(
            "{}-{}.{ext}",
            crate::hex::encode_upper(&id.0).to_lowercase(),
            role.suffix()
        );
        self.dir.join(name)
    }

    fn read(
        &self,
        id: EntityId,
        role: KeyRole,
        ext: &str,
    ) -> Result<(PathBuf, String), KeystoreError> {
        let path = self.path(id, role, ext);
        if !path.is_file() {
            return Err(KeystoreError::NotFound(path));
        }
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok((path, s)),
            Err(e) => Err(KeystoreError::Io(path, e)),
        }
    }

    /// The DER certificate of a party's key.
    ///
    /// # Errors
    /// [`KeystoreError`].
    pub fn certificate_der(&self, id: EntityId, role: KeyRole) -> Result<Vec<u8>, KeystoreError> {
        let (path, pem) = self.read(id, role, "pem")?;
        pem_rfc7468::decode_vec(pem.trim().as_bytes())
            .map(|(_, der)| der)
            .map_err(|_| KeystoreError::Key(path, CryptoError::InvalidKey("not a PEM certificate")))
    }

    /// The public key in a party's certificate.
    ///
    /// # Errors
    /// [`KeystoreError`].
    pub fn public_key(&self, id: EntityId, role: KeyRole) -> Result<PublicKey, KeystoreError> {
        let (path, pem) = self.read(id, role, "pem")?;
        PublicKey::from_pem(&pem).map_err(|e| KeystoreError::Key(path, e))
    }

    /// A party's digital-signature private key.
    ///
    /// # Errors
    /// [`KeystoreError`].
    pub fn signing_key(&self, id: EntityId) -> Result<SigningKey, KeystoreError> {
        let (path, pem) = self.read(id, KeyRole::DigitalSignature, "key")?;
        let pem = zeroize::Zeroizing::new(pem);
        SigningKey::from_pem(&pem).map_err(|e| KeystoreError::Key(path, e))
    }

    /// A party's key-agreement private key (`role` KeyAgreement or PrepaymentKeyAgreement).
    ///
    /// # Errors
    /// [`KeystoreError`].
    pub fn key_agreement_key(
        &self,
        id: EntityId,
        role: KeyRole,
    ) -> Result<KeyAgreementKey, KeystoreError> {
        let (path, pem) = self.read(id, role, "key")?;
        let pem = zeroize::Zeroizing::new(pem);
        KeyAgreementKey::from_pem(&pem).map_err(|e| KeystoreError::Key(path, e))
    }
}
