//! Keys named on the command line: a PEM file, or the PKCS#11 URI of an HSM-held key
//! (`pkcs11:token=…;object=…?pin-source=file:…`; the module from `--pkcs11-module`, the URI's
//! `module-path`, or `GBCS_PKCS11_MODULE`; the PIN from `pin-source` or `GBCS_PKCS11_PIN`).

use gbcs::crypto::pkcs11::{HsmKeyAgreementKey, HsmSigningKey, Pkcs11Module, Pkcs11Uri};
use gbcs::crypto::{KeyAgreement, KeyAgreementKey, PublicKey, SignatureSigner, SigningKey};

/// A signer and, where known, its public key and what says whose key it is.
pub struct Signer {
    pub signer: Box<dyn SignatureSigner + Send + Sync>,
    pub public: Option<PublicKey>,
    pub provenance: Provenance,
}

/// What is known of whose key a signing key is.
pub enum Provenance {
    /// Its certificate (DER) and where it was found.
    Certificate(Vec<u8>, String),
    /// Its keystore file name says it is a key-agreement key, not a signing key.
    KeyAgreementFile(String),
    /// Nothing: a bare key.
    Unknown,
}

/// A key agreement and, where known, its public key.
pub struct Agreement {
    pub key: Box<dyn KeyAgreement + Send + Sync>,
    pub public: Option<PublicKey>,
}

fn hsm(spec: &str, module: Option<&str>) -> Result<(Pkcs11Module, Pkcs11Uri), String> {
    let uri: Pkcs11Uri = spec.parse().map_err(|e| format!("{e}"))?;
    let module =
        Pkcs11Module::for_uri(module.map(std::path::Path::new), &uri).map_err(|e| e.to_string())?;
    Ok((module, uri))
}

fn pem(path: &str) -> Result<String, String> {
    crate::input::read_text(path, crate::input::KEY_FILE).map_err(|e| e.to_string())
}

/// What the key file's name and neighbours say of it, laid out as a keystore
/// (`<entity-id>-ds.key` beside `<entity-id>-ds.pem`; `-ka`/`-pp-ka` name key-agreement keys).
fn provenance_of_file(spec: &str) -> Result<Provenance, String> {
    let path = std::path::Path::new(spec);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(stem) = name.strip_suffix(".key") else {
        return Ok(Provenance::Unknown);
    };
    let keystore_id = |s: &str| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(id) = stem
        .strip_suffix("-ka")
        .or_else(|| stem.strip_suffix("-pp-ka"))
    {
        if keystore_id(id) {
            return Ok(Provenance::KeyAgreementFile(name));
        }
    }
    match stem.strip_suffix("-ds") {
        Some(id) if keystore_id(id) => {
            let cert = path.with_file_name(format!("{stem}.pem"));
            if !cert.is_file() {
                return Ok(Provenance::Unknown);
            }
            let shown = cert.display().to_string();
            let text = pem(&shown)?;
            let (_, der) = pem_rfc7468::decode_vec(text.trim().as_bytes())
                .map_err(|_| format!("{shown}: not a PEM certificate"))?;
            Ok(Provenance::Certificate(der, shown))
        }
        _ => Ok(Provenance::Unknown),
    }
}

/// The DS key `spec` names (a PEM file or a PKCS#11 URI).
/// With `deterministic`, a PEM key signs by RFC 6979 (the same bytes give the same
/// signature) and an HSM key is refused (its nonces are the token's own).
pub fn signer(spec: &str, module: Option<&str>, deterministic: bool) -> Result<Signer, String> {
    if deterministic && Pkcs11Uri::is_uri(spec) {
        return Err(format!(
            "{spec}: --deterministic needs the key's scalar (RFC 6979); an HSM key signs with the token's own nonces"
        ));
    }
    if Pkcs11Uri::is_uri(spec) {
        let (module, uri) = hsm(spec, module)?;
        let key = HsmSigningKey::open(&module, &uri).map_err(|e| format!("{spec}: {e}"))?;
        let public = key.public_key().cloned();
        let provenance = match key.certificate() {
            Some(der) => Provenance::Certificate(
                der.to_vec(),
                format!("the token's certificate object beside {spec}"),
            ),
            None => Provenance::Unknown,
        };
        return Ok(Signer {
            signer: Box::new(key),
            public,
            provenance,
        });
    }
    let key = SigningKey::from_pem(&zeroize::Zeroizing::new(pem(spec)?))
        .map_err(|e| format!("{spec}: {e}"))?;
    let key = if deterministic {
        deterministic_key(key).map_err(|e| format!("{spec}: {e}"))?
    } else {
        key
    };
    Ok(Signer {
        public: Some(key.public_key()),
        signer: Box::new(key),
        provenance: provenance_of_file(spec)?,
    })
}

/// `key` on RustCrypto, whose signatures are RFC 6979's: deterministic.
pub fn deterministic_key(key: SigningKey) -> Result<SigningKey, gbcs::crypto::CryptoError> {
    key.with_backend(gbcs::crypto::Backend::RustCrypto)
}

/// The KA key `spec` names (a PEM file or a PKCS#11 URI).
pub fn agreement(spec: &str, module: Option<&str>) -> Result<Agreement, String> {
    if Pkcs11Uri::is_uri(spec) {
        let (module, uri) = hsm(spec, module)?;
        let key = HsmKeyAgreementKey::open(&module, &uri).map_err(|e| format!("{spec}: {e}"))?;
        let public = key.public_key().cloned();
        return Ok(Agreement {
            key: Box::new(key),
            public,
        });
    }
    let key = KeyAgreementKey::from_pem(&zeroize::Zeroizing::new(pem(spec)?))
        .map_err(|e| format!("{spec}: {e}"))?;
    Ok(Agreement {
        public: Some(key.public_key()),
        key: Box::new(key),
    })
}

/// A peer's public key from a certificate or public-key PEM file.
pub fn peer(path: &str) -> Result<PublicKey, String> {
    PublicKey::from_pem(&pem(path)?).map_err(|e| format!("{path}: {e}"))
}

/// A certificate file (PEM) as DER.
pub fn certificate_der(path: &str) -> Result<Vec<u8>, String> {
    let text = pem(path)?;
    pem_rfc7468::decode_vec(text.trim().as_bytes())
        .map(|(_, der)| der)
        .map_err(|_| format!("{path}: not a PEM certificate"))
}
