//! The grouping header (GBCS general signing APDU) and the signature tail.
//!
//! ```text
//! off  len  field
//!   0    1  general-signing tag            DF
//!   1    1  transaction-id length          09
//!   2    1  CRA flag                       01 command | 02 response | 03 alert
//!   3    8  originator counter             big-endian u64
//!  11    1  originator-system-title length 08
//!  12    8  business originator ID         EUI-64
//!  20    1  recipient-system-title length  08
//!  21    8  business target ID             EUI-64
//!  29    1  date-time length               00 | 0C
//!  30 0/12  date-time                      DLMS date-time
//!   n  1-4  other-information length       BER, >= 2
//!      2    message code                   big-endian
//!      *    supplementary other-information (carried opaquely)
//!   m  1-4  content length                 BER
//!      L    content                        the payload
//!      1    signature length               40 | 00 | absent in a pre-command
//!     64    signature                      r || s (when 40)
//! ```
//! Checked against every RTDS 4.5.0 message (`gbcs-cs02.md` A.2). The signed bytes are
//! everything after `DF` up to the last payload byte.

use crate::codec::{length_len, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};
use crate::frame::{CraFlag, DlmsDateTime, EntityId, MessageCode};
use crate::hex::Hex;

/// The general-signing APDU tag.
pub const TAG: u8 = 0xDF;
/// The transaction-id length: CRA flag (1) + originator counter (8).
pub const TRANSACTION_ID_LEN: u8 = 9;
/// The length of a system title (entity ID).
pub const SYSTEM_TITLE_LEN: u8 = 8;
/// The length of a present DLMS date-time.
pub const DATE_TIME_LEN: u8 = 12;
/// The signature-length byte of a signed message.
pub const SIGNATURE_LEN: u8 = 0x40;

mod field {
    pub const CRA: usize = 2;
    pub const COUNTER: core::ops::Range<usize> = 3..11;
    pub const ORIGINATOR: core::ops::Range<usize> = 12..20;
    pub const RECIPIENT: core::ops::Range<usize> = 21..29;
    pub const DATE_TIME_LEN: usize = 29;
    pub const DATE_TIME: usize = 30;
}

/// Other-information: the message code and any supplementary fields (kept as bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OtherInformation<'a> {
    /// The message code.
    pub message_code: MessageCode,
    /// Supplementary remote party fields after the message code, carried opaquely
    /// (`gbcs-cs02.md` A.9). Empty in every CS02a/CS02b message.
    pub supplementary: &'a [u8],
}

impl<'a> OtherInformation<'a> {
    /// Just a message code.
    #[must_use]
    pub const fn code(message_code: MessageCode) -> Self {
        Self {
            message_code,
            supplementary: &[],
        }
    }

    fn len(&self) -> usize {
        2 + self.supplementary.len()
    }
}

/// A checked view of a grouping header at the start of a byte slice.
///
/// [`GroupingHeaderView::new_checked`] validates the layout once; the accessors then read
/// fixed or recorded offsets and cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupingHeaderView<'a> {
    bytes: &'a [u8],
    base: usize,
    oi_start: usize,
    oi_len: usize,
    content_len: usize,
}

impl<'a> GroupingHeaderView<'a> {
    /// Checks the grouping header at the start of `bytes` (which may go on with the payload).
    ///
    /// # Errors
    /// A wrong tag or fixed length byte ([`ErrorKind::UnexpectedValue`]), a date-time length
    /// other than 0 or 12 or other-information shorter than a message code
    /// ([`ErrorKind::InvalidLength`]), or [`ErrorKind::Truncated`].
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self> {
        Self::new_checked_at(bytes, 0)
    }

