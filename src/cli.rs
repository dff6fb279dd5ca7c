//! The command-line tool's library side (feature `json`, which `cli` includes; the JavaScript
//! package `bindings/js` uses it too): reading messages as hex, base64 or binary; describing a message (the types' own `Serialize`, feature `serde`), rendered as
//! JSON or as an indented tree. The registry and ledger file formats are the `cos` layer's
//! (`CosRegistry::from_text`, `cos::ledger::csv_file`).
//!
//! # The JSON shape (stable)
//!
//! ```text
//! {
//!   "length": <bytes>,
//!   "mac_header": null | { "offset": 0, "ciphered_length": n, "security_control": n, "invocation_counter": n },
//!   "grouping_header": { "offset": n, "length": n, "cra_flag": {"value": n, "name": s|null},
//!                        "originator_counter": n, "originator": "<16 hex>", "recipient": "<16 hex>",
//!                        "date_time": null | "<24 hex>", "message_code": {"value": n, "name": s|null},
//!                        "supplementary_other_information": "<hex>", "content_length": n },
//!   "payload": { "offset": n, "length": n, "type": "<type>", ...fields of that type... },
//!   "signature": null | "none" | { "r": "<64 hex>", "s": "<64 hex>" },
//!   "mac": null | "<24 hex>"
//! }
//! ```
//! `signature` is `null` for a pre-command, `"none"` for the `00` byte. Payload types:
//! `CredentialDetailsCommand`, `CredentialDetailsResponse`, `UpdateSecurityCredentialsCommand`,
//! `UpdateSecurityCredentialsResponse`, `UpdateSecurityCredentialsAlert` (fields named as in
//! the ASN.1 of `gbcs-cs02.md` B, in snake case) and `Other` (`"hex"`). Enumerations are
//! `{"value": n, "name": s|null}`; octet strings and identifiers are upper-case hex;
//! certificates are `{"length": n, "der": "<hex>", "kind", "entity_id", "role",
//! "subject_key_id"}` (the last four `null` when the certificate does not parse).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::message::Message;
use crate::payload::Payload;
use crate::smki::CertificateSummary;
pub use serde_json::Value as JsonValue;

/// Describes a whole message as JSON values in the documented shape: the message's own
/// `Serialize` (the types describe themselves), with each certificate of a CS02b command
/// replaced by its [`CertificateSummary`] (what the SMKI layer reads from it).
///
/// # Errors
/// Only what `serde_json` reports for a value it cannot represent (none of this crate's).
pub fn describe(m: &Message<'_>) -> Result<JsonValue, serde_json::Error> {
    let mut value = serde_json::to_value(m)?;
    if let (Payload::UpdateSecurityCredentialsCommand(c), Some(p)) =
        (m.payload(), value.get_mut("payload"))
    {
        if let Some(slots) = p.get_mut("replacements").and_then(JsonValue::as_array_mut) {
            for (slot, r) in slots.iter_mut().zip(c.replacements.iter()) {
                if let Some(cert) = slot.get_mut("replacement_certificate") {
                    *cert = serde_json::to_value(CertificateSummary(r.certificate.as_bytes()))?;
                }
            }
        }
        if let Some(slots) = p
            .get_mut("certification_path_certificates")
            .and_then(JsonValue::as_array_mut)
        {
            for (slot, cert) in slots.iter_mut().zip(c.certification_path.iter()) {
                *slot = serde_json::to_value(CertificateSummary(cert.as_bytes()))?;
            }
        }
    }
    Ok(value)
}

/// Fields whose `{value, name}` the tree shows in hex (codes and bit strings).
const HEX_FIELDS: [&str; 2] = ["message_code", "key_usage"];

/// An indented tree of a description, one field per line: enumerations as `value (name)`,
/// certificates' DER cut to its first 16 bytes, absent fields as `(absent)`.
#[must_use]
pub fn to_tree(value: &JsonValue) -> String {
    let mut out = String::new();
    match value {
        JsonValue::Object(fields) => {
            for (k, v) in fields {
                tree(k, v, 0, &mut out);
            }
        }
        other => tree("value", other, 0, &mut out),
    }
    out
}

