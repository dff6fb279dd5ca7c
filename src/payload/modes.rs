//! The CS02b/CS02g credentials-replacement modes as one table (`gbcs-cs02.md` B.3, B.4, C.1):
//! for each mode, the authorising cell `[2]`, the protection, the cells it may replace, and
//! which of `[0]`, `[4]`, `[5]`, `[6]` it may or must carry. `[1]` is allowed in every mode,
//! and `[3]` must equal the grouping header's originator counter in every mode.
//!
//! | mode | code | `[2]` | protection | may replace | `[0]` | `[4]` | `[5]` | `[6]` |
//! |---|---|---|---|---|---|---|---|---|
//! | 0 rootBySupplier | 0x0100 | supplier DS | sig + MAC | root | – | – | – | – |
//! | 1 rootByWanProvider | 0x0101 | wanProvider DS | sig + MAC | root | – | – | – | – |
//! | 2 supplierBySupplier | 0x0102 | supplier DS | sig + MAC | supplier DS, KA, KA top-up | – | may | may | – |
//! | 3 networkOperatorByNetworkOperator | 0x0103 | networkOperator DS | sig + MAC | NO DS, KA | – | may | – | – |
//! | 4 accessControlBrokerByACB | 0x0104 | absent | MAC only | ACB KA | – | may | – | – |
//! | 5 wanProviderByWanProvider | 0x0105 | wanProvider DS | sig + MAC | wanProvider DS | – | may | – | – |
//! | 6 transCoSByTransCoS | 0x0106 | transitionalCoS DS | sig + MAC | transitionalCoS DS | – | may | – | – |
//! | 7 supplierByTransCoS | 0x0107 | transitionalCoS DS | sig + MAC | supplier DS, KA, KA top-up | – | – | – | may |
//! | 8 anyExceptAbnormalRootByRecovery | 0x0108 | recovery DS | sig only | every cell but root | – | may | – | may |
//! | 9 anyByContingency | 0x0109 | root | sig only | every cell | **must** | may | – | may |
//! | 10 loadControllerByLoadController | 0x0125 | loadController DS | sig + MAC | loadController DS, KA | – | may | – | – |
//! | 11 loadControllerBySupplier | 0x0126 | supplier DS | sig + MAC | loadController DS, KA | – | – | – | may |
//!
//! **What is read and what is inferred.** Read from the reference data (every RTDS CS02b/CS02g
//! command satisfies the table; the suite checks it): the `[2]` cells, protections and
//! targets of modes 2, 3, 6, 7, 8, 10, 11, and the fields they carry. From the design notes
//! (C.1, the v0.8.1 informative table): mode 4 has no `[2]` and no signature; `[0]` is for
//! anyByContingency only. **Inferred** (no vector): everything about modes 0, 1, 4, 5 and 9
//! beyond that (mode 9's authorising cell is taken to be the root, whose contingency key
//! `[0]` unlocks); that `[4]` may be carried only where the mode can replace the authorising
//! role's own cells (it resets that role's floor); that `[5]` (the prepayment top-up floor)
//! belongs to supplierBySupplier alone; that `[6]` may be carried only where the mode
//! replaces another role's cells; that a root cell carries no counter floor; and that mode 8
//! may replace every cell but the root.

use core::fmt;

use crate::frame::MessageCode;
use crate::payload::common::{CellUsage, KeyUsage, RemotePartyRole, TrustAnchorCellIdentifier};
use crate::payload::cs02b::{CredentialsReplacementMode, UpdateSecurityCredentialsCommand};

/// How a mode's command is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protection {
    /// Signed by the `[2]` cell's key and MAC'd by the ACB.
    SignatureAndMac,
    /// MAC'd by the ACB only: signature byte `00`.
    MacOnly,
    /// Signed only: no MAC header.
    SignatureOnly,
}

impl Protection {
    /// Whether the command carries a signature.
    #[must_use]
    pub const fn signed(self) -> bool {
        !matches!(self, Self::MacOnly)
    }

    /// Whether the command carries the ACB's MAC.
    #[must_use]
    pub const fn macd(self) -> bool {
        !matches!(self, Self::SignatureOnly)
    }
}

/// Whether a mode may carry an optional field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldRule {
    /// It must.
    Required,
    /// It may.
    Allowed,
    /// It must not.
    Forbidden,
}

impl FieldRule {
    const fn admits(self, present: bool) -> bool {
        match self {
            Self::Required => present,
            Self::Allowed => true,
            Self::Forbidden => !present,
        }
    }
}

