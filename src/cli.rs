//! The command-line tool's library side (feature `cli`): reading messages as hex, base64 or
//! binary; describing a message as a tree of named fields, rendered as indented text or JSON;
//! the registry and ledger file formats.
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

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::cos::ledger::SupplierCounts;
use crate::cos::migration::SecPartyId;
use crate::cos::registry::{CosParty, CosRegistry, Credential};
use crate::frame::SignatureTail;
use crate::hex::encode_upper;
use crate::message::Message;
use crate::payload::{
    CertificateDer, ExecutionOutcome, Payload, RemotePartySeqNumberChange, SpecialistSeqNumber,
    TrustAnchorCellIdentifier,
};
use crate::smki::{CertificateKind, SmkiCertificate};

/// A value in a message description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Absent.
    Null,
    /// A number.
    Int(u64),
    /// Text (hex, names, times).
    Str(String),
    /// An enumeration: its value and name, if known.
    Enum(u64, Option<&'static str>),
    /// A code shown in hex in the tree (message codes, key usage bits); JSON as `Enum`.
    Code(u64, Option<&'static str>),
    /// Named fields, in order.
    Obj(Vec<(&'static str, Value)>),
    /// A sequence.
    Arr(Vec<Value>),
}

fn s(v: impl ToString) -> Value {
    Value::Str(v.to_string())
}

fn hexv(b: &[u8]) -> Value {
    Value::Str(encode_upper(b))
}

fn cell(c: &TrustAnchorCellIdentifier) -> Value {
    Value::Obj(alloc::vec![
        (
            "remote_party_role",
            Value::Enum(c.role.0.into(), c.role.name())
        ),
        (
            "key_usage",
            Value::Code(c.key_usage.0.into(), c.key_usage.name())
        ),
        (
            "cell_usage",
            Value::Enum(c.cell_usage.0.into(), c.cell_usage.name())
        ),
    ])
}

fn certificate(c: &CertificateDer<'_>) -> Value {
    let parsed = SmkiCertificate::from_der(c.as_bytes()).ok();
    let kind = parsed.as_ref().map(|p| match p.kind() {
        CertificateKind::Organisation { .. } => "organisation",
        CertificateKind::Device { .. } => "device",
        CertificateKind::IssuingCa => "issuingCA",
        CertificateKind::Root => "root",
    });
    Value::Obj(alloc::vec![
        ("length", Value::Int(c.as_bytes().len() as u64)),
        ("der", hexv(c.as_bytes())),
        ("kind", kind.map_or(Value::Null, s)),
        (
            "entity_id",
            parsed
                .as_ref()
                .and_then(SmkiCertificate::entity_id)
                .map_or(Value::Null, s)
        ),
        (
            "role",
            parsed
                .as_ref()
                .and_then(SmkiCertificate::role)
                .map_or(Value::Null, |r| Value::Enum(r.0.into(), r.name()))
        ),
        (
            "subject_key_id",
            parsed
                .as_ref()
                .map_or(Value::Null, |p| s(p.subject_key_id()))
        ),
    ])
}

fn specialists<'a>(it: impl Iterator<Item = SpecialistSeqNumber> + 'a) -> Value {
    Value::Arr(
        it.map(|x| {
            Value::Obj(alloc::vec![
                (
                    "seq_number_usage",
                    Value::Enum(
                        x.usage.0.into(),
                        (x.usage.0 == 0).then_some("prePaymentTopUp")
                    )
                ),
                ("seq_number", Value::Int(x.seq_number)),
            ])
        })
        .collect(),
    )
}

fn changes<'a>(it: impl Iterator<Item = RemotePartySeqNumberChange<'a>>) -> Value {
    Value::Arr(
        it.map(|c| {
            Value::Obj(alloc::vec![
                (
                    "remote_party_role",
                    Value::Enum(c.role.0.into(), c.role.name())
                ),
                ("floor_seq_number", Value::Int(c.floor_seq_number)),
                (
                    "specialist_floor_seq_numbers",
                    c.specialist_floor_seq_numbers
                        .map_or(Value::Null, |s| specialists(s.iter()))
                ),
            ])
        })
        .collect(),
    )
}

fn outcome(o: &ExecutionOutcome<'_>) -> Value {
    Value::Obj(alloc::vec![
        (
            "authorising_remote_party_seq_number",
            Value::Int(o.authorising_seq_number)
        ),
        (
            "credentials_replacement_mode",
            Value::Enum(o.mode.0.into(), o.mode.name())
        ),
        (
            "remote_party_seq_number_changes",
            changes(o.seq_number_changes.iter())
        ),
        (
            "replacement_outcomes",
            Value::Arr(
                o.replacement_outcomes
                    .iter()
                    .map(|r| {
                        Value::Obj(alloc::vec![
                            ("affected_trust_anchor_cell", cell(&r.cell)),
                            (
                                "status_code",
                                Value::Enum(r.status.0.into(), r.status.name())
                            ),
                            (
                                "existing_subject_unique_id",
                                s(r.existing_subject_unique_id)
                            ),
                            (
                                "existing_subject_key_identifier",
                                s(r.existing_subject_key_identifier)
                            ),
                            (
                                "replacing_subject_unique_id",
                                s(r.replacing_subject_unique_id)
                            ),
                            (
                                "replacing_subject_key_identifier",
                                s(r.replacing_subject_key_identifier)
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

fn payload(p: &Payload<'_>) -> Vec<(&'static str, Value)> {
    match p {
        Payload::CredentialDetailsCommand(c) => alloc::vec![
            ("type", s("CredentialDetailsCommand")),
            (
                "authorising_remote_party_ta_cell_identifier",
                cell(&c.authorising_cell)
            ),
            (
                "remote_party_roles_credentials_required",
                Value::Arr(
                    c.roles
                        .iter()
                        .map(|r| Value::Enum(r.0.into(), r.name()))
                        .collect()
                )
            ),
        ],
        Payload::CredentialDetailsResponse(r) => alloc::vec![
            ("type", s("CredentialDetailsResponse")),
            (
                "remote_party_details",
                Value::Arr(
                    r.details
                        .iter()
                        .map(|d| {
                            Value::Obj(alloc::vec![
                                (
                                    "remote_party_role",
                                    Value::Enum(d.role.0.into(), d.role.name())
                                ),
                                (
                                    "status_code",
                                    Value::Enum(d.status.0.into(), d.status.name())
                                ),
                                (
                                    "current_seq_number",
                                    d.current_seq_number.map_or(Value::Null, Value::Int)
                                ),
                                (
                                    "trust_anchor_cell_details",
                                    d.cells.map_or(Value::Null, |cells| {
                                        Value::Arr(
                                            cells
                                                .iter()
                                                .map(|c| {
                                                    Value::Obj(alloc::vec![
                                                        (
                                                            "key_usage",
                                                            Value::Code(
                                                                c.key_usage.0.into(),
                                                                c.key_usage.name()
                                                            )
                                                        ),
                                                        (
                                                            "cell_usage",
                                                            Value::Enum(
                                                                c.cell_usage.0.into(),
                                                                c.cell_usage.name()
                                                            )
                                                        ),
                                                        (
                                                            "subject_unique_id",
                                                            s(c.subject_unique_id)
                                                        ),
                                                        (
                                                            "subject_key_identifier",
                                                            s(c.subject_key_identifier)
                                                        ),
                                                    ])
                                                })
                                                .collect(),
                                        )
                                    }),
                                ),
                            ])
                        })
                        .collect(),
                ),
            ),
        ],
        Payload::UpdateSecurityCredentialsCommand(c) => {
            let k = &c.control;
            alloc::vec![
                ("type", s("UpdateSecurityCredentialsCommand")),
                (
                    "authorising_remote_party_control",
                    Value::Obj(alloc::vec![
                        (
                            "credentials_replacement_mode",
                            Value::Enum(k.mode.0.into(), k.mode.name())
                        ),
                        (
                            "plain_text_symmetric_key",
                            k.plain_text_symmetric_key.map_or(Value::Null, hexv)
                        ),
                        (
                            "apply_time_based_cpv_checks",
                            k.apply_time_based_cpv_checks
                                .map_or(Value::Null, |v| Value::Enum(v.0.into(), v.name()))
                        ),
                        (
                            "authorising_remote_party_ta_cell_identifier",
                            k.authorising_cell.as_ref().map_or(Value::Null, cell)
                        ),
                        (
                            "authorising_remote_party_seq_number",
                            Value::Int(k.authorising_seq_number)
                        ),
                        (
                            "new_remote_party_floor_seq_number",
                            k.new_floor_seq_number.map_or(Value::Null, Value::Int)
                        ),
                        (
                            "new_remote_party_specialist_floor_seq_number",
                            k.new_specialist_floor_seq_numbers
                                .map_or(Value::Null, |x| specialists(x.iter()))
                        ),
                        (
                            "other_remote_party_seq_number_changes",
                            k.other_seq_number_changes
                                .map_or(Value::Null, |x| changes(x.iter()))
                        ),
                    ]),
                ),
                (
                    "replacements",
                    Value::Arr(
                        c.replacements
                            .iter()
                            .map(|r| Value::Obj(alloc::vec![
                                ("replacement_certificate", certificate(&r.certificate)),
                                ("target_trust_anchor_cell", cell(&r.target_cell))
                            ]))
                            .collect(),
                    ),
                ),
                (
                    "certification_path_certificates",
                    Value::Arr(
                        c.certification_path
                            .iter()
                            .map(|x| certificate(&x))
                            .collect()
                    )
                ),
                (
                    "execution_date_time",
                    c.execution_date_time.map_or(Value::Null, s)
                ),
            ]
        }
        Payload::UpdateSecurityCredentialsResponse(r) => alloc::vec![
            ("type", s("UpdateSecurityCredentialsResponse")),
            ("command_accepted", Value::Str(String::from("NULL"))),
            (
                "execution_outcome",
                r.execution_outcome.as_ref().map_or(Value::Null, outcome)
            ),
        ],
        Payload::UpdateSecurityCredentialsAlert(a) => alloc::vec![
            ("type", s("UpdateSecurityCredentialsAlert")),
            (
                "alert_code",
                Value::Enum(a.alert_code.0.into(), a.alert_code.name())
            ),
            ("execution_date_time", s(a.execution_date_time)),
            ("execution_outcome", outcome(&a.execution_outcome)),
        ],
        Payload::Other(b) => alloc::vec![("type", s("Other")), ("hex", hexv(b))],
    }
}

/// Describes a whole message as a tree of named fields.
#[must_use]
pub fn describe(m: &Message<'_>) -> Value {
    let f = m.frame();
    let gs = f.general_signing();
    let h = m.header();
    let gh_offset = f.payload_offset() - gs.view().header_len();
    let mut top = alloc::vec![("length", Value::Int(f.as_bytes().len() as u64))];
    top.push((
        "mac_header",
        f.mac_header().map_or(Value::Null, |mh| {
            Value::Obj(alloc::vec![
                ("offset", Value::Int(0)),
                ("ciphered_length", Value::Int(mh.ciphered_len as u64)),
                ("security_control", Value::Int(mh.security_control.0.into())),
                (
                    "invocation_counter",
                    Value::Int(mh.invocation_counter.into())
                ),
            ])
        }),
    ));
    top.push((
        "grouping_header",
        Value::Obj(alloc::vec![
            ("offset", Value::Int(gh_offset as u64)),
            ("length", Value::Int(gs.view().header_len() as u64)),
            (
                "cra_flag",
                Value::Enum(h.cra_flag.0.into(), h.cra_flag.name())
            ),
            ("originator_counter", Value::Int(h.originator_counter)),
            ("originator", s(h.originator)),
            ("recipient", s(h.recipient)),
            ("date_time", h.date_time.map_or(Value::Null, |d| hexv(&d.0))),
            (
                "message_code",
                Value::Code(h.message_code().0.into(), h.message_code().name())
            ),
            (
                "supplementary_other_information",
                hexv(h.other_information.supplementary)
            ),
            ("content_length", Value::Int(h.content_len as u64)),
        ]),
    ));
    let mut p = alloc::vec![
        ("offset", Value::Int(f.payload_offset() as u64)),
        ("length", Value::Int(f.payload().len() as u64))
    ];
    p.extend(payload(m.payload()));
    top.push(("payload", Value::Obj(p)));
    top.push((
        "signature",
        match m.tail() {
            SignatureTail::Absent => Value::Null,
            SignatureTail::NoSignature => s("none"),
            SignatureTail::Signature(sig) => Value::Obj(alloc::vec![
                ("r", hexv(sig.get(..32).unwrap_or_default())),
                ("s", hexv(sig.get(32..).unwrap_or_default()))
            ]),
        },
    ));
    top.push(("mac", f.mac().map_or(Value::Null, |m| hexv(m))));
    Value::Obj(top)
}

fn json_str(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Value {
    /// Compact JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.json(&mut out);
        out
    }

    fn json(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Self::Str(v) => json_str(out, v),
            Self::Enum(n, name) | Self::Code(n, name) => {
                let _ = write!(out, "{{\"value\":{n},\"name\":");
                match name {
                    Some(x) => json_str(out, x),
                    None => out.push_str("null"),
                }
                out.push('}');
            }
            Self::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_str(out, k);
                    out.push(':');
                    v.json(out);
                }
                out.push('}');
            }
            Self::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.json(out);
                }
                out.push(']');
            }
        }
    }

    /// An indented tree, one field per line.
    #[must_use]
    pub fn to_tree(&self) -> String {
        let mut out = String::new();
        if let Self::Obj(fields) = self {
            for (k, v) in fields {
                v.tree(k, 0, &mut out);
            }
        } else {
            self.tree("value", 0, &mut out);
        }
        out
    }

    fn tree(&self, name: &str, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        match self {
            Self::Obj(fields) => {
                let _ = writeln!(out, "{pad}{name}:");
                for (k, v) in fields {
                    if *k == "der" {
                        if let Self::Str(h) = v {
                            let _ = writeln!(out, "{pad}  der: {}…", h.get(..32).unwrap_or(h));
                            continue;
                        }
                    }
                    v.tree(k, depth + 1, out);
                }
            }
            Self::Arr(items) if items.is_empty() => {
                let _ = writeln!(out, "{pad}{name}: (none)");
            }
            Self::Arr(items) => {
                let _ = writeln!(out, "{pad}{name}:");
                for (i, v) in items.iter().enumerate() {
                    v.tree(&alloc::format!("[{i}]"), depth + 1, out);
                }
            }
            Self::Null => {
                let _ = writeln!(out, "{pad}{name}: (absent)");
            }
            Self::Int(n) => {
                let _ = writeln!(out, "{pad}{name}: {n}");
            }
            Self::Str(v) => {
                let _ = writeln!(out, "{pad}{name}: {v}");
            }
            Self::Enum(n, Some(x)) => {
                let _ = writeln!(out, "{pad}{name}: {n} ({x})");
            }
            Self::Enum(n, None) => {
                let _ = writeln!(out, "{pad}{name}: {n}");
            }
            Self::Code(n, Some(x)) => {
                let _ = writeln!(out, "{pad}{name}: 0x{n:04X} ({x})");
            }
            Self::Code(n, None) => {
                let _ = writeln!(out, "{pad}{name}: 0x{n:04X}");
            }
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
    match format {
        InputFormat::Binary => Ok(input.to_vec()),
        InputFormat::Hex => crate::hex::decode(text()?).map_err(|e| alloc::format!("not hex: {e}")),
        InputFormat::Base64 => {
            crate::hex::decode_base64(text()?.trim()).ok_or_else(|| String::from("not base64"))
        }
        InputFormat::Auto => {
            if matches!(input.first(), Some(0xDD | 0xDF)) {
                return Ok(input.to_vec());
            }
            let t = text()?;
            if t.bytes()
                .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace())
            {
                crate::hex::decode(t).map_err(|e| alloc::format!("not hex: {e}"))
            } else {
                crate::hex::decode_base64(t.trim())
                    .ok_or_else(|| String::from("neither hex, base64 nor a binary GBCS message"))
            }
        }
    }
}

/// Reads a registry file: one credential a line, `tcos <entity ID> <key ID>` or
/// `ecos <entity ID> <key ID>` (16 hex digits each); `#` starts a comment.
///
/// # Errors
/// The line number and what is wrong with it.
pub fn parse_registry(text: &str) -> Result<CosRegistry, String> {
    let mut r = CosRegistry::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let [party, entity, key] = f.as_slice() else {
            return Err(alloc::format!(
                "line {}: expected `tcos|ecos ENTITY KEYID`",
                n + 1
            ));
        };
        let party = match party.to_ascii_lowercase().as_str() {
            "tcos" => CosParty::Tcos,
            "ecos" => CosParty::Ecos,
            _ => return Err(alloc::format!("line {}: party must be tcos or ecos", n + 1)),
        };
        let credential = Credential {
            entity_id: entity
                .parse()
                .map_err(|_| alloc::format!("line {}: bad entity ID", n + 1))?,
            key_id: key
                .parse()
                .map_err(|_| alloc::format!("line {}: bad key ID", n + 1))?,
        };
        r.add(party, credential);
    }
    Ok(r)
}

/// The header line of a ledger file.
pub const LEDGER_HEADER: &str =
    "supplier,migrations_completed,failed_attempts,ecos_installed,remaining_tcos,non_migratable";

/// Writes a ledger summary as CSV (header, then one line per supplier).
#[must_use]
pub fn write_ledger<'a>(
    summary: impl IntoIterator<Item = (&'a SecPartyId, &'a SupplierCounts)>,
) -> String {
    let mut out = String::from(LEDGER_HEADER);
    out.push('\n');
    for (s, c) in summary {
        let _ = writeln!(
            out,
            "{s},{},{},{},{},{}",
            c.migrations_completed,
            c.failed_attempts,
            c.ecos_installed,
            c.remaining_tcos,
            c.non_migratable
        );
    }
    out
}

/// Reads a ledger file written by [`write_ledger`].
///
/// # Errors
/// The line number and what is wrong with it.
pub fn parse_ledger(text: &str) -> Result<Vec<(SecPartyId, SupplierCounts)>, String> {
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(LEDGER_HEADER) {
        return Err(alloc::format!("line 1: expected `{LEDGER_HEADER}`"));
    }
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || alloc::format!("line {}: expected a supplier and five counts", n + 2);
        let f: Vec<&str> = line.split(',').collect();
        let [s, a, b, c, d, e] = f.as_slice() else {
            return Err(bad());
        };
        let num = |v: &str| v.trim().parse::<u64>().map_err(|_| bad());
        out.push((
            SecPartyId::new(s.trim()).map_err(|_| bad())?,
            SupplierCounts {
                migrations_completed: num(a)?,
                failed_attempts: num(b)?,
                ecos_installed: num(c)?,
                remaining_tcos: num(d)?,
                non_migratable: num(e)?,
            },
        ));
    }
    Ok(out)
}