fn tree(name: &str, value: &JsonValue, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match value {
        JsonValue::Object(fields)
            if fields.len() == 2 && fields.contains_key("value") && fields.contains_key("name") =>
        {
            let n = fields
                .get("value")
                .and_then(JsonValue::as_u64)
                .unwrap_or_default();
            let shown = if HEX_FIELDS.contains(&name) {
                alloc::format!("0x{n:04X}")
            } else {
                alloc::format!("{n}")
            };
            match fields.get("name").and_then(JsonValue::as_str) {
                Some(x) => {
                    let _ = writeln!(out, "{pad}{name}: {shown} ({x})");
                }
                None => {
                    let _ = writeln!(out, "{pad}{name}: {shown}");
                }
            }
        }
        JsonValue::Object(fields) => {
            let _ = writeln!(out, "{pad}{name}:");
            for (k, v) in fields {
                match (k.as_str(), v) {
                    ("der", JsonValue::String(h)) => {
                        let _ = writeln!(out, "{pad}  der: {}…", h.get(..32).unwrap_or(h));
                    }
                    _ => tree(k, v, depth + 1, out),
                }
            }
        }
        JsonValue::Array(items) if items.is_empty() => {
            let _ = writeln!(out, "{pad}{name}: (none)");
        }
        JsonValue::Array(items) => {
            let _ = writeln!(out, "{pad}{name}:");
            for (i, v) in items.iter().enumerate() {
                tree(&alloc::format!("[{i}]"), v, depth + 1, out);
            }
        }
        JsonValue::Null => {
            let _ = writeln!(out, "{pad}{name}: (absent)");
        }
        JsonValue::String(v) => {
            let _ = writeln!(out, "{pad}{name}: {v}");
        }
        other => {
            let _ = writeln!(out, "{pad}{name}: {other}");
        }
    }
}

/// How a message is written in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// Decide from the content: raw bytes starting `DD`/`DF`, else hex, else base64.
    Auto,
    /// Hex digits (white space allowed).
    Hex,
    /// Base64.
    Base64,
    /// Raw bytes.
    Binary,
}

/// Reads a message written in `format`.
///
/// # Errors
/// A message naming the format that did not decode.
pub fn read_message(input: &[u8], format: InputFormat) -> Result<Vec<u8>, String> {
    let text = || core::str::from_utf8(input).map_err(|_| String::from("input is not text"));
    // `0x` before hex digits (as a C or Python literal writes them) is hex, not base64.
    let unprefixed = |t: &'_ str| -> Option<String> {
        let rest = t
            .trim_start()
            .strip_prefix("0x")
            .or_else(|| t.trim_start().strip_prefix("0X"))?;
        rest.bytes()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace())
            .then(|| String::from(rest))
    };
    match format {
        InputFormat::Binary => Ok(input.to_vec()),
        InputFormat::Hex => {
            let t = text()?;
            let t = unprefixed(t).unwrap_or_else(|| String::from(t));
            crate::hex::decode(&t).map_err(|e| alloc::format!("not hex: {e}"))
        }
        InputFormat::Base64 => {
            crate::duis::decode_base64(text()?.trim()).ok_or_else(|| String::from("not base64"))
        }
        InputFormat::Auto => {
            if matches!(input.first(), Some(0xDD | 0xDF)) {
                return Ok(input.to_vec());
            }
            let t = text()?;
            if let Some(hex) = unprefixed(t) {
                return crate::hex::decode(&hex).map_err(|e| alloc::format!("not hex: {e}"));
            }
            if t.bytes()
                .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace())
            {
                crate::hex::decode(t).map_err(|e| alloc::format!("not hex: {e}"))
            } else {
                crate::duis::decode_base64(t.trim())
                    .ok_or_else(|| String::from("neither hex, base64 nor a binary GBCS message"))
            }
        }
    }
}

/// An RFC 3339 date-time (`2026-12-07T09:30:00Z`, `2026-12-07T10:30:00+01:00`; a fraction
/// is dropped) as Unix seconds, UTC: what `--now` and other times on the command line take.
/// `None` for anything else, including a time without a zone.
///
/// ```
/// assert_eq!(gbcs::cli::parse_time("2026-12-07T10:30:00+01:00"), Some(1_796_635_800));
/// assert_eq!(gbcs::cli::parse_time("2026-12-07T09:30:00"), None);
/// ```
#[must_use]
pub fn parse_time(s: &str) -> Option<i64> {
    // RFC 3339 is XML Schema's dateTime with the zone required (and a space allowed for `T`).
    let s = s.trim();
    let normal;
    let s = match s.split_once(' ') {
        Some((d, t)) => {
            normal = alloc::format!("{d}T{t}");
            normal.as_str()
        }
        None => s,
    };
    match crate::duis::schema::date_time(s)? {
        (secs, true) => Some(secs),
        (_, false) => None,
    }
}
