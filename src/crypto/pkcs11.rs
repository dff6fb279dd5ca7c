//! Keys in a hardware security module, through PKCS#11 (feature `pkcs11`, std).
//!
//! The TCoS and ECoS parties, the ACB and suppliers' head-ends keep their SMKI private keys in
//! HSMs. [`HsmSigningKey`] and [`HsmKeyAgreementKey`] stand in wherever the crate takes a
//! [`SignatureSigner`] or a [`KeyAgreement`]:
//!
//! | operation | PKCS#11 | what leaves the HSM |
//! |---|---|---|
//! | grouping-header signature | `CKM_ECDSA` over the SHA-256 digest the crate computes (tokens such as SoftHSM offer no `CKM_ECDSA_SHA256`) | raw `r \|\| s` |
//! | Z for the MAC key | `CKM_ECDH1_DERIVE`, null KDF, with the peer's uncompressed point | Z, see below |
//!
//! **Why Z leaves the HSM.** The GBCS KDF is the NIST SP 800-56A single-step KDF with the
//! counter *before* Z (`SHA-256(00000001 || Z || OtherInfo)`); PKCS#11's ECDH KDFs are X9.63
//! (counter after Z), so the HSM cannot derive the MAC key itself. The derive therefore makes a
//! short-lived session object (`CKA_TOKEN` false, `CKA_SENSITIVE` false, `CKA_EXTRACTABLE`
//! true, a 32-byte generic secret), its value is read, and the object is destroyed at once,
//! before the call returns, whether reading it worked or not. From there Z is an ordinary
//! [`SharedSecret`] — the same type as the software backends', zeroized on drop — and a
//! [`SharedSecretCache`](super::SharedSecretCache) may keep it when the caller puts one in
//! front ([`CachedKeyAgreement`](super::CachedKeyAgreement)).
//!
//! **Finding keys.** A key is named by a PKCS#11 URI ([`Pkcs11Uri`], RFC 7512):
//! `pkcs11:token=…;object=…;id=…?pin-source=file:…`. The PIN comes from the URI's
//! `pin-source` file or, failing that, the `GBCS_PKCS11_PIN` environment variable; a URI with
//! `pin-value` is refused, so a PIN is never part of a command line. The module is loaded from
//! a path ([`Pkcs11Module::load`]) or `GBCS_PKCS11_MODULE` ([`Pkcs11Module::from_env`]).
//!
//! **Threads.** A PKCS#11 session serves one thread at a time; each key keeps a pool of logged-in
//! sessions and takes one per operation (opening another when all are busy), so the bulk
//! engine's workers sign and derive in parallel.
//!
//! **Errors** are typed ([`Pkcs11Error`]): a module that does not load, no such token, a wrong
//! PIN, no such key, a key without `CKA_SIGN` or `CKA_DERIVE`, a key not on P-256. During a bulk
//! migration an HSM failure is a local fault of the engine, not a device attempt.

