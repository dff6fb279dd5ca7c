//! SRV 6.15.1 `UpdateSecurityCredentialsKRP`: a Known Remote Party replaces its own
//! credentials — the supplier (CS02b supplierBySupplier, 0x0102), the network operator
//! (networkOperatorByNetworkOperator, 0x0103), or the supplier the load controller's (CS02g
//! loadControllerBySupplier, 0x0126). The originator is the requesting Service User.
//!
//! | DUIS | supplier | network operator | load controller |
//! |---|---|---|---|
//! | mode, code | 2, 0x0102 | 3, 0x0103 | 11, 0x0126 |
//! | `[2]` | {supplier, DS} | {networkOperator, DS} | {supplier, DS} |
//! | `RemotePartyFloorSeqNumber` | `[4]` | `[4]` | `[6]` {loadController, floor} |
//! | `RemotePartyPrepaymentTopUpFloorSeqNumber` | `[5]` {prePaymentTopUp, n} | – | – |
//! | `DigitalSigningCertificate` | → {supplier, DS} | → {NO, DS} | → {loadController, DS} |
//! | `KeyAgreementCertificate` | → {supplier, KA} | → {NO, KA} | → {loadController, KA} |
//! | `KeyAgreementTopUpCertificate` | → {supplier, KA, prePaymentTopUp} | – | – |
//! | `ApplyTimeBasedCPVChecks` false | `[1] = disapply` | same | same |
//! | `ExecutionDateTime` | executionDateTime (year ≥ 3000: cancellation `99991231235959Z`) | same | same |
//!
//! Read from the reference data: every row above for the RTDS 6.15.1 commands (the suite
//! compares them field by field). A cancellation keeps its floors (`[4]`/`[5]`, or `[6]`).
//!
//! **SRV 6.21 `RequestHandoverOfDCCControlledDevice`** reads the same way (supplier or network
//! operator; the certificates sit directly in `ReplacementCertificates`) and maps to the same
//! modes, but the device is DCC-controlled: the party in its supplier (or network operator)
//! DS cell is DCC's ACB, so [`KrpRequest::default_originator`] is the ACB, who signs. The
//! reference data has no 6.21 command; the mapping is the design notes' (`gbcs-cs02.md` B.4,
//! and the ACB as originator of the handover tests), inferred.

use alloc::vec::Vec;

use super::{base64_der, child, text, CertificateTrust, DccParties, DuisError, RequestId};
use crate::cos::command::Execution;
use crate::frame::EntityId;
use crate::message::CommandHeader;
use crate::payload::{
    AuthorisingRemotePartyControl, CellUsage, CertificateDer, CredentialsReplacementMode,
    GeneralizedTime, KeyUsage, RemotePartyRole, RemotePartySeqNumberChange, SeqNumberUsage, SeqOf,
    SpecialistSeqNumber, TimeBasedCpvChecks, TrustAnchorCellIdentifier, TrustAnchorReplacement,
    UpdateSecurityCredentialsCommand,
};

/// Whose credentials a 6.15.1 request replaces (DUIS `RemotePartyRole`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KrpRole {
    /// `Supplier`: supplierBySupplier.
    Supplier,
    /// `NetworkOperator`: networkOperatorByNetworkOperator.
    NetworkOperator,
    /// `LoadController`: CS02g loadControllerBySupplier.
    LoadController,
}

impl KrpRole {
    /// The mode the request becomes.
    #[must_use]
    pub const fn mode(self) -> CredentialsReplacementMode {
        match self {
            Self::Supplier => CredentialsReplacementMode::SUPPLIER_BY_SUPPLIER,
            Self::NetworkOperator => {
                CredentialsReplacementMode::NETWORK_OPERATOR_BY_NETWORK_OPERATOR
            }
            Self::LoadController => CredentialsReplacementMode::LOAD_CONTROLLER_BY_SUPPLIER,
        }
    }

    /// The role whose cells are replaced.
    #[must_use]
    pub const fn replaced(self) -> RemotePartyRole {
        match self {
            Self::Supplier => RemotePartyRole::SUPPLIER,
            Self::NetworkOperator => RemotePartyRole::NETWORK_OPERATOR,
            Self::LoadController => RemotePartyRole::LOAD_CONTROLLER,
        }
    }

    /// The authorising cell `[2]`: the requester's DS cell.
    #[must_use]
    pub const fn authorising_cell(self) -> TrustAnchorCellIdentifier {
        match self {
            Self::NetworkOperator => TrustAnchorCellIdentifier::new(
                RemotePartyRole::NETWORK_OPERATOR,
                KeyUsage::DIGITAL_SIGNATURE,
            ),
            Self::Supplier | Self::LoadController => TrustAnchorCellIdentifier::new(
                RemotePartyRole::SUPPLIER,
                KeyUsage::DIGITAL_SIGNATURE,
            ),
        }
    }
}

