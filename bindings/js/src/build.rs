//! The steps of building a command with the signature and MAC made elsewhere: a DUIS request
//! to its pre-command (the crate's `duis::build`, as `gbcs build --duis` reads it), the bytes
//! to sign, the signature appended, the MAC's inputs and the MAC put around the APDU.

use gbcs::crypto::{PublicKey, Signature};
use gbcs::duis::build::{precommand, BuildError, BuildOptions};
use gbcs::duis::CertificateTrust;
use gbcs::frame::{EntityId, MessageCode, MAC_LEN};
use gbcs::message::external;
use gbcs::smki::TrustAnchor;
use wasm_bindgen::prelude::*;

use crate::{codec_error, gbcs_error, js_error};

/// The bytes a pre-command's signature covers (everything after `DF`).
///
/// # Errors
/// An `Error` with `field` and `offset` when the bytes are not a whole pre-command.
#[wasm_bindgen(js_name = signedBytes)]
pub fn signed_bytes(precommand: &[u8]) -> Result<Vec<u8>, JsValue> {
    external::signed_bytes(precommand)
        .map(<[u8]>::to_vec)
        .map_err(|e| codec_error(&e))
}

/// The pre-command with `40 || r || s` appended.
///
/// # Errors
/// As [`signed_bytes`], and for a signature that is not 64 bytes.
#[wasm_bindgen(js_name = appendSignature)]
pub fn append_signature(precommand: &[u8], signature: &[u8]) -> Result<Vec<u8>, JsValue> {
    let sig = <[u8; 64]>::try_from(signature)
        .map_err(|_| js_error("a signature is r || s, 64 bytes", "Crypto", None))?;
    external::append_signature(precommand, &Signature(sig)).map_err(|e| gbcs_error(&e))
}

/// Refuses a signature or MAC the pre-command's mode does not have (the CLI's refusal).
///
/// # Errors
/// An `Error` of `kind` `ModeRule`, or the codec's for bytes that are not a pre-command.
#[wasm_bindgen(js_name = checkProtection)]
pub fn check_protection(precommand: &[u8], signed: bool, macd: bool) -> Result<(), JsValue> {
    external::check_protection(precommand, signed, macd).map_err(|e| gbcs_error(&e))
}

/// The pre-command with the `00` byte appended (a command the ACB only MACs).
///
/// # Errors
/// As [`signed_bytes`].
#[wasm_bindgen(js_name = appendNoSignature)]
pub fn append_no_signature(precommand: &[u8]) -> Result<Vec<u8>, JsValue> {
    gbcs::message::append_no_signature(precommand).map_err(|e| codec_error(&e))
}

/// The APDU in its MAC header, with `mac` (12 bytes) after it.
///
/// # Errors
/// An `Error` when the APDU is not whole or the MAC not 12 bytes.
#[wasm_bindgen(js_name = wrapMac)]
pub fn wrap_mac(apdu: &[u8], mac: &[u8]) -> Result<Vec<u8>, JsValue> {
    let mac = <[u8; MAC_LEN]>::try_from(mac)
        .map_err(|_| js_error("a GBCS MAC is 12 bytes", "Crypto", None))?;
    external::wrap_mac(apdu, &mac).map_err(|e| codec_error(&e))
}

/// A pre-command built from a DUIS request, with what its mode needs.
#[wasm_bindgen]
pub struct DuisPlan {
    variant: String,
    originator: String,
    recipient: String,
    bytes: Vec<u8>,
    signed: bool,
    macd: bool,
    notes: Vec<String>,
}

#[wasm_bindgen]
impl DuisPlan {
    /// The request's `ServiceReferenceVariant`.
    #[wasm_bindgen(getter)]
    pub fn variant(&self) -> String {
        self.variant.clone()
    }

    /// Who originates (signs, or MACs as the ACB).
    #[wasm_bindgen(getter)]
    pub fn originator(&self) -> String {
        self.originator.clone()
    }

