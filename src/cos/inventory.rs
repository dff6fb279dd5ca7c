//! A fleet's inventory: what an operator knows of each device before the migration reads it
//! (ID, type, manufacturer, model, firmware, responsible supplier, Meter Asset Provider, the
//! device's DS and KA certificates, the credential state if known), as rows of a CSV or JSON
//! file, checked into [`DeviceRecord`]s.
//!
//! A row's fields are text, exactly as an inventory file holds them (the CSV header names
//! are the JSON keys):
//!
//! | field | required | meaning |
//! |---|---|---|
//! | `device_id` | yes | 16 hex digits (dashes allowed: `00-DB-…`) |
//! | `device_type` | yes | `ESME`, `GSME`, `CHF`, `GPF`, `PPMID`, `IHD`, `CAD`, `HCALCS` |
//! | `manufacturer`, `model`, `firmware` | yes | as the device reports them |
//! | `responsible_supplier` | yes | a SEC party ID |
//! | `meter_asset_provider` | no | a SEC party ID |
//! | `electricity_supplier` | no | a GPF's electricity supplier (SEC party ID) |
//! | `gas_meter_commissioned` | no | `true`/`false` (a GPF's hub has a gas meter) |
//! | `credential_state` | no | `tcos`, `ecos` or `unknown` (empty: unknown) |
//! | `cell_credential` | no | the role-5 cell's credential, `ENTITYID:KEYID` (16 + 16 hex) |
//! | `last_communication` | no | when the device last communicated (RFC 3339; empty: now) |
//! | `ineligible` | no | why the device may not be migrated now (empty: eligible) |
//! | `ds_certificate`, `ka_certificate` | no | where the device's certificates are (the caller resolves them) |
//!
//! The certificates must be device certificates of the row's device with the right key
//! usage (digitalSignature; keyAgreement): a row with another device's certificate is refused,
//! never guessed around. Two rows for one device are refused.
//!
//! ```
//! use gbcs::cos::inventory::InventoryRow;
//! let row = InventoryRow {
//!     device_id: "00-DB-12-34-56-78-90-01".into(),
//!     device_type: "ESME".into(),
//!     manufacturer: "ACME".into(),
//!     model: "E1".into(),
//!     firmware: "1.0.0".into(),
//!     responsible_supplier: "SUPA01".into(),
//!     ..InventoryRow::default()
//! };
//! assert_eq!(row.entity_id().unwrap().to_string(), "00DB123456789001");
//! ```

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::cos::classify::{CosState, UnknownReason};
use crate::cos::device::{FirmwareVersion, ModelKey};
use crate::cos::migration::{DeviceRecord, MigrationStatus};
use crate::cos::party::SecPartyId;
use crate::cos::registry::Credential;
use crate::cos::route::DeviceType;
use crate::crypto::PublicKey;
use crate::frame::EntityId;
use crate::payload::{KeyId, KeyUsage};
use crate::smki::{CertificateKind, SmkiCertificate};

#[cfg(feature = "csv")]
mod csv_file;
#[cfg(feature = "csv")]
pub use csv_file::{read_csv, write_csv};

/// One device as an inventory file lists it: every field as text (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct InventoryRow {
    /// The device's entity ID (16 hex digits).
    pub device_id: String,
    /// Its type (`ESME`, `GSME`, `CHF`, `GPF`, …).
    pub device_type: String,
    /// Its manufacturer.
    pub manufacturer: String,
    /// Its model.
    pub model: String,
    /// Its firmware version.
    pub firmware: String,
    /// The responsible supplier (SEC party ID).
    pub responsible_supplier: String,
    /// The Meter Asset Provider (SEC party ID), if known.
    #[cfg_attr(feature = "serde", serde(default))]
    pub meter_asset_provider: Option<String>,
    /// A GPF's electricity supplier (SEC party ID).
    #[cfg_attr(feature = "serde", serde(default))]
    pub electricity_supplier: Option<String>,
    /// Whether a GPF's hub has a gas meter commissioned (`true`/`false`).
    #[cfg_attr(feature = "serde", serde(default))]
    pub gas_meter_commissioned: Option<String>,
    /// `tcos`, `ecos` or `unknown`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub credential_state: Option<String>,
    /// The role-5 cell's credential, `ENTITYID:KEYID`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub cell_credential: Option<String>,
    /// When the device last communicated (RFC 3339).
    #[cfg_attr(feature = "serde", serde(default))]
    pub last_communication: Option<String>,
    /// Why the device is ineligible, if it is.
    #[cfg_attr(feature = "serde", serde(default))]
    pub ineligible: Option<String>,
    /// Where the device's DS certificate is (the caller's convention: a file, say).
    #[cfg_attr(feature = "serde", serde(default))]
    pub ds_certificate: Option<String>,
    /// Where the device's KA certificate is.
    #[cfg_attr(feature = "serde", serde(default))]
    pub ka_certificate: Option<String>,
}

