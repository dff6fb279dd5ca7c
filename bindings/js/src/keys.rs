//! What a PEM document holds: a certificate (and whose: its entity ID, role, key usage), a
//! bare public key, or a private key — each with the public point, and a private key as the
//! PKCS#8 document WebCrypto imports.

use gbcs::crypto::{PublicKey, SigningKey};
use gbcs::smki::{CertificateKind, SmkiCertificate};
use wasm_bindgen::prelude::*;

use crate::js_error;

/// A key read from PEM.
#[wasm_bindgen]
pub struct KeyInfo {
    kind: &'static str,
    entity_id: Option<String>,
    role: Option<String>,
    key_usage: Option<String>,
    public_key: Vec<u8>,
    pkcs8: Option<Vec<u8>>,
}

#[wasm_bindgen]
impl KeyInfo {
    /// `certificate`, `publicKey` or `privateKey`.
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> String {
        self.kind.into()
    }

    /// A certificate's entity ID (an organisation's or a device's), 16 upper-case hex digits.
    #[wasm_bindgen(getter, js_name = entityId)]
    pub fn entity_id(&self) -> Option<String> {
        self.entity_id.clone()
    }

    /// An organisation certificate's remote party role (`supplier`, `accessControlBroker`, …).
    #[wasm_bindgen(getter)]
    pub fn role(&self) -> Option<String> {
        self.role.clone()
    }

    /// A certificate's key usage (`digitalSignature`, `keyAgreement`, …).
    #[wasm_bindgen(getter, js_name = keyUsage)]
    pub fn key_usage(&self) -> Option<String> {
        self.key_usage.clone()
    }

    /// The public key as an uncompressed SEC1 point (65 bytes; WebCrypto's `raw`).
    #[wasm_bindgen(getter, js_name = publicKey)]
    pub fn public_key(&self) -> Vec<u8> {
        self.public_key.clone()
    }

    /// A private key as PKCS#8 DER (WebCrypto's `pkcs8`); absent for public keys.
    #[wasm_bindgen(getter)]
    pub fn pkcs8(&self) -> Option<Vec<u8>> {
        self.pkcs8.clone()
    }
}

/// Reads one PEM document: `CERTIFICATE`, `PUBLIC KEY`, `PRIVATE KEY` (PKCS#8) or
/// `EC PRIVATE KEY` (SEC1), on P-256.
///
/// # Errors
/// An `Error` (`kind` `Key`) saying what the document is not.
#[wasm_bindgen(js_name = describeKey)]
pub fn describe_key(pem: &str) -> Result<KeyInfo, JsValue> {
    let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
        .map_err(|e| js_error(&format!("not a PEM document: {e}"), "Key", None))?;
    let key_error = |e: &dyn core::fmt::Display| js_error(&format!("{label}: {e}"), "Key", None);
    match label {
        "CERTIFICATE" => {
            let cert = SmkiCertificate::from_der(&der).map_err(|e| key_error(&e))?;
            let (entity_id, role) = match cert.kind() {
                CertificateKind::Organisation { role, entity_id } => {
                    (Some(entity_id.to_string()), Some(role.to_string()))
                }
                CertificateKind::Device { entity_id } => (Some(entity_id.to_string()), None),
                CertificateKind::IssuingCa | CertificateKind::Root => (None, None),
            };
            Ok(KeyInfo {
                kind: "certificate",
                entity_id,
                role,
                key_usage: Some(cert.key_usage().to_string()),
                public_key: cert.public_key().to_uncompressed().to_vec(),
                pkcs8: None,
            })
        }
        "PUBLIC KEY" => {
            let key = PublicKey::from_public_key_der(&der).map_err(|e| key_error(&e))?;
            Ok(KeyInfo {
                kind: "publicKey",
                entity_id: None,
                role: None,
                key_usage: None,
                public_key: key.to_uncompressed().to_vec(),
                pkcs8: None,
            })
        }
        "PRIVATE KEY" | "EC PRIVATE KEY" => {
            let key = SigningKey::from_pem(pem).map_err(|e| key_error(&e))?;
            Ok(KeyInfo {
                kind: "privateKey",
                entity_id: None,
                role: None,
                key_usage: None,
                public_key: key.public_key().to_uncompressed().to_vec(),
                pkcs8: Some(key.to_pkcs8_der().to_vec()),
            })
        }
        other => Err(js_error(
            &format!(
                "PEM label {other}: not CERTIFICATE, PUBLIC KEY, PRIVATE KEY or EC PRIVATE KEY"
            ),
            "Key",
            None,
        )),
    }
}