    /// The device.
    #[wasm_bindgen(getter)]
    pub fn recipient(&self) -> String {
        self.recipient.clone()
    }

    /// The pre-command.
    #[wasm_bindgen(getter)]
    pub fn precommand(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// Whether the command's mode has it signed by the originator.
    #[wasm_bindgen(getter)]
    pub fn signed(&self) -> bool {
        self.signed
    }

    /// Whether the command's mode has it MAC'd by the ACB.
    #[wasm_bindgen(getter)]
    pub fn macd(&self) -> bool {
        self.macd
    }

    /// Notes for the caller (an execution time already past, …).
    #[wasm_bindgen(getter)]
    pub fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
}

fn entity(name: &str, value: Option<String>) -> Result<Option<EntityId>, JsValue> {
    value
        .map(|v| {
            v.parse().map_err(|_| {
                js_error(
                    &format!("{name}: {v} is not a 16-hex-digit entity ID"),
                    "Usage",
                    None,
                )
            })
        })
        .transpose()
}

/// Builds the pre-command of a DUIS request: `counter` in decimal (a counter may exceed
/// 2^53), entity IDs in hex, `now` in RFC 3339, the SMKI root (`trust_anchor`) as a PEM
/// certificate or public key, `read_as` `cs02a` or `cs02f`.
///
/// # Errors
/// An `Error` whose `kind` is `Check` (a certificate not trusted, an execution time past),
/// `Decode` (a request that does not read), `Usage` (an originator missing, a service not
/// built) or the codec's.
#[wasm_bindgen(js_name = duisPrecommand)]
#[allow(clippy::too_many_arguments)]
pub fn duis_precommand(
    xml: &str,
    counter: &str,
    originator: Option<String>,
    acb: Option<String>,
    tcos: Option<String>,
    now: &str,
    trust_anchor: Option<String>,
    read_as: Option<String>,
) -> Result<DuisPlan, JsValue> {
    let counter: u64 = counter.trim().parse().map_err(|_| {
        js_error(
            &format!("counter: {counter} is not a 64-bit unsigned integer"),
            "Usage",
            None,
        )
    })?;
    let now = gbcs::cli::parse_time(now).ok_or_else(|| {
        js_error(
            &format!("now: {now} is not an RFC 3339 time with a zone"),
            "Usage",
            None,
        )
    })?;
    let anchor = trust_anchor
        .map(|pem| {
            PublicKey::from_pem(&pem)
                .map(|key| TrustAnchor {
                    key_id: key.key_id(),
                    public_key: key,
                })
                .map_err(|e| js_error(&format!("trustAnchor: {e}"), "Key", None))
        })
        .transpose()?;
    let read_as = match read_as.as_deref() {
        None => None,
        Some("cs02a") => Some(MessageCode::CS02A),
        Some("cs02f") => Some(MessageCode::CS02F),
        Some(other) => {
            return Err(js_error(
                &format!("readAs: {other} is not cs02a or cs02f"),
                "Usage",
                None,
            ))
        }
    };
    let options = BuildOptions {
        counter,
        originator: entity("originator", originator)?,
        acb: entity("acb", acb)?,
        tcos: entity("tcos", tcos)?,
        trust: CertificateTrust::new(anchor.as_ref(), now),
        read_as,
    };
    let pre = precommand(xml, &options).map_err(|e| match &e {
        BuildError::Duis(d) if d.is_check_failure() => js_error(&e.to_string(), "Check", None),
        BuildError::Duis(_) => js_error(&e.to_string(), "Decode", None),
        BuildError::Gbcs(g) => gbcs_error(g),
        _ => js_error(&e.to_string(), "Usage", None),
    })?;
    Ok(DuisPlan {
        variant: pre.variant,
        originator: pre.originator.to_string(),
        recipient: pre.recipient.to_string(),
        bytes: pre.bytes,
        signed: pre.protection.signed(),
        macd: pre.protection.macd(),
        notes: pre.notes,
    })
}
