//! The frame layer: the MAC header (general ciphering, tag `0xDD`) and the grouping header
//! (general signing, tag `0xDF`) that wrap every GBCS message, and the split of a whole
//! message into its parts ([`Frame`]).
//!
//! ```text
//! [MAC header]  DD 00 00 00 00 00 00 <len> 11 <IC(4)>          (optional)
//! grouping hdr  DF 09 <CRA> <counter(8)> 08 <originator(8)> 08 <recipient(8)>
//!               <date-time len 00|0C> [date-time(12)] <oi len> <message code(2)> [supplementary]
//!               <content len>
//! payload       <content>
//! tail          40 <r(32)> <s(32)>  |  00  |  (nothing: a pre-command)
//! [MAC]         <MAC(12)>                                       (with a MAC header)
//! ```
//!
//! # The no-panic contract
//!
//! Every parse function in this module is total: for any input it returns a value or an
//! [`Error`](crate::Error) naming the field and the byte offset. Views check their input once
//! when built (`new_checked`); after that no accessor can fail or panic. Lengths are BER
//! definite lengths of at most three octets on input and minimal on output.

pub mod grouping;
pub mod mac;

use core::fmt;

use crate::error::{ErrorKind, Result};
use crate::wire_enum::wire_enum;

pub use grouping::{
    GeneralSigning, GroupingHeader, GroupingHeaderView, OtherInformation, SignatureTail,
};
pub use mac::{MacHeader, MacHeaderView, SecurityControl, MAC_LEN};

/// An EUI-64 entity identifier (a party's or device's system title), 8 bytes.
///
/// Displays and parses as 16 upper-case hex digits, e.g. `90B3D51F30000004`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EntityId(pub [u8; 8]);

impl EntityId {
    /// The identifier as a big-endian integer.
    #[must_use]
    pub const fn to_u64(self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    /// The identifier of a big-endian integer.
    #[must_use]
    pub const fn from_u64(v: u64) -> Self {
        Self(v.to_be_bytes())
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::hex::fmt_upper(&self.0, f)
    }
}

/// 16 upper-case hex digits.
#[cfg(feature = "serde")]
impl serde::Serialize for EntityId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// 16 hex digits.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for EntityId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        crate::serde_util::deserialize_from_str(d)
    }
}

impl fmt::Debug for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntityId({self})")
    }
}

impl core::str::FromStr for EntityId {
    type Err = crate::hex::HexError;

    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        let mut out = [0u8; 8];
        crate::hex::decode_exact(s, &mut out)?;
        Ok(Self(out))
    }
}

wire_enum! {
    /// The CRA flag of a grouping header: Command, Response or Alert. Unknown values are kept.
    pub struct CraFlag(u8);
    unknown "0x{:02X}";
    /// `0x01`: a command.
    COMMAND = 1 => "Command",
    /// `0x02`: a response.
    RESPONSE = 2 => "Response",
    /// `0x03`: an alert.
    ALERT = 3 => "Alert",
}

wire_enum! {
    /// A GBCS message code (the first two bytes of other-information). Unknown codes are
    /// kept; the names are the use cases' and, for CS02b/CS02g, the mode each carries (which
    /// mode a code carries is stated once, in `payload::MODE_MESSAGE_CODES`).
    pub struct MessageCode(u16);
    unknown "0x{:04X}";
    /// CS02a Provide Security Credential Details.
    CS02A = 0x0008 => "CS02a Provide Security Credential Details",
    /// CS02c Issue Security Credentials.
    CS02C = 0x000A => "CS02c Issue Security Credentials",
    /// CS02d Update Device Certificate on Device.
    CS02D = 0x000B => "CS02d Update Device Certificate on Device",
    /// CS02e Provide Device Certificate from Device.
    CS02E = 0x000C => "CS02e Provide Device Certificate from Device",
    /// CS02f Provide Security Credential Details (CS02a payloads).
    CS02F = 0x011B => "CS02f Provide Security Credential Details",
    /// CS02b rootBySupplier (mode 0).
    CS02B_ROOT_BY_SUPPLIER = 0x0100 => "CS02b rootBySupplier",
    /// CS02b rootByWanProvider (mode 1).
    CS02B_ROOT_BY_WAN_PROVIDER = 0x0101 => "CS02b rootByWanProvider",
    /// CS02b supplierBySupplier (mode 2).
    CS02B_SUPPLIER_BY_SUPPLIER = 0x0102 => "CS02b supplierBySupplier",
    /// CS02b networkOperatorByNetworkOperator (mode 3).
    CS02B_NO_BY_NO = 0x0103 => "CS02b networkOperatorByNetworkOperator",
    /// CS02b accessControlBrokerByACB (mode 4).
    CS02B_ACB_BY_ACB = 0x0104 => "CS02b accessControlBrokerByACB",
    /// CS02b wanProviderByWanProvider (mode 5).
    CS02B_WAN_PROVIDER_BY_WAN_PROVIDER = 0x0105 => "CS02b wanProviderByWanProvider",
    /// CS02b transCoSByTransCoS (mode 6): the TCoS→ECoS migration command.
    CS02B_TRANS_COS_BY_TRANS_COS = 0x0106 => "CS02b transCoSByTransCoS",
    /// CS02b supplierByTransCoS (mode 7): SRV 6.23.
    CS02B_SUPPLIER_BY_TRANS_COS = 0x0107 => "CS02b supplierByTransCoS",
    /// CS02b anyExceptAbnormalRootByRecovery (mode 8).
    CS02B_RECOVERY = 0x0108 => "CS02b anyExceptAbnormalRootByRecovery",
    /// CS02b anyByContingency (mode 9).
    CS02B_CONTINGENCY = 0x0109 => "CS02b anyByContingency",
    /// CS02g loadControllerByLoadController (mode 10).
    CS02G_LOAD_CONTROLLER_BY_LOAD_CONTROLLER = 0x0125 => "CS02g loadControllerByLoadController",
    /// CS02g loadControllerBySupplier (mode 11).
    CS02G_LOAD_CONTROLLER_BY_SUPPLIER = 0x0126 => "CS02g loadControllerBySupplier",
    /// CS06 future-dated execution alert.
    CS06_ALERT = 0x00CA => "CS06 future-dated execution alert",
    /// The CS02b future-dated execution alert.
    CS02B_ALERT = 0x00CB => "CS02b future-dated execution alert",
    /// The CS02g future-dated execution alert. Not in the `gbcs-cs02.md` digest: the RTDS
    /// CS02g alerts (`*_8F66_*`, `*_8F67_*`) carry this code and the 0x00CB payload.
    CS02G_ALERT = 0x0124 => "CS02g future-dated execution alert",
}

