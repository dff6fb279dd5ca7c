//! The CS02b/CS02g mode rules as `../shared/design/gbcs-cs02.md` states them, written here from
//! that text for the tests — never read from the library's `payload::modes::MODE_RULES` — so
//! the library's table and its builder are held to an independent statement of the rules.
//! Each row says where its facts come from.
#![allow(dead_code)]

use gbcs::payload::{
    CellUsage, KeyUsage, RemotePartyRole, TrustAnchorCellIdentifier,
    UpdateSecurityCredentialsCommand,
};

/// Whether a field may, must or must not be there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Forbidden,
    Allowed,
    Required,
}

/// The cells a mode may replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cells {
    Only(&'static [TrustAnchorCellIdentifier]),
    AllButRoot,
    All,
}

impl Cells {
    pub fn contains(&self, c: &TrustAnchorCellIdentifier) -> bool {
        match self {
            Self::Only(cells) => cells.contains(c),
            // "the root": the root role's cells, whatever their key usage.
            Self::AllButRoot => c.role != RemotePartyRole::ROOT,
            Self::All => true,
        }
    }
}

/// One mode as the text states it.
#[derive(Clone, Copy, Debug)]
pub struct TextRule {
    pub mode: u8,
    /// Message code (B.4).
    pub code: u16,
    /// `[2]` (C.1; "present in every mode except the ACB replacing its own credentials").
    pub authorising: Option<TrustAnchorCellIdentifier>,
    /// Signed by the KRP (A.7, C.1's protection column).
    pub signed: bool,
    /// MAC'd by the ACB.
    pub macd: bool,
    /// The cells it replaces (C.1's "cells replaced", the mode's name).
    pub targets: Cells,
    /// `[0]` plainTextSymmetricKey: "required for, and only for, anyByContingency" (C.1).
    pub key: Field,
    /// `[4]`, `[5]`, `[6]`, as C.1's sequence-number column uses them.
    pub floor: Field,
    pub specialist: Field,
    pub others: Field,
    /// Where the row comes from.
    pub source: &'static str,
}

const fn cell(role: u8, usage: KeyUsage) -> TrustAnchorCellIdentifier {
    TrustAnchorCellIdentifier {
        role: RemotePartyRole(role),
        key_usage: usage,
        cell_usage: CellUsage::MANAGEMENT,
    }
}
const DS: KeyUsage = KeyUsage::DIGITAL_SIGNATURE;
const KA: KeyUsage = KeyUsage::KEY_AGREEMENT;
pub const ROOT: TrustAnchorCellIdentifier = cell(0, KeyUsage::KEY_CERT_SIGN);
const SUPPLIER: &[TrustAnchorCellIdentifier] = &[
    cell(2, DS),
    cell(2, KA),
    TrustAnchorCellIdentifier {
        role: RemotePartyRole(2),
        key_usage: KA,
        cell_usage: CellUsage::PREPAYMENT_TOP_UP,
    },
];
const LOAD_CONTROLLER: &[TrustAnchorCellIdentifier] = &[cell(8, DS), cell(8, KA)];

use Field::{Allowed, Forbidden, Required};