mod login;
pub mod uri;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use std::sync::{Mutex, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use sha2::{Digest, Sha256};

use crate::crypto::{
    CryptoError, KeyAgreement, PublicKey, SharedSecret, Signature, SignatureSigner,
};
pub use login::MAX_PIN_FILE_BYTES;
use login::{initialise_hint, pin_for};
pub use uri::{Pkcs11Uri, UriError};

/// The environment variable naming the PKCS#11 module when no path is given.
pub const MODULE_ENV: &str = "GBCS_PKCS11_MODULE";
/// The environment variable holding the user PIN when the URI has no `pin-source`.
pub const PIN_ENV: &str = "GBCS_PKCS11_PIN";

/// DER of the P-256 named curve OID (`CKA_EC_PARAMS` of a P-256 key).
pub const P256_EC_PARAMS: [u8; 10] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// Why an HSM key could not be used.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pkcs11Error {
    /// The URI is malformed.
    Uri(UriError),
    /// No module was named (no path, no `module-path`, no `GBCS_PKCS11_MODULE`).
    NoModule,
    /// The module did not load or initialise; the text is the loader's.
    ModuleLoad(String),
    /// No token matches the URI.
    TokenNotFound(String),
    /// No PIN: no `pin-source` and no `GBCS_PKCS11_PIN`, or the file could not be read.
    PinUnavailable(String),
    /// The token refused the PIN.
    WrongPin,
    /// No private key matches the URI on the token.
    KeyNotFound(String),
    /// More than one private key matches the URI.
    AmbiguousKey(usize),
    /// The key lacks the usage the operation needs (`CKA_SIGN` or `CKA_DERIVE`).
    MissingUsage(&'static str),
    /// The key is not an EC key on P-256.
    NotP256,
    /// Another PKCS#11 failure; the text names the function and return value.
    Device(String),
}

impl fmt::Display for Pkcs11Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uri(e) => write!(f, "{e}"),
            Self::NoModule => write!(
                f,
                "no PKCS#11 module: give --pkcs11-module, module-path, or {MODULE_ENV}"
            ),
            Self::ModuleLoad(e) => write!(f, "PKCS#11 module did not load: {e}"),
            Self::TokenNotFound(t) => write!(f, "no PKCS#11 token {t}"),
            Self::PinUnavailable(why) => write!(f, "no PIN: {why}"),
            Self::WrongPin => f.write_str("the token refused the PIN"),
            Self::KeyNotFound(k) => write!(f, "no private key {k} on the token"),
            Self::AmbiguousKey(n) => write!(f, "{n} private keys match; name one by object and id"),
            Self::MissingUsage(what) => write!(f, "the key does not allow {what}"),
            Self::NotP256 => f.write_str("the key is not an EC key on P-256"),
            Self::Device(e) => write!(f, "PKCS#11: {e}"),
        }
    }
}

impl core::error::Error for Pkcs11Error {}

impl From<UriError> for Pkcs11Error {
    fn from(e: UriError) -> Self {
        Self::Uri(e)
    }
}

fn device(e: &CkError) -> Pkcs11Error {
    Pkcs11Error::Device(e.to_string())
}

/// A loaded and initialised PKCS#11 module; cheap to clone.
#[derive(Clone)]
pub struct Pkcs11Module {
    ctx: Pkcs11,
}

impl fmt::Debug for Pkcs11Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Module").finish_non_exhaustive()
    }
}

impl Pkcs11Module {
    /// Loads the module at `path` and initialises it for use from several threads.
    ///
    /// # Errors
    /// [`Pkcs11Error::ModuleLoad`].
    ///
    /// A module is loaded once per process and stays loaded: two keys of one module share
    /// it. (Each load finalising the module when dropped would close the other's sessions
    /// under it — a double free in SoftHSM.)
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self, Pkcs11Error> {
        static LOADED: std::sync::OnceLock<Mutex<BTreeMap<std::path::PathBuf, Pkcs11>>> =
            std::sync::OnceLock::new();
        let key =
            std::fs::canonicalize(path.as_ref()).unwrap_or_else(|_| path.as_ref().to_path_buf());
        let loaded = LOADED.get_or_init(|| Mutex::new(BTreeMap::new()));
        let mut loaded = loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(ctx) = loaded.get(&key) {
            return Ok(Self { ctx: ctx.clone() });
        }
        let module = Self::load_new(path)?;
        loaded.insert(key, module.ctx.clone());
        Ok(module)
    }

