//! The change-of-supplier parties' credentials (`ecos.md` §1).

use alloc::collections::BTreeSet;
use core::fmt;

use crate::frame::EntityId;
use crate::payload::{KeyId, KeyUsage, RemotePartyRole};
use crate::smki::SmkiCertificate;

/// A credential: the entity ID and key identifier of a digital-signature certificate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Credential {
    /// The party's entity ID.
    pub entity_id: EntityId,
    /// The certificate's key identifier.
    pub key_id: KeyId,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({}/{})", self.entity_id, self.key_id)
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.entity_id, self.key_id)
    }
}

/// Which change-of-supplier party a credential belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum CosParty {
    /// The transitional CoS party.
    Tcos,
    /// The enduring CoS party.
    Ecos,
}

/// Why a certificate could not be registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryError {
    /// The certificate did not parse.
    Certificate(crate::smki::SmkiError),
    /// Not a role-5 (transitionalCoS) digital-signature organisation certificate.
    NotCosSigningCertificate,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate(e) => write!(f, "{e}"),
            Self::NotCosSigningCertificate => {
                f.write_str("not a transitionalCoS digital-signature certificate")
            }
        }
    }
}

impl core::error::Error for RegistryError {}

/// The TCoS and ECoS credentials. Each party is a set: certificates are renewed, so one
/// party has several key IDs over time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct CosRegistry {
    tcos: BTreeSet<Credential>,
    ecos: BTreeSet<Credential>,
}

impl CosRegistry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a configured credential.
    pub fn add(&mut self, party: CosParty, credential: Credential) -> &mut Self {
        match party {
            CosParty::Tcos => self.tcos.insert(credential),
            CosParty::Ecos => self.ecos.insert(credential),
        };
        self
    }

    /// Adds the credential of a role-5 DS certificate.
    ///
    /// # Errors
    /// [`RegistryError`] when the certificate does not parse or is not a transitionalCoS
    /// digital-signature certificate.
    pub fn add_certificate(
        &mut self,
        party: CosParty,
        der: &[u8],
    ) -> Result<Credential, RegistryError> {
        let c = SmkiCertificate::from_der(der).map_err(RegistryError::Certificate)?;
        let credential = cos_credential(&c).ok_or(RegistryError::NotCosSigningCertificate)?;
        self.add(party, credential);
        Ok(credential)
    }

    /// The TCoS credentials.
    pub fn tcos(&self) -> impl Iterator<Item = &Credential> {
        self.tcos.iter()
    }

    /// The ECoS credentials.
    pub fn ecos(&self) -> impl Iterator<Item = &Credential> {
        self.ecos.iter()
    }

    /// Whether `credential` is one of `party`'s.
    #[must_use]
    pub fn holds(&self, party: CosParty, credential: &Credential) -> bool {
        match party {
            CosParty::Tcos => self.tcos.contains(credential),
            CosParty::Ecos => self.ecos.contains(credential),
        }
    }

    pub(crate) fn entity_in(&self, party: CosParty, entity: EntityId) -> bool {
        let set = match party {
            CosParty::Tcos => &self.tcos,
            CosParty::Ecos => &self.ecos,
        };
        set.iter().any(|c| c.entity_id == entity)
    }
}

/// Where a registry text is wrong: the line and column (both 1-based) and what was expected
/// there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistryTextError {
    /// The line.
    pub line: usize,
    /// The column (in characters).
    pub column: usize,
    /// What the grammar wanted at that place.
    pub expected: &'static str,
}

impl fmt::Display for RegistryTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: expected {}",
            self.line, self.column, self.expected
        )
    }
}

impl core::error::Error for RegistryTextError {}