/// A device's certificates (DER), as the caller found them for a row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceCertificates {
    /// The DS certificate (verifies the device's responses).
    pub ds: Vec<u8>,
    /// The KA certificate (the ACB MACs commands to it).
    pub ka: Vec<u8>,
}

/// A row that cannot be a device record: which record (1-based, in file order), which field
/// and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryError {
    /// The record (1-based; for a CSV file, line `record + 1`).
    pub record: usize,
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {}, {}: {}",
            self.record, self.field, self.message
        )
    }
}

impl core::error::Error for InventoryError {}

/// A field's problem, before the record number is known.
type FieldError = (&'static str, String);

fn field(name: &'static str, message: impl fmt::Display) -> FieldError {
    (name, message.to_string())
}

/// An optional field: absent, or empty after trimming, is `None`.
fn given(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn party(name: &'static str, v: &str) -> Result<SecPartyId, FieldError> {
    v.trim()
        .parse()
        .map_err(|_| field(name, format!("{v:?} is not a SEC party ID")))
}

fn text(name: &'static str, v: &str) -> Result<String, FieldError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(field(name, "empty"));
    }
    Ok(v.into())
}

fn hex_id(name: &'static str, v: &str) -> Result<[u8; 8], FieldError> {
    let digits: String = v.trim().chars().filter(|c| *c != '-').collect();
    let mut out = [0u8; 8];
    crate::hex::decode_exact(&digits, &mut out)
        .map_err(|_| field(name, format!("{v:?} is not 16 hex digits")))?;
    Ok(out)
}

/// The device's certificate of `usage`: a device certificate of `device`, or an error.
fn device_key(
    name: &'static str,
    der: &[u8],
    device: EntityId,
    usage: KeyUsage,
) -> Result<PublicKey, FieldError> {
    let cert = SmkiCertificate::from_der(der).map_err(|e| field(name, e))?;
    match cert.kind() {
        CertificateKind::Device { entity_id } if entity_id == device => {}
        CertificateKind::Device { entity_id } => {
            return Err(field(
                name,
                format!("the certificate is device {entity_id}'s, not {device}'s"),
            ))
        }
        other => {
            return Err(field(
                name,
                format!("an {} certificate, not a device's", other.name()),
            ))
        }
    }
    if cert.key_usage() != usage {
        return Err(field(
            name,
            format!(
                "key usage {}, not {}",
                cert.key_usage().name().unwrap_or("(other)"),
                usage.name().unwrap_or("(other)")
            ),
        ));
    }
    Ok(cert.public_key().clone())
}

impl InventoryRow {
    /// The device's entity ID.
    ///
    /// # Errors
    /// The field and why, when it is not 16 hex digits.
    pub fn entity_id(&self) -> Result<EntityId, (&'static str, String)> {
        hex_id("device_id", &self.device_id).map(EntityId)
    }

    /// The record this row makes, with `certificates` (found by the caller from
    /// `ds_certificate` and `ka_certificate`), `now` for an absent `last_communication`, and
    /// `time` reading RFC 3339 (`gbcs::cli::parse_time`, say).
    ///
    /// # Errors
    /// The field and why, for the first field that is wrong.
    pub fn to_record(
        &self,
        certificates: &DeviceCertificates,
        now: i64,
        time: &dyn Fn(&str) -> Option<i64>,
    ) -> Result<DeviceRecord, (&'static str, String)> {
        let entity_id = self.entity_id()?;
        let device_type = DeviceType::from_name(self.device_type.trim()).ok_or_else(|| {
            field(
                "device_type",
                format!(
                    "{:?} is none of ESME, GSME, CHF, GPF, PPMID, IHD, CAD, HCALCS",
                    self.device_type
                ),
            )
        })?;
        let model = ModelKey::new(
            text("manufacturer", &self.manufacturer)?,
            text("model", &self.model)?,
        );
        let firmware = FirmwareVersion::from(text("firmware", &self.firmware)?);
        let responsible_supplier = party("responsible_supplier", &self.responsible_supplier)?;
        let optional_party =
            |name, v: Option<&String>| given(v).map(|v| party(name, v)).transpose();
        let meter_asset_provider =
            optional_party("meter_asset_provider", self.meter_asset_provider.as_ref())?;
        let electricity_supplier =
            optional_party("electricity_supplier", self.electricity_supplier.as_ref())?;
        let gas_meter_commissioned = match given(self.gas_meter_commissioned.as_ref()) {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(field(
                    "gas_meter_commissioned",
                    format!("{v:?} is neither true nor false"),
                ))
            }
        };
        let state = match given(self.credential_state.as_ref()) {
            Some("tcos") => CosState::Tcos,
            Some("ecos") => CosState::Ecos,
            None | Some("unknown") => CosState::Unknown(UnknownReason::NoEvidence),
            Some(v) => {
                return Err(field(
                    "credential_state",
                    format!("{v:?} is none of tcos, ecos, unknown"),
                ))
            }
        };
        let cell_credential = match given(self.cell_credential.as_ref()) {
            None => None,
            Some(v) => {
                let (entity, key) = v.split_once(':').ok_or_else(|| {
                    field("cell_credential", format!("{v:?} is not ENTITYID:KEYID"))
                })?;
                if !state.is_known() {
                    return Err(field(
                        "cell_credential",
                        "given while credential_state is not tcos or ecos",
                    ));
                }
                Some(Credential {
                    entity_id: EntityId(hex_id("cell_credential", entity)?),
                    key_id: KeyId(hex_id("cell_credential", key)?),
                })
            }
        };
        let last_communication = match given(self.last_communication.as_ref()) {
            None => now,
            Some(v) => time(v).ok_or_else(|| {
                field(
                    "last_communication",
                    format!("{v:?} is not an RFC 3339 date-time with a zone"),
                )
            })?,
        };
        Ok(DeviceRecord {
            entity_id,
            device_type,
            model,
            firmware,
            responsible_supplier,
            meter_asset_provider,
            electricity_supplier,
            gas_meter_commissioned,
            state,
            cell_credential,
            last_communication,
            ineligible: given(self.ineligible.as_ref()).map(Into::into),
            ds_public_key: device_key(
                "ds_certificate",
                &certificates.ds,
                entity_id,
                KeyUsage::DIGITAL_SIGNATURE,
            )?,
            ka_public_key: device_key(
                "ka_certificate",
                &certificates.ka,
                entity_id,
                KeyUsage::KEY_AGREEMENT,
            )?,
            attempts: 0,
            invalid_responses: 0,
            next_attempt_at: None,
            unconfirmed: None,
            unanswered_reads: 0,
            status: MigrationStatus::NotStarted,
            faulted_firmware: None,
        })
    }

    /// The row listing `record` as it stands before the migration (its progress is not an
    /// inventory's), its certificates at `ds_certificate` and `ka_certificate`, and
    /// `last_communication` written by `time` (RFC 3339).
    #[must_use]
    pub fn from_record(
        record: &DeviceRecord,
        ds_certificate: Option<String>,
        ka_certificate: Option<String>,
        time: &dyn Fn(i64) -> String,
    ) -> Self {
        let credential = record
            .cell_credential
            .map(|c| format!("{}:{}", c.entity_id, c.key_id));
        Self {
            device_id: record.entity_id.to_string(),
            device_type: record.device_type.name().into(),
            manufacturer: record.model.manufacturer.as_str().into(),
            model: record.model.model.as_str().into(),
            firmware: record.firmware.as_str().into(),
            responsible_supplier: record.responsible_supplier.to_string(),
            meter_asset_provider: record
                .meter_asset_provider
                .as_ref()
                .map(ToString::to_string),
            electricity_supplier: record
                .electricity_supplier
                .as_ref()
                .map(ToString::to_string),
            gas_meter_commissioned: Some(record.gas_meter_commissioned.to_string()),
            credential_state: Some(
                match record.state {
                    CosState::Tcos => "tcos",
                    CosState::Ecos => "ecos",
                    CosState::Unknown(_) => "unknown",
                }
                .into(),
            ),
            cell_credential: credential,
            last_communication: Some(time(record.last_communication)),
            ineligible: record.ineligible.as_ref().map(|r| r.as_str().into()),
            ds_certificate,
            ka_certificate,
        }
    }
}

/// The device records of `rows`, in order, each with the certificates `certificates` finds
/// for it (the row and its entity ID given; an `Err` names what is missing).
///
/// # Errors
/// [`InventoryError`] for the first row that is wrong, or a device listed twice.
pub fn records<'r>(
    rows: impl IntoIterator<Item = &'r InventoryRow>,
    certificates: &mut dyn FnMut(&InventoryRow, EntityId) -> Result<DeviceCertificates, String>,
    now: i64,
    time: &dyn Fn(&str) -> Option<i64>,
) -> Result<Vec<DeviceRecord>, InventoryError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let record = i.saturating_add(1);
        let at = |(field, message): FieldError| InventoryError {
            record,
            field,
            message,
        };
        let id = row.entity_id().map_err(at)?;
        if !seen.insert(id) {
            return Err(at(field(
                "device_id",
                format!("device {id} is listed twice: which row is right is not guessed"),
            )));
        }
        let certs = certificates(row, id).map_err(|m| at(("certificates", m)))?;
        out.push(row.to_record(&certs, now, time).map_err(at)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
