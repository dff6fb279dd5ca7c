//! Deciding from a meter's security credentials whether it holds TCoS or ECoS credentials
//! (`ecos.md` §2). The meter's state is what its {transitionalCoS, digitalSignature,
//! management} cell holds.
//!
//! | match against the registry | result |
//! |---|---|
//! | (entity, key) in TCoS | `Tcos` |
//! | (entity, key) in ECoS | `Ecos` |
//! | key unknown, entity only TCoS | `Tcos`, entity-only |
//! | key unknown, entity only ECoS | `Ecos`, entity-only |
//! | in both, or entity shared and key unknown | `Unknown(Ambiguous)` |
//! | nothing matches | `Unknown(Unrecognised)` |
//! | role 5 absent / status not success | `Unknown(NoCell)` with the status |

use crate::cos::registry::{CosParty, CosRegistry, Credential};
use crate::frame::{CraFlag, EntityId, MessageCode};
use crate::message::Message;
use crate::payload::{
    CredentialsReplacementMode, ExecutionOutcome, Payload, RemotePartyRole, StatusCode,
    TrustAnchorCellIdentifier,
};

/// What the meter holds in its role-5 cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum CosState {
    /// TCoS credentials.
    Tcos,
    /// ECoS credentials.
    Ecos,
    /// Not known, and why.
    Unknown(UnknownReason),
}

impl CosState {
    /// Whether the state is known (TCoS or ECoS).
    #[must_use]
    pub const fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }
}

/// Why a meter's state is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum UnknownReason {
    /// The evidence has no usable role-5 DS cell: not reported, or reported with this status.
    NoCell {
        /// The status the meter returned for role 5, if any.
        status: Option<StatusCode>,
    },
    /// The credential matches both parties, or its entity belongs to both and the key to none.
    Ambiguous,
    /// The credential matches neither party.
    Unrecognised,
    /// Nothing is known about the meter.
    NoEvidence,
}

/// How the credential matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// Entity ID and key ID both registered.
    Key,
    /// Only the entity ID is registered (a key not yet in the registry).
    EntityOnly,
}

/// Where the evidence came from, most direct first (a ranking of reliability; which of two
/// pieces of evidence stands is decided by [`Classification::supersedes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum EvidenceSource {
    /// A CS02a (or CS02f) response: a reading of the device itself.
    CredentialDetailsResponse,
    /// A CS02b response or 0x00CB alert whose outcome names cell {5, DS}.
    UpdateOutcome,
    /// A signed 0x0106/0x0107 the device accepted: its signer was in the cell.
    AcceptedCommand,
    /// An inventory record: a hint, overridden by any device reading.
    Inventory,
}

/// The evidence behind a classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Evidence {
    /// Its source.
    pub source: EvidenceSource,
    /// The device.
    pub device: EntityId,
    /// The message counter it came with (grouping header), if any.
    pub counter: Option<u64>,
    /// The credential found in the cell, if any.
    pub credential: Option<Credential>,
    /// The status the device reported, if any.
    pub status: Option<StatusCode>,
}

/// A classification with its evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Classification {
    /// TCoS, ECoS or unknown.
    pub state: CosState,
    /// How the credential matched (for a known state).
    pub matched: Option<MatchKind>,
    /// Why.
    pub evidence: Evidence,
}

impl Classification {
    /// Whether `self`, which arrived after `current`, should replace it as what is known of
    /// the device.
    ///
    /// - Evidence that says nothing about the role-5 cell (no credential, no status: a CS02b
    ///   outcome that does not name {5, DS}, a CS02a response without role 5) never does.
    /// - A device reading always replaces an inventory hint, and never yields to one.
    /// - Between device readings the later one wins: the cell changes (a migration outcome
    ///   after a CS02a reading is the newer truth), except that two CS02a readings share the
    ///   ACB's counter sequence, so one with a lower counter is a delayed message and does not
    ///   replace a higher one.
    #[must_use]
    pub fn supersedes(&self, current: &Self) -> bool {
        let (new, old) = (&self.evidence, &current.evidence);
        let inventory = EvidenceSource::Inventory;
        if new.source != inventory && new.credential.is_none() && new.status.is_none() {
            return false;
        }
        match (new.source == inventory, old.source == inventory) {
            (true, false) => false,
            (false, true) => true,
            _ => match (new.source, old.source, new.counter, old.counter) {
                (
                    EvidenceSource::CredentialDetailsResponse,
                    EvidenceSource::CredentialDetailsResponse,
                    Some(a),
                    Some(b),
                ) => a >= b,
                _ => true,
            },
        }
    }
}