/// Which of the two services a [`KrpRequest`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KrpService {
    /// SRV 6.15.1 `UpdateSecurityCredentialsKRP`: the party replaces its own credentials.
    Update,
    /// SRV 6.21 `RequestHandoverOfDCCControlledDevice`: DCC's ACB hands its cell over.
    Handover,
}

/// An SRV 6.15.1 or 6.21 request read from DUIS, owning its certificates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KrpRequest {
    /// Which service.
    pub service: KrpService,
    /// The request ID (the requesting Service User, the target device, its counter).
    pub request_id: RequestId,
    /// Whose credentials are replaced.
    pub role: KrpRole,
    /// `RemotePartyFloorSeqNumber`.
    pub floor: Option<u64>,
    /// `RemotePartyPrepaymentTopUpFloorSeqNumber` (supplier only).
    pub prepayment_floor: Option<u64>,
    /// `DigitalSigningCertificate` (DER).
    pub ds: Vec<u8>,
    /// `KeyAgreementCertificate` (DER).
    pub ka: Option<Vec<u8>>,
    /// `KeyAgreementTopUpCertificate` (DER, supplier only).
    pub ka_top_up: Option<Vec<u8>>,
    /// `CertificationPathCertificates` (DER).
    pub certification_path: Vec<Vec<u8>>,
    /// `ApplyTimeBasedCPVChecks`.
    pub apply_time_based_cpv_checks: bool,
    /// `ExecutionDateTime`, mapped.
    pub execution: Execution,
}

impl KrpRequest {
    /// Reads an SRV 6.15.1 or 6.21 request, checking its certificates under `trust`
    /// ([`CertificateTrust`]).
    ///
    /// # Errors
    /// [`DuisError`] naming the element at fault; [`DuisError::NotService`] for another
    /// service.
    pub fn from_xml(xml: &str, trust: &CertificateTrust<'_>) -> Result<Self, DuisError> {
        super::read_request(
            xml,
            "6.15.1 or 6.21",
            &[
                ("6.15.1", "UpdateSecurityCredentialsKRP"),
                ("6.21", "RequestHandoverOfDCCControlledDevice"),
            ],
            |id, variant, req| {
                let r = Self::read(id, variant, req)?;
                let mut certs = alloc::vec![("DigitalSigningCertificate", r.ds.as_slice())];
                if let Some(ka) = &r.ka {
                    certs.push(("KeyAgreementCertificate", ka));
                }
                if let Some(top_up) = &r.ka_top_up {
                    certs.push(("KeyAgreementTopUpCertificate", top_up));
                }
                super::trust::check(&certs, &r.certification_path, trust, r.execution)?;
                Ok(r)
            },
        )
    }

