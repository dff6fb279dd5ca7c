//! A GBCS device in memory that processes CS02a and CS02b commands the way a meter does
//! (`gbcs-cs02.md` C): MAC check with the ACB key, signature check against the authorising
//! cell, anti-replay, certification path validation of each replacement, replacement, floors,
//! the execution outcome; future-dated commands held until the clock passes them, then the
//! 0x00CB alert; `99991231235959Z` cancels. Responses and alerts are signed with the device DS
//! key and, like the RTDS devices, encode payload lengths 128–255 as `82 00 xx` (switchable).

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
use crate::payload::{
    AlertCode, CredentialDetailsCommand, CredentialDetailsResponse, CredentialsReplacementMode,
    ExecutionOutcome, GeneralizedTime, KeyId, KeyUsage, Payload, RemotePartyDetails,
    RemotePartyRole, RemotePartySeqNumberChange, ReplacementOutcome, SeqNumberUsage, SeqOf,
    SpecialistSeqNumber, StatusCode, TimeBasedCpvChecks, TrustAnchorCellContents,
    TrustAnchorCellIdentifier, UpdateSecurityCredentialsAlert, UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
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
}

/// A simulated GBCS meter.
#[derive(Clone, Debug)]
pub struct SimDevice {
    entity_id: EntityId,
    cells: BTreeMap<TrustAnchorCellIdentifier, Cell>,
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

fn dlms(t: i64) -> DlmsDateTime {
    let g = GeneralizedTime::from_unix_seconds(t).unwrap_or(GeneralizedTime::CANCELLATION);
    let [y0, y1] = g.year.to_be_bytes();
    DlmsDateTime([
        y0, y1, g.month, g.day, 0xFF, g.hour, g.minute, g.second, 0x00, 0x80, 0x00, 0xFF,
    ])
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
        let mut cells = BTreeMap::new();
        cells.insert(
            ROOT_CELL,
            Cell {
                entity_id: EntityId::default(),
                key_id: root.key_id,
                public_key: Some(root.public_key.clone()),
            },
        );
        Self {
            entity_id,
            cells,
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
        self.cells.insert(id, cell);
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
        self.cells.get(&id)
    }

    /// Every cell.
    pub fn cells(&self) -> impl Iterator<Item = (&TrustAnchorCellIdentifier, &Cell)> {
        self.cells.iter()
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
                    if let Some(alert) = self.execute_future(&m, &cmd) {
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
        match result {
            Ok(r) => Reply::Response(r),
            Err(e) => Reply::Rejected(e),
        }
    }

    fn shared_secret_with_acb(&self) -> Option<SharedSecret> {
        match &self.ka {
            DeviceKeyAgreement::Shared(z) => Some(z.clone()),
            DeviceKeyAgreement::Key(k) => {
                let acb = self
                    .cells
                    .get(&TrustAnchorCellIdentifier::ACB_KA)?
                    .public_key
                    .as_ref()?;
                k.agree(acb).ok()
            }
        }
    }

    /// MAC, signature and anti-replay; returns the authorising role.
    fn authenticate(
        &mut self,
        m: &Message<'_>,
        cell: Option<TrustAnchorCellIdentifier>,
        need_mac: bool,
        need_signature: bool,
    ) -> Result<RemotePartyRole, Rejection> {
        if m.frame().mac().is_some() {
            let z = self
                .shared_secret_with_acb()
                .ok_or(Rejection::NoAuthorisingCell(
                    TrustAnchorCellIdentifier::ACB_KA,
                ))?;
            m.verify_mac(&z).map_err(|_| Rejection::BadMac)?;
        } else if need_mac {
            return Err(Rejection::MissingMac);
        }
        let role = match cell {
            Some(id) => {
                if need_signature {
                    let key = self
                        .cells
                        .get(&id)
                        .and_then(|c| c.public_key.as_ref())
                        .ok_or(Rejection::NoAuthorisingCell(id))?;
                    match m.tail() {
                        SignatureTail::Signature(_) => m
                            .verify_signature(&key)
                            .map_err(|_| Rejection::BadSignature)?,
                        _ => return Err(Rejection::NotSigned),
                    }
                }
                id.role
            }
            None => RemotePartyRole::ACCESS_CONTROL_BROKER,
        };
        let counter = m.header().originator_counter;
        let stored = self.counter(role);
        if counter <= stored {
            return Err(Rejection::Replay { counter, stored });
        }
        self.counters.insert(role, counter);
        Ok(role)
    }

    fn respond(
        &self,
        m: &Message<'_>,
        payload: &[u8],
        date_time: bool,
        mac: bool,
    ) -> Result<Vec<u8>, Rejection> {
        let h = m.header();
        let header = GroupingHeader {
            cra_flag: CraFlag::RESPONSE,
            originator_counter: h.originator_counter,
            originator: self.entity_id,
            recipient: h.originator,
            date_time: date_time.then(|| dlms(self.clock)),
            other_information: OtherInformation::code(h.message_code()),
            content_len: payload.len(),
        };
        self.frame(&header, payload, mac)
    }

    fn frame(
        &self,
        header: &GroupingHeader<'_>,
        payload: &[u8],
        mac: bool,
    ) -> Result<Vec<u8>, Rejection> {
        let mut pre = vec![0u8; header.buffer_len() + payload.len()];
        let mut w = Writer::new(&mut pre);
        header.emit(&mut w).map_err(Rejection::Malformed)?;
        w.put(payload, "payload").map_err(Rejection::Malformed)?;
        if mac {
            let z = self
                .shared_secret_with_acb()
                .ok_or(Rejection::NoAuthorisingCell(
                    TrustAnchorCellIdentifier::ACB_KA,
                ))?;
            let unsigned = message::append_no_signature(&pre).map_err(Rejection::Malformed)?;
            message::add_mac(&unsigned, &z).map_err(Rejection::Malformed)
        } else {
            message::sign_precommand(&pre, &self.ds).map_err(|_| Rejection::BadSignature)
        }
    }

    fn credentials(
        &mut self,
        m: &Message<'_>,
        c: &CredentialDetailsCommand<'_>,
    ) -> Result<Vec<u8>, Rejection> {
        let by_acb = c.authorising_cell == TrustAnchorCellIdentifier::ACB_KA;
        self.authenticate(m, Some(c.authorising_cell), by_acb, !by_acb)?;
        let mut cell_lists: Vec<Vec<TrustAnchorCellContents>> = Vec::new();
        let roles: Vec<RemotePartyRole> = c.roles.iter().collect();
        for role in &roles {
            let mut cells: Vec<(TrustAnchorCellIdentifier, Cell)> = self
                .cells
                .iter()
                .filter(|(id, _)| id.role == *role)
                .map(|(id, c)| (*id, c.clone()))
                .collect();
            cells.sort_by_key(|(id, _)| (core::cmp::Reverse(id.key_usage), id.cell_usage));
            cell_lists.push(
                cells
                    .into_iter()
                    .map(|(id, c)| TrustAnchorCellContents {
                        key_usage: id.key_usage,
                        cell_usage: id.cell_usage,
                        subject_unique_id: c.entity_id,
                        subject_key_identifier: c.key_id,
                    })
                    .collect(),
            );
        }
        let details: Vec<RemotePartyDetails<'_>> = roles
            .iter()
            .zip(&cell_lists)
            .map(|(role, cells)| {
                if cells.is_empty() {
                    RemotePartyDetails {
                        role: *role,
                        status: StatusCode::TRUST_ANCHOR_NOT_FOUND,
                        current_seq_number: None,
                        cells: None,
                    }
                } else {
                    RemotePartyDetails {
                        role: *role,
                        status: StatusCode::SUCCESS,
                        current_seq_number: Some(self.counter(*role)),
                        cells: Some(SeqOf::from_slice(cells)),
                    }
                }
            })
            .collect();
        let der = CredentialDetailsResponse {
            details: SeqOf::from_slice(&details),
        }
        .to_vec_in(self.length_form)
        .map_err(Rejection::Malformed)?;
        let macd = m.frame().mac().is_some() && by_acb;
        self.respond(m, &der, false, macd)
    }

    fn update(
        &mut self,
        m: &Message<'_>,
        c: &UpdateSecurityCredentialsCommand<'_>,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Rejection> {
        let mode = c.control.mode;
        let (need_mac, need_signature) = match mode {
            CredentialsReplacementMode::ACCESS_CONTROL_BROKER_BY_ACB => (true, false),
            CredentialsReplacementMode::ANY_EXCEPT_ABNORMAL_ROOT_BY_RECOVERY
            | CredentialsReplacementMode::ANY_BY_CONTINGENCY => (false, true),
            _ => (true, true),
        };
        if c.control.authorising_seq_number != m.header().originator_counter {
            return Err(Rejection::SeqNumberMismatch);
        }
        let cell = if mode == CredentialsReplacementMode::ACCESS_CONTROL_BROKER_BY_ACB {
            c.control.authorising_cell
        } else {
            Some(
                c.control
                    .authorising_cell
                    .ok_or(Rejection::NoAuthorisingCell(ROOT_CELL))?,
            )
        };
        let role = self.authenticate(m, cell, need_mac, need_signature)?;
        let faulted = self.faults.busy > 0 || self.faults.fault_status.is_some();
        match c.execution_date_time {
            Some(t) if !faulted && t.unix_seconds() > self.clock => {
                if t.is_cancellation() {
                    self.pending = None;
                } else {
                    self.pending = Some(Pending {
                        command: bytes.to_vec(),
                        at: t.unix_seconds(),
                    });
                }
                let der = UpdateSecurityCredentialsResponse {
                    execution_outcome: None,
                }
                .to_vec_in(self.length_form)
                .map_err(Rejection::Malformed)?;
                self.respond(m, &der, true, false)
            }
            _ => {
                let (changes, outcomes) = self.execute(c, role);
                let form = self.length_form;
                let der = encode_outcome(c, &changes, &outcomes, |outcome| {
                    UpdateSecurityCredentialsResponse {
                        execution_outcome: Some(outcome),
                    }
                    .to_vec_in(form)
                })
                .map_err(Rejection::Malformed)?;
                self.respond(m, &der, true, false)
            }
        }
    }

    fn execute_future(
        &mut self,
        m: &Message<'_>,
        c: &UpdateSecurityCredentialsCommand<'_>,
    ) -> Option<Vec<u8>> {
        let role = c
            .control
            .authorising_cell
            .map_or(RemotePartyRole::ACCESS_CONTROL_BROKER, |cell| cell.role);
        let (changes, outcomes) = self.execute(c, role);
        let all_ok = outcomes.iter().all(|o| o.status.is_success());
        let when = c
            .execution_date_time
            .unwrap_or(GeneralizedTime::CANCELLATION);
        let form = self.length_form;
        let der = encode_outcome(c, &changes, &outcomes, |outcome| {
            UpdateSecurityCredentialsAlert {
                alert_code: if all_ok {
                    AlertCode::FUTURE_DATED_SUCCESS
                } else {
                    AlertCode::FUTURE_DATED_FAILURE
                },
                execution_date_time: when,
                execution_outcome: outcome,
            }
            .to_vec_in(form)
        })
        .ok()?;
        let code = if matches!(c.control.mode.0, 10 | 11) {
            MessageCode::CS02G_ALERT
        } else {
            MessageCode::CS02B_ALERT
        };
        let header = GroupingHeader {
            cra_flag: CraFlag::ALERT,
            originator_counter: self.alert_counter,
            originator: self.entity_id,
            recipient: m.header().originator,
            date_time: None,
            other_information: OtherInformation::code(code),
            content_len: der.len(),
        };
        self.alert_counter += 1;
        self.frame(&header, &der, false).ok()
    }

    /// Runs the replacements and floors; returns the floors applied and the outcomes.
    fn execute(
        &mut self,
        c: &UpdateSecurityCredentialsCommand<'_>,
        role: RemotePartyRole,
    ) -> (Vec<Change>, Vec<ReplacementOutcome>) {
        let forced = if self.faults.busy > 0 {
            self.faults.busy -= 1;
            Some(StatusCode::RESOURCES_BUSY)
        } else {
            self.faults.fault_status
        };
        let path: Vec<SmkiCertificate<'_>> = c
            .certification_path
            .iter()
            .filter_map(|cert| SmkiCertificate::from_der(cert.as_bytes()).ok())
            .collect();
        let anchor = self.cells.get(&ROOT_CELL).and_then(|cell| {
            cell.public_key.clone().map(|pk| TrustAnchor {
                key_id: cell.key_id,
                public_key: pk,
            })
        });
        let time = (c.control.apply_time_based_cpv_checks != Some(TimeBasedCpvChecks::DISAPPLY))
            .then_some(self.clock);
        let mut outcomes = Vec::new();
        for r in c.replacements.iter() {
            let target = r.target_cell;
            let existing = self.cells.get(&target).cloned();
            let (status, new_cell) = match (forced, &existing) {
                (Some(s), _) => (s, None),
                (None, None) => (StatusCode::TRUST_ANCHOR_NOT_FOUND, None),
                (None, Some(_)) if self.faults.reject_certificates => {
                    (StatusCode::BAD_CERTIFICATE, None)
                }
                (None, Some(_)) => match SmkiCertificate::from_der(r.certificate.as_bytes()) {
                    Err(_) => (StatusCode::BAD_CERTIFICATE, None),
                    Ok(cert) if !certifies(&cert, target) => (StatusCode::BAD_CERTIFICATE, None),
                    Ok(cert) => match anchor
                        .as_ref()
                        .map(|a| validate_path(&cert, &path, a, time))
                    {
                        Some(Ok(())) => (
                            StatusCode::SUCCESS,
                            Some(Cell {
                                entity_id: cert.entity_id().unwrap_or_default(),
                                key_id: cert.subject_key_id(),
                                public_key: Some(cert.public_key().clone()),
                            }),
                        ),
                        _ => (StatusCode::NO_TRUST_ANCHOR, None),
                    },
                },
            };
            let before = existing.unwrap_or(Cell {
                entity_id: EntityId::default(),
                key_id: KeyId::default(),
                public_key: None,
            });
            let after = new_cell.as_ref().unwrap_or(&before);
            outcomes.push(ReplacementOutcome {
                cell: target,
                status,
                existing_subject_unique_id: before.entity_id,
                existing_subject_key_identifier: before.key_id,
                replacing_subject_unique_id: after.entity_id,
                replacing_subject_key_identifier: after.key_id,
            });
            if let Some(cell) = new_cell {
                self.cells.insert(target, cell);
            }
        }
        if forced.is_some() {
            return (Vec::new(), outcomes);
        }
        // Floors: [4]/[5] for the authorising role, then [6] for the others, in that order.
        let mut changes = Vec::new();
        let own_specialist: Vec<SpecialistSeqNumber> = c
            .control
            .new_specialist_floor_seq_numbers
            .iter()
            .flat_map(|s| s.iter())
            .collect();
        if c.control.new_floor_seq_number.is_some() || !own_specialist.is_empty() {
            let floor = c
                .control
                .new_floor_seq_number
                .unwrap_or_else(|| self.counter(role));
            changes.push(Change {
                role,
                floor,
                specialist: c
                    .control
                    .new_specialist_floor_seq_numbers
                    .map(|s| s.iter().collect()),
            });
        }
        for o in c
            .control
            .other_seq_number_changes
            .iter()
            .flat_map(|s| s.iter())
        {
            changes.push(Change {
                role: o.role,
                floor: o.floor_seq_number,
                specialist: o.specialist_floor_seq_numbers.map(|s| s.iter().collect()),
            });
        }
        for ch in &changes {
            self.counters.insert(ch.role, ch.floor);
            for s in ch.specialist.iter().flatten() {
                self.specialist.insert((ch.role, s.usage), s.seq_number);
            }
        }
        (changes, outcomes)
    }
}

/// Whether `cert` may go into cell `target`: matching key usage, and an organisation
/// certificate of the cell's role (or a root certificate for the root cell).
fn certifies(cert: &SmkiCertificate<'_>, target: TrustAnchorCellIdentifier) -> bool {
    if cert.key_usage() != target.key_usage
        && !(target.role == RemotePartyRole::ROOT && cert.is_ca())
    {
        return false;
    }
    match cert.kind() {
        CertificateKind::Organisation { role, .. } => role == target.role,
        CertificateKind::Root => target.role == RemotePartyRole::ROOT,
        _ => false,
    }
}

/// A floor the device applied.
#[derive(Clone, Debug)]
struct Change {
    role: RemotePartyRole,
    floor: u64,
    specialist: Option<Vec<SpecialistSeqNumber>>,
}

fn encode_outcome(
    c: &UpdateSecurityCredentialsCommand<'_>,
    changes: &[Change],
    outcomes: &[ReplacementOutcome],
    f: impl FnOnce(ExecutionOutcome<'_>) -> crate::Result<Vec<u8>>,
) -> crate::Result<Vec<u8>> {
    let changes: Vec<RemotePartySeqNumberChange<'_>> = changes
        .iter()
        .map(|ch| RemotePartySeqNumberChange {
            role: ch.role,
            floor_seq_number: ch.floor,
            specialist_floor_seq_numbers: ch.specialist.as_deref().map(SeqOf::from_slice),
        })
        .collect();
    f(ExecutionOutcome {
        authorising_seq_number: c.control.authorising_seq_number,
        mode: c.control.mode,
        seq_number_changes: SeqOf::from_slice(&changes),
        replacement_outcomes: SeqOf::from_slice(outcomes),
    })
}
