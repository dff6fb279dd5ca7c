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

/// The largest key or certificate file read from a keystore (a PEM key or certificate is
/// under 4 KiB; anything past this bound is not one, and is not read to its end).
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Why a key could not be had from the keystore.
#[derive(Debug)]
pub enum KeystoreError {
    /// The keystore folder does not exist.
    NoFolder(PathBuf),
    /// The keystore path exists but is not a folder.
    NotAFolder(PathBuf),
    /// No such file.
    NotFound(PathBuf),
    /// The file is empty.
    Empty(PathBuf),
    /// The file is larger than [`MAX_KEY_FILE_BYTES`].
    TooLarge(PathBuf),
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// The file does not hold a usable P-256 key or certificate.
    Key(PathBuf, CryptoError),
}

impl fmt::Display for KeystoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoFolder(p) => write!(f, "no keystore folder {}", p.display()),
            Self::NotAFolder(p) => write!(
                f,
                "{} is not a folder: a keystore is a folder of <entity-id>-<ds|ka|pp-ka>.<pem|key> files",
                p.display()
            ),
            Self::NotFound(p) => write!(f, "no key file {}", p.display()),
            Self::Empty(p) => write!(f, "{} is empty", p.display()),
            Self::TooLarge(p) => write!(
                f,
                "{} is larger than the {MAX_KEY_FILE_BYTES}-byte bound of a key or certificate file",
                p.display()
            ),
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
    /// [`KeystoreError::NoFolder`] when nothing is there, [`KeystoreError::NotAFolder`] when
    /// it is a file.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, KeystoreError> {
        let dir = dir.as_ref().to_path_buf();
        if dir.is_dir() {
            Ok(Self { dir })
        } else if dir.exists() {
            Err(KeystoreError::NotAFolder(dir))
        } else {
            Err(KeystoreError::NoFolder(dir))
        }
    }

    /// The folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
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
        use std::io::Read as _;
        let path = self.path(id, role, ext);
        if !path.is_file() {
            return Err(KeystoreError::NotFound(path));
        }
        // A private key's text is wiped however this ends.
        let mut bytes = zeroize::Zeroizing::new(Vec::new());
        if let Err(e) = std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_KEY_FILE_BYTES + 1).read_to_end(&mut bytes))
        {
            return Err(KeystoreError::Io(path, e));
        }
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_KEY_FILE_BYTES {
            return Err(KeystoreError::TooLarge(path));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(KeystoreError::Empty(path));
        }
        match String::from_utf8(core::mem::take(&mut *bytes)) {
            Ok(s) => Ok((path, s)),
            Err(_) => Err(KeystoreError::Key(
                path,
                CryptoError::InvalidKey("not PEM text"),
            )),
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
