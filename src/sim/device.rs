//! A GBCS device in memory that processes CS02a and CS02b commands the way a meter does
//! (`gbcs-cs02.md` C): MAC check with the ACB key, signature check against the authorising
//! cell, anti-replay, certification path validation of each replacement, replacement, floors,
//! the execution outcome; future-dated commands held until the clock passes them, then the
//! 0x00CB alert; `99991231235959Z` cancels. Responses and alerts are signed with the device DS
//! key and, like the RTDS devices, encode payload lengths 128–255 as `82 00 xx` (switchable).

mod auth;
mod execution;
mod replies;

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::ber::Encode;
use crate::codec::{LengthForm, Writer};
use crate::crypto::{KeyAgreement, KeyAgreementKey, PublicKey, SharedSecret, SigningKey};
use crate::frame::{
    CraFlag, DlmsDateTime, EntityId, GroupingHeader, MessageCode, OtherInformation, SignatureTail,
};
use crate::message::{self, Message};
use crate::payload::modes::{self, ModeViolation};
use crate::payload::{
    AlertCode, CredentialDetailsCommand, CredentialDetailsResponse, GeneralizedTime, KeyId,
    KeyUsage, Payload, RemotePartyDetails, RemotePartyRole, RemotePartySeqNumberChange,
    ReplacementOutcome, SeqNumberUsage, SeqOf, StatusCode, TimeBasedCpvChecks,
    TrustAnchorCellContents, TrustAnchorCellIdentifier, UpdateSecurityCredentialsAlert,
    UpdateSecurityCredentialsCommand, UpdateSecurityCredentialsResponse,
};
use crate::smki::{validate_path, CertificateKind, SmkiCertificate, TrustAnchor};

/// What a trust anchor cell holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The entity ID of the certificate (zero for the root).
    pub entity_id: EntityId,
    /// Its key identifier.
    pub key_id: KeyId,
    /// Its public key (needed to verify commands or CA signatures; a cell initialised from a
    /// report alone may lack it).
    pub public_key: Option<PublicKey>,
}

/// The root cell address, {root, keyCertSign}.
pub const ROOT_CELL: TrustAnchorCellIdentifier =
    TrustAnchorCellIdentifier::new(RemotePartyRole::ROOT, KeyUsage::KEY_CERT_SIGN);

/// How the device obtains the shared secret with the ACB.
#[derive(Clone, Debug)]
// One per simulated meter, moved rarely: boxing the key would cost an allocation per meter.
#[allow(clippy::large_enum_variant)]
pub enum DeviceKeyAgreement {
    /// Its own KA private key (ECDH with the ACB key in its {4, KA} cell).
    Key(KeyAgreementKey),
    /// A shared secret computed elsewhere — from the ACB side when the device's private key
    /// is not known (as for the RTDS devices).
    Shared(SharedSecret),
}

/// Failures to inject.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Answer the next `busy` commands with resourcesBusy (30) for every replacement.
    pub busy: u32,
    /// Ignore the next `silent` commands (no response, nothing done).
    pub silent: u32,
    /// Answer every command with this status for every replacement, changing nothing.
    pub fault_status: Option<StatusCode>,
    /// Refuse every replacement certificate (badCertificate, 5).
    pub reject_certificates: bool,
    /// Execute the next `lost_replies` commands but lose their replies (the command ran; the
    /// sender hears nothing).
    pub lost_replies: u32,
}

/// Why the device refused a command without executing it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The bytes are not a GBCS message.
    Malformed(crate::Error),
    /// Addressed to another device.
    NotForThisDevice,
    /// Not a command (CRA flag).
    NotACommand,
    /// A message this device does not process.
    Unsupported(MessageCode),
    /// A MAC was required and missing.
    MissingMac,
    /// The MAC does not verify with the ACB key.
    BadMac,
    /// The authorising cell is empty or holds no key.
    NoAuthorisingCell(TrustAnchorCellIdentifier),
    /// A signature was required and missing.
    NotSigned,
    /// The signature does not verify with the authorising cell's key.
    BadSignature,
    /// The counter is not above the one held for the role.
    Replay {
        /// The command's counter.
        counter: u64,
        /// The counter the device holds.
        stored: u64,
    },
    /// `authorisingRemotePartySeqNumber` differs from the grouping-header counter.
    SeqNumberMismatch,
    /// The command breaks its mode's row of the table ([`crate::payload::modes`]): another
    /// `[2]`, a target the mode may not replace, a field it forbids, an unknown mode, or a
    /// signature or MAC its protection does not have.
    ModeRule(ModeViolation),
}

