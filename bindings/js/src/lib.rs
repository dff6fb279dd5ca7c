//! The gbcs crate for JavaScript: the WebAssembly side of the npm package in this folder.
//!
//! The package's `index.js` is the API a JavaScript user sees (`parse`, `verify`,
//! `signPrecommand`, `addMac`, `buildFromDuis`). This crate gives it what needs the codec:
//!
//! - [`parse`]: a message described as `gbcs decode --json` describes it (the same
//!   `gbcs::cli::describe`), errors as `Error`s carrying `field`, `offset` and `kind`;
//! - [`inspect`] and [`MacPlan`]: the exact bytes a signature covers and a MAC is computed
//!   over, so the elliptic-curve work and AES-GCM can be done by the platform's WebCrypto;
//! - [`describe_key`]: what a PEM document is (certificate, public key, private key) and whose;
//! - the steps of building ([`build`]) and the Rust crypto for platforms without WebCrypto
//!   ([`rust_crypto`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod build;
pub mod keys;
pub mod rust_crypto;

use gbcs::frame::{CraFlag, SignatureTail};
use gbcs::message::external::MacInputs;
use wasm_bindgen::prelude::*;

/// A JavaScript `Error` with `kind`, and `field` and `offset` where the fault is in the bytes.
pub(crate) fn js_error(message: &str, kind: &str, at: Option<(&str, usize)>) -> JsValue {
    let e = js_sys::Error::new(message);
    let set = |k: &str, v: JsValue| {
        // Setting a property of a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&e, &JsValue::from_str(k), &v);
    };
    set("kind", JsValue::from_str(kind));
    if let Some((field, offset)) = at {
        set("field", JsValue::from_str(field));
        // An offset in a message is far below 2^32 (messages are kilobytes).
        let offset = u32::try_from(offset).map_or(f64::from(u32::MAX), f64::from);
        set("offset", JsValue::from_f64(offset));
    }
    e.into()
}

/// The codec's error as a JavaScript `Error` (what failed and where).
pub(crate) fn codec_error(e: &gbcs::Error) -> JsValue {
    js_error(
        &e.to_string(),
        &format!("{:?}", e.kind()),
        Some((e.field(), e.offset())),
    )
}

/// A builder's or verifier's error as a JavaScript `Error`.
pub(crate) fn gbcs_error(e: &gbcs::GbcsError) -> JsValue {
    match e {
        gbcs::GbcsError::Codec(c) => codec_error(c),
        gbcs::GbcsError::Crypto(c) => js_error(&c.to_string(), "Crypto", None),
        gbcs::GbcsError::ModeRule(v) => js_error(&v.to_string(), "ModeRule", None),
    }
}

/// Reads a message written as text: hex when the text is only hex digits and white space
/// (`0x` allowed), else base64 — as `gbcs decode` reads a file.
///
/// # Errors
/// An `Error` (`kind` `Input`) naming the encoding that did not decode.
#[wasm_bindgen(js_name = messageFromText)]
pub fn decode_text(text: &str) -> Result<Vec<u8>, JsValue> {
    gbcs::cli::read_message(text.as_bytes(), gbcs::cli::InputFormat::Auto)
        .map_err(|e| js_error(&e, "Input", None))
}

/// The largest integer a JavaScript number holds exactly (2^53 - 1).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The smallest integer a JavaScript number holds exactly.
const MIN_SAFE_INTEGER: i64 = -((1 << 53) - 1);

/// The prefix of a string standing for an integer beyond 2^53, which `index.js` turns into a
/// `BigInt` as it reads the JSON (a NUL cannot begin any string the description holds).
const BIG: &str = "\u{0}bigint:";

/// Marks the integers a JavaScript number cannot hold exactly (64-bit counters) as [`BIG`]
/// strings.
fn mark_big_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            let big = n.as_u64().is_some_and(|u| u > MAX_SAFE_INTEGER)
                || n.as_i64().is_some_and(|i| i < MIN_SAFE_INTEGER);
            if big {
                *value = Value::String(format!("{BIG}{n}"));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mark_big_integers),
        Value::Object(fields) => fields.values_mut().for_each(mark_big_integers),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// The message described as JSON text in the shape of `gbcs decode --json` (the same
/// `gbcs::cli::describe`), integers beyond 2^53 as strings that `index.js` reads as `BigInt`s.
/// (One string crosses to JavaScript, whose native `JSON.parse` builds the object: several
/// times faster than setting each property from WebAssembly.)
///
/// # Errors
/// An `Error` with the codec's `kind`, the `field` and the byte `offset` that failed.
#[wasm_bindgen(js_name = parseJson)]
pub fn parse_json(bytes: &[u8]) -> Result<String, JsValue> {
    let message = gbcs::parse(bytes).map_err(|e| codec_error(&e))?;
    let mut value =
        gbcs::cli::describe(&message).map_err(|e| js_error(&e.to_string(), "Describe", None))?;
    mark_big_integers(&mut value);
    Ok(value.to_string())
}

/// What a received message's signature and MAC are checked over.
#[wasm_bindgen]
pub struct Inspection {
    originator: String,
    recipient: String,
    is_command: bool,
    is_credentials: bool,
    signed_bytes: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
    tail: &'static str,
    mac: Option<Vec<u8>>,
    mac_plan: Option<MacPlan>,
}

