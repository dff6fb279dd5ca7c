//! Types shared by the CS02a and CS02b payloads (`gbcs-cs02.md` B.1, B.4, B.5).

use core::fmt;

use crate::ber::{self, ber_sequence, decode_fixed_octets, der_integer, Decode, Encode, Tagged};
use crate::codec::{LengthForm, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};
use crate::frame::EntityId;
use crate::wire_enum::wire_enum;

wire_enum! {
    /// `RemotePartyRole ::= INTEGER { root(0), recovery(1), supplier(2), networkOperator(3),
    /// accessControlBroker(4), transitionalCoS(5), wanProvider(6), issuingAuthority(7),
    /// loadController(8), other(127) }`. Unknown values are kept.
    pub struct RemotePartyRole(u8);
    unknown "{}";
    /// root (0).
    ROOT = 0 => "root",
    /// recovery (1).
    RECOVERY = 1 => "recovery",
    /// supplier (2).
    SUPPLIER = 2 => "supplier",
    /// networkOperator (3).
    NETWORK_OPERATOR = 3 => "networkOperator",
    /// accessControlBroker (4).
    ACCESS_CONTROL_BROKER = 4 => "accessControlBroker",
    /// transitionalCoS (5): the cell that holds the TCoS or ECoS party.
    TRANSITIONAL_COS = 5 => "transitionalCoS",
    /// wanProvider (6).
    WAN_PROVIDER = 6 => "wanProvider",
    /// issuingAuthority (7).
    ISSUING_AUTHORITY = 7 => "issuingAuthority",
    /// loadController (8), CS02g (name assumed, `gbcs-cs02.md` B.1).
    LOAD_CONTROLLER = 8 => "loadController",
    /// other (127).
    OTHER = 127 => "other",
}
der_integer!(RemotePartyRole(u8), ber::INTEGER, "remotePartyRole");

wire_enum! {
    /// `CellUsage ::= INTEGER { management(0), prePaymentTopUp(1) }`. Unknown values are kept.
    pub struct CellUsage(u8);
    unknown "{}";
    /// management (0), the DEFAULT.
    MANAGEMENT = 0 => "management",
    /// prePaymentTopUp (1).
    PREPAYMENT_TOP_UP = 1 => "prePaymentTopUp",
}
der_integer!(CellUsage(u8), ber::INTEGER, "cellUsage");

impl Default for CellUsage {
    fn default() -> Self {
        Self::MANAGEMENT
    }
}

wire_enum! {
    /// `StatusCode ::= ENUMERATED`: `success(0)` is certain; the other names follow
    /// gbcs-parser (`gbcs-cs02.md` B.4). Unknown values are kept.
    pub struct StatusCode(u8);
    unknown "{}";
    /// success (0).
    SUCCESS = 0 => "success",
    /// badCertificate (5).
    BAD_CERTIFICATE = 5 => "badCertificate",
    /// noTrustAnchor (10): the replacement does not chain to the root (CPV failure).
    NO_TRUST_ANCHOR = 10 => "noTrustAnchor",
    /// insufficientMemory (17).
    INSUFFICIENT_MEMORY = 17 => "insufficientMemory",
    /// trustAnchorNotFound (25): the device has no such role or cell.
    TRUST_ANCHOR_NOT_FOUND = 25 => "trustAnchorNotFound",
    /// resourcesBusy (30).
    RESOURCES_BUSY = 30 => "resourcesBusy",
    /// other (127).
    OTHER = 127 => "other",
}
der_integer!(StatusCode(u8), ber::ENUMERATED, "statusCode");

impl StatusCode {
    /// Whether this is `success`.
    #[must_use]
    pub const fn is_success(self) -> bool {
        self.0 == 0
    }
}

wire_enum! {
    /// `KeyUsage ::= BIT STRING` (X.509): digitalSignature(0), keyAgreement(4), keyCertSign(5),
    /// cRLSign(6).
    ///
    /// Bit *n* of the X.509 numbering is `0x8000 >> n` here. Encoded with the DER named-bit
    /// rule (trailing zero bits dropped): `03 02 07 80` digitalSignature, `03 02 03 08`
    /// keyAgreement, `03 02 02 04` keyCertSign. The names are those of single bits; a
    /// combination has none and prints as its bits (`0x8800`).
    pub struct KeyUsage(u16);
    unknown "0x{:04X}";
    /// digitalSignature (bit 0).
    DIGITAL_SIGNATURE = 0x8000 => "digitalSignature",
    /// keyAgreement (bit 4).
    KEY_AGREEMENT = 0x0800 => "keyAgreement",
    /// keyCertSign (bit 5).
    KEY_CERT_SIGN = 0x0400 => "keyCertSign",
    /// cRLSign (bit 6).
    CRL_SIGN = 0x0200 => "cRLSign",
}