/// The cells a mode may replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Targets {
    /// These cells.
    Only(&'static [TrustAnchorCellIdentifier]),
    /// Every cell but the root's.
    AllButRoot,
    /// Every cell.
    All,
}

impl Targets {
    /// Whether `cell` is among them.
    #[must_use]
    pub fn contains(&self, cell: &TrustAnchorCellIdentifier) -> bool {
        match self {
            Self::Only(cells) => cells.contains(cell),
            Self::AllButRoot => cell.role != RemotePartyRole::ROOT,
            Self::All => true,
        }
    }
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeRule {
    /// The mode.
    pub mode: CredentialsReplacementMode,
    /// Its message code.
    pub message_code: MessageCode,
    /// `[2]`: `None` where it must be absent, else the cell it must name.
    pub authorising_cell: Option<TrustAnchorCellIdentifier>,
    /// The protection.
    pub protection: Protection,
    /// The cells it may replace.
    pub targets: Targets,
    /// `[0]` plainTextSymmetricKey.
    pub plain_text_key: FieldRule,
    /// `[4]` newRemotePartyFloorSeqNumber.
    pub floor: FieldRule,
    /// `[5]` newRemotePartySpecialistFloorSeqNumber.
    pub specialist_floor: FieldRule,
    /// `[6]` otherRemotePartySeqNumberChanges.
    pub other_floors: FieldRule,
    /// Whether the row rests on a reference-data vector (`false`: inferred throughout).
    pub seen_in_reference_data: bool,
}

const fn cell(role: RemotePartyRole, key_usage: KeyUsage) -> TrustAnchorCellIdentifier {
    TrustAnchorCellIdentifier::new(role, key_usage)
}

const DS: KeyUsage = KeyUsage::DIGITAL_SIGNATURE;
const KA: KeyUsage = KeyUsage::KEY_AGREEMENT;
const SUPPLIER_DS: TrustAnchorCellIdentifier = cell(RemotePartyRole::SUPPLIER, DS);
const SUPPLIER_KA: TrustAnchorCellIdentifier = cell(RemotePartyRole::SUPPLIER, KA);
const SUPPLIER_KA_TOP_UP: TrustAnchorCellIdentifier = TrustAnchorCellIdentifier {
    role: RemotePartyRole::SUPPLIER,
    key_usage: KA,
    cell_usage: CellUsage::PREPAYMENT_TOP_UP,
};
const NO_DS: TrustAnchorCellIdentifier = cell(RemotePartyRole::NETWORK_OPERATOR, DS);
const NO_KA: TrustAnchorCellIdentifier = cell(RemotePartyRole::NETWORK_OPERATOR, KA);
const WAN_DS: TrustAnchorCellIdentifier = cell(RemotePartyRole::WAN_PROVIDER, DS);
const RECOVERY_DS: TrustAnchorCellIdentifier = cell(RemotePartyRole::RECOVERY, DS);
const LOAD_CONTROLLER_DS: TrustAnchorCellIdentifier = cell(RemotePartyRole::LOAD_CONTROLLER, DS);
const LOAD_CONTROLLER_KA: TrustAnchorCellIdentifier = cell(RemotePartyRole::LOAD_CONTROLLER, KA);
/// The root cell {root, keyCertSign}.
pub const ROOT: TrustAnchorCellIdentifier = cell(RemotePartyRole::ROOT, KeyUsage::KEY_CERT_SIGN);

const SUPPLIER_CELLS: &[TrustAnchorCellIdentifier] =
    &[SUPPLIER_DS, SUPPLIER_KA, SUPPLIER_KA_TOP_UP];
const LOAD_CONTROLLER_CELLS: &[TrustAnchorCellIdentifier] =
    &[LOAD_CONTROLLER_DS, LOAD_CONTROLLER_KA];

use FieldRule::{Allowed, Forbidden, Required};

const fn row(
    mode: u8,
    code: u16,
    authorising_cell: Option<TrustAnchorCellIdentifier>,
    protection: Protection,
    targets: Targets,
    fields: [FieldRule; 4],
    seen: bool,
) -> ModeRule {
    let [plain_text_key, floor, specialist_floor, other_floors] = fields;
    ModeRule {
        mode: CredentialsReplacementMode(mode),
        message_code: MessageCode(code),
        authorising_cell,
        protection,
        targets,
        plain_text_key,
        floor,
        specialist_floor,
        other_floors,
        seen_in_reference_data: seen,
    }
}

/// The table, mode 0 to 11.
pub const MODE_RULES: [ModeRule; 12] = [
    row(
        0,
        0x0100,
        Some(SUPPLIER_DS),
        Protection::SignatureAndMac,
        Targets::Only(&[ROOT]),
        [Forbidden, Forbidden, Forbidden, Forbidden],
        false,
    ),
    row(
        1,
        0x0101,
        Some(WAN_DS),
        Protection::SignatureAndMac,
        Targets::Only(&[ROOT]),
        [Forbidden, Forbidden, Forbidden, Forbidden],
        false,
    ),
    row(
        2,
        0x0102,
        Some(SUPPLIER_DS),
        Protection::SignatureAndMac,
        Targets::Only(SUPPLIER_CELLS),
        [Forbidden, Allowed, Allowed, Forbidden],
        true,
    ),
    row(
        3,
        0x0103,
        Some(NO_DS),
        Protection::SignatureAndMac,
        Targets::Only(&[NO_DS, NO_KA]),
        [Forbidden, Allowed, Forbidden, Forbidden],
        true,
    ),
    row(
        4,
        0x0104,
        None,
        Protection::MacOnly,
        Targets::Only(&[TrustAnchorCellIdentifier::ACB_KA]),
        [Forbidden, Allowed, Forbidden, Forbidden],
        false,
    ),
    row(
        5,
        0x0105,
        Some(WAN_DS),
        Protection::SignatureAndMac,
        Targets::Only(&[WAN_DS]),
        [Forbidden, Allowed, Forbidden, Forbidden],
        false,
    ),
    row(
        6,
        0x0106,
        Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS),
        Protection::SignatureAndMac,
        Targets::Only(&[TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS]),
        [Forbidden, Allowed, Forbidden, Forbidden],
        true,
    ),
    row(
        7,
        0x0107,
        Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS),
        Protection::SignatureAndMac,
        Targets::Only(SUPPLIER_CELLS),
        [Forbidden, Forbidden, Forbidden, Allowed],
        true,
    ),
    row(
        8,
        0x0108,
        Some(RECOVERY_DS),
        Protection::SignatureOnly,
        Targets::AllButRoot,
        [Forbidden, Allowed, Forbidden, Allowed],
        true,
    ),
    row(
        9,
        0x0109,
        Some(ROOT),
        Protection::SignatureOnly,
        Targets::All,
        [Required, Allowed, Forbidden, Allowed],
        false,
    ),
    row(
        10,
        0x0125,
        Some(LOAD_CONTROLLER_DS),
        Protection::SignatureAndMac,
        Targets::Only(LOAD_CONTROLLER_CELLS),
        [Forbidden, Allowed, Forbidden, Forbidden],
        true,
    ),
    row(
        11,
        0x0126,
        Some(SUPPLIER_DS),
        Protection::SignatureAndMac,
        Targets::Only(LOAD_CONTROLLER_CELLS),
        [Forbidden, Forbidden, Forbidden, Allowed],
        true,
    ),
];