    fn read(
        request_id: RequestId,
        variant: &str,
        req: roxmltree::Node<'_, '_>,
    ) -> Result<Self, DuisError> {
        let service = if variant == "6.21" {
            KrpService::Handover
        } else {
            KrpService::Update
        };
        let role = match (&*text(req, "RemotePartyRole")?, service) {
            ("Supplier", _) => KrpRole::Supplier,
            ("NetworkOperator", _) => KrpRole::NetworkOperator,
            ("LoadController", KrpService::Update) => KrpRole::LoadController,
            _ => return Err(DuisError::Invalid("RemotePartyRole")),
        };
        let replacement = child(req, "ReplacementCertificates")
            .ok_or(DuisError::Missing("ReplacementCertificates"))?;
        let certs = match service {
            KrpService::Update => child(replacement, "SupplierOrNetworkOperatorCertificates")
                .ok_or(DuisError::Missing("SupplierOrNetworkOperatorCertificates"))?,
            KrpService::Handover => replacement,
        };
        let cert = |name: &'static str| -> Result<Option<Vec<u8>>, DuisError> {
            child(certs, name)
                .map(|n| base64_der(&super::value(n), name))
                .transpose()
        };
        let certification_path = super::certification_path(req)?;
        let apply = super::apply_cpv(req)?;
        let execution = super::execution(req)?;
        let prepayment_floor =
            super::optional_number(req, "RemotePartyPrepaymentTopUpFloorSeqNumber")?;
        let ka_top_up = cert("KeyAgreementTopUpCertificate")?;
        if role != KrpRole::Supplier && (prepayment_floor.is_some() || ka_top_up.is_some()) {
            // The prepayment top-up belongs to the supplier alone.
            return Err(DuisError::Invalid(
                "RemotePartyPrepaymentTopUpFloorSeqNumber",
            ));
        }
        // Each certificate checked against the cell it is for, before any command is built.
        let replaced = role.replaced();
        let ds = super::cell_certificate(
            cert("DigitalSigningCertificate")?
                .ok_or(DuisError::Missing("DigitalSigningCertificate"))?,
            "DigitalSigningCertificate",
            TrustAnchorCellIdentifier::new(replaced, KeyUsage::DIGITAL_SIGNATURE),
        )?;
        let ka = cert("KeyAgreementCertificate")?
            .map(|c| {
                super::cell_certificate(
                    c,
                    "KeyAgreementCertificate",
                    TrustAnchorCellIdentifier::new(replaced, KeyUsage::KEY_AGREEMENT),
                )
            })
            .transpose()?;
        let ka_top_up = ka_top_up
            .map(|c| {
                super::cell_certificate(
                    c,
                    "KeyAgreementTopUpCertificate",
                    TrustAnchorCellIdentifier {
                        role: replaced,
                        key_usage: KeyUsage::KEY_AGREEMENT,
                        cell_usage: CellUsage::PREPAYMENT_TOP_UP,
                    },
                )
            })
            .transpose()?;
        Ok(Self {
            service,
            request_id,
            role,
            floor: super::optional_number(req, "RemotePartyFloorSeqNumber")?,
            prepayment_floor,
            ds,
            ka,
            ka_top_up,
            certification_path,
            apply_time_based_cpv_checks: apply,
            execution,
        })
    }

    /// The command's header: from [`Self::default_originator`] to the target, with `counter`
    /// (`dcc`: DCC's parties in the environment the command is for).
    #[must_use]
    pub fn header(&self, counter: u64, dcc: &DccParties) -> CommandHeader {
        self.header_from(self.default_originator(dcc), counter)
    }

    /// The command's header from `originator` to the target, with `counter`.
    #[must_use]
    pub fn header_from(&self, originator: EntityId, counter: u64) -> CommandHeader {
        CommandHeader {
            message_code: self
                .role
                .mode()
                .message_code()
                .unwrap_or(crate::frame::MessageCode(0)),
            counter,
            originator,
            recipient: self.request_id.target,
        }
    }

    /// Who originates and signs by default: the requesting Service User (6.15.1), DCC's ACB
    /// in the DCC-controlled device's cell (6.21; `dcc.acb`).
    #[must_use]
    pub const fn default_originator(&self, dcc: &DccParties) -> EntityId {
        match self.service {
            KrpService::Update => self.request_id.originator,
            KrpService::Handover => dcc.acb,
        }
    }

    /// Calls `f` with the CS02b/CS02g command payload (certificates borrowed), its `[3]` the
    /// `counter`.
    pub fn with_command<R>(
        &self,
        counter: u64,
        f: impl FnOnce(&UpdateSecurityCredentialsCommand<'_>) -> R,
    ) -> R {
        let replaced = self.role.replaced();
        let mut replacements = alloc::vec![TrustAnchorReplacement {
            certificate: CertificateDer(&self.ds),
            target_cell: TrustAnchorCellIdentifier::new(replaced, KeyUsage::DIGITAL_SIGNATURE),
        }];
        if let Some(ka) = &self.ka {
            replacements.push(TrustAnchorReplacement {
                certificate: CertificateDer(ka),
                target_cell: TrustAnchorCellIdentifier::new(replaced, KeyUsage::KEY_AGREEMENT),
            });
        }
        if let Some(top_up) = &self.ka_top_up {
            replacements.push(TrustAnchorReplacement {
                certificate: CertificateDer(top_up),
                target_cell: TrustAnchorCellIdentifier {
                    role: replaced,
                    key_usage: KeyUsage::KEY_AGREEMENT,
                    cell_usage: CellUsage::PREPAYMENT_TOP_UP,
                },
            });
        }
        let path: Vec<CertificateDer<'_>> = self
            .certification_path
            .iter()
            .map(|c| CertificateDer(c))
            .collect();
        let specialist = self.prepayment_floor.map(|n| {
            [SpecialistSeqNumber {
                usage: SeqNumberUsage::PREPAYMENT_TOP_UP,
                seq_number: n,
            }]
        });
        let others = match (self.role, self.floor) {
            (KrpRole::LoadController, Some(floor)) => Some([RemotePartySeqNumberChange {
                role: RemotePartyRole::LOAD_CONTROLLER,
                floor_seq_number: floor,
                specialist_floor_seq_numbers: None,
            }]),
            _ => None,
        };
        let own_floor = if self.role == KrpRole::LoadController {
            None
        } else {
            self.floor
        };
        let cmd = UpdateSecurityCredentialsCommand {
            control: AuthorisingRemotePartyControl {
                mode: self.role.mode(),
                plain_text_symmetric_key: None,
                apply_time_based_cpv_checks: (!self.apply_time_based_cpv_checks)
                    .then_some(TimeBasedCpvChecks::DISAPPLY),
                authorising_cell: Some(self.role.authorising_cell()),
                authorising_seq_number: counter,
                new_floor_seq_number: own_floor,
                new_specialist_floor_seq_numbers: specialist.as_ref().map(|s| SeqOf::from_slice(s)),
                other_seq_number_changes: others.as_ref().map(|o| SeqOf::from_slice(o)),
            },
            replacements: SeqOf::from_slice(&replacements),
            certification_path: SeqOf::from_slice(&path),
            execution_date_time: match self.execution {
                Execution::Immediate => None,
                Execution::At(t) => Some(t),
                Execution::Cancel => Some(GeneralizedTime::CANCELLATION),
            },
        };
        f(&cmd)
    }
}