impl KeyUsage {
    fn octets(self) -> ([u8; 2], usize, u8) {
        let bytes = self.0.to_be_bytes();
        let used = match bytes {
            [0, 0] => 0,
            [_, 0] => 1,
            _ => 2,
        };
        let unused = match used {
            0 => 0,
            1 => bytes[0].trailing_zeros(),
            _ => bytes[1].trailing_zeros(),
        };
        (bytes, used, u8::try_from(unused).unwrap_or(0))
    }
}

impl Tagged for KeyUsage {
    const TAG: u8 = ber::BIT_STRING;
}

impl Decode<'_> for KeyUsage {
    fn decode_value(r: &mut Reader<'_>) -> Result<Self> {
        const F: &str = "keyUsage";
        let at = r.offset();
        let unused = r.u8(F)?;
        let bits = r.remaining();
        r.take(bits.len(), F)?;
        let non_canonical = Error::new(ErrorKind::NonCanonical, at, F);
        let (value, last) = match *bits {
            [] if unused == 0 => return Ok(Self(0)),
            [a] => (u16::from(a) << 8, a),
            [a, b] => (u16::from_be_bytes([a, b]), b),
            [] => return Err(non_canonical),
            _ => return Err(Error::new(ErrorKind::ValueOutOfRange, at, F)),
        };
        // DER named-bit rule: the last octet is non-zero and `unused` is exactly its count of
        // trailing zero bits.
        if last == 0 || u32::from(unused) != last.trailing_zeros() {
            return Err(non_canonical);
        }
        Ok(Self(value))
    }
}

impl Encode for KeyUsage {
    fn value_len_in(&self, _: LengthForm) -> usize {
        1 + self.octets().1
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        let (bytes, used, unused) = self.octets();
        w.put_u8(unused, "keyUsage")?;
        w.put(bytes.get(..used).unwrap_or_default(), "keyUsage")
    }
}

/// An 8-byte key identifier: `0x4` nibble || low 60 bits of SHA-1 of the EC point
/// (`gbcs-cs02.md` B.5). Carried as an OCTET STRING of 8 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::hex::fmt_upper(&self.0, f)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// 16 upper-case hex digits.
#[cfg(feature = "serde")]
impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// 16 hex digits.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        crate::serde_util::deserialize_from_str(d)
    }
}

impl core::str::FromStr for KeyId {
    type Err = crate::hex::HexError;

    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        let mut out = [0u8; 8];
        crate::hex::decode_exact(s, &mut out)?;
        Ok(Self(out))
    }
}

macro_rules! eight_octets {
    ($ty:ty, $field:literal) => {
        impl Tagged for $ty {
            const TAG: u8 = ber::OCTET_STRING;
        }
        impl Decode<'_> for $ty {
            fn decode_value(r: &mut Reader<'_>) -> Result<Self> {
                decode_fixed_octets::<8>(r, $field).map(Self)
            }
        }
        impl Encode for $ty {
            fn value_len_in(&self, _: LengthForm) -> usize {
                8
            }
            fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
                w.put(&self.0, $field)
            }
        }
    };
}
eight_octets!(KeyId, "subjectKeyIdentifier");
eight_octets!(EntityId, "subjectUniqueID");

/// `SeqNumber ::= INTEGER (0..9223372036854775807)`.
pub type SeqNumber = u64;

/// The largest SeqNumber, `2^63 - 1`.
pub const MAX_SEQ_NUMBER: SeqNumber = 0x7FFF_FFFF_FFFF_FFFF;

/// The codec of a SeqNumber component: an INTEGER that must be at most
/// [`MAX_SEQ_NUMBER`], both when read and when written. Fields hold the plain
/// [`SeqNumber`]; [`ber_sequence!`](crate::ber) converts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SeqNo(pub SeqNumber);