    fn load_new(path: impl AsRef<std::path::Path>) -> Result<Self, Pkcs11Error> {
        let ctx = Pkcs11::new(path.as_ref()).map_err(|e| {
            Pkcs11Error::ModuleLoad(alloc::format!("{}: {e}", path.as_ref().display()))
        })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => {
                return Err(Pkcs11Error::ModuleLoad(alloc::format!(
                    "{e}{}",
                    initialise_hint(path.as_ref())
                )))
            }
        }
        Ok(Self { ctx })
    }

    /// Loads the module `GBCS_PKCS11_MODULE` names.
    ///
    /// # Errors
    /// [`Pkcs11Error::NoModule`] when the variable is not set; as [`Self::load`].
    pub fn from_env() -> Result<Self, Pkcs11Error> {
        let path = std::env::var_os(MODULE_ENV).ok_or(Pkcs11Error::NoModule)?;
        Self::load(path)
    }

    /// The module named by `explicit`, else the URI's `module-path`, else the environment.
    ///
    /// # Errors
    /// As [`Self::load`] and [`Self::from_env`].
    pub fn for_uri(
        explicit: Option<&std::path::Path>,
        uri: &Pkcs11Uri,
    ) -> Result<Self, Pkcs11Error> {
        match explicit.or(uri.module_path.as_deref()) {
            Some(path) => Self::load(path),
            None => Self::from_env(),
        }
    }

    fn slot_for(&self, uri: &Pkcs11Uri) -> Result<Slot, Pkcs11Error> {
        let slots = self.ctx.get_slots_with_token().map_err(|e| device(&e))?;
        let wanted = || {
            uri.token
                .clone()
                .or_else(|| uri.serial.clone())
                .unwrap_or_else(|| alloc::format!("in slot {:?}", uri.slot_id))
        };
        for slot in slots {
            if uri.slot_id.is_some_and(|id| id != slot.id()) {
                continue;
            }
            let info = self.ctx.get_token_info(slot).map_err(|e| device(&e))?;
            let matches = |want: &Option<String>, have: &str| {
                want.as_deref().is_none_or(|w| w == have.trim_end())
            };
            if matches(&uri.token, info.label())
                && matches(&uri.serial, info.serial_number())
                && matches(&uri.manufacturer, info.manufacturer_id())
                && matches(&uri.model, info.model())
            {
                return Ok(slot);
            }
        }
        Err(Pkcs11Error::TokenNotFound(wanted()))
    }
}

/// A token with its PIN and a pool of logged-in sessions.
struct Token {
    module: Pkcs11Module,
    slot: Slot,
    pin: AuthPin,
    pool: Mutex<Vec<Session>>,
}

impl Token {
    fn open(module: &Pkcs11Module, uri: &Pkcs11Uri) -> Result<Self, Pkcs11Error> {
        let slot = module.slot_for(uri)?;
        let pin = pin_for(uri)?;
        let token = Self {
            module: module.clone(),
            slot,
            pin,
            pool: Mutex::new(Vec::new()),
        };
        // Log in now, so a wrong PIN is reported when the key is opened.
        let session = token.new_session()?;
        token.give_back(session);
        Ok(token)
    }

    fn new_session(&self) -> Result<Session, Pkcs11Error> {
        let session = self
            .module
            .ctx
            .open_ro_session(self.slot)
            .map_err(|e| device(&e))?;
        match session.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(CkError::Pkcs11(
                RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
                _,
            )) => Err(Pkcs11Error::WrongPin),
            Err(e) => Err(device(&e)),
        }
    }

    /// Runs `f` on a pooled session (a new one when every pooled one is in use).
    fn with_session<R>(
        &self,
        f: impl FnOnce(&Session) -> Result<R, Pkcs11Error>,
    ) -> Result<R, Pkcs11Error> {
        let pooled = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let session = match pooled {
            Some(s) => s,
            None => self.new_session()?,
        };
        let result = f(&session);
        self.give_back(session);
        result
    }

    fn give_back(&self, session: Session) {
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
    }
}

