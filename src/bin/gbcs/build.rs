//! `gbcs build`: GBCS commands from DUIS service requests, with the request's certificates
//! verified and the signing key checked to be the originator's before anything is signed.

use clap::ArgMatches;
use gbcs::duis::build::{self, BuildError, BuildOptions};
use gbcs::duis::{CertificateTrust, DuisError};
use gbcs::frame::EntityId;
use gbcs::message::external::complete_precommand;
use gbcs::smki::{CertificateKind, SmkiCertificate, TrustAnchor};

use crate::failure::{Failure, Result};
use crate::input::{dcc, entity, now, read_text, DUIS_REQUEST};
use crate::keys::{self, Provenance};
use crate::messages::{shared_secret, signing_key};

pub fn build(m: &ArgMatches) -> Result<String> {
    match m.subcommand() {
        Some(("srv-6.23", sub)) => build_srv623(sub),
        Some(_) => Err(Failure::usage("unknown build")),
        None => build_duis(m),
    }
}

/// Says on stderr that an option given is not used, and why.
fn unused(option: &str, why: &str) {
    eprintln!("note: {option} is not used: {why}");
}

/// A DUIS reader's fault: a certificate that is not trusted or an execution time already
/// past is a failed check (exit 1); anything else is input that does not decode (exit 3).
fn duis_failure(e: &DuisError) -> Failure {
    if e.is_check_failure() {
        Failure::check(e.to_string())
    } else {
        Failure::decode(e.to_string())
    }
}

/// The time certificates are checked at and the SMKI root they must chain to
/// (`--trust-anchor`, a root certificate or public key in PEM); without a root, says on
/// stderr that the path was checked only up to the request's own CA.
fn trust(m: &ArgMatches, has_certificates: bool) -> Result<(Option<TrustAnchor>, i64)> {
    let anchor = match m.try_get_one::<String>("trust-anchor").ok().flatten() {
        Some(path) if !has_certificates => {
            unused("--trust-anchor", "this request carries no certificates");
            let _ = path;
            None
        }
        Some(path) => {
            let key = keys::peer(path).map_err(Failure::key)?;
            Some(TrustAnchor {
                key_id: key.key_id(),
                public_key: key,
            })
        }
        None => {
            if has_certificates {
                eprintln!(
                    "note: no --trust-anchor: each certificate was verified under the CA certificate the \
                     request carries, but that CA was not checked against the SMKI root"
                );
            }
            None
        }
    };
    Ok((anchor, now(m)?))
}

/// The signing key (`--key`) and the MAC's shared secret (`--acb-key` × `--device-ka`) a
/// build was given, each optional.
struct BuildKeys {
    signer: Option<keys::Signer>,
    z: Option<gbcs::crypto::SharedSecret>,
}

impl BuildKeys {
    fn from(m: &ArgMatches) -> Result<Self> {
        let signer = m
            .get_one::<String>("key")
            .map(|p| signing_key(m, p))
            .transpose()?;
        Ok(Self {
            signer,
            z: Self::from_mac(m)?,
        })
    }

    /// The MAC's shared secret (`--acb-key` × `--device-ka`), when both are given.
    fn from_mac(m: &ArgMatches) -> Result<Option<gbcs::crypto::SharedSecret>> {
        match (
            m.get_one::<String>("acb-key"),
            m.get_one::<String>("device-ka"),
        ) {
            (Some(k), Some(p)) => Ok(Some(shared_secret(m, k, p)?)),
            _ => Ok(None),
        }
    }

    fn signer(&self) -> Option<&dyn gbcs::crypto::SignatureSigner> {
        self.signer
            .as_ref()
            .map(|k| &*k.signer as &dyn gbcs::crypto::SignatureSigner)
    }