/// The number.
#[cfg(feature = "serde")]
impl serde::Serialize for SeqNo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl From<SeqNumber> for SeqNo {
    fn from(v: SeqNumber) -> Self {
        Self(v)
    }
}

impl From<SeqNo> for SeqNumber {
    fn from(v: SeqNo) -> Self {
        v.0
    }
}

impl Tagged for SeqNo {
    const TAG: u8 = ber::INTEGER;
}

impl Decode<'_> for SeqNo {
    fn decode_value(r: &mut Reader<'_>) -> Result<Self> {
        let at = r.offset();
        let v = u64::decode_value(r)?;
        if v > MAX_SEQ_NUMBER {
            return Err(Error::new(ErrorKind::ValueOutOfRange, at, "SeqNumber"));
        }
        Ok(Self(v))
    }

    /// A value out of range is reported at the component's tag, with its name.
    fn decode_tagged(r: &mut Reader<'_>, tag: u8, field: &'static str) -> Result<Self> {
        let at = r.offset();
        let v = u64::decode_tagged(r, tag, field)?;
        if v > MAX_SEQ_NUMBER {
            return Err(Error::new(ErrorKind::ValueOutOfRange, at, field));
        }
        Ok(Self(v))
    }
}

impl Encode for SeqNo {
    fn value_len_in(&self, form: LengthForm) -> usize {
        self.0.value_len_in(form)
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        if self.0 > MAX_SEQ_NUMBER {
            return Err(Error::new(
                ErrorKind::ValueOutOfRange,
                w.position(),
                "SeqNumber",
            ));
        }
        self.0.encode_value(w)
    }
}

/// ```text
/// TrustAnchorCellIdentifier ::= SEQUENCE {
///     remotePartyRole  RemotePartyRole,
///     keyUsage         KeyUsage,
///     cellUsage        CellUsage DEFAULT management }
/// ```
/// The address of a trust anchor cell. `cellUsage` equal to `management` is never encoded,
/// and rejected when received (DER forbids encoding a DEFAULT value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrustAnchorCellIdentifier {
    /// The remote party role.
    pub role: RemotePartyRole,
    /// The key usage of the certificate the cell holds.
    pub key_usage: KeyUsage,
    /// The cell usage.
    pub cell_usage: CellUsage,
}

impl TrustAnchorCellIdentifier {
    /// A management cell.
    #[must_use]
    pub const fn new(role: RemotePartyRole, key_usage: KeyUsage) -> Self {
        Self {
            role,
            key_usage,
            cell_usage: CellUsage::MANAGEMENT,
        }
    }

    /// {transitionalCoS, digitalSignature}: the cell that authorises 0x0106 and 0x0107.
    pub const TRANSITIONAL_COS_DS: Self = Self::new(
        RemotePartyRole::TRANSITIONAL_COS,
        KeyUsage::DIGITAL_SIGNATURE,
    );
    /// {accessControlBroker, keyAgreement}: the cell that authorises a CS02a from the ACB.
    pub const ACB_KA: Self = Self::new(
        RemotePartyRole::ACCESS_CONTROL_BROKER,
        KeyUsage::KEY_AGREEMENT,
    );
}

ber_sequence! {
    impl<'a> TrustAnchorCellIdentifier {
        role: req RemotePartyRole => "remotePartyRole" as "remote_party_role",
        key_usage: req KeyUsage => "keyUsage" as "key_usage",
        cell_usage: default CellUsage = CellUsage::MANAGEMENT => "cellUsage" as "cell_usage",
    }
}

/// An X.509 certificate carried as its exact DER bytes (`Certificate` of RFC 5280); it is
/// embedded byte for byte, never re-encoded. Only its outer `SEQUENCE` is checked here.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificateDer<'a>(pub &'a [u8]);

impl<'a> CertificateDer<'a> {
    /// The certificate bytes, from the `30` tag through the signature.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// `{"length": n, "der": "<hex>"}`. What the certificate says (its kind, entity and key) is
/// the SMKI layer's to tell: `smki::CertificateSummary`.
#[cfg(feature = "serde")]
impl serde::Serialize for CertificateDer<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("CertificateDer", 2)?;
        st.serialize_field("length", &self.0.len())?;
        st.serialize_field("der", &crate::hex::Hex(self.0))?;
        st.end()
    }
}