/// Finds the one private key the URI names, checks it is P-256 and allows `usage`.
fn find_key(
    session: &Session,
    uri: &Pkcs11Uri,
    usage: AttributeType,
    usage_name: &'static str,
) -> Result<(ObjectHandle, Option<PublicKey>), Pkcs11Error> {
    if uri.object_type.as_deref().is_some_and(|t| t != "private") {
        return Err(Pkcs11Error::KeyNotFound(String::from(
            "(the URI names an object type other than private)",
        )));
    }
    let mut template = alloc::vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
    let mut named = Vec::new();
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.clone().into_bytes()));
        named.push(alloc::format!("object={label}"));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
        named.push(alloc::format!("id={}", crate::hex::Hex(id)));
    }
    let found = session.find_objects(&template).map_err(|e| device(&e))?;
    let key = match found.as_slice() {
        [one] => *one,
        [] => return Err(Pkcs11Error::KeyNotFound(named.join(";"))),
        many => return Err(Pkcs11Error::AmbiguousKey(many.len())),
    };
    let attrs = session
        .get_attributes(
            key,
            &[AttributeType::KeyType, AttributeType::EcParams, usage],
        )
        .map_err(|e| device(&e))?;
    let (mut is_ec, mut p256, mut allowed) = (false, false, false);
    for a in attrs {
        match a {
            Attribute::KeyType(t) => is_ec = t == KeyType::EC,
            Attribute::EcParams(p) => p256 = p == P256_EC_PARAMS,
            Attribute::Sign(b) | Attribute::Derive(b) => allowed = b,
            _ => {}
        }
    }
    if !(is_ec && p256) {
        return Err(Pkcs11Error::NotP256);
    }
    if !allowed {
        return Err(Pkcs11Error::MissingUsage(usage_name));
    }
    Ok((key, public_key_of(session, uri)))
}

/// The public key object beside the private one (same label and id), if the token has one.
fn public_key_of(session: &Session, uri: &Pkcs11Uri) -> Option<PublicKey> {
    let mut template = alloc::vec![Attribute::Class(ObjectClass::PUBLIC_KEY)];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.clone().into_bytes()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    let found = session.find_objects(&template).ok()?;
    let [one] = found.as_slice() else {
        return None;
    };
    let attrs = session
        .get_attributes(*one, &[AttributeType::EcPoint])
        .ok()?;
    attrs.into_iter().find_map(|a| match a {
        // CKA_EC_POINT is the DER OCTET STRING of the point: 04 41 04 X Y.
        Attribute::EcPoint(der) => der
            .strip_prefix(&[0x04, 0x41])
            .and_then(|p| PublicKey::from_sec1_bytes(p).ok()),
        _ => None,
    })
}

/// The certificate object beside the private key (same label and id), if the token has one:
/// its DER (`CKA_VALUE`).
fn certificate_of(session: &Session, uri: &Pkcs11Uri) -> Option<Vec<u8>> {
    let mut template = alloc::vec![Attribute::Class(ObjectClass::CERTIFICATE)];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.clone().into_bytes()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    let found = session.find_objects(&template).ok()?;
    let [one] = found.as_slice() else {
        return None;
    };
    let attrs = session.get_attributes(*one, &[AttributeType::Value]).ok()?;
    attrs.into_iter().find_map(|a| match a {
        Attribute::Value(der) => Some(der),
        _ => None,
    })
}

/// A P-256 digital-signature key held in an HSM: signs grouping headers with `CKM_ECDSA` over
/// the SHA-256 digest. Implements [`SignatureSigner`]; shareable between threads.
#[derive(Clone)]
pub struct HsmSigningKey {
    token: Arc<Token>,
    key: ObjectHandle,
    public: Option<PublicKey>,
    certificate: Option<Vec<u8>>,
}

impl fmt::Debug for HsmSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmSigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl HsmSigningKey {
    /// Opens the private key `uri` names in `module`, logging in with the URI's PIN.
    ///
    /// # Errors
    /// [`Pkcs11Error`]: no token, no PIN, wrong PIN, no key, no `CKA_SIGN`, not P-256.
    pub fn open(module: &Pkcs11Module, uri: &Pkcs11Uri) -> Result<Self, Pkcs11Error> {
        let token = Arc::new(Token::open(module, uri)?);
        let (key, public, certificate) = token.with_session(|s| {
            let (key, public) = find_key(s, uri, AttributeType::Sign, "signing (CKA_SIGN)")?;
            Ok((key, public, certificate_of(s, uri)))
        })?;
        Ok(Self {
            token,
            key,
            public,
            certificate,
        })
    }

    /// The public key, read from the token's public key object (same label and id), when the
    /// token has one.
    #[must_use]
    pub const fn public_key(&self) -> Option<&PublicKey> {
        self.public.as_ref()
    }

    /// The key's certificate (DER), read from the token's certificate object (same label and
    /// id), when the token has one: it says whose key this is.
    #[must_use]
    pub fn certificate(&self) -> Option<&[u8]> {
        self.certificate.as_deref()
    }