    /// As [`Self::new_checked`], for bytes that start at absolute offset `base`.
    ///
    /// # Errors
    /// As [`Self::new_checked`], with offsets counted from `base`.
    pub fn new_checked_at(bytes: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::new(bytes, base);
        r.expect_u8(TAG, "grouping header: general-signing tag")?;
        r.expect_u8(TRANSACTION_ID_LEN, "grouping header: transaction-id length")?;
        r.take(9, "grouping header: CRA flag and originator counter")?;
        r.expect_u8(
            SYSTEM_TITLE_LEN,
            "grouping header: originator-system-title length",
        )?;
        r.take(8, "grouping header: business originator ID")?;
        r.expect_u8(
            SYSTEM_TITLE_LEN,
            "grouping header: recipient-system-title length",
        )?;
        r.take(8, "grouping header: business target ID")?;
        let at = r.offset();
        match r.u8("grouping header: date-time length")? {
            0 => {}
            DATE_TIME_LEN => {
                r.take(12, "grouping header: date-time")?;
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidLength,
                    at,
                    "grouping header: date-time length",
                ))
            }
        }
        let at = r.offset();
        let oi_len = r.ber_length("grouping header: other-information length")?;
        if oi_len < 2 {
            return Err(Error::new(
                ErrorKind::InvalidLength,
                at,
                "grouping header: other-information length",
            ));
        }
        let oi_start = r.offset() - base;
        r.take(oi_len, "grouping header: other-information")?;
        let content_len = r.ber_length("grouping header: content length")?;
        let header_len = r.offset() - base;
        let bytes = bytes.get(..header_len).unwrap_or_default();
        Ok(Self {
            bytes,
            base,
            oi_start,
            oi_len,
            content_len,
        })
    }

    fn get<const N: usize>(&self, at: usize) -> [u8; N] {
        self.bytes
            .get(at..at + N)
            .and_then(|s| s.try_into().ok())
            .unwrap_or([0; N])
    }

    /// The header bytes, from `DF` through the content length.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The header's length in bytes.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        self.bytes.len()
    }

    /// The absolute offset of the `DF` byte.
    #[must_use]
    pub const fn base(&self) -> usize {
        self.base
    }

    /// The CRA flag.
    #[must_use]
    pub fn cra_flag(&self) -> CraFlag {
        let [b] = self.get::<1>(field::CRA);
        CraFlag(b)
    }

    /// The originator counter.
    #[must_use]
    pub fn originator_counter(&self) -> u64 {
        u64::from_be_bytes(self.get(field::COUNTER.start))
    }

    /// The business originator ID.
    #[must_use]
    pub fn originator(&self) -> EntityId {
        EntityId(self.get(field::ORIGINATOR.start))
    }

    /// The business target ID.
    #[must_use]
    pub fn recipient(&self) -> EntityId {
        EntityId(self.get(field::RECIPIENT.start))
    }

    /// The date-time, when present.
    #[must_use]
    pub fn date_time(&self) -> Option<DlmsDateTime> {
        let [len] = self.get::<1>(field::DATE_TIME_LEN);
        (len == DATE_TIME_LEN).then(|| DlmsDateTime(self.get(field::DATE_TIME)))
    }

    /// The other-information field.
    #[must_use]
    pub fn other_information(&self) -> OtherInformation<'a> {
        let oi = self
            .bytes
            .get(self.oi_start..self.oi_start + self.oi_len)
            .unwrap_or_default();
        let (code, supplementary) = oi.split_at_checked(2).unwrap_or((&[0, 0], &[]));
        let code = u16::from_be_bytes([
            code.first().copied().unwrap_or(0),
            code.get(1).copied().unwrap_or(0),
        ]);
        OtherInformation {
            message_code: MessageCode(code),
            supplementary,
        }
    }

    /// The message code.
    #[must_use]
    pub fn message_code(&self) -> MessageCode {
        self.other_information().message_code
    }

    /// The announced content (payload) length.
    #[must_use]
    pub const fn content_len(&self) -> usize {
        self.content_len
    }
}

/// A grouping header as a typed value: parse it from a view, or build one and emit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GroupingHeader<'a> {
    /// Command, Response or Alert.
    pub cra_flag: CraFlag,
    /// The originator counter (for commands, also `authorisingRemotePartySeqNumber`).
    pub originator_counter: u64,
    /// The business originator ID.
    pub originator: EntityId,
    /// The business target ID.
    pub recipient: EntityId,
    /// The date-time (present in CS02b responses, absent in commands).
    pub date_time: Option<DlmsDateTime>,
    /// Message code and supplementary fields.
    pub other_information: OtherInformation<'a>,
    /// The content (payload) length.
    pub content_len: usize,
}

