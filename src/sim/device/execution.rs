//! What the simulated device does with an accepted CS02b: now or at its execution date-time,
//! each replacement checked against its target cell and the root, floors applied, the
//! execution outcome.

use super::*;
use crate::payload::{OwnedExecutionOutcome, OwnedSeqNumberChanges};

impl SimDevice {
    pub(super) fn update(
        &mut self,
        m: &Message<'_>,
        c: &UpdateSecurityCredentialsCommand<'_>,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Rejection> {
        // The mode's row of the table first (`payload::modes`): `[2]`, targets, fields,
        // `[3]` = the counter, and the protection; then the MAC, the `[2]` cell's signature
        // and anti-replay. Nothing changes on a refusal.
        let mode = c.control.mode;
        let h = m.header();
        let row = modes::rule(mode).ok_or(Rejection::ModeRule(ModeViolation::UnknownMode(mode)))?;
        modes::check(h.message_code(), c, h.originator_counter).map_err(|v| match v {
            ModeViolation::SeqNumber { .. } => Rejection::SeqNumberMismatch,
            v => Rejection::ModeRule(v),
        })?;
        let signed = matches!(m.tail(), SignatureTail::Signature(_));
        if row.protection.macd() && m.frame().mac().is_none() {
            return Err(Rejection::MissingMac);
        }
        if row.protection.signed() && !signed {
            return Err(Rejection::NotSigned);
        }
        row.check_protection(signed, m.frame().mac().is_some())
            .map_err(Rejection::ModeRule)?;
        let role = self.authenticate(
            m,
            row.authorising_cell,
            row.protection.macd(),
            row.protection.signed(),
        )?;
        let faulted = self.faults.busy > 0 || self.faults.fault_status.is_some();
        match c.execution_date_time {
            Some(t) if !faulted && t.unix_seconds() > self.clock => {
                if t.is_cancellation() {
                    self.pending = None;
                } else {
                    self.pending = Some(Pending {
                        command: bytes.to_vec(),
                        at: t.unix_seconds(),
                        received: self.clock,
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
                let outcome = self
                    .execute(c, role, self.clock)
                    .map_err(Rejection::Malformed)?;
                let der = UpdateSecurityCredentialsResponse {
                    execution_outcome: Some(outcome.view()),
                }
                .to_vec_in(self.length_form)
                .map_err(Rejection::Malformed)?;
                self.respond(m, &der, true, false)
            }
        }
    }

    /// Executes a future-dated command at its time. Time-based CPV checks judge the
    /// certificates' validity at `received`, when the command came: DCC's 6.15.1
    /// FUTURE_DATED_ERROR alert (executed 2030-01-15) reports success for certificates that
    /// expired in 2025 and fails only the one whose path does not verify (the reference data
    /// decides this; the digest is silent).
    pub(super) fn execute_future(
        &mut self,
        m: &Message<'_>,
        c: &UpdateSecurityCredentialsCommand<'_>,
        received: i64,
    ) -> Option<Vec<u8>> {
        let role = c
            .control
            .authorising_cell
            .map_or(RemotePartyRole::ACCESS_CONTROL_BROKER, |cell| cell.role);
        let outcome = self.execute(c, role, received).ok()?;
        let all_ok = outcome
            .replacement_outcomes
            .iter()
            .all(|o| o.status.is_success());
        let when = c
            .execution_date_time
            .unwrap_or(GeneralizedTime::CANCELLATION);
        let der = UpdateSecurityCredentialsAlert {
            alert_code: if all_ok {
                AlertCode::FUTURE_DATED_SUCCESS
            } else {
                AlertCode::FUTURE_DATED_FAILURE
            },
            execution_date_time: when,
            execution_outcome: outcome.view(),
        }
        .to_vec_in(self.length_form)
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

    /// Runs the replacements and floors; returns the execution outcome (the floors applied and
    /// one outcome per replacement).
    pub(super) fn execute(
        &mut self,
        c: &UpdateSecurityCredentialsCommand<'_>,
        role: RemotePartyRole,
        cpv_time: i64,
    ) -> crate::Result<OwnedExecutionOutcome> {
        let mut owned = OwnedExecutionOutcome {
            authorising_seq_number: c.control.authorising_seq_number,
            mode: c.control.mode,
            seq_number_changes: OwnedSeqNumberChanges::default(),
            replacement_outcomes: Vec::new(),
        };
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
            .then_some(cpv_time);
        let mut outcomes = Vec::new();
        for r in c.replacements.iter() {
            let target = r.target_cell;
            let existing = self.cells.get(&target).map(|c| Cell::clone(c));
            let (status, new_cell) = match (forced, &existing) {
                (Some(s), _) => (s, None),
                (None, None) => (StatusCode::TRUST_ANCHOR_NOT_FOUND, None),
                (None, Some(_)) if self.faults.reject_certificates => {
                    (StatusCode::BAD_CERTIFICATE, None)
                }
                // The path first (noTrustAnchor), then whether the certificate fits the cell
                // (badCertificate): DCC's CS02g FUTURE_DATED_ERROR alert answers 10 for load
                // controller certificates whose path fails (the reference data decides the
                // order; the digest is silent).
                (None, Some(_)) => match SmkiCertificate::from_der(r.certificate.as_bytes()) {
                    Err(_) => (StatusCode::BAD_CERTIFICATE, None),
                    Ok(cert) => match anchor
                        .as_ref()
                        .map(|a| validate_path(&cert, &path, a, time))
                    {
                        Some(Ok(())) if !certifies(&cert, target) => {
                            (StatusCode::BAD_CERTIFICATE, None)
                        }
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
                alloc::sync::Arc::make_mut(&mut self.cells)
                    .insert(target, alloc::sync::Arc::new(cell));
            }
        }
        owned.replacement_outcomes = outcomes;
        if forced.is_some() {
            return Ok(owned);
        }
        // Floors: [4]/[5] for the authorising role, then [6] for the others, in that order.
        let own_specialist = c
            .control
            .new_specialist_floor_seq_numbers
            .filter(|s| !s.is_empty());
        let own =
            (c.control.new_floor_seq_number.is_some() || own_specialist.is_some()).then(|| {
                RemotePartySeqNumberChange {
                    role,
                    floor_seq_number: c
                        .control
                        .new_floor_seq_number
                        .unwrap_or_else(|| self.counter(role)),
                    specialist_floor_seq_numbers: c.control.new_specialist_floor_seq_numbers,
                }
            });
        let others = c
            .control
            .other_seq_number_changes
            .into_iter()
            .flat_map(|s| s.iter());
        for ch in own.into_iter().chain(others) {
            self.counters.insert(ch.role, ch.floor_seq_number);
            for s in ch
                .specialist_floor_seq_numbers
                .iter()
                .flat_map(|s| s.iter())
            {
                self.specialist.insert((ch.role, s.usage), s.seq_number);
            }
            owned.seq_number_changes.push(&ch)?;
        }
        Ok(owned)
    }
}

/// Whether `cert` may go into cell `target`: matching key usage, and an organisation
/// certificate of the cell's role (or a root certificate for the root cell). A load
/// controller cell also takes a supplier's certificate: DCC's CS02g loadControllerBySupplier
/// alerts report the supplier's own DS and KA certificates (entity 90B3D51F30010000, the key
/// IDs of its supplier cells) placed in the load controller cells (the reference data
/// decides this; the digest is silent).
pub(super) fn certifies(cert: &SmkiCertificate<'_>, target: TrustAnchorCellIdentifier) -> bool {
    if cert.key_usage() != target.key_usage
        && !(target.role == RemotePartyRole::ROOT && cert.is_ca())
    {
        return false;
    }
    match cert.kind() {
        CertificateKind::Organisation { role, .. } => {
            role == target.role
                || (target.role == RemotePartyRole::LOAD_CONTROLLER
                    && role == RemotePartyRole::SUPPLIER)
        }
        CertificateKind::Root => target.role == RemotePartyRole::ROOT,
        _ => false,
    }
}