#[wasm_bindgen]
impl Inspection {
    /// The grouping header's originator (16 upper-case hex digits): the signer.
    #[wasm_bindgen(getter)]
    pub fn originator(&self) -> String {
        self.originator.clone()
    }

    /// The grouping header's recipient.
    #[wasm_bindgen(getter)]
    pub fn recipient(&self) -> String {
        self.recipient.clone()
    }

    /// Whether the CRA flag says command (the device is the recipient); else a response or
    /// alert (the device is the originator).
    #[wasm_bindgen(getter, js_name = isCommand)]
    pub fn is_command(&self) -> bool {
        self.is_command
    }

    /// Whether the payload is a CS02 credentials message (MAC'd by the ACB and nobody else);
    /// another message's MAC may be the remote party's.
    #[wasm_bindgen(getter, js_name = isCredentials)]
    pub fn is_credentials(&self) -> bool {
        self.is_credentials
    }

    /// The bytes the signature covers (everything after `DF`), when the message is signed.
    #[wasm_bindgen(getter, js_name = signedBytes)]
    pub fn signed_bytes(&self) -> Option<Vec<u8>> {
        self.signed_bytes.clone()
    }

    /// The signature, `r || s` (64 bytes), when the message is signed.
    #[wasm_bindgen(getter)]
    pub fn signature(&self) -> Option<Vec<u8>> {
        self.signature.clone()
    }

    /// `signed`, `none` (the `00` byte: the MAC alone authenticates) or `absent` (a
    /// pre-command).
    #[wasm_bindgen(getter)]
    pub fn tail(&self) -> String {
        self.tail.into()
    }

    /// The MAC the message carries (12 bytes), when it has a MAC header.
    #[wasm_bindgen(getter)]
    pub fn mac(&self) -> Option<Vec<u8>> {
        self.mac.clone()
    }

    /// What the MAC is computed over, when the message has one.
    #[wasm_bindgen(getter, js_name = macPlan)]
    pub fn mac_plan(&self) -> Option<MacPlan> {
        self.mac_plan.clone()
    }
}

/// Reads what a message's signature and MAC are checked over (nothing is verified here).
///
/// # Errors
/// As [`parse`].
#[wasm_bindgen]
pub fn inspect(bytes: &[u8]) -> Result<Inspection, JsValue> {
    let message = gbcs::parse(bytes).map_err(|e| codec_error(&e))?;
    let header = message.header();
    let signing = message.frame().general_signing();
    let (signature, tail) = match message.tail() {
        SignatureTail::Signature(sig) => (Some(sig.to_vec()), "signed"),
        SignatureTail::NoSignature => (None, "none"),
        SignatureTail::Absent => (None, "absent"),
    };
    Ok(Inspection {
        originator: header.originator.to_string(),
        recipient: header.recipient.to_string(),
        is_command: header.cra_flag == CraFlag::COMMAND,
        is_credentials: message.payload().is_typed(),
        signed_bytes: signature.as_ref().map(|_| signing.signed_bytes().to_vec()),
        signature,
        tail,
        mac: message.frame().mac().map(|m| m.to_vec()),
        mac_plan: MacInputs::of_message(&message).ok().map(MacPlan),
    })
}

/// The inputs of a GBCS MAC: `K = KDF(Z, otherInfo)`, then AES-GCM with `iv` over `aad` and
/// an empty plaintext, its tag cut to 96 bits.
#[wasm_bindgen]
#[derive(Clone)]
pub struct MacPlan(MacInputs);

#[wasm_bindgen]
impl MacPlan {
    /// The GCM IV (12 bytes): originator, invocation counter.
    #[wasm_bindgen(getter)]
    pub fn iv(&self) -> Vec<u8> {
        self.0.iv.to_vec()
    }

    /// The additional authenticated data: `11 00 00 00 00 00`, then the APDU.
    #[wasm_bindgen(getter)]
    pub fn aad(&self) -> Vec<u8> {
        self.0.aad.clone()
    }

    /// The KDF's OtherInfo (33 bytes).
    #[wasm_bindgen(getter, js_name = otherInfo)]
    pub fn other_info(&self) -> Vec<u8> {
        self.0.other_info.to_vec()
    }

    /// The AES-128 key K (16 bytes) from the ECDH shared secret Z (32 bytes).
    ///
    /// # Errors
    /// An `Error` when `z` is not 32 bytes.
    pub fn key(&self, z: &[u8]) -> Result<Vec<u8>, JsValue> {
        let z = <[u8; 32]>::try_from(z).map_err(|_| js_error("Z is 32 bytes", "Crypto", None))?;
        let z = gbcs::crypto::SharedSecret::from_bytes(z);
        Ok(self.0.mac_key(&z).as_bytes().to_vec())
    }
}

/// The MAC inputs of an APDU about to be MAC'd (the `00` byte or a signature at its end).
///
/// # Errors
/// As [`parse`], for bytes that are not a whole general signing APDU.
#[wasm_bindgen(js_name = macPlanForApdu)]
pub fn mac_plan_for_apdu(apdu: &[u8]) -> Result<MacPlan, JsValue> {
    MacInputs::for_apdu(apdu)
        .map(MacPlan)
        .map_err(|e| codec_error(&e))
}
