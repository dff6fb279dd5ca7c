//! PKCS#11 URIs (RFC 7512), as far as finding a key needs them.
//!
//! ```text
//! pkcs11:token=GBCS%20test;object=tcos-ds;id=%01?pin-source=file:/run/secrets/hsm-pin
//! └─ scheme  └─ path attributes, ';'-separated   └─ query attributes, '&'-separated
//! ```
//!
//! Path attributes: `token`, `object`, `id` (bytes, percent-encoded), `type` (`private`,
//! `public`, `secret-key`, `cert`, `data`), `slot-id`, `serial`, `manufacturer`, `model`,
//! `library-manufacturer`, `library-description`, `library-version`, `slot-description`,
//! `slot-manufacturer`. Query attributes: `pin-source` (a `file:` path or a bare path) and
//! `module-path`. A `pin-value` is refused: the PIN must not be part of a command line (it
//! comes from `pin-source` or the `GBCS_PKCS11_PIN` environment variable). Unknown attributes,
//! repeated attributes and bad percent-encoding are refused with the byte offset, never
//! ignored.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;
use std::path::PathBuf;

/// A parsed PKCS#11 URI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token`: the token label.
    pub token: Option<String>,
    /// `object`: the key's `CKA_LABEL`.
    pub object: Option<String>,
    /// `id`: the key's `CKA_ID`.
    pub id: Option<Vec<u8>>,
    /// `type`: the object class named (a key URI names `private`, or nothing).
    pub object_type: Option<String>,
    /// `slot-id`: the slot number.
    pub slot_id: Option<u64>,
    /// `serial`: the token serial number.
    pub serial: Option<String>,
    /// `manufacturer`: the token manufacturer.
    pub manufacturer: Option<String>,
    /// `model`: the token model.
    pub model: Option<String>,
    /// `pin-source`: a file holding the user PIN.
    pub pin_source: Option<PathBuf>,
    /// `module-path`: the PKCS#11 module to load.
    pub module_path: Option<PathBuf>,
}

/// Why a PKCS#11 URI was refused; `position` is the byte offset in the URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UriError {
    /// What is wrong.
    pub reason: &'static str,
    /// Where (byte offset).
    pub position: usize,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PKCS#11 URI: {} at byte {}", self.reason, self.position)
    }
}

impl core::error::Error for UriError {}

fn err(reason: &'static str, position: usize) -> UriError {
    UriError { reason, position }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `value`, which starts at byte `at` of the URI.
fn decode(value: &str, at: usize) -> Result<Vec<u8>, UriError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_value);
            let lo = bytes.get(i + 2).copied().and_then(hex_value);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(err("bad percent-encoding", at + i)),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

fn text(value: &str, at: usize) -> Result<String, UriError> {
    String::from_utf8(decode(value, at)?).map_err(|_| err("value is not UTF-8", at))
}

fn set<T>(slot: &mut Option<T>, value: T, at: usize) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(err("attribute given twice", at));
    }
    *slot = Some(value);
    Ok(())
}

/// One `name=value` attribute, with the byte offsets of the attribute and of its value.
struct Attr<'a> {
    name: &'a str,
    value: &'a str,
    start: usize,
    vat: usize,
}

/// The non-empty `name=value` attributes of `part` (separated by `sep`), which starts at byte
/// `base` of the URI.
fn attributes<'a>(
    part: &'a str,
    sep: char,
    base: usize,
    missing_equals: &'static str,
) -> impl Iterator<Item = Result<Attr<'a>, UriError>> {
    let mut at = base;
    part.split(sep).filter_map(move |attr| {
        let start = at;
        at += attr.len() + sep.len_utf8();
        if attr.is_empty() {
            return None;
        }
        Some(match attr.split_once('=') {
            Some((name, value)) => Ok(Attr {
                name,
                value,
                start,
                vat: start + name.len() + 1,
            }),
            None => Err(err(missing_equals, start)),
        })
    })
}

impl FromStr for Pkcs11Uri {
    type Err = UriError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .strip_prefix("pkcs11:")
            .ok_or_else(|| err("does not start with pkcs11:", 0))?;
        let base = "pkcs11:".len();
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Self::default();
        for attr in attributes(path, ';', base, "path attribute without '='") {
            let Attr {
                name,
                value,
                start,
                vat,
            } = attr?;
            match name {
                "token" => set(&mut uri.token, text(value, vat)?, start)?,
                "object" => set(&mut uri.object, text(value, vat)?, start)?,
                "id" => set(&mut uri.id, decode(value, vat)?, start)?,
                "type" => {
                    let t = text(value, vat)?;
                    if !["private", "public", "secret-key", "cert", "data"].contains(&t.as_str()) {
                        return Err(err("unknown object type", vat));
                    }
                    set(&mut uri.object_type, t, start)?;
                }
                "slot-id" => {
                    let n = text(value, vat)?
                        .parse()
                        .map_err(|_| err("slot-id is not a number", vat))?;
                    set(&mut uri.slot_id, n, start)?;
                }
                "serial" => set(&mut uri.serial, text(value, vat)?, start)?,
                "manufacturer" => set(&mut uri.manufacturer, text(value, vat)?, start)?,
                "model" => set(&mut uri.model, text(value, vat)?, start)?,
                // Library and slot descriptions select nothing a key needs; accepted, checked
                // for encoding, not used.
                "library-manufacturer"
                | "library-description"
                | "library-version"
                | "slot-description"
                | "slot-manufacturer" => {
                    text(value, vat)?;
                }
                _ => return Err(err("unknown path attribute", start)),
            }
        }
        if let Some(query) = query {
            let query_at = base + path.len() + 1;
            for attr in attributes(query, '&', query_at, "query attribute without '='") {
                let Attr {
                    name,
                    value,
                    start,
                    vat,
                } = attr?;
                match name {
                    "pin-source" => {
                        let v = text(value, vat)?;
                        let p = v.strip_prefix("file:").unwrap_or(&v);
                        if p.is_empty() || p.contains("://") {
                            return Err(err("pin-source must be a file path", vat));
                        }
                        set(&mut uri.pin_source, PathBuf::from(p), start)?;
                    }
                    "pin-value" => return Err(err(
                        "pin-value refused: give the PIN in a pin-source file or GBCS_PKCS11_PIN",
                        start,
                    )),
                    "module-path" => {
                        set(
                            &mut uri.module_path,
                            PathBuf::from(text(value, vat)?),
                            start,
                        )?;
                    }
                    _ => return Err(err("unknown query attribute", start)),
                }
            }
        }
        if uri.token.is_none() && uri.slot_id.is_none() && uri.serial.is_none() {
            return Err(err("names no token (token, serial or slot-id)", base));
        }
        if uri.object.is_none() && uri.id.is_none() {
            return Err(err("names no key (object or id)", base));
        }
        Ok(uri)
    }
}

impl Pkcs11Uri {
    /// Whether `s` looks like a PKCS#11 URI rather than a file path (the CLI's test).
    #[must_use]
    pub fn is_uri(s: &str) -> bool {
        s.starts_with("pkcs11:")
    }
}
