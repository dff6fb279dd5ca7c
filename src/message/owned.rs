//! Owned messages for services (feature `bytes`): a message that owns its bytes, cheap to
//! clone and to send across threads and async tasks, and that gives the same borrowed views
//! as [`crate::parse`] without parsing again.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bytes::{Bytes, BytesMut};
//! use gbcs::message::{self, CommandHeader, OwnedMessage};
//! use gbcs::payload::{CredentialDetailsCommand, Payload, RemotePartyRole, SeqOf,
//!     TrustAnchorCellIdentifier};
//!
//! let roles = [RemotePartyRole::TRANSITIONAL_COS];
//! let payload = Payload::CredentialDetailsCommand(CredentialDetailsCommand {
//!     authorising_cell: TrustAnchorCellIdentifier::ACB_KA,
//!     roles: SeqOf::from_slice(&roles),
//! });
//! let header = CommandHeader {
//!     message_code: gbcs::frame::MessageCode::CS02A,
//!     counter: 1,
//!     originator: gbcs::frame::EntityId::from_u64(0x90B3_D51F_3000_0002),
//!     recipient: gbcs::frame::EntityId::from_u64(0x00DB_1234_5678_90A0),
//! };
//! let mut out = BytesMut::new();
//! message::put_precommand(&header, &payload, &mut out)?;
//! let owned = OwnedMessage::parse_bytes(out.freeze())?;
//! let copy = owned.clone(); // shares the bytes
//! std::thread::spawn(move || assert_eq!(copy.message().header().originator_counter, 1))
//!     .join()
//!     .expect("thread");
//! assert_eq!(owned.message().payload(), &payload);
//! # Ok(()) }
//! ```

use alloc::sync::Arc;
use core::fmt;

use bytes::{BufMut, Bytes};
use yoke::Yoke;

use crate::error::{Error, ErrorKind};
use crate::message::{build_precommand, CommandHeader, Message};
use crate::payload::Payload;

/// A parsed message that owns its bytes: the [`Bytes`] and the [`Message`] views into them,
/// made once by [`OwnedMessage::parse_bytes`]. Cloning shares both (a reference count).
#[derive(Clone)]
pub struct OwnedMessage {
    parsed: Yoke<Message<'static>, Arc<Bytes>>,
}

impl OwnedMessage {
    /// Parses `bytes` (as [`crate::parse`] does) and keeps them with their views.
    ///
    /// # Errors
    /// As [`crate::parse`].
    pub fn parse_bytes(bytes: Bytes) -> Result<Self, Error> {
        let parsed = Yoke::try_attach_to_cart(Arc::new(bytes), |b: &Bytes| crate::parse(b))?;
        Ok(Self { parsed })
    }

    /// The parsed message, borrowed from the owned bytes: no parsing here.
    #[must_use]
    pub fn message(&self) -> &Message<'_> {
        self.parsed.get()
    }

    /// The message's bytes.
    #[must_use]
    pub fn bytes(&self) -> &Bytes {
        self.parsed.backing_cart()
    }
}

impl fmt::Debug for OwnedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedMessage").field(self.message()).finish()
    }
}

impl PartialEq for OwnedMessage {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for OwnedMessage {}

/// Writes the pre-command for `payload` into `buf` (any [`BufMut`]: a `BytesMut`, a `Vec`).
/// It is built in a `Vec` and copied once: a `BufMut`'s spare room is uninitialised memory,
/// which safe code can only fill by copying into it.
///
/// # Errors
/// As [`build_precommand`]; [`ErrorKind::BufferTooSmall`] when `buf` cannot take it.
pub fn put_precommand(
    header: &CommandHeader,
    payload: &Payload<'_>,
    buf: &mut impl BufMut,
) -> Result<(), crate::GbcsError> {
    let bytes = build_precommand(header, payload)?;
    Ok(put_all(&bytes, buf)?)
}

/// Writes the whole command (see [`crate::message::build_command`]) into `buf`.
///
/// # Errors
/// As [`crate::message::build_command`]; [`ErrorKind::BufferTooSmall`] when `buf` cannot
/// take it.
pub fn put_command(
    header: &CommandHeader,
    payload: &Payload<'_>,
    signer: Option<&dyn crate::crypto::SignatureSigner>,
    mac: Option<&crate::crypto::SharedSecret>,
    buf: &mut impl BufMut,
) -> Result<(), crate::GbcsError> {
    let bytes = crate::message::build_command(header, payload, signer, mac)?;
    Ok(put_all(&bytes, buf)?)
}

fn put_all(bytes: &[u8], buf: &mut impl BufMut) -> Result<(), Error> {
    if buf.remaining_mut() < bytes.len() {
        return Err(Error::new(ErrorKind::BufferTooSmall, 0, "buffer"));
    }
    buf.put_slice(bytes);
    Ok(())
}