impl fmt::Debug for CertificateDer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateDer({} bytes)", self.0.len())
    }
}

impl Tagged for CertificateDer<'_> {
    const TAG: u8 = ber::SEQUENCE;
}

impl<'a> Decode<'a> for CertificateDer<'a> {
    fn decode_value(r: &mut Reader<'a>) -> Result<Self> {
        // Only reached through `decode_tagged`, which this type overrides.
        let all = r.remaining().len();
        r.take(all, "certificate").map(Self)
    }

    #[inline]
    fn decode_tagged(r: &mut Reader<'a>, tag: u8, field: &'static str) -> Result<Self> {
        let start = *r;
        ber::read_tlv(r, tag, field)?;
        let used = r.offset() - start.offset();
        let mut whole = start;
        whole.take(used, field).map(Self)
    }
}

impl Encode for CertificateDer<'_> {
    fn value_len_in(&self, _: LengthForm) -> usize {
        // Never used: the certificate is written as it came, in any length form.
        self.0.len()
    }
    fn encoded_len_in(&self, _: LengthForm) -> usize {
        self.0.len()
    }
    fn encode_tagged(&self, w: &mut Writer<'_>, _tag: u8) -> Result<()> {
        w.put(self.0, "certificate")
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        w.put(self.0, "certificate")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn key_usage_known_answers_both_ways() {
        for (ku, der) in [
            (KeyUsage::DIGITAL_SIGNATURE, &[0x03u8, 0x02, 0x07, 0x80][..]),
            (KeyUsage::KEY_AGREEMENT, &[0x03, 0x02, 0x03, 0x08]),
            (KeyUsage::KEY_CERT_SIGN, &[0x03, 0x02, 0x02, 0x04]),
            (KeyUsage(0x8080), &[0x03, 0x03, 0x07, 0x80, 0x80]),
            (KeyUsage(0), &[0x03, 0x01, 0x00]),
        ] {
            assert_eq!(KeyUsage::from_ber(der), Ok(ku));
            let mut buf = [0u8; 8];
            assert_eq!(ku.encode_to_slice(&mut buf).unwrap(), der);
        }
    }

    #[test]
    fn rejects_non_canonical_key_usage() {
        for der in [
            &[0x03u8, 0x02, 0x00, 0x80][..],
            &[0x03, 0x03, 0x07, 0x80, 0x00],
            &[0x03, 0x01, 0x07],
        ] {
            let e = KeyUsage::from_ber(der).unwrap_err();
            assert_eq!(
                (e.kind(), e.offset()),
                (ErrorKind::NonCanonical, 2),
                "{der:02X?}"
            );
        }
    }

    #[test]
    fn cell_identifier_omits_and_refuses_the_default() {
        let top_up = [
            0x30, 0x0A, 0x02, 0x01, 0x02, 0x03, 0x02, 0x03, 0x08, 0x02, 0x01, 0x01,
        ];
        let cell = TrustAnchorCellIdentifier::from_ber(&top_up).unwrap();
        assert_eq!(cell.cell_usage, CellUsage::PREPAYMENT_TOP_UP);
        let mut buf = [0u8; 16];
        assert_eq!(cell.encode_to_slice(&mut buf).unwrap(), &top_up);
        let explicit_default = [
            0x30, 0x0A, 0x02, 0x01, 0x02, 0x03, 0x02, 0x03, 0x08, 0x02, 0x01, 0x00,
        ];
        let e = TrustAnchorCellIdentifier::from_ber(&explicit_default).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::NonCanonical, 9));
        let cos = [0x30, 0x07, 0x02, 0x01, 0x05, 0x03, 0x02, 0x07, 0x80];
        assert_eq!(
            TrustAnchorCellIdentifier::from_ber(&cos),
            Ok(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
        );
    }

    #[test]
    fn certificates_are_taken_whole() {
        let der = [0x30, 0x82, 0x00, 0x02, 0x05, 0x00, 0xFF];
        let mut r = Reader::new(&der, 0);
        let c = CertificateDer::decode(&mut r, "certificate").unwrap();
        assert_eq!(c.as_bytes(), &der[..6]);
        assert_eq!(r.remaining(), &[0xFF]);
    }
}