/// Classifies a credential found in the role-5 cell.
#[must_use]
pub fn classify_credential(
    registry: &CosRegistry,
    credential: Credential,
) -> (CosState, Option<MatchKind>) {
    let (t, e) = (
        registry.holds(CosParty::Tcos, &credential),
        registry.holds(CosParty::Ecos, &credential),
    );
    match (t, e) {
        (true, false) => (CosState::Tcos, Some(MatchKind::Key)),
        (false, true) => (CosState::Ecos, Some(MatchKind::Key)),
        (true, true) => (CosState::Unknown(UnknownReason::Ambiguous), None),
        (false, false) => {
            let (te, ee) = (
                registry.entity_in(CosParty::Tcos, credential.entity_id),
                registry.entity_in(CosParty::Ecos, credential.entity_id),
            );
            match (te, ee) {
                (true, false) => (CosState::Tcos, Some(MatchKind::EntityOnly)),
                (false, true) => (CosState::Ecos, Some(MatchKind::EntityOnly)),
                (true, true) => (CosState::Unknown(UnknownReason::Ambiguous), None),
                (false, false) => (CosState::Unknown(UnknownReason::Unrecognised), None),
            }
        }
    }
}

fn from_credential(registry: &CosRegistry, evidence: Evidence) -> Classification {
    match evidence.credential {
        Some(c) => {
            let (state, matched) = classify_credential(registry, c);
            Classification {
                state,
                matched,
                evidence,
            }
        }
        None => Classification {
            state: CosState::Unknown(UnknownReason::NoCell {
                status: evidence.status,
            }),
            matched: None,
            evidence,
        },
    }
}

impl core::fmt::Display for CosState {
    /// `TCoS`, `ECoS`, or `unknown (why)`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Tcos => f.write_str("TCoS"),
            Self::Ecos => f.write_str("ECoS"),
            Self::Unknown(why) => write!(f, "unknown ({why})"),
        }
    }
}

impl core::fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoCell { status: None } => {
                f.write_str("the evidence does not report the role-5 cell")
            }
            Self::NoCell { status: Some(s) } => {
                write!(f, "the meter reported the role-5 cell with status {s}")
            }
            Self::Ambiguous => {
                f.write_str("the credential matches both the TCoS and the ECoS party")
            }
            Self::Unrecognised => {
                f.write_str("the credential matches neither the TCoS nor the ECoS party")
            }
            Self::NoEvidence => f.write_str("nothing is known of the meter"),
        }
    }
}

impl core::fmt::Display for MatchKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Key => "entity ID and key ID (both registered)",
            Self::EntityOnly => "entity ID only (this key ID is not in the registry)",
        })
    }
}

impl core::fmt::Display for EvidenceSource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::CredentialDetailsResponse => "a CS02a/CS02f response (a reading of the meter)",
            Self::UpdateOutcome => "a CS02b response or alert naming the role-5 cell",
            Self::AcceptedCommand => "a 0x0106/0x0107 command the meter accepted",
            Self::Inventory => "an inventory record",
        })
    }
}

impl core::fmt::Display for NotEvidence {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::WrongMessage => "not a CS02a/CS02f response, CS02b response or alert",
            Self::NoOutcome => "a CS02b response without an outcome (a future-dated acceptance)",
            Self::NotAccepted => {
                "the command and response do not belong together, or the response reports a failure"
            }
        })
    }
}

/// Why a message is not evidence at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotEvidence {
    /// Not a CS02a response, CS02b response or alert.
    WrongMessage,
    /// A CS02b response without an outcome (future-dated acceptance).
    NoOutcome,
    /// The command and response do not belong together, or the response reports a failure.
    NotAccepted,
}

/// Classifies a meter from a CS02a/CS02f response (whose signature or MAC the caller has
/// verified): its role-5 details, the DS management cell.
///
/// # Errors
/// [`NotEvidence::WrongMessage`] for any other message.
pub fn from_credential_details(
    registry: &CosRegistry,
    response: &Message<'_>,
) -> Result<Classification, NotEvidence> {
    let Payload::CredentialDetailsResponse(r) = response.payload() else {
        return Err(NotEvidence::WrongMessage);
    };
    let h = response.header();
    let mut evidence = Evidence {
        source: EvidenceSource::CredentialDetailsResponse,
        device: h.originator,
        counter: Some(h.originator_counter),
        credential: None,
        status: None,
    };
    if let Some(d) = r.role(RemotePartyRole::TRANSITIONAL_COS) {
        evidence.status = Some(d.status);
        if d.status.is_success() {
            let cell = TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS;
            evidence.credential = d
                .cells
                .iter()
                .flat_map(|cells| cells.iter())
                .find(|c| c.key_usage == cell.key_usage && c.cell_usage == cell.cell_usage)
                .map(|c| Credential {
                    entity_id: c.subject_unique_id,
                    key_id: c.subject_key_identifier,
                });
        }
    }
    Ok(from_credential(registry, evidence))
}