/// Every mode, 0 to 11.
pub const TEXT: [TextRule; 12] = [
    TextRule {
        mode: 0,
        code: 0x0100,
        authorising: Some(cell(2, DS)),
        signed: true,
        macd: true,
        targets: Cells::Only(&[ROOT]),
        key: Forbidden,
        floor: Forbidden,
        specialist: Forbidden,
        others: Forbidden,
        source: "B.4 rootBySupplier 0x0100 (no vector): the supplier authorises, the root is replaced; KRP signs, ACB MACs (A.7)",
    },
    TextRule {
        mode: 1,
        code: 0x0101,
        authorising: Some(cell(6, DS)),
        signed: true,
        macd: true,
        targets: Cells::Only(&[ROOT]),
        key: Forbidden,
        floor: Forbidden,
        specialist: Forbidden,
        others: Forbidden,
        source: "B.4 rootByWanProvider 0x0101 (no vector): the WAN provider authorises, the root is replaced (A.7)",
    },
    TextRule {
        mode: 2,
        code: 0x0102,
        authorising: Some(cell(2, DS)),
        signed: true,
        macd: true,
        targets: Cells::Only(SUPPLIER),
        key: Forbidden,
        floor: Allowed,
        specialist: Allowed,
        others: Forbidden,
        source: "C.1 supplierBySupplier: {supplier, DS}, sig + ACB MAC, supplier DS/KA/KA top-up, [4] and [5]",
    },
    TextRule {
        mode: 3,
        code: 0x0103,
        authorising: Some(cell(3, DS)),
        signed: true,
        macd: true,
        targets: Cells::Only(&[cell(3, DS), cell(3, KA)]),
        key: Forbidden,
        floor: Allowed,
        specialist: Forbidden,
        others: Forbidden,
        source: "C.1 networkOperatorByNetworkOperator: {NO, DS}, sig + MAC, NO DS/KA, [4]",
    },
    TextRule {
        mode: 4,
        code: 0x0104,
        authorising: None,
        signed: false,
        macd: true,
        targets: Cells::Only(&[cell(4, KA)]),
        key: Forbidden,
        floor: Allowed,
        specialist: Forbidden,
        others: Forbidden,
        source: "C.1 accessControlBrokerByACB: [2] absent, MAC only (signature length 00), ACB KA, [4]",
    },
    TextRule {
        mode: 5,
        code: 0x0105,
        authorising: Some(cell(6, DS)),
        signed: true,
        macd: true,
        targets: Cells::Only(&[cell(6, DS)]),
        key: Forbidden,
        floor: Allowed,
        specialist: Forbidden,
        others: Forbidden,
        source: "C.1 wanProviderByWanProvider: {wanProvider, DS}, sig + MAC, wanProvider DS, [4]",
    },
    TextRule {
        mode: 6,
        code: 0x0106,
        authorising: Some(cell(5, DS)),
        signed: true,
        macd: true,
        targets: Cells::Only(&[cell(5, DS)]),
        key: Forbidden,
        floor: Allowed,
        specialist: Forbidden,
        others: Forbidden,
        source: "C.1 transCoSByTransCoS: {transitionalCoS, DS}, sig + MAC, transitionalCoS DS; [4] resets the authorising role's floor",
    },
    TextRule {
        mode: 7,
        code: 0x0107,
        authorising: Some(cell(5, DS)),
        signed: true,
        macd: true,
        targets: Cells::Only(SUPPLIER),
        key: Forbidden,
        floor: Forbidden,
        specialist: Forbidden,
        others: Allowed,
        source: "C.1 supplierByTransCoS (6.23): {transitionalCoS, DS}, sig + MAC, supplier cells, [6] for the supplier",
    },
    TextRule {
        mode: 8,
        code: 0x0108,
        authorising: Some(cell(1, DS)),
        signed: true,
        macd: false,
        targets: Cells::AllButRoot,
        key: Forbidden,
        floor: Allowed,
        specialist: Forbidden,
        others: Allowed,
        source: "C.1 anyExceptAbnormalRootByRecovery: {recovery, DS}, sig only, every cell but the root, [4] and [6]",
    },
    TextRule {
        mode: 9,
        code: 0x0109,
        authorising: Some(ROOT),
        signed: true,
        macd: false,
        targets: Cells::All,
        key: Required,
        floor: Allowed,
        specialist: Forbidden,
        others: Allowed,
        source: "C.1 anyByContingency (no command vector): the root authorises, sig only, the root and all others, [0] required",
    },
    TextRule {
        mode: 10,
        code: 0x0125,
        authorising: Some(cell(8, DS)),
        signed: true,
        macd: true,
        targets: Cells::Only(LOAD_CONTROLLER),
        key: Forbidden,
        floor: Allowed,
        specialist: Forbidden,
        others: Forbidden,
        source: "B.4 CS02g loadControllerByLoadController 0x0125: the load controller's own cells",
    },
    TextRule {
        mode: 11,
        code: 0x0126,
        authorising: Some(cell(2, DS)),
        signed: true,
        macd: true,
        targets: Cells::Only(LOAD_CONTROLLER),
        key: Forbidden,
        floor: Forbidden,
        specialist: Forbidden,
        others: Allowed,
        source: "B.4 CS02g loadControllerBySupplier 0x0126: the supplier replaces the load controller's cells, [6] its floor",
    },
];

/// The text's row for `mode`.
pub fn text_rule(mode: u8) -> Option<&'static TextRule> {
    TEXT.iter().find(|r| r.mode == mode)
}

fn admits(f: Field, present: bool) -> bool {
    match f {
        Forbidden => !present,
        Allowed => true,
        Required => present,
    }
}

/// Whether the text allows `cmd` under message code `code` with originator counter `counter`
/// (the fields, `[2]`, `[3]` and the targets; protection is judged apart).
pub fn text_allows(code: u16, cmd: &UpdateSecurityCredentialsCommand<'_>, counter: u64) -> bool {
    let c = &cmd.control;
    let Some(r) = text_rule(c.mode.0) else {
        return false;
    };
    r.code == code
        && c.authorising_cell == r.authorising
        // [3] is the anti-replay counter: it equals the grouping header's (C.1).
        && c.authorising_seq_number == counter
        && admits(r.key, c.plain_text_symmetric_key.is_some())
        && admits(r.floor, c.new_floor_seq_number.is_some())
        && admits(r.specialist, c.new_specialist_floor_seq_numbers.is_some())
        && admits(r.others, c.other_seq_number_changes.is_some())
        && cmd
            .replacements
            .iter()
            .all(|t| r.targets.contains(&t.target_cell))
}