impl CosRegistry {
    /// Reads the registry text format: one credential per line,
    ///
    /// ```text
    /// line       = [party spaces entity-id spaces key-id] [spaces] ["#" comment]
    /// party      = "tcos" | "ecos"            ; any case
    /// entity-id  = 16 hex digits
    /// key-id     = 16 hex digits
    /// ```
    ///
    /// Blank lines and comments are skipped.
    ///
    /// ```
    /// # use gbcs::cos::{CosParty, CosRegistry};
    /// let r = CosRegistry::from_text("# TCoS\ntcos 90B3D51F30000004 4B38EB47561D93E8\n")?;
    /// assert_eq!(r.tcos().count(), 1);
    /// let e = CosRegistry::from_text("tcos 90B3D51F30000004 4B38EB47\n").unwrap_err();
    /// assert_eq!((e.line, e.column, e.expected), (1, 23, "a key ID (16 hex digits)"));
    /// # Ok::<(), gbcs::cos::registry::RegistryTextError>(())
    /// ```
    ///
    /// # Errors
    /// [`RegistryTextError`] at the first place the text leaves the grammar.
    pub fn from_text(text: &str) -> Result<Self, RegistryTextError> {
        let mut registry = Self::new();
        for (n, line) in text.lines().enumerate() {
            if let Some((party, credential)) =
                registry_line(line).map_err(|(rest, expected)| RegistryTextError {
                    line: n + 1,
                    column: line.chars().count() - rest.chars().count() + 1,
                    expected,
                })?
            {
                registry.add(party, credential);
            }
        }
        Ok(registry)
    }

    /// The registry in its text format ([`Self::from_text`] reads it back).
    #[must_use]
    pub fn to_text(&self) -> alloc::string::String {
        use core::fmt::Write as _;
        let mut out = alloc::string::String::new();
        for (party, set) in [("tcos", &self.tcos), ("ecos", &self.ecos)] {
            for c in set {
                let _ = writeln!(out, "{party} {} {}", c.entity_id, c.key_id);
            }
        }
        out
    }
}

/// One registry line: a credential, or `None` for a blank or comment line. On error, the
/// input where parsing stopped and what was expected there.
fn registry_line(line: &str) -> Result<Option<(CosParty, Credential)>, (&str, &'static str)> {
    use nom::branch::alt;
    use nom::bytes::complete::{tag_no_case, take_while_m_n};
    use nom::character::complete::{space0, space1};
    use nom::combinator::{eof, map, opt, recognize};
    use nom::sequence::preceded;
    use nom::Parser as _;

    type Res<'a, T> = nom::IResult<&'a str, T, nom::error::Error<&'a str>>;
    // Each step names what it wants; the error keeps where the input stood.
    fn step<'a, T>(
        input: &'a str,
        expected: &'static str,
        mut parser: impl nom::Parser<&'a str, Output = T, Error = nom::error::Error<&'a str>>,
    ) -> Result<(&'a str, T), (&'a str, &'static str)> {
        parser.parse(input).map_err(|_| (input, expected))
    }
    fn hex16(i: &str) -> Res<'_, &str> {
        take_while_m_n(16, 16, |c: char| c.is_ascii_hexdigit()).parse(i)
    }
    fn end(i: &str) -> Res<'_, &str> {
        recognize((
            space0,
            opt(preceded(
                nom::character::complete::char('#'),
                nom::combinator::rest,
            )),
            eof,
        ))
        .parse(i)
    }

    let (rest, _) = step(line, "white space", space0)?;
    if end(rest).is_ok() {
        return Ok(None);
    }
    let (rest, party) = step(
        rest,
        "tcos or ecos",
        alt((
            map(tag_no_case("tcos"), |_| CosParty::Tcos),
            map(tag_no_case("ecos"), |_| CosParty::Ecos),
        )),
    )?;
    let (rest, _) = step(rest, "white space", space1)?;
    let (rest, entity) = step(rest, "an entity ID (16 hex digits)", hex16)?;
    let (rest, _) = step(rest, "white space", space1)?;
    let (rest, key) = step(rest, "a key ID (16 hex digits)", hex16)?;
    step(rest, "the end of the line or a # comment", end)?;
    // Both are exactly 16 hex digits by now, so these cannot fail; kept total all the same.
    Ok(Some((
        party,
        Credential {
            entity_id: entity.parse().map_err(|_| (rest, "an entity ID"))?,
            key_id: key.parse().map_err(|_| (rest, "a key ID"))?,
        },
    )))
}

/// The credential of a role-5 digital-signature organisation certificate.
#[must_use]
pub fn cos_credential(c: &SmkiCertificate<'_>) -> Option<Credential> {
    (c.role() == Some(RemotePartyRole::TRANSITIONAL_COS)
        && c.key_usage() == KeyUsage::DIGITAL_SIGNATURE)
        .then_some(Credential {
            entity_id: c.entity_id()?,
            key_id: c.subject_key_id(),
        })
}
