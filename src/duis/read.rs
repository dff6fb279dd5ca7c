//! SRV 6.24.1 `RetrieveDeviceSecurityCredentialsKRP`: which remote parties' credentials a
//! device holds. DCC's ACB sends it — not the requesting Service User — as a CS02a (0x0008) or
//! CS02f (0x011B) command authorised by {accessControlBroker, keyAgreement}, with no signature
//! and the ACB's MAC, listing the requested roles in the request's order.
//!
//! | DUIS | GBCS |
//! |---|---|
//! | `RemotePartyRole` (1 to 7) | `remotePartyRolesCredentialsRequired`, in order (ACB 4, NetworkOperator 3, Recovery 1, Root 0, Supplier 2, TransCoS 5, LoadController 8) |
//! | `RequestID` target | the recipient |
//! | — | originator: DCC's ACB; `[2]`-like authorising cell {ACB, KA}; counter: the ACB's |
//!
//! **CS02a or CS02f** is not in the request: the reference data has a CS02f that asks for the
//! load controller and one that asks for the TCoS party alone. [`ReadRequest::message_code`]
//! picks CS02f when the load controller is asked for (the CS02a of older GBCS versions has no
//! such role), CS02a otherwise (inferred), and the caller may choose.

use alloc::vec::Vec;

use super::{DuisError, RequestId};
use crate::cos::command::credential_query_for;
use crate::crypto::SharedSecret;
use crate::frame::{EntityId, MessageCode};
use crate::message::GbcsError;
use crate::payload::RemotePartyRole;

/// An SRV 6.24.1 request read from DUIS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadRequest {
    /// The request ID.
    pub request_id: RequestId,
    /// The roles asked for, in order.
    pub roles: Vec<RemotePartyRole>,
}

/// A DUIS `RemotePartyRole` name as a GBCS role.
fn role(name: &str) -> Option<RemotePartyRole> {
    Some(match name {
        "ACB" => RemotePartyRole::ACCESS_CONTROL_BROKER,
        "NetworkOperator" => RemotePartyRole::NETWORK_OPERATOR,
        "Recovery" => RemotePartyRole::RECOVERY,
        "Root" => RemotePartyRole::ROOT,
        "Supplier" => RemotePartyRole::SUPPLIER,
        "TransCoS" => RemotePartyRole::TRANSITIONAL_COS,
        "LoadController" => RemotePartyRole::LOAD_CONTROLLER,
        _ => return None,
    })
}

impl ReadRequest {
    /// Reads an SRV 6.24.1 request.
    ///
    /// # Errors
    /// [`DuisError::Schema`] for no role, more than 7 or an unknown role name;
    /// [`DuisError::NotService`] for another service.
    pub fn from_xml(xml: &str) -> Result<Self, DuisError> {
        super::read_request(
            xml,
            "6.24.1",
            &[("6.24.1", "RetrieveDeviceSecurityCredentialsKRP")],
            Self::read,
        )
    }

    fn read(
        request_id: RequestId,
        _: &str,
        req: roxmltree::Node<'_, '_>,
    ) -> Result<Self, DuisError> {
        // The schema check has made these 1 to 7 `RemotePartyRole` elements of known names.
        let roles = req
            .children()
            .filter(|n| n.is_element())
            .map(|n| role(super::value(n).trim()).ok_or(DuisError::Invalid("RemotePartyRole")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { request_id, roles })
    }

    /// CS02f (0x011B) when the load controller is asked for, CS02a (0x0008) otherwise
    /// (inferred; see the module docs).
    #[must_use]
    pub fn message_code(&self) -> MessageCode {
        if self.roles.contains(&RemotePartyRole::LOAD_CONTROLLER) {
            MessageCode::CS02F
        } else {
            MessageCode::CS02A
        }
    }

    /// The command DCC's ACB `acb` sends with its `counter` under `code` (CS02a or CS02f),
    /// MAC'd with `acb_secret` (ACB KA × the device's KA).
    ///
    /// # Errors
    /// [`GbcsError`] for a code that is not CS02a/CS02f, or an encoding fault.
    pub fn command(
        &self,
        acb: EntityId,
        counter: u64,
        code: MessageCode,
        acb_secret: &SharedSecret,
    ) -> Result<Vec<u8>, GbcsError> {
        credential_query_for(
            code,
            acb,
            self.request_id.target,
            counter,
            &self.roles,
            Some(acb_secret),
        )
    }
}
