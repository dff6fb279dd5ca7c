//! Keys named on the command line: a PEM file, or the PKCS#11 URI of an HSM-held key
//! (`pkcs11:token=…;object=…?pin-source=file:…`; the module from `--pkcs11-module`, the URI's
//! `module-path`, or `GBCS_PKCS11_MODULE`; the PIN from `pin-source` or `GBCS_PKCS11_PIN`).

use gbcs::crypto::pkcs11::{HsmKeyAgreementKey, HsmSigningKey, Pkcs11Module, Pkcs11Uri};
use gbcs::crypto::{KeyAgreement, KeyAgreementKey, PublicKey, SignatureSigner, SigningKey};

/// A signer and, where known, its public key.
pub struct Signer {
    pub signer: Box<dyn SignatureSigner + Send + Sync>,
    pub public: Option<PublicKey>,
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
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

/// The DS key `spec` names (a PEM file or a PKCS#11 URI).
pub fn signer(spec: &str, module: Option<&str>) -> Result<Signer, String> {
    if Pkcs11Uri::is_uri(spec) {
        let (module, uri) = hsm(spec, module)?;
        let key = HsmSigningKey::open(&module, &uri).map_err(|e| format!("{spec}: {e}"))?;
        let public = key.public_key().cloned();
        return Ok(Signer {
            signer: Box::new(key),
            public,
        });
    }
    let key = SigningKey::from_pem(&zeroize::Zeroizing::new(pem(spec)?))
        .map_err(|e| format!("{spec}: {e}"))?;
    Ok(Signer {
        public: Some(key.public_key()),
        signer: Box::new(key),
    })
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
