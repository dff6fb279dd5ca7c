//! SRV 8.5 `ServiceOptOut`: the device leaves DCC's service and its ACB cell gets the new ACB's
//! key-agreement certificate — CS02b accessControlBrokerByACB (mode 4, 0x0104), from DCC's
//! ACB, no `[2]`, signature byte `00`, the ACB's MAC.
//!
//! | DUIS | GBCS |
//! |---|---|
//! | `ACBFloorSeqNumber` | `[4]` (the ACB's floor) |
//! | `ReplacementCertificates/KeyAgreementCertificate` | → {accessControlBroker, KA} |
//! | `CertificationPathCertificates` | certificationPathCertificates |
//! | `ApplyTimeBasedCPVChecks` false | `[1] = disapply` |
//! | `ExecutionDateTime` | **not carried**: the 8.5 template has one, DCC's 8.5 command has none (DCC schedules the request itself; `gbcs-cs02.md` C.4, inferred) |

use alloc::vec::Vec;

use super::{base64_der, child, CertificateTrust, DccParties, DuisError, RequestId};
use crate::cos::command::Execution;
use crate::frame::{EntityId, MessageCode};
use crate::message::CommandHeader;
use crate::payload::{
    AuthorisingRemotePartyControl, CertificateDer, CredentialsReplacementMode, SeqOf,
    TimeBasedCpvChecks, TrustAnchorCellIdentifier, TrustAnchorReplacement,
    UpdateSecurityCredentialsCommand,
};

/// An SRV 8.5 request read from DUIS, owning its certificates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptOutRequest {
    /// The request ID.
    pub request_id: RequestId,
    /// `ACBFloorSeqNumber`.
    pub acb_floor: Option<u64>,
    /// `KeyAgreementCertificate` (DER): the new ACB's.
    pub ka: Vec<u8>,
    /// `CertificationPathCertificates` (DER).
    pub certification_path: Vec<Vec<u8>>,
    /// `ApplyTimeBasedCPVChecks`.
    pub apply_time_based_cpv_checks: bool,
    /// `ExecutionDateTime` as requested (read and checked, not carried into the command).
    pub requested_execution: Execution,
}

impl OptOutRequest {
    /// Reads an SRV 8.5 request, checking its certificate under `trust` at its `now`.
    ///
    /// # Errors
    /// [`DuisError`] naming the element at fault; [`DuisError::NotService`] for another.
    pub fn from_xml(xml: &str, trust: &CertificateTrust<'_>) -> Result<Self, DuisError> {
        super::read_request(
            xml,
            "8.5",
            &[("8.5", "ServiceOptOut")],
            |id, variant, req| {
                let r = Self::read(id, variant, req)?;
                // The execution time is not carried into the command (DCC schedules an 8.5), so
                // the certificate is checked at the time of building only and a past time is
                // left to the caller to warn about ([`Self::requested_execution_passed`]).
                super::trust::check(
                    &[("KeyAgreementCertificate", r.ka.as_slice())],
                    &r.certification_path,
                    trust,
                    Execution::Immediate,
                )?;
                Ok(r)
            },
        )
    }

    /// Whether the requested `ExecutionDateTime` is not after `now`: not an error for an
    /// 8.5, whose command carries no time, but worth a warning.
    #[must_use]
    pub fn requested_execution_passed(&self, now: i64) -> bool {
        super::trust::check_execution(now, self.requested_execution).is_err()
    }

    fn read(
        request_id: RequestId,
        _: &str,
        req: roxmltree::Node<'_, '_>,
    ) -> Result<Self, DuisError> {
        let acb_floor = super::optional_number(req, "ACBFloorSeqNumber")?;
        let ka = child(req, "ReplacementCertificates")
            .and_then(|n| child(n, "KeyAgreementCertificate"))
            .ok_or(DuisError::Missing("KeyAgreementCertificate"))?;
        let ka = super::cell_certificate(
            base64_der(&super::value(ka), "KeyAgreementCertificate")?,
            "KeyAgreementCertificate",
            TrustAnchorCellIdentifier::ACB_KA,
        )?;
        let certification_path = super::certification_path(req)?;
        let apply = super::apply_cpv(req)?;
        let requested_execution = super::execution(req)?;
        Ok(Self {
            request_id,
            acb_floor,
            ka,
            certification_path,
            apply_time_based_cpv_checks: apply,
            requested_execution,
        })
    }

    /// The command's header: from DCC's ACB (`dcc.acb`) to the target, with the ACB's
    /// `counter`.
    #[must_use]
    pub const fn header(&self, counter: u64, dcc: &DccParties) -> CommandHeader {
        self.header_from(dcc.acb, counter)
    }

    /// The command's header from `originator` (an ACB) to the target, with `counter`.
    #[must_use]
    pub const fn header_from(&self, originator: EntityId, counter: u64) -> CommandHeader {
        CommandHeader {
            message_code: MessageCode(0x0104),
            counter,
            originator,
            recipient: self.request_id.target,
        }
    }

    /// Calls `f` with the mode-4 command payload (certificates borrowed), `[3]` = `counter`.
    pub fn with_command<R>(
        &self,
        counter: u64,
        f: impl FnOnce(&UpdateSecurityCredentialsCommand<'_>) -> R,
    ) -> R {
        let replacements = [TrustAnchorReplacement {
            certificate: CertificateDer(&self.ka),
            target_cell: TrustAnchorCellIdentifier::ACB_KA,
        }];
        let path: Vec<CertificateDer<'_>> = self
            .certification_path
            .iter()
            .map(|c| CertificateDer(c))
            .collect();
        f(&UpdateSecurityCredentialsCommand {
            control: AuthorisingRemotePartyControl {
                mode: CredentialsReplacementMode::ACCESS_CONTROL_BROKER_BY_ACB,
                plain_text_symmetric_key: None,
                apply_time_based_cpv_checks: (!self.apply_time_based_cpv_checks)
                    .then_some(TimeBasedCpvChecks::DISAPPLY),
                authorising_cell: None,
                authorising_seq_number: counter,
                new_floor_seq_number: self.acb_floor,
                new_specialist_floor_seq_numbers: None,
                other_seq_number_changes: None,
            },
            replacements: SeqOf::from_slice(&replacements),
            certification_path: SeqOf::from_slice(&path),
            execution_date_time: None,
        })
    }
}