/// The row of `mode`, if the mode is known.
#[must_use]
pub fn rule(mode: CredentialsReplacementMode) -> Option<&'static ModeRule> {
    MODE_RULES.iter().find(|r| r.mode == mode)
}

/// The rule of the table a command breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModeViolation {
    /// A mode the table does not know.
    UnknownMode(CredentialsReplacementMode),
    /// The message code is not the mode's.
    WrongMessageCode {
        /// The mode's code.
        expected: MessageCode,
        /// The code found.
        found: MessageCode,
    },
    /// `[2]` is absent where the mode needs it, present where it must not be, or names
    /// another cell.
    AuthorisingCell {
        /// What the mode needs (`None`: absent).
        expected: Option<TrustAnchorCellIdentifier>,
        /// What the command carries.
        found: Option<TrustAnchorCellIdentifier>,
    },
    /// A replacement aimed at a cell the mode may not replace.
    Target(TrustAnchorCellIdentifier),
    /// `[0]` missing where required or present where forbidden.
    PlainTextKey,
    /// `[4]` where the mode forbids it.
    Floor,
    /// `[5]` where the mode forbids it.
    SpecialistFloor,
    /// `[6]` where the mode forbids it.
    OtherFloors,
    /// `[3]` differs from the grouping header's originator counter.
    SeqNumber {
        /// The grouping header's counter.
        counter: u64,
        /// `[3]`.
        found: u64,
    },
    /// A signature where the mode has none, or none where it needs one.
    Signature,
    /// A MAC where the mode has none, or none where it needs one.
    Mac,
    /// A message code of CS02b/CS02g carrying something other than a CS02b command.
    NotACs02bPayload,
}

