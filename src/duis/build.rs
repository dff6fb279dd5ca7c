//! One DUIS service request to its GBCS pre-command, the service chosen by the request's
//! `ServiceReferenceVariant` as DCC chooses it: 6.23 (CS02b supplierByTransCoS), 6.15.1 and
//! 6.21 (CS02b/CS02g by the KRP or DCC's ACB), 8.5 (the ACB's own KA cell, MAC only) and
//! 6.24.1 (the ACB's CS02a/CS02f read, MAC only). The pre-command is then signed and MAC'd by
//! whoever holds the keys: [`message::external::complete_precommand`] with this crate's keys,
//! or step by step with keys elsewhere (WebCrypto, an HSM).
//!
//! ```text
//! DUIS XML --precommand()--> header || payload --sign--> || 40 r s --MAC--> MAC header .. MAC
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{
    service_variant, CertificateTrust, DuisError, KrpRequest, KrpService, OptOutRequest,
    ReadRequest, Srv623Request,
};
use crate::cos::command::credential_query_parts;
use crate::frame::{EntityId, MessageCode};
use crate::message::{self, GbcsError};
use crate::payload::{modes::Protection, Payload};

/// What a build needs besides the request: the counter, who originates, and how the
/// request's certificates are trusted.
#[derive(Clone, Copy, Debug)]
pub struct BuildOptions<'a> {
    /// The originator counter (`[3]` of a CS02b command).
    pub counter: u64,
    /// The originator, where the caller names it; else the party the service names.
    pub originator: Option<EntityId>,
    /// DCC's access control broker (originates 6.21, 8.5 and 6.24.1).
    pub acb: Option<EntityId>,
    /// DCC's transitional change-of-supplier party (originates 6.23).
    pub tcos: Option<EntityId>,
    /// The SMKI root and the time the request's certificates are checked at.
    pub trust: CertificateTrust<'a>,
    /// 6.24.1 only: send the read as CS02a (`0x0008`) or CS02f (`0x011B`); by default CS02f
    /// when the load controller is asked for, CS02a otherwise.
    pub read_as: Option<MessageCode>,
}

/// A pre-command built from a DUIS request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuisPrecommand {
    /// The request's `ServiceReferenceVariant` (`6.23`, `6.15.1`, …).
    pub variant: String,
    /// Who signs (a KRP) or MACs (the ACB): the grouping header's originator.
    pub originator: EntityId,
    /// The device the command is for.
    pub recipient: EntityId,
    /// The grouping header and payload (no signature byte, no MAC header).
    pub bytes: Vec<u8>,
    /// How the command's mode protects it.
    pub protection: Protection,
    /// What the caller should be told (an execution time already past, …).
    pub notes: Vec<String>,
}

/// Why a DUIS request gave no pre-command.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The request does not read, or a certificate in it is not trusted.
    Duis(DuisError),
    /// Nobody to originate: the service's party (named in the message) was not given.
    NoOriginator(&'static str),
    /// A `ServiceReferenceVariant` this crate does not build.
    Unsupported(String),
    /// The command could not be encoded.
    Gbcs(GbcsError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duis(e) => e.fmt(f),
            Self::NoOriginator(who) => write!(f, "no originator: {who}"),
            Self::Unsupported(v) => write!(
                f,
                "SRV {v}: not a service gbcs builds yet (6.23, 6.15.1, 6.21, 6.24.1, 8.5)"
            ),
            Self::Gbcs(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for BuildError {}

impl From<DuisError> for BuildError {
    fn from(e: DuisError) -> Self {
        Self::Duis(e)
    }
}

impl From<GbcsError> for BuildError {
    fn from(e: GbcsError) -> Self {
        Self::Gbcs(e)
    }
}

impl From<crate::Error> for BuildError {
    fn from(e: crate::Error) -> Self {
        Self::Gbcs(e.into())
    }
}

/// `options.originator`, else the party the service names.
fn originator_or(
    options: &BuildOptions<'_>,
    default: Option<EntityId>,
    who: &'static str,
) -> Result<EntityId, BuildError> {
    options
        .originator
        .or(default)
        .ok_or(BuildError::NoOriginator(who))
}

/// Builds the pre-command of a DUIS request: the service from its `ServiceReferenceVariant`,
/// every certificate verified under `options.trust` first.
///
/// # Errors
/// [`BuildError`]: the request's fault, a missing originator, a service not built here.
pub fn precommand(xml: &str, options: &BuildOptions<'_>) -> Result<DuisPrecommand, BuildError> {
    let variant = service_variant(xml)?;
    let counter = options.counter;
    let mut notes = Vec::new();
    let (originator, bytes) = match variant.as_str() {
        "6.23" => {
            let req = Srv623Request::from_xml(xml, &options.trust)?;
            let originator = originator_or(
                options,
                options.tcos,
                "SRV 6.23 is originated by DCC's TCoS party",
            )?;
            let bytes = req.with_request(|r| -> Result<_, BuildError> {
                let command = r.payload(counter)?;
                Ok(message::build_precommand(
                    &r.header(originator, counter),
                    &command.payload(),
                )?)
            })?;
            (originator, bytes)
        }
        "6.15.1" | "6.21" => {
            let req = KrpRequest::from_xml(xml, &options.trust)?;
            let default = match req.service {
                KrpService::Update => Some(req.request_id.originator),
                KrpService::Handover => options.acb,
            };
            let originator =
                originator_or(options, default, "SRV 6.21 is originated by DCC's ACB")?;
            let header = req.header_from(originator, counter);
            let bytes = req.with_command(counter, |cmd| {
                message::build_precommand(&header, &Payload::UpdateSecurityCredentialsCommand(*cmd))
            })?;
            (originator, bytes)
        }
        "8.5" => {
            let req = OptOutRequest::from_xml(xml, &options.trust)?;
            if req.requested_execution_passed(options.trust.now) {
                notes.push(String::from(
                    "ExecutionDateTime is already past; an 8.5 command carries no execution time \
                     (DCC schedules the opt-out), so the command is built",
                ));
            }
            let originator =
                originator_or(options, options.acb, "SRV 8.5 is originated by DCC's ACB")?;
            let header = req.header_from(originator, counter);
            let bytes = req.with_command(counter, |cmd| {
                message::build_precommand(&header, &Payload::UpdateSecurityCredentialsCommand(*cmd))
            })?;
            (originator, bytes)
        }
        "6.24.1" => {
            let req = ReadRequest::from_xml(xml)?;
            let code = options.read_as.unwrap_or_else(|| req.message_code());
            let originator = originator_or(
                options,
                options.acb,
                "SRV 6.24.1 is originated by DCC's ACB",
            )?;
            let (header, payload) = credential_query_parts(
                code,
                originator,
                req.request_id.target,
                counter,
                &req.roles,
            );
            (originator, message::build_precommand(&header, &payload)?)
        }
        _ => return Err(BuildError::Unsupported(variant)),
    };
    let parsed = message::parse(&bytes)?;
    let recipient = parsed.header().recipient;
    // DCC's ACB reads with its MAC and the `00` byte (the 6.24.1 service's rule); a CS02b or
    // CS02g command as its mode's row says.
    let protection = match message::mode_protection(parsed.payload()) {
        Some(p) => p,
        None if variant == "6.24.1" => Protection::MacOnly,
        None => return Err(BuildError::Unsupported(variant)),
    };
    Ok(DuisPrecommand {
        variant,
        originator,
        recipient,
        bytes,
        protection,
        notes,
    })
}