/// The header's fields in wire order: `cra_flag`, `originator_counter`, `originator`,
/// `recipient`, `date_time` (24 hex digits or `null`), `message_code`,
/// `supplementary_other_information` (hex), `content_length`.
#[cfg(feature = "serde")]
impl serde::Serialize for GroupingHeader<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("GroupingHeader", 8)?;
        st.serialize_field("cra_flag", &self.cra_flag)?;
        st.serialize_field("originator_counter", &self.originator_counter)?;
        st.serialize_field("originator", &self.originator)?;
        st.serialize_field("recipient", &self.recipient)?;
        st.serialize_field("date_time", &self.date_time.as_ref().map(|d| Hex(&d.0)))?;
        st.serialize_field("message_code", &self.other_information.message_code)?;
        st.serialize_field(
            "supplementary_other_information",
            &Hex(self.other_information.supplementary),
        )?;
        st.serialize_field("content_length", &self.content_len)?;
        st.end()
    }
}

/// `null` for a pre-command's absent tail, `"none"` for the `00` byte, `{"r", "s"}` (64 hex
/// digits each) for a signature.
#[cfg(feature = "serde")]
impl serde::Serialize for SignatureTail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        match self {
            Self::Absent => s.serialize_none(),
            Self::NoSignature => s.serialize_str("none"),
            Self::Signature(sig) => {
                let (r, sv) = sig.split_at(32);
                let mut st = s.serialize_struct("Signature", 2)?;
                st.serialize_field("r", &Hex(r))?;
                st.serialize_field("s", &Hex(sv))?;
                st.end()
            }
        }
    }
}

impl<'a> GroupingHeader<'a> {
    /// The typed value of a checked view.
    #[must_use]
    pub fn parse(view: &GroupingHeaderView<'a>) -> Self {
        Self {
            cra_flag: view.cra_flag(),
            originator_counter: view.originator_counter(),
            originator: view.originator(),
            recipient: view.recipient(),
            date_time: view.date_time(),
            other_information: view.other_information(),
            content_len: view.content_len(),
        }
    }

    /// The message code.
    #[must_use]
    pub const fn message_code(&self) -> MessageCode {
        self.other_information.message_code
    }

    /// The number of bytes [`Self::emit`] writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        let oi = self.other_information.len();
        30 + self.date_time.map_or(0, |_| 12) + length_len(oi) + oi + length_len(self.content_len)
    }

    /// Writes the header (minimal lengths) at the writer's position.
    ///
    /// # Errors
    /// [`ErrorKind::BufferTooSmall`].
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        const F: &str = "grouping header";
        w.put(&[TAG, TRANSACTION_ID_LEN, self.cra_flag.0], F)?;
        w.put(&self.originator_counter.to_be_bytes(), F)?;
        w.put_u8(SYSTEM_TITLE_LEN, F)?;
        w.put(&self.originator.0, F)?;
        w.put_u8(SYSTEM_TITLE_LEN, F)?;
        w.put(&self.recipient.0, F)?;
        match &self.date_time {
            None => w.put_u8(0, F)?,
            Some(dt) => {
                w.put_u8(DATE_TIME_LEN, F)?;
                w.put(&dt.0, F)?;
            }
        }
        w.put_length(self.other_information.len(), F)?;
        w.put(&self.other_information.message_code.0.to_be_bytes(), F)?;
        w.put(self.other_information.supplementary, F)?;
        w.put_length(self.content_len, F)
    }
}

/// What follows the payload in a general signing APDU.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureTail {
    /// `40 || r || s`: an ECDSA P-256 signature, raw 32-byte big-endian `r` and `s`.
    Signature([u8; 64]),
    /// `00`: no signature (an ACB-MAC'd command, a CS02a exchange with the ACB).
    NoSignature,
    /// Nothing at all: a pre-command, handed to a Known Remote Party to sign.
    Absent,
}

impl SignatureTail {
    /// The number of bytes the tail takes.
    #[must_use]
    pub const fn len(&self) -> usize {
        match self {
            Self::Signature(_) => 65,
            Self::NoSignature => 1,
            Self::Absent => 0,
        }
    }

