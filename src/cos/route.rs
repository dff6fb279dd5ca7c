//! Routing SRV 6.23 along the ETMAD split (`ecos.md` §3). The device receives CS02b mode 7
//! (0x0107) authorised by its {5, DS} cell either way, so the party whose credential is in
//! that cell must sign it. The router returns a [`Route`] and never signs.
//!
//! | device state | route |
//! |---|---|
//! | `Tcos` | TCoS path, signed with the TCoS credential in the cell |
//! | `Ecos` | ECoS path, signed with the ECoS credential in the cell |
//! | `Unknown`, no device reading yet | *query first*: a CS02a for role 5 from the ACB |
//! | `Unknown` after a CS02a reading | refuse: the reading did not resolve it (our decision) |
//! | `Tcos`, TCoS signing withdrawn and keys not transferred | refuse: stranded TCoS device |
//! | PPMID, IHD, CAD, HCALCS | refuse: not a CoS target (our decision) |

use core::fmt;

use crate::cos::classify::{Classification, CosState, EvidenceSource, UnknownReason};
use crate::cos::registry::{CosParty, Credential};
use crate::frame::EntityId;

/// A smart metering device type (the inventory's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "UPPERCASE"))]
pub enum DeviceType {
    /// Electricity smart meter.
    Esme,
    /// Gas smart meter.
    Gsme,
    /// Communications hub function.
    Chf,
    /// Gas proxy function.
    Gpf,
    /// Prepayment interface device.
    Ppmid,
    /// In-home display.
    Ihd,
    /// Consumer access device.
    Cad,
    /// HAN-connected auxiliary load control switch.
    Hcalcs,
}

impl DeviceType {
    /// Every device type.
    pub const ALL: [Self; 8] = [
        Self::Esme,
        Self::Gsme,
        Self::Chf,
        Self::Gpf,
        Self::Ppmid,
        Self::Ihd,
        Self::Cad,
        Self::Hcalcs,
    ];

    /// Its name as DUIS 5.4's `DeviceType` enumerates it (`ESME`, `GSME`, `CHF`, `GPF`,
    /// `PPMID`, `IHD`, `CAD`, `HCALCS`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Esme => "ESME",
            Self::Gsme => "GSME",
            Self::Chf => "CHF",
            Self::Gpf => "GPF",
            Self::Ppmid => "PPMID",
            Self::Ihd => "IHD",
            Self::Cad => "CAD",
            Self::Hcalcs => "HCALCS",
        }
    }

    /// The type named `name` ([`Self::name`], exactly).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether the device has a {transitionalCoS, DS} trust anchor cell.
    #[must_use]
    pub const fn has_cos_cell(self) -> bool {
        matches!(self, Self::Esme | Self::Gsme | Self::Chf | Self::Gpf)
    }

    /// Whether DCC, not the supplier, is responsible for the device's faults (communications
    /// hubs: CHF and GPF; EMEHRA 6.1.2, 6.2).
    #[must_use]
    pub const fn is_communications_hub(self) -> bool {
        matches!(self, Self::Chf | Self::Gpf)
    }
}

/// Who may sign for TCoS meters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct RoutePolicy {
    /// Whether the TCoS party still signs.
    pub tcos_signing_available: bool,
    /// Who holds the TCoS keys: the TCoS party, or the ECoS party after a transfer.
    pub tcos_keys_held_by: CosParty,
}

impl Default for RoutePolicy {
    fn default() -> Self {
        Self {
            tcos_signing_available: true,
            tcos_keys_held_by: CosParty::Tcos,
        }
    }
}

/// Why SRV 6.23 is refused for a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The device has no role-5 cell.
    NotCosTarget(DeviceType),
    /// A TCoS device, TCoS signing withdrawn, keys not transferred.
    StrandedTcos,
    /// A device reading left the state unknown.
    Unresolved(UnknownReason),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotCosTarget(t) => write!(
                f,
                "{t:?} has no transitionalCoS cell: not a change-of-supplier target"
            ),
            Self::StrandedTcos => {
                f.write_str("stranded TCoS device: TCoS signing withdrawn and keys not transferred")
            }
            Self::Unresolved(r) => {
                write!(f, "the device's credentials could not be resolved: {r:?}")
            }
        }
    }
}

/// Where SRV 6.23 goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Sign with the TCoS credential in the cell (`None`: known only from the inventory,
    /// any current TCoS credential), by whoever holds the TCoS keys.
    Tcos {
        /// The credential in the cell.
        credential: Option<Credential>,
        /// Who signs with it.
        signed_by: CosParty,
    },
    /// Sign with the ECoS credential in the cell.
    Ecos {
        /// The credential in the cell.
        credential: Option<Credential>,
    },
    /// Ask the device first: a CS02a for role 5 from the ACB, then route on its answer.
    QueryFirst {
        /// The device to ask.
        device: EntityId,
    },
    /// Do not send.
    Refused(Refusal),
}

impl Route {
    /// The party whose credential is in the cell, for a signing route.
    #[must_use]
    pub const fn cell_party(&self) -> Option<CosParty> {
        match self {
            Self::Tcos { .. } => Some(CosParty::Tcos),
            Self::Ecos { .. } => Some(CosParty::Ecos),
            _ => None,
        }
    }

    /// The credential that must sign, when known.
    #[must_use]
    pub const fn credential(&self) -> Option<Credential> {
        match self {
            Self::Tcos { credential, .. } | Self::Ecos { credential } => *credential,
            _ => None,
        }
    }
}

/// Routes SRV 6.23 for `device` of `device_type`, from what is known of it.
#[must_use]
pub fn route(
    device: EntityId,
    device_type: DeviceType,
    known: Option<&Classification>,
    policy: &RoutePolicy,
) -> Route {
    if !device_type.has_cos_cell() {
        return Route::Refused(Refusal::NotCosTarget(device_type));
    }
    let Some(c) = known else {
        return Route::QueryFirst { device };
    };
    match c.state {
        CosState::Tcos => {
            if !policy.tcos_signing_available && policy.tcos_keys_held_by == CosParty::Tcos {
                Route::Refused(Refusal::StrandedTcos)
            } else {
                Route::Tcos {
                    credential: c.evidence.credential,
                    signed_by: policy.tcos_keys_held_by,
                }
            }
        }
        CosState::Ecos => Route::Ecos {
            credential: c.evidence.credential,
        },
        CosState::Unknown(reason)
            if c.evidence.source == EvidenceSource::CredentialDetailsResponse =>
        {
            Route::Refused(Refusal::Unresolved(reason))
        }
        CosState::Unknown(_) => Route::QueryFirst { device },
    }
}