    /// Refuses a `--key` that is not `originator`'s DS key, where its certificate is known
    /// (`--key-cert`, a certificate beside it in a keystore folder, a PKCS#11 certificate
    /// object); says on stderr when nothing tells whose key it is.
    fn check_signer(&self, m: &ArgMatches, originator: EntityId) -> Result<()> {
        let Some(signer) = &self.signer else {
            if m.contains_id("key-cert") {
                unused("--key-cert", "no --key is given");
            }
            return Ok(());
        };
        let spec = m.get_one::<String>("key").map_or("--key", String::as_str);
        let known = match m.get_one::<String>("key-cert") {
            Some(path) => Provenance::Certificate(
                keys::certificate_der(path).map_err(Failure::key)?,
                path.clone(),
            ),
            None => match &signer.provenance {
                Provenance::Certificate(der, from) => {
                    Provenance::Certificate(der.clone(), from.clone())
                }
                Provenance::KeyAgreementFile(name) => Provenance::KeyAgreementFile(name.clone()),
                Provenance::Unknown => Provenance::Unknown,
            },
        };
        let (der, from) = match known {
            Provenance::Unknown => {
                eprintln!(
                    "note: nothing says whose key {spec} is (no --key-cert, no certificate beside it): \
                     not checked that it is {originator}'s DS key"
                );
                return Ok(());
            }
            Provenance::KeyAgreementFile(name) => {
                return Err(Failure::check(format!(
                    "{spec}: {name} is a key-agreement key (by its keystore name); the command is signed with {originator}'s digital-signature key"
                )))
            }
            Provenance::Certificate(der, from) => (der, from),
        };
        let cert = SmkiCertificate::from_der(&der)
            .map_err(|e| Failure::key(format!("{from}: not an SMKI certificate: {e}")))?;
        if signer
            .public
            .as_ref()
            .is_some_and(|k| k != cert.public_key())
        {
            return Err(Failure::check(format!(
                "{spec}: its certificate ({from}) is for another key"
            )));
        }
        let whose = match cert.kind() {
            CertificateKind::Organisation { entity_id, role } => {
                format!("{entity_id}'s (role {role})")
            }
            other => format!("a {} certificate's", other.name()),
        };
        let is_originator = matches!(
            cert.kind(),
            CertificateKind::Organisation { entity_id, .. } if entity_id == originator
        );
        if !is_originator || cert.key_usage() != gbcs::payload::KeyUsage::DIGITAL_SIGNATURE {
            return Err(Failure::check(format!(
                "{spec} is {whose} {} key ({from}), not the originator {originator}'s digital-signature key",
                cert.key_usage()
            )));
        }
        Ok(())
    }
}

/// `--originator` if given (checked as an entity ID).
fn originator(m: &ArgMatches) -> Result<Option<EntityId>> {
    match m.get_one::<String>("originator") {
        Some(_) => entity(m, "originator").map(Some),
        None => Ok(None),
    }
}

fn build_failure(e: gbcs::GbcsError) -> Failure {
    match e {
        gbcs::GbcsError::Crypto(c) => Failure::key(format!("signing or MAC failed: {c}")),
        other => Failure::decode(other.to_string()),
    }
}

/// The pre-command of a DUIS request (the library's dispatch on its service), the notes it
/// gives on stderr, then signed and MAC'd as the keys say once the signer is checked to be
/// the originator's. `signed: false` for a service whose command is never signed (its `--key`
/// is left unused; the caller says so); `has_certificates`: whether the request carries any.
fn duis_command(
    m: &ArgMatches,
    xml: &str,
    counter: u64,
    (acb, tcos): (Option<EntityId>, Option<EntityId>),
    has_certificates: bool,
    signed: bool,
) -> Result<Vec<u8>> {
    let (anchor, now) = trust(m, has_certificates)?;
    let options = BuildOptions {
        counter,
        originator: originator(m)?,
        acb,
        tcos,
        trust: CertificateTrust::new(anchor.as_ref(), now),
        read_as: match m
            .try_get_one::<String>("read-as")
            .ok()
            .flatten()
            .map(String::as_str)
        {
            Some("cs02a") => Some(gbcs::frame::MessageCode::CS02A),
            Some("cs02f") => Some(gbcs::frame::MessageCode::CS02F),
            _ => None,
        },
    };
    let pre = match build::precommand(xml, &options) {
        Ok(pre) => pre,
        Err(BuildError::Duis(e)) => return Err(duis_failure(&e)),
        Err(BuildError::NoOriginator(who)) => {
            return Err(Failure::usage(format!(
                "{who}: give --originator ENTITY, or DCC's parties with --dcc rtds (the RTDS test \
                 parties) or --acb/--tcos ENTITY"
            )))
        }
        Err(BuildError::Unsupported(v)) => {
            return Err(Failure::usage(BuildError::Unsupported(v).to_string()))
        }
        Err(BuildError::Gbcs(e)) => return Err(build_failure(e)),
        Err(other) => return Err(Failure::decode(other.to_string())),
    };
    for note in &pre.notes {
        eprintln!("warning: {note}");
    }
    let keys = if signed {
        let keys = BuildKeys::from(m)?;
        keys.check_signer(m, pre.originator)?;
        keys
    } else {
        BuildKeys {
            signer: None,
            z: BuildKeys::from_mac(m)?,
        }
    };
    complete_precommand(&pre.bytes, keys.signer(), keys.z.as_ref()).map_err(build_failure)
}