    /// Whether the tail is absent (a pre-command).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// Writes the tail.
    ///
    /// # Errors
    /// [`ErrorKind::BufferTooSmall`].
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        match self {
            Self::Signature(sig) => {
                w.put_u8(SIGNATURE_LEN, "signature length")?;
                w.put(sig, "signature")
            }
            Self::NoSignature => w.put_u8(0, "signature length"),
            Self::Absent => Ok(()),
        }
    }
}

impl core::fmt::Debug for SignatureTail {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Signature(sig) => write!(f, "Signature({})", Hex(sig)),
            Self::NoSignature => f.write_str("NoSignature"),
            Self::Absent => f.write_str("Absent"),
        }
    }
}

/// A general signing APDU split into grouping header, payload and signature tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeneralSigning<'a> {
    bytes: &'a [u8],
    view: GroupingHeaderView<'a>,
    header: GroupingHeader<'a>,
    payload: &'a [u8],
    tail: SignatureTail,
}

impl<'a> GeneralSigning<'a> {
    /// Splits a general signing APDU that makes up the whole of `bytes`. The tail may be
    /// absent only for a command (a pre-command).
    ///
    /// # Errors
    /// Framing faults with field and offset; [`ErrorKind::TrailingData`] after the tail.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        Self::parse_at(bytes, 0, false)
    }

    /// As [`Self::parse`] for bytes starting at absolute offset `base`. The signature-length
    /// byte may be missing only in a pre-command: a command outside a MAC header (`in_mac`).
    pub(crate) fn parse_at(bytes: &'a [u8], base: usize, in_mac: bool) -> Result<Self> {
        let view = GroupingHeaderView::new_checked_at(bytes, base)?;
        let header = GroupingHeader::parse(&view);
        let mut r = Reader::new(bytes, base);
        r.take(view.header_len(), "grouping header")?;
        let payload = r.take(view.content_len(), "payload")?;
        let at = r.offset();
        let tail = match r.peek() {
            // Only a command can be a pre-command, and never inside a MAC header.
            None if in_mac || header.cra_flag != CraFlag::COMMAND => {
                return Err(Error::new(
                    ErrorKind::InvalidSignatureTail,
                    at,
                    "signature length",
                ));
            }
            None => SignatureTail::Absent,
            Some(0) => {
                r.u8("signature length")?;
                SignatureTail::NoSignature
            }
            Some(SIGNATURE_LEN) => {
                r.u8("signature length")?;
                SignatureTail::Signature(r.array::<64>("signature")?)
            }
            Some(found) => {
                return Err(Error::new(
                    ErrorKind::UnexpectedValue {
                        expected: SIGNATURE_LEN,
                        found,
                    },
                    at,
                    "signature length",
                ));
            }
        };
        r.finish("end of general signing APDU")?;
        Ok(Self {
            bytes,
            view,
            header,
            payload,
            tail,
        })
    }

    /// The whole APDU, from `DF` through the tail.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The checked header view.
    #[must_use]
    pub const fn view(&self) -> &GroupingHeaderView<'a> {
        &self.view
    }

    /// The typed grouping header.
    #[must_use]
    pub const fn header(&self) -> &GroupingHeader<'a> {
        &self.header
    }

    /// The payload, exactly as received.
    #[must_use]
    pub const fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The absolute offset of the payload's first byte.
    #[must_use]
    pub const fn payload_offset(&self) -> usize {
        self.view.base() + self.view.header_len()
    }

    /// The signature tail.
    #[must_use]
    pub const fn tail(&self) -> &SignatureTail {
        &self.tail
    }

    /// The bytes a Known Remote Party signs: the header without its `DF` tag, and the payload.
    #[must_use]
    pub fn signed_bytes(&self) -> &'a [u8] {
        let end = self.view.header_len() + self.payload.len();
        self.bytes.get(1..end).unwrap_or_default()
    }

    /// The pre-command: grouping header and payload, no tail.
    #[must_use]
    pub fn precommand_bytes(&self) -> &'a [u8] {
        let end = self.view.header_len() + self.payload.len();
        self.bytes.get(..end).unwrap_or_default()
    }
}