impl MessageCode {
    /// Whether this code carries the Update Security Credentials alert payload (0x00CB for
    /// CS02b, 0x0124 for CS02g).
    #[must_use]
    pub const fn is_update_security_credentials_alert(self) -> bool {
        matches!(self.0, 0x00CB | 0x0124)
    }

    /// Whether this code carries CS02a payloads (CS02a, CS02f).
    #[must_use]
    pub const fn is_credential_details(self) -> bool {
        matches!(self.0, 0x0008 | 0x011B)
    }
}

/// A 12-byte DLMS date-time as carried in a grouping header.
///
/// ```text
/// year(2) month(1) day(1) day-of-week(1) hour(1) minute(1) second(1) hundredths(1)
/// deviation(2) clock-status(1)
/// ```
/// `0xFF` (and `0x8000` for the deviation) mean "not specified".
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DlmsDateTime(pub [u8; 12]);

impl DlmsDateTime {
    /// The year (`0xFFFF` when not specified).
    #[must_use]
    pub const fn year(&self) -> u16 {
        u16::from_be_bytes([self.0[0], self.0[1]])
    }
    /// The month, 1–12.
    #[must_use]
    pub const fn month(&self) -> u8 {
        self.0[2]
    }
    /// The day of the month, 1–31.
    #[must_use]
    pub const fn day(&self) -> u8 {
        self.0[3]
    }
    /// The hour.
    #[must_use]
    pub const fn hour(&self) -> u8 {
        self.0[5]
    }
    /// The minute.
    #[must_use]
    pub const fn minute(&self) -> u8 {
        self.0[6]
    }
    /// The second.
    #[must_use]
    pub const fn second(&self) -> u8 {
        self.0[7]
    }
}

impl fmt::Debug for DlmsDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DlmsDateTime({:04}-{:02}-{:02} {:02}:{:02}:{:02})",
            self.year(),
            self.month(),
            self.day(),
            self.hour(),
            self.minute(),
            self.second()
        )
    }
}

/// A whole GBCS message split into its frames: the optional MAC header and MAC, the general
/// signing APDU (grouping header, payload, signature tail).
///
/// Built by [`Frame::parse`], which checks every length and consumes every byte. The payload
/// is not interpreted here (see [`crate::payload`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    bytes: &'a [u8],
    mac_header: Option<MacHeader>,
    general_signing: GeneralSigning<'a>,
    mac: Option<[u8; MAC_LEN]>,
}

impl<'a> Frame<'a> {
    /// Splits a whole message. A leading `0xDD` means a MAC header; otherwise the message must
    /// start with the grouping header `0xDF`.
    ///
    /// # Errors
    /// Any framing fault, with its field and offset: a wrong tag or fixed byte, a length that
    /// overruns the input, bytes left over, a bad signature tail, an encrypted MAC'd content.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        match bytes.first().copied() {
            Some(mac::TAG) => {
                let view = MacHeaderView::new_checked(bytes)?;
                let mac_header = MacHeader::parse(&view);
                if mac_header.security_control != SecurityControl::AUTHENTICATION_ONLY {
                    return Err(crate::Error::new(
                        ErrorKind::UnsupportedSecurityControl,
                        view.security_control_offset(),
                        "MAC header: security control",
                    ));
                }
                let inner_base = view.header_len();
                let general_signing =
                    GeneralSigning::parse_at(view.authenticated_content(), inner_base, true)?;
                Ok(Self {
                    bytes,
                    mac_header: Some(mac_header),
                    general_signing,
                    mac: Some(view.mac()),
                })
            }
            _ => {
                let general_signing = GeneralSigning::parse_at(bytes, 0, false)?;
                Ok(Self {
                    bytes,
                    mac_header: None,
                    general_signing,
                    mac: None,
                })
            }
        }
    }

    /// The whole message.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The MAC header, when the message has one.
    #[must_use]
    pub const fn mac_header(&self) -> Option<&MacHeader> {
        self.mac_header.as_ref()
    }

    /// The general signing APDU: grouping header, payload and signature tail.
    #[must_use]
    pub const fn general_signing(&self) -> &GeneralSigning<'a> {
        &self.general_signing
    }

    /// The grouping header.
    #[must_use]
    pub const fn header(&self) -> &GroupingHeader<'a> {
        self.general_signing.header()
    }

    /// The payload bytes, exactly as received.
    #[must_use]
    pub const fn payload(&self) -> &'a [u8] {
        self.general_signing.payload()
    }

    /// The offset of the payload's first byte in the message.
    #[must_use]
    pub const fn payload_offset(&self) -> usize {
        self.general_signing.payload_offset()
    }

    /// The 12-byte MAC, when the message has a MAC header.
    #[must_use]
    pub const fn mac(&self) -> Option<&[u8; MAC_LEN]> {
        self.mac.as_ref()
    }
}
