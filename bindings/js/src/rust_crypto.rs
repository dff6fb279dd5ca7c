//! The crypto for platforms without WebCrypto (and for `{ webcrypto: false }`): the crate's
//! RustCrypto backend, the same four operations the package asks WebCrypto for.

use gbcs::crypto::{
    gmac, KeyAgreement, KeyAgreementKey, MacKey, PublicKey, Signature, SignatureVerifier,
    SigningKey,
};
use wasm_bindgen::prelude::*;

use crate::js_error;

fn key_error(e: &gbcs::crypto::CryptoError) -> JsValue {
    js_error(&e.to_string(), "Key", None)
}

/// Whether `signature` (`r || s`, 64 bytes) is the ECDSA P-256 SHA-256 signature of `data`
/// under `public_key` (an uncompressed SEC1 point).
///
/// # Errors
/// An `Error` for a key that is not a P-256 point.
#[wasm_bindgen(js_name = rustVerify)]
pub fn rust_verify(public_key: &[u8], data: &[u8], signature: &[u8]) -> Result<bool, JsValue> {
    let key = PublicKey::from_sec1_bytes(public_key).map_err(|e| key_error(&e))?;
    let Ok(sig) = <[u8; 64]>::try_from(signature) else {
        return Ok(false);
    };
    Ok(key.verify(data, &Signature(sig)).is_ok())
}

/// Signs `data` with a PKCS#8 or SEC1 DER private key: by RFC 6979 when `deterministic`,
/// else with fresh randomness from the platform. Returns `r || s`.
///
/// # Errors
/// An `Error` for a key that is not a P-256 private key.
#[wasm_bindgen(js_name = rustSign)]
pub fn rust_sign(private_key: &[u8], data: &[u8], deterministic: bool) -> Result<Vec<u8>, JsValue> {
    let key = SigningKey::from_der(private_key).map_err(|e| key_error(&e))?;
    let sig = if deterministic {
        key.sign_deterministic(data)
    } else {
        key.sign_with_rng(&mut rand_core::OsRng, data)
    }
    .map_err(|e| key_error(&e))?;
    Ok(sig.0.to_vec())
}

/// The ECDH shared secret Z (32 bytes) of a PKCS#8 or SEC1 DER private key and a peer's
/// uncompressed SEC1 point.
///
/// # Errors
/// An `Error` for either key malformed.
#[wasm_bindgen(js_name = rustEcdh)]
pub fn rust_ecdh(private_key: &[u8], peer: &[u8]) -> Result<Vec<u8>, JsValue> {
    let key = KeyAgreementKey::from_der(private_key).map_err(|e| key_error(&e))?;
    let peer = PublicKey::from_sec1_bytes(peer).map_err(|e| key_error(&e))?;
    let z = key.agree(&peer).map_err(|e| key_error(&e))?;
    Ok(z.as_bytes().to_vec())
}

/// The GBCS MAC: AES-128-GCM under `key` (16 bytes) with `iv` (12 bytes) over `aad` and an
/// empty plaintext, the tag cut to 12 bytes.
///
/// # Errors
/// An `Error` when the key or IV has the wrong length.
#[wasm_bindgen(js_name = rustGmac)]
pub fn rust_gmac(key: &[u8], iv: &[u8], aad: &[u8]) -> Result<Vec<u8>, JsValue> {
    let key = <[u8; 16]>::try_from(key).map_err(|_| js_error("K is 16 bytes", "Crypto", None))?;
    let iv =
        <[u8; 12]>::try_from(iv).map_err(|_| js_error("the IV is 12 bytes", "Crypto", None))?;
    let tag = gmac(&MacKey::from_bytes(key), &iv, &[aad]);
    Ok(tag.get(..gbcs::frame::MAC_LEN).unwrap_or_default().to_vec())
}