impl fmt::Display for ModeViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownMode(m) => write!(f, "mode {m} is not in the CS02b mode table"),
            Self::WrongMessageCode { expected, found } => {
                write!(f, "message code {found} is not the mode's ({expected})")
            }
            Self::AuthorisingCell { expected, found } => write!(
                f,
                "[2] authorising cell: the mode needs {expected:?}, the command carries {found:?}"
            ),
            Self::Target(c) => write!(f, "the mode may not replace cell {c:?}"),
            Self::PlainTextKey => f.write_str(
                "[0] plainTextSymmetricKey: required for anyByContingency and only there",
            ),
            Self::Floor => f.write_str(
                "[4] is carried only where the mode replaces the authorising role's own cells",
            ),
            Self::SpecialistFloor => {
                f.write_str("[5] (prepayment top-up floor) is carried only by supplierBySupplier")
            }
            Self::OtherFloors => {
                f.write_str("[6] is carried only where the mode replaces another role's cells")
            }
            Self::SeqNumber { counter, found } => write!(
                f,
                "[3] = {found} differs from the grouping header's originator counter {counter}"
            ),
            Self::Signature => {
                f.write_str("the mode's protection says otherwise about the signature")
            }
            Self::Mac => f.write_str("the mode's protection says otherwise about the MAC"),
            Self::NotACs02bPayload => {
                f.write_str("a CS02b/CS02g message code with another payload")
            }
        }
    }
}

impl core::error::Error for ModeViolation {}

impl ModeRule {
    /// Checks a command's payload against the row: `[2]`, the targets, `[0]`, `[4]`, `[5]`,
    /// `[6]`, and `[3]` against the grouping header's originator `counter`.
    ///
    /// # Errors
    /// The first [`ModeViolation`] found.
    pub fn check(
        &self,
        command: &UpdateSecurityCredentialsCommand<'_>,
        counter: u64,
    ) -> Result<(), ModeViolation> {
        let c = &command.control;
        if c.mode != self.mode {
            return Err(ModeViolation::UnknownMode(c.mode));
        }
        if c.authorising_cell != self.authorising_cell {
            return Err(ModeViolation::AuthorisingCell {
                expected: self.authorising_cell,
                found: c.authorising_cell,
            });
        }
        if !self
            .plain_text_key
            .admits(c.plain_text_symmetric_key.is_some())
        {
            return Err(ModeViolation::PlainTextKey);
        }
        if !self.floor.admits(c.new_floor_seq_number.is_some()) {
            return Err(ModeViolation::Floor);
        }
        if !self
            .specialist_floor
            .admits(c.new_specialist_floor_seq_numbers.is_some())
        {
            return Err(ModeViolation::SpecialistFloor);
        }
        if !self
            .other_floors
            .admits(c.other_seq_number_changes.is_some())
        {
            return Err(ModeViolation::OtherFloors);
        }
        for r in command.replacements.iter() {
            if !self.targets.contains(&r.target_cell) {
                return Err(ModeViolation::Target(r.target_cell));
            }
        }
        if c.authorising_seq_number != counter {
            return Err(ModeViolation::SeqNumber {
                counter,
                found: c.authorising_seq_number,
            });
        }
        Ok(())
    }

    /// Checks a whole command's protection: whether it is signed, and whether it is MAC'd.
    ///
    /// # Errors
    /// [`ModeViolation::Signature`] or [`ModeViolation::Mac`].
    pub const fn check_protection(&self, signed: bool, macd: bool) -> Result<(), ModeViolation> {
        if signed != self.protection.signed() {
            return Err(ModeViolation::Signature);
        }
        if macd != self.protection.macd() {
            return Err(ModeViolation::Mac);
        }
        Ok(())
    }
}

/// Checks `command`, carried under `code` with grouping-header originator `counter`, against
/// its mode's row.
///
/// # Errors
/// [`ModeViolation`] naming the rule.
pub fn check(
    code: MessageCode,
    command: &UpdateSecurityCredentialsCommand<'_>,
    counter: u64,
) -> Result<(), ModeViolation> {
    let mode = command.control.mode;
    let r = rule(mode).ok_or(ModeViolation::UnknownMode(mode))?;
    if r.message_code != code {
        return Err(ModeViolation::WrongMessageCode {
            expected: r.message_code,
            found: code,
        });
    }
    r.check(command, counter)
}