/// SRV 6.23's 0x0107 from the originator, as both `build --duis` and `build srv-6.23` make it.
fn srv623_command(
    m: &ArgMatches,
    xml: &str,
    counter: u64,
    tcos: Option<EntityId>,
) -> Result<Vec<u8>> {
    let variant = gbcs::duis::service_variant(xml).map_err(|e| Failure::decode(e.to_string()))?;
    if variant != "6.23" {
        return Err(duis_failure(&DuisError::NotService("6.23")));
    }
    duis_command(m, xml, counter, (None, tcos), true, true)
}

/// `gbcs build --duis FILE`: the service from the request's `ServiceReferenceVariant`.
fn build_duis(m: &ArgMatches) -> Result<String> {
    let path = m
        .get_one::<String>("duis")
        .ok_or_else(|| Failure::usage("build needs --duis FILE (or the srv-6.23 subcommand)"))?;
    let xml = read_text(path, DUIS_REQUEST)?;
    let variant = gbcs::duis::service_variant(&xml).map_err(|e| Failure::decode(e.to_string()))?;
    let counter = m
        .get_one::<u64>("counter")
        .copied()
        .ok_or_else(|| Failure::usage("--counter N is required"))?;
    let parties = dcc(m)?;
    if variant != "6.24.1" && m.contains_id("read-as") {
        unused("--read-as", "it chooses the code of a 6.24.1 read");
    }
    let bytes = match variant.as_str() {
        "8.5" if m.contains_id("key") => {
            // The ACB replaces its own KA certificate: MAC only, no signature.
            return Err(Failure::usage(
                "--key: an 8.5 opt-out (mode 4, accessControlBrokerByACB) is not signed, only MAC'd by the ACB",
            ));
        }
        "6.24.1" => {
            // DCC's ACB reads the device: its counter, no signature, its MAC.
            for option in ["key", "key-cert"] {
                if m.contains_id(option) {
                    unused(
                        &format!("--{option}"),
                        "a 6.24.1 read is MAC'd by the ACB, not signed, and carries no certificates",
                    );
                }
            }
            duis_command(m, &xml, counter, parties, false, false)?
        }
        _ => duis_command(m, &xml, counter, parties, true, true)?,
    };
    format_output(m, &bytes)
}

/// The built command as `--format` asks: hex (default), raw binary on stdout, or base64.
fn format_output(m: &ArgMatches, bytes: &[u8]) -> Result<String> {
    match m.get_one::<String>("format").map(String::as_str) {
        Some("binary") => {
            use std::io::Write as _;
            std::io::stdout()
                .write_all(bytes)
                .map_err(|e| Failure::io("stdout", e))?;
            Ok(String::new())
        }
        Some("base64") => {
            use base64ct::Encoding as _;
            Ok(base64ct::Base64::encode_string(bytes) + "\n")
        }
        _ => Ok(gbcs::hex::encode_upper(bytes) + "\n"),
    }
}

fn build_srv623(m: &ArgMatches) -> Result<String> {
    let xml = read_text(
        m.get_one::<String>("duis")
            .map(String::as_str)
            .unwrap_or_default(),
        DUIS_REQUEST,
    )?;
    let counter = m.get_one::<u64>("counter").copied().unwrap_or_default();
    let (_, tcos) = dcc(m)?;
    let bytes = srv623_command(m, &xml, counter, tcos)?;
    Ok(gbcs::hex::encode_upper(&bytes) + "\n")
}