/// What the device did with a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A response (signed; MAC'd for a MAC'd CS02a).
    Response(Vec<u8>),
    /// Refused without a response.
    Rejected(Rejection),
    /// No response at all (injected).
    Silent,
}

#[derive(Clone, Debug)]
struct Pending {
    command: Vec<u8>,
    at: i64,
    /// When the command was received: the time its certificates' validity is judged at
    /// (see [`SimDevice::advance_to`]).
    received: i64,
}

/// What a meter remembers between commands — all that processing a command can change — so
/// a meter world can be kept outside the process and put back (its keys and settings are
/// the fleet's, derived again from its seed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterMemory {
    /// Its trust anchor cells.
    pub cells: Vec<(TrustAnchorCellIdentifier, Cell)>,
    /// The anti-replay counter held per remote party role.
    pub counters: Vec<(RemotePartyRole, u64)>,
    /// The specialist sequence numbers held.
    pub specialist: Vec<((RemotePartyRole, SeqNumberUsage), u64)>,
    /// Its clock (Unix seconds).
    pub clock: i64,
    /// A future-dated command held: its bytes, when it runs, when it was received.
    pub pending: Option<(Vec<u8>, i64, i64)>,
    /// The counter of its last alert.
    pub alert_counter: u64,
}

/// A simulated GBCS meter.
#[derive(Clone, Debug)]
pub struct SimDevice {
    entity_id: EntityId,
    /// Shared with the meter it was cloned from until one of them writes a cell: a fleet's
    /// meters are clones of a few templates, and most never change more than one cell.
    /// Each cell shared too, so a meter that writes one cell copies only the map's pointers.
    cells: alloc::sync::Arc<BTreeMap<TrustAnchorCellIdentifier, alloc::sync::Arc<Cell>>>,
    counters: BTreeMap<RemotePartyRole, u64>,
    specialist: BTreeMap<(RemotePartyRole, SeqNumberUsage), u64>,
    ds: SigningKey,
    ka: DeviceKeyAgreement,
    clock: i64,
    pending: Option<Pending>,
    alert_counter: u64,
    /// Failures to inject.
    pub faults: Faults,
    length_form: LengthForm,
}

impl SimDevice {
    /// A device with its own keys, the root trust anchor in its root cell, and clock `clock`
    /// (Unix seconds). Other cells are empty; install them with [`Self::install`].
    #[must_use]
    pub fn new(
        entity_id: EntityId,
        ds: SigningKey,
        ka: DeviceKeyAgreement,
        root: &TrustAnchor,
        clock: i64,
    ) -> Self {
        let mut cells: BTreeMap<_, alloc::sync::Arc<Cell>> = BTreeMap::new();
        cells.insert(
            ROOT_CELL,
            alloc::sync::Arc::new(Cell {
                entity_id: EntityId::default(),
                key_id: root.key_id,
                public_key: Some(root.public_key.clone()),
            }),
        );
        Self {
            entity_id,
            cells: alloc::sync::Arc::new(cells),
            counters: BTreeMap::new(),
            specialist: BTreeMap::new(),
            ds,
            ka,
            clock,
            pending: None,
            alert_counter: 2000,
            faults: Faults::default(),
            length_form: LengthForm::Device,
        }
    }

    /// A new device with this one's cells, counters and settings, but its own identity and
    /// keys (cheap: no certificate is parsed).
    #[must_use]
    pub fn clone_for(&self, entity_id: EntityId, ds: SigningKey, ka: DeviceKeyAgreement) -> Self {
        Self {
            entity_id,
            ds,
            ka,
            pending: None,
            ..self.clone()
        }
    }

    /// The device's entity ID.
    #[must_use]
    pub const fn entity_id(&self) -> EntityId {
        self.entity_id
    }

    /// The device's DS public key (verifies its responses and alerts).
    #[must_use]
    pub fn ds_public_key(&self) -> PublicKey {
        self.ds.public_key()
    }

    /// Puts `cell` into the cell `id`.
    pub fn install(&mut self, id: TrustAnchorCellIdentifier, cell: Cell) {
        alloc::sync::Arc::make_mut(&mut self.cells).insert(id, alloc::sync::Arc::new(cell));
    }

    /// Puts an organisation certificate into the cell `id`.
    ///
    /// # Errors
    /// [`crate::smki::SmkiError`] when the certificate does not parse.
    pub fn install_certificate(
        &mut self,
        id: TrustAnchorCellIdentifier,
        der: &[u8],
    ) -> Result<(), crate::smki::SmkiError> {
        let c = SmkiCertificate::from_der(der)?;
        self.install(
            id,
            Cell {
                entity_id: c.entity_id().unwrap_or_default(),
                key_id: c.subject_key_id(),
                public_key: Some(c.public_key().clone()),
            },
        );
        Ok(())
    }