    /// Signs `message` (hashed here with SHA-256) in the HSM.
    ///
    /// # Errors
    /// [`Pkcs11Error::Device`] when the HSM fails.
    pub fn try_sign(&self, message: &[u8]) -> Result<Signature, Pkcs11Error> {
        let digest = Sha256::digest(message);
        let raw = self.token.with_session(|s| {
            s.sign(&Mechanism::Ecdsa, self.key, &digest)
                .map_err(|e| device(&e))
        })?;
        let mut out = [0u8; 64];
        if raw.len() != out.len() {
            return Err(Pkcs11Error::Device(alloc::format!(
                "CKM_ECDSA gave {} bytes, not 64",
                raw.len()
            )));
        }
        out.copy_from_slice(&raw);
        Ok(Signature(out))
    }
}

impl SignatureSigner for HsmSigningKey {
    fn sign(&self, message: &[u8]) -> Result<Signature, CryptoError> {
        self.try_sign(message).map_err(|_| CryptoError::Backend)
    }
}

/// A P-256 key-agreement key held in an HSM: Z by `CKM_ECDH1_DERIVE` (see the module docs for
/// why Z leaves the HSM). Implements [`KeyAgreement`]; shareable between threads.
#[derive(Clone)]
pub struct HsmKeyAgreementKey {
    token: Arc<Token>,
    key: ObjectHandle,
    public: Option<PublicKey>,
}

impl fmt::Debug for HsmKeyAgreementKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmKeyAgreementKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl HsmKeyAgreementKey {
    /// Opens the private key `uri` names in `module`, logging in with the URI's PIN.
    ///
    /// # Errors
    /// [`Pkcs11Error`]: no token, no PIN, wrong PIN, no key, no `CKA_DERIVE`, not P-256.
    pub fn open(module: &Pkcs11Module, uri: &Pkcs11Uri) -> Result<Self, Pkcs11Error> {
        let token = Arc::new(Token::open(module, uri)?);
        let (key, public) = token
            .with_session(|s| find_key(s, uri, AttributeType::Derive, "derivation (CKA_DERIVE)"))?;
        Ok(Self { token, key, public })
    }

    /// The public key, read from the token's public key object, when the token has one.
    #[must_use]
    pub const fn public_key(&self) -> Option<&PublicKey> {
        self.public.as_ref()
    }

    /// Z with `peer`, derived in the HSM; the temporary secret object is destroyed before
    /// this returns.
    ///
    /// # Errors
    /// [`Pkcs11Error::Device`] when the HSM fails.
    pub fn try_agree(&self, peer: &PublicKey) -> Result<SharedSecret, Pkcs11Error> {
        let point = peer.as_uncompressed();
        let params = Ecdh1DeriveParams::new(EcKdf::null(), point);
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Token(false),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
            Attribute::ValueLen(32.into()),
        ];
        self.token.with_session(|s| {
            let secret = s
                .derive_key(&Mechanism::Ecdh1Derive(params), self.key, &template)
                .map_err(|e| device(&e))?;
            let value = s.get_attributes(secret, &[AttributeType::Value]);
            // Destroyed whatever reading it gave.
            let destroyed = s.destroy_object(secret);
            let mut attrs = value.map_err(|e| device(&e))?;
            destroyed.map_err(|e| device(&e))?;
            let mut z = [0u8; 32];
            let mut found = false;
            for a in &mut attrs {
                if let Attribute::Value(v) = a {
                    if v.len() == z.len() {
                        z.copy_from_slice(v);
                        found = true;
                    }
                    zeroize::Zeroize::zeroize(v);
                }
            }
            if found {
                Ok(SharedSecret::from_bytes(z))
            } else {
                Err(Pkcs11Error::Device(String::from(
                    "CKM_ECDH1_DERIVE gave no 32-byte value",
                )))
            }
        })
    }
}

impl KeyAgreement for HsmKeyAgreementKey {
    fn agree(&self, peer: &PublicKey) -> Result<SharedSecret, CryptoError> {
        self.try_agree(peer).map_err(|_| CryptoError::Backend)
    }
}