/// The role-5 DS credential after an outcome: the replacing IDs on success, the existing ones
/// otherwise; `None` when the outcome does not name the cell.
#[must_use]
pub fn cell_after(outcome: &ExecutionOutcome<'_>) -> Option<(Credential, StatusCode)> {
    outcome
        .outcome_for(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
        .map(|o| {
            let credential = if o.status.is_success() {
                Credential {
                    entity_id: o.replacing_subject_unique_id,
                    key_id: o.replacing_subject_key_identifier,
                }
            } else {
                Credential {
                    entity_id: o.existing_subject_unique_id,
                    key_id: o.existing_subject_key_identifier,
                }
            };
            (credential, o.status)
        })
}

/// Classifies a meter from a CS02b response or 0x00CB alert (verified by the caller) whose
/// outcome affects cell {5, DS}.
///
/// # Errors
/// [`NotEvidence::WrongMessage`], or [`NotEvidence::NoOutcome`] for a future-dated
/// acceptance.
pub fn from_update_outcome(
    registry: &CosRegistry,
    message: &Message<'_>,
) -> Result<Classification, NotEvidence> {
    let outcome = match message.payload() {
        Payload::UpdateSecurityCredentialsResponse(r) => {
            r.execution_outcome.ok_or(NotEvidence::NoOutcome)?
        }
        Payload::UpdateSecurityCredentialsAlert(a) => a.execution_outcome,
        _ => return Err(NotEvidence::WrongMessage),
    };
    let h = message.header();
    let after = cell_after(&outcome);
    Ok(from_credential(
        registry,
        Evidence {
            source: EvidenceSource::UpdateOutcome,
            device: h.originator,
            counter: Some(outcome.authorising_seq_number),
            credential: after.map(|(c, _)| c),
            status: after.map(|(_, s)| s),
        },
    ))
}

/// Classifies a meter from a 0x0106/0x0107 command it accepted: `command` authorised by
/// {5, DS}, and `response` its immediate success response (device signature verified by the
/// caller). `signer_key` is the key identifier of the credential whose key verified the
/// command's signature; without it only the entity can match.
///
/// # Errors
/// [`NotEvidence`] when the pair is not an accepted CoS command.
pub fn from_accepted_command(
    registry: &CosRegistry,
    command: &Message<'_>,
    response: &Message<'_>,
    signer_key: Option<crate::payload::KeyId>,
) -> Result<Classification, NotEvidence> {
    let Payload::UpdateSecurityCredentialsCommand(c) = command.payload() else {
        return Err(NotEvidence::WrongMessage);
    };
    let Payload::UpdateSecurityCredentialsResponse(r) = response.payload() else {
        return Err(NotEvidence::WrongMessage);
    };
    let (ch, rh) = (command.header(), response.header());
    let cos_mode = matches!(
        c.control.mode,
        CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS
            | CredentialsReplacementMode::SUPPLIER_BY_TRANS_COS
    );
    let paired = ch.cra_flag == CraFlag::COMMAND
        && rh.cra_flag == CraFlag::RESPONSE
        && rh.originator_counter == ch.originator_counter
        && rh.originator == ch.recipient
        && rh.recipient == ch.originator
        && rh.message_code() == ch.message_code()
        && matches!(
            ch.message_code(),
            MessageCode::CS02B_TRANS_COS_BY_TRANS_COS | MessageCode::CS02B_SUPPLIER_BY_TRANS_COS
        );
    let accepted = r.execution_outcome.is_some_and(|o| {
        o.authorising_seq_number == c.control.authorising_seq_number
            && o.replacement_outcomes.iter().all(|x| x.status.is_success())
    });
    if !cos_mode
        || !paired
        || c.control.authorising_cell != Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
        || !accepted
    {
        return Err(NotEvidence::NotAccepted);
    }
    let credential = match signer_key {
        Some(key_id) => Credential {
            entity_id: ch.originator,
            key_id,
        },
        None => {
            // Entity only: classify by entity membership alone.
            let te = registry.entity_in(CosParty::Tcos, ch.originator);
            let ee = registry.entity_in(CosParty::Ecos, ch.originator);
            let state = match (te, ee) {
                (true, false) => CosState::Tcos,
                (false, true) => CosState::Ecos,
                (true, true) => CosState::Unknown(UnknownReason::Ambiguous),
                (false, false) => CosState::Unknown(UnknownReason::Unrecognised),
            };
            return Ok(Classification {
                state,
                matched: state.is_known().then_some(MatchKind::EntityOnly),
                evidence: Evidence {
                    source: EvidenceSource::AcceptedCommand,
                    device: ch.recipient,
                    counter: Some(ch.originator_counter),
                    credential: None,
                    status: Some(StatusCode::SUCCESS),
                },
            });
        }
    };
    Ok(from_credential(
        registry,
        Evidence {
            source: EvidenceSource::AcceptedCommand,
            device: ch.recipient,
            counter: Some(ch.originator_counter),
            credential: Some(credential),
            status: Some(StatusCode::SUCCESS),
        },
    ))
}

/// An inventory hint (the Smart Metering Inventory says TCoS or ECoS).
#[must_use]
pub const fn from_inventory(device: EntityId, party: CosParty) -> Classification {
    Classification {
        state: match party {
            CosParty::Tcos => CosState::Tcos,
            CosParty::Ecos => CosState::Ecos,
        },
        matched: None,
        evidence: Evidence {
            source: EvidenceSource::Inventory,
            device,
            counter: None,
            credential: None,
            status: None,
        },
    }
}