    /// What the cell `id` holds.
    #[must_use]
    pub fn cell(&self, id: TrustAnchorCellIdentifier) -> Option<&Cell> {
        self.cells.get(&id).map(|c| &**c)
    }

    /// Every cell.
    pub fn cells(&self) -> impl Iterator<Item = (&TrustAnchorCellIdentifier, &Cell)> {
        self.cells.iter().map(|(k, v)| (k, &**v))
    }

    /// The anti-replay counter held for `role`.
    #[must_use]
    pub fn counter(&self, role: RemotePartyRole) -> u64 {
        self.counters.get(&role).copied().unwrap_or(0)
    }

    /// Sets the anti-replay counter for `role`.
    pub fn set_counter(&mut self, role: RemotePartyRole, value: u64) {
        self.counters.insert(role, value);
    }

    /// What the meter remembers now.
    #[must_use]
    pub fn memory(&self) -> MeterMemory {
        MeterMemory {
            cells: self
                .cells
                .iter()
                .map(|(k, v)| (*k, Cell::clone(v)))
                .collect(),
            counters: self.counters.iter().map(|(k, v)| (*k, *v)).collect(),
            specialist: self.specialist.iter().map(|(k, v)| (*k, *v)).collect(),
            clock: self.clock,
            pending: self
                .pending
                .as_ref()
                .map(|p| (p.command.clone(), p.at, p.received)),
            alert_counter: self.alert_counter,
        }
    }

    /// Puts back what the meter remembered ([`Self::memory`]).
    pub fn set_memory(&mut self, m: MeterMemory) {
        self.cells = alloc::sync::Arc::new(
            m.cells
                .into_iter()
                .map(|(k, v)| (k, alloc::sync::Arc::new(v)))
                .collect(),
        );
        self.counters = m.counters.into_iter().collect();
        self.specialist = m.specialist.into_iter().collect();
        self.clock = m.clock;
        self.pending = m.pending.map(|(command, at, received)| Pending {
            command,
            at,
            received,
        });
        self.alert_counter = m.alert_counter;
    }

    /// The device clock.
    #[must_use]
    pub const fn clock(&self) -> i64 {
        self.clock
    }

    /// Whether a future-dated command is pending, and when it runs.
    #[must_use]
    pub fn pending_at(&self) -> Option<i64> {
        self.pending.as_ref().map(|p| p.at)
    }

    /// Writes response and alert payload lengths 128–255 as `82 00 xx`, as the RTDS devices
    /// do (true, the default: [`LengthForm::Device`]), or minimally (DER).
    pub fn set_device_lengths(&mut self, on: bool) {
        self.length_form = if on {
            LengthForm::Device
        } else {
            LengthForm::Minimal
        };
    }

    /// Moves the clock to `to`; a pending command whose time has come executes, and its alert
    /// is returned.
    pub fn advance_to(&mut self, to: i64) -> Vec<Vec<u8>> {
        self.clock = self.clock.max(to);
        let mut alerts = Vec::new();
        if let Some(p) = self.pending.take_if(|p| p.at <= self.clock) {
            if let Ok(m) = crate::parse(&p.command) {
                if let Payload::UpdateSecurityCredentialsCommand(cmd) = *m.payload() {
                    if let Some(alert) = self.execute_future(&m, &cmd, p.received) {
                        alerts.push(alert);
                    }
                }
            }
        }
        alerts
    }

    /// Processes one command as a meter would.
    pub fn process(&mut self, bytes: &[u8]) -> Reply {
        let m = match crate::parse(bytes) {
            Ok(m) => m,
            Err(e) => return Reply::Rejected(Rejection::Malformed(e)),
        };
        let h = *m.header();
        if h.recipient != self.entity_id {
            return Reply::Rejected(Rejection::NotForThisDevice);
        }
        if h.cra_flag != CraFlag::COMMAND {
            return Reply::Rejected(Rejection::NotACommand);
        }
        if self.faults.silent > 0 {
            self.faults.silent -= 1;
            return Reply::Silent;
        }
        let result = match *m.payload() {
            Payload::CredentialDetailsCommand(c) => self.credentials(&m, &c),
            Payload::UpdateSecurityCredentialsCommand(c) => self.update(&m, &c, bytes),
            _ => Err(Rejection::Unsupported(h.message_code())),
        };
        if self.faults.lost_replies > 0 {
            self.faults.lost_replies -= 1;
            return Reply::Silent;
        }
        match result {
            Ok(r) => Reply::Response(r),
            Err(e) => Reply::Rejected(e),
        }
    }
}
