//! A SoftHSM2 for the tests of this process: its own configuration and tokens in a temporary
//! directory (`SOFTHSM2_CONF`, set before the module is initialised and inherited by child
//! processes such as the `gbcs` binary). Absent SoftHSM, the tests skip with a note unless
//! `GBCS_REQUIRE_SOFTHSM` is set (CI sets it), when they fail.
#![allow(dead_code)]

#[allow(clippy::duplicate_mod)] // each support module may bring it; one test may use several
#[path = "skip.rs"]
mod skip;

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use gbcs::crypto::pkcs11::{Pkcs11Module, Pkcs11Uri, P256_EC_PARAMS};

pub const USER_PIN: &str = "gbcs-user-pin";
pub const SO_PIN: &str = "gbcs-so-pin";

/// SoftHSM for this test process: its module path, its temporary directory and the loaded
/// module (loaded once: PKCS#11 state is per process).
pub struct SoftHsm {
    pub path: PathBuf,
    pub dir: PathBuf,
    pub module: Pkcs11Module,
    ctx: Pkcs11,
    tokens: Mutex<()>,
}

pub fn softhsm_module_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GBCS_SOFTHSM_MODULE") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

pub fn softhsm() -> Option<&'static SoftHsm> {
    static HSM: OnceLock<Option<SoftHsm>> = OnceLock::new();
    let hsm = HSM
        .get_or_init(|| {
            let Some(path) = softhsm_module_path() else {
                assert!(
                    !skip::required("GBCS_REQUIRE_SOFTHSM"),
                    "GBCS_REQUIRE_SOFTHSM is set but SoftHSM2 (libsofthsm2.so) is not installed"
                );
                return None;
            };
            // Token folders of earlier runs whose process is gone are removed first.
            if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if let Some(pid) = name.strip_prefix("gbcs-softhsm-") {
                        if !PathBuf::from("/proc").join(pid).exists() {
                            let _ = std::fs::remove_dir_all(e.path());
                        }
                    }
                }
            }
            let dir = std::env::temp_dir().join(format!("gbcs-softhsm-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("tokens")).expect("token directory");
            let conf = dir.join("softhsm2.conf");
            std::fs::write(
                &conf,
                format!(
                    "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                    dir.join("tokens").display()
                ),
            )
            .expect("SoftHSM configuration");
            std::fs::write(dir.join("pin"), format!("{USER_PIN}\n")).expect("PIN file");
            std::fs::write(dir.join("wrong-pin"), "not-the-pin\n").expect("PIN file");
            // Before the module is initialised, which reads it.
            std::env::set_var("SOFTHSM2_CONF", &conf);
            let module = Pkcs11Module::load(&path).expect("SoftHSM loads");
            let ctx = Pkcs11::new(&path).expect("SoftHSM loads");
            let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
            Some(SoftHsm {
                path,
                dir,
                module,
                ctx,
                tokens: Mutex::new(()),
            })
        })
        .as_ref();
    // Every test that goes without it says so, not only the first.
    if hsm.is_none() {
        skip::skipped(
            "the PKCS#11 checks against SoftHSM2",
            "libsofthsm2.so is not installed (apt-get install softhsm2; \
             GBCS_REQUIRE_SOFTHSM=1 makes this a failure)",
        );
    }
    hsm
}

impl SoftHsm {
    /// Initialises a new token `label` with the user PIN.
    pub fn token(&self, label: &str) {
        let _one_at_a_time = self.tokens.lock().expect("token lock");
        let so = AuthPin::from(SO_PIN.to_owned());
        let free = self
            .ctx
            .get_all_slots()
            .expect("slots")
            .into_iter()
            .find(|s| {
                self.ctx
                    .get_token_info(*s)
                    .is_ok_and(|t| !t.token_initialized())
            })
            .expect("a free SoftHSM slot");
        self.ctx.init_token(free, &so, label).expect("init token");
        let slot = self.slot(label);
        let session = self.ctx.open_rw_session(slot).expect("session");
        session.login(UserType::So, Some(&so)).expect("SO login");
        session
            .init_pin(&AuthPin::from(USER_PIN.to_owned()))
            .expect("init PIN");
        session.logout().expect("logout");
    }

    pub fn slot(&self, label: &str) -> cryptoki::slot::Slot {
        self.ctx
            .get_slots_with_token()
            .expect("slots")
            .into_iter()
            .find(|s| {
                self.ctx
                    .get_token_info(*s)
                    .is_ok_and(|t| t.label().trim_end() == label)
            })
            .expect("token slot")
    }

    pub fn user_session(&self, label: &str) -> cryptoki::session::Session {
        let session = self.ctx.open_rw_session(self.slot(label)).expect("session");
        match session.login(UserType::User, Some(&AuthPin::from(USER_PIN.to_owned()))) {
            Ok(())
            | Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::UserAlreadyLoggedIn,
                _,
            )) => {}
            Err(e) => panic!("user login: {e}"),
        }
        session
    }

    /// Imports a P-256 private key (and its public key object) with the given usages.
    pub fn import(
        &self,
        token: &str,
        label: &str,
        id: u8,
        scalar: &[u8; 32],
        sign: bool,
        derive: bool,
    ) {
        let public = p256::SecretKey::from_bytes(scalar.into())
            .expect("scalar")
            .public_key();
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&public, false);
        let session = self.user_session(token);
        session
            .create_object(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::KeyType(KeyType::EC),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(vec![id]),
                Attribute::EcParams(P256_EC_PARAMS.to_vec()),
                Attribute::Value(scalar.to_vec()),
                Attribute::Sign(sign),
                Attribute::Derive(derive),
            ])
            .expect("import private key");
        let mut ec_point = vec![0x04, 0x41];
        ec_point.extend_from_slice(point.as_bytes());
        session
            .create_object(&[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(KeyType::EC),
                Attribute::Token(true),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(vec![id]),
                Attribute::EcParams(P256_EC_PARAMS.to_vec()),
                Attribute::EcPoint(ec_point),
            ])
            .expect("import public key");
    }

    /// Generates a P-256 key pair in the token (the private key never leaves it).
    pub fn generate(&self, token: &str, label: &str, id: u8, sign: bool, derive: bool) {
        self.generate_on_curve(token, label, id, sign, derive, &P256_EC_PARAMS);
    }

    /// Generates an EC key pair on the curve `ec_params` (DER of its OID) in the token.
    pub fn generate_on_curve(
        &self,
        token: &str,
        label: &str,
        id: u8,
        sign: bool,
        derive: bool,
        ec_params: &[u8],
    ) {
        let session = self.user_session(token);
        let common = [
            Attribute::Token(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(vec![id]),
        ];
        let mut public = vec![Attribute::EcParams(ec_params.to_vec())];
        public.extend_from_slice(&common);
        let mut private = vec![
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Sign(sign),
            Attribute::Derive(derive),
        ];
        private.extend_from_slice(&common);
        session
            .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
            .expect("generate key pair");
    }

    pub fn uri(&self, token: &str, label: &str) -> Pkcs11Uri {
        format!(
            "pkcs11:token={token};object={label}?pin-source=file:{}",
            self.dir.join("pin").display()
        )
        .parse()
        .expect("URI")
    }
}
