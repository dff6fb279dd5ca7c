//! The CPU work the engine asks for, done: a pure function of the job and the keys, run by a
//! driver's workers (or inline by a test harness) and handed back as
//! [`Input::WorkDone`](super::Input::WorkDone).

use crate::cos::classify::from_credential_details;
use crate::cos::command::{credential_query, BuildError, CosSigner, MigrationCommand};
use crate::cos::migration::{
    interpret_alert, interpret_response, InvalidReason, IssuedCommand, LocalFault,
};
use crate::cos::registry::CosRegistry;
use crate::crypto::{CryptoError, KeyAgreement, SharedSecret};
use crate::frame::{CraFlag, EntityId, MessageCode};
use crate::message::GbcsError;

use super::types::{CommandKind, Reading, Work, WorkResult};

/// What the engine's work signs and MACs with: the keys live here, with the workers, never in
/// the engine core.
#[derive(Clone, Copy)]
pub struct MigrationContext<'a> {
    /// The TCoS and ECoS credentials.
    pub registry: &'a CosRegistry,
    /// The TCoS signer.
    pub tcos: CosSigner<'a>,
    /// The migration command (ECoS certificate checked).
    pub command: MigrationCommand<'a>,
    /// The ACB's key agreement (MACs every command). Put a
    /// [`CachedKeyAgreement`](crate::crypto::CachedKeyAgreement) here to agree once per device.
    pub acb: &'a (dyn KeyAgreement + Sync),
    /// The ACB's entity ID: the originator of the CS02a reads of a device's role-5 cell.
    pub acb_id: EntityId,
}

impl core::fmt::Debug for MigrationContext<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MigrationContext")
            .field("tcos", &self.tcos.credential)
            .field("acb_id", &self.acb_id)
            .finish_non_exhaustive()
    }
}

/// Runs `work` with the keys of `ctx`.
#[must_use]
pub fn execute(ctx: &MigrationContext<'_>, work: &Work) -> WorkResult {
    match work {
        Work::Build {
            device,
            kind,
            counter,
            in_cell,
            device_ka,
            ..
        } => {
            let z = match ctx.acb.agree(device_ka) {
                Ok(z) => z,
                Err(e) => return WorkResult::Local(LocalFault::KeyAgreement(e)),
            };
            let built = match kind {
                CommandKind::Read => {
                    credential_query(ctx.acb_id, *device, *counter, &z).map_err(BuildError::Message)
                }
                CommandKind::Migration => ctx.command.build(
                    ctx.registry,
                    *device,
                    in_cell.unwrap_or(ctx.tcos.credential),
                    &ctx.tcos,
                    *counter,
                    &z,
                ),
            };
            match built {
                Ok(bytes) => WorkResult::Built(bytes),
                Err(BuildError::Message(GbcsError::Crypto(
                    e @ (CryptoError::Backend | CryptoError::InvalidKey(_)),
                ))) => WorkResult::Local(LocalFault::Signing(e)),
                Err(e) => WorkResult::NotBuilt(e),
            }
        }
        Work::CheckReply {
            device,
            kind: CommandKind::Migration,
            counter,
            device_ds,
            bytes,
            ..
        } => WorkResult::Migration(interpret_response(
            bytes,
            &migration(ctx, *device, *counter),
            device_ds,
        )),
        Work::CheckReply {
            device,
            kind: CommandKind::Read,
            counter,
            device_ka,
            bytes,
            ..
        } => WorkResult::Read(match ctx.acb.agree(device_ka) {
            Ok(z) => check_read(ctx, *device, *counter, &z, bytes),
            // Without Z the reply cannot be checked: as if none had come.
            Err(_) => Reading::NoAnswer,
        }),
        Work::CheckAlert {
            device,
            counter,
            device_ds,
            bytes,
            ..
        } => WorkResult::Migration(interpret_alert(
            bytes,
            &migration(ctx, *device, *counter),
            device_ds,
        )),
    }
}

/// The migration command `counter` to `device` as the context issues it.
fn migration(ctx: &MigrationContext<'_>, device: EntityId, counter: u64) -> IssuedCommand {
    IssuedCommand {
        device,
        originator: ctx.tcos.credential.entity_id,
        counter,
        ecos: ctx.command.ecos_credential(),
    }
}

/// A read's reply, trusted only when its MAC verifies and it answers this read.
fn check_read(
    ctx: &MigrationContext<'_>,
    device: EntityId,
    counter: u64,
    z: &SharedSecret,
    reply: &[u8],
) -> Reading {
    let Ok(m) = crate::parse(reply) else {
        return Reading::Invalid(InvalidReason::Malformed);
    };
    let h = m.header();
    if h.cra_flag != CraFlag::RESPONSE || h.message_code() != MessageCode::CS02A {
        return Reading::Invalid(InvalidReason::WrongMessage);
    }
    if m.verify_mac(z).is_err() {
        return Reading::Invalid(InvalidReason::BadMac);
    }
    if h.originator != device || h.recipient != ctx.acb_id {
        return Reading::Invalid(InvalidReason::WrongParties);
    }
    if h.originator_counter != counter {
        return Reading::Invalid(InvalidReason::WrongCounter);
    }
    match from_credential_details(ctx.registry, &m) {
        Ok(c) => Reading::Cell(c),
        Err(_) => Reading::Invalid(InvalidReason::WrongMessage),
    }
}
