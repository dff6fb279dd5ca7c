//! The message subcommands: decode, verify, sign, mac, build.

use clap::ArgMatches;
use gbcs::cli;
use gbcs::crypto::keystore::{KeyRole, Keystore};
use gbcs::crypto::KeyAgreement;
use gbcs::frame::SignatureTail;
use gbcs::payload::Payload;

use crate::failure::{Failure, Result};
use crate::input::{entity, name, parse, read_input, read_text};
use crate::keys;

pub fn decode(m: &ArgMatches) -> Result<String> {
    let bytes = read_input(m)?;
    let msg = parse(&bytes)?;
    if m.get_flag("duis-response") {
        let service = match m.get_one::<String>("service") {
            Some(v) => Some(gbcs::duis::Service::from_variant(v).ok_or_else(|| {
                Failure::usage(format!(
                    "--service {v}: not one of 6.15.1, 6.21, 6.23, 6.24.1, 8.5"
                ))
            })?),
            None => None,
        };
        return gbcs::duis::gbcs_response_xml(&msg, service)
            .map_err(|e| Failure::decode(format!("no DUIS response body: {e}")));
    }
    let description =
        cli::describe(&msg).map_err(|e| Failure::decode(format!("describing: {e}")))?;
    Ok(if m.get_flag("json") {
        description.to_string() + "\n"
    } else {
        cli::to_tree(&description)
    })
}

pub fn verify(m: &ArgMatches) -> Result<String> {
    let bytes = read_input(m)?;
    let msg = parse(&bytes)?;
    let dir = m
        .get_one::<String>("keystore")
        .map(String::as_str)
        .unwrap_or_default();
    let ks = Keystore::open(dir).map_err(|e| Failure::key(e.to_string()))?;
    let acb = entity(m, "acb")?;
    let h = msg.header();
    let mut out = String::new();
    let mut ok = true;
    // Something must authenticate the message: a signature or a MAC that verifies.
    let mut authenticated = false;
    let is_command = h.cra_flag == gbcs::frame::CraFlag::COMMAND;
    // Who must have signed: a command's originator (the party in the cell its mode names), a
    // response's or alert's device.
    let signer_is = if is_command {
        match msg.payload() {
            Payload::UpdateSecurityCredentialsCommand(c) => {
                match gbcs::payload::modes::rule(c.control.mode)
                    .and_then(|r| r.authorising_cell)
                {
                    Some(cell) => format!(
                        "the originator {}'s DS certificate; the mode's authorising cell is {{{}, {}}}",
                        h.originator, cell.role, cell.key_usage
                    ),
                    None => format!("the originator {}'s DS certificate", h.originator),
                }
            }
            _ => format!("the originator {}'s DS certificate", h.originator),
        }
    } else {
        format!("the device {}'s DS certificate", h.originator)
    };
    match msg.tail() {
        SignatureTail::Signature(_) => {
            let path = ks.path(h.originator, KeyRole::DigitalSignature, "pem");
            match ks.public_key(h.originator, KeyRole::DigitalSignature) {
                Ok(key) => match msg.verify_signature(&key) {
                    Ok(()) => {
                        authenticated = true;
                        out += &format!("signature: PASS with {} ({signer_is})\n", name(&path))
                    }
                    Err(e) => {
                        ok = false;
                        out += &format!("signature: FAIL with {}: {e}\n", name(&path));
                    }
                },
                Err(e) => {
                    ok = false;
                    out += &format!("signature: NO KEY: {e}\n");
                }
            }
        }
        SignatureTail::NoSignature => {
            out += "signature: none (00): authenticated by the MAC alone\n"
        }
        SignatureTail::Absent => out += "signature: absent (a pre-command)\n",
    }
    if msg.frame().mac().is_some() {
        // The MAC key is the shared secret of the ACB (or the remote party) and the device:
        // try each private key the keystore has against the other end's KA certificate.
        let device = if h.originator == acb || h.originator.0[0] != 0x00 {
            h.recipient
        } else {
            h.originator
        };
        let mut tried = Vec::new();
        let mut found = None;
        // A CS02 message's MAC is the ACB's with the device, nobody else's; for other
        // messages the keystore is searched for the pair.
        let pairs: &[(gbcs::frame::EntityId, gbcs::frame::EntityId)] = if msg.payload().is_typed() {
            &[(acb, device)]
        } else {
            &[
                (acb, device),
                (h.originator, h.recipient),
                (h.recipient, h.originator),
            ]
        };
        'search: for &(own, peer) in pairs {
            for role in [KeyRole::KeyAgreement, KeyRole::PrepaymentKeyAgreement] {
                let (Ok(private), Ok(public)) = (
                    ks.key_agreement_key(own, role),
                    ks.public_key(peer, KeyRole::KeyAgreement),
                ) else {
                    continue;
                };
                let label = format!(
                    "{} x {}",
                    name(&ks.path(own, role, "key")),
                    name(&ks.path(peer, KeyRole::KeyAgreement, "pem"))
                );
                let Ok(z) = private.agree(&public) else {
                    continue;
                };
                if msg.verify_mac(&z).is_ok() {
                    found = Some((label, own, peer));
                    break 'search;
                }
                tried.push(label);
            }
        }
        match found {
            Some((label, own, peer)) => {
                authenticated = true;
                let who = if (own, peer) == (acb, device) {
                    format!("the ACB {acb} x the device {device}")
                } else {
                    format!("{own} x {peer}")
                };
                out += &format!("MAC: PASS with Z = {label} ({who})\n");
            }
            None if tried.is_empty() => {
                ok = false;
                out += "MAC: NO KEY: no KA private key for either end in the keystore\n";
            }
            None => {
                ok = false;
                out += &format!("MAC: FAIL with {}\n", tried.join(", "));
            }
        }
    } else {
        out += "MAC: none (no MAC header)\n";
    }
    // A CS02b/CS02g command against its mode's row: fields, [3], and the protection.
    if let Payload::UpdateSecurityCredentialsCommand(c) = msg.payload() {
        let signed = matches!(msg.tail(), SignatureTail::Signature(_));
        let macd = msg.frame().mac().is_some();
        let verdict = gbcs::payload::modes::check(h.message_code(), c, h.originator_counter)
            .and_then(|()| match gbcs::payload::modes::rule(c.control.mode) {
                // A pre-command has no protection yet: only its fields are judged.
                Some(r) if !matches!(msg.tail(), SignatureTail::Absent) => {
                    r.check_protection(signed, macd)
                }
                _ => Ok(()),
            });
        match verdict {
            Ok(()) => out += &format!("mode rule: PASS (mode {})\n", c.control.mode),
            Err(v) => {
                ok = false;
                out += &format!("mode rule: FAIL: {v}\n");
            }
        }
    }
    if !authenticated && !m.get_flag("allow-unauthenticated") {
        ok = false;
        out += "not authenticated: nothing in this message can be checked (a pre-command, or 00 without a MAC header); --allow-unauthenticated accepts that\n";
    }
    if ok {
        Ok(out)
    } else {
        Err(Failure::check(out.trim_end().to_owned()))
    }
}

pub fn module(m: &ArgMatches) -> Option<&str> {
    m.get_one::<String>("pkcs11-module").map(String::as_str)
}

pub fn signing_key(m: &ArgMatches, spec: &str) -> Result<keys::Signer> {
    keys::signer(spec, module(m)).map_err(Failure::key)
}

pub fn sign(m: &ArgMatches) -> Result<String> {
    let bytes = read_input(m)?;
    let key = signing_key(
        m,
        m.get_one::<String>("key")
            .map(String::as_str)
            .unwrap_or_default(),
    )?;
    let signed = gbcs::message::sign_precommand(&bytes, &key.signer).map_err(|e| match e {
        gbcs::GbcsError::Crypto(c) => Failure::key(format!("signing failed: {c}")),
        gbcs::GbcsError::Codec(c) => Failure::decode(c.to_string()),
        gbcs::GbcsError::ModeRule(v) => Failure::check(v.to_string()),
    })?;
    Ok(gbcs::hex::encode_upper(&signed) + "\n")
}

fn shared_secret(m: &ArgMatches, key: &str, peer: &str) -> Result<gbcs::crypto::SharedSecret> {
    let private = keys::agreement(key, module(m)).map_err(Failure::key)?;
    let public = keys::peer(peer).map_err(Failure::key)?;
    private
        .key
        .agree(&public)
        .map_err(|e| Failure::key(format!("key agreement failed: {e}")))
}

pub fn mac(m: &ArgMatches) -> Result<String> {
    let bytes = read_input(m)?;
    let z = shared_secret(
        m,
        m.get_one::<String>("key")
            .map(String::as_str)
            .unwrap_or_default(),
        m.get_one::<String>("peer")
            .map(String::as_str)
            .unwrap_or_default(),
    )?;
    let out = gbcs::message::add_mac(&bytes, &z).map_err(|e| Failure::decode(format!("{e}")))?;
    Ok(gbcs::hex::encode_upper(&out) + "\n")
}

pub fn build(m: &ArgMatches) -> Result<String> {
    match m.subcommand() {
        Some(("srv-6.23", sub)) => build_srv623(sub),
        Some(_) => Err(Failure::usage("unknown build")),
        None => build_duis(m),
    }
}

/// The signing key (`--key`) and the MAC's shared secret (`--acb-key` × `--device-ka`) a build
/// was given, each optional.
fn build_keys(
    m: &ArgMatches,
) -> Result<(Option<keys::Signer>, Option<gbcs::crypto::SharedSecret>)> {
    let key = m
        .get_one::<String>("key")
        .map(|p| signing_key(m, p))
        .transpose()?;
    let z = match (
        m.get_one::<String>("acb-key"),
        m.get_one::<String>("device-ka"),
    ) {
        (Some(k), Some(p)) => Some(shared_secret(m, k, p)?),
        _ => None,
    };
    Ok((key, z))
}

/// With no key, the pre-command; otherwise the command signed and/or MAC'd as the keys say
/// (the builder refuses a protection the command's mode does not have).
fn emit(
    header: &gbcs::message::CommandHeader,
    payload: &Payload<'_>,
    signer: Option<&dyn gbcs::crypto::SignatureSigner>,
    z: Option<&gbcs::crypto::SharedSecret>,
) -> std::result::Result<Vec<u8>, gbcs::GbcsError> {
    match (signer, z) {
        (None, None) => gbcs::message::build_precommand(header, payload),
        _ => gbcs::message::build_command(header, payload, signer, z),
    }
}

/// `--originator`, or the service's default.
fn originator_or(m: &ArgMatches, default: gbcs::frame::EntityId) -> Result<gbcs::frame::EntityId> {
    match m.get_one::<String>("originator") {
        Some(_) => entity(m, "originator"),
        None => Ok(default),
    }
}

/// SRV 6.23's 0x0107 from `originator`, as both `build --duis` and `build srv-6.23` make it.
fn srv623_command(
    xml: &str,
    counter: u64,
    originator: gbcs::frame::EntityId,
    signer: Option<&dyn gbcs::crypto::SignatureSigner>,
    z: Option<&gbcs::crypto::SharedSecret>,
) -> Result<Vec<u8>> {
    let req =
        gbcs::duis::Srv623Request::from_xml(xml).map_err(|e| Failure::decode(e.to_string()))?;
    req.with_request(|r| {
        let command = r.payload(counter)?;
        emit(
            &r.header(originator, counter),
            &command.payload(),
            signer,
            z,
        )
    })
    .map_err(build_failure)
}

fn build_failure(e: gbcs::GbcsError) -> Failure {
    match e {
        gbcs::GbcsError::Crypto(c) => Failure::key(format!("signing or MAC failed: {c}")),
        other => Failure::decode(other.to_string()),
    }
}

/// `gbcs build --duis FILE`: the service from the request's `ServiceReferenceVariant`.
fn build_duis(m: &ArgMatches) -> Result<String> {
    let path = m
        .get_one::<String>("duis")
        .ok_or_else(|| Failure::usage("build needs --duis FILE (or the srv-6.23 subcommand)"))?;
    let xml = read_text(path)?;
    let variant = gbcs::duis::service_variant(&xml).map_err(|e| Failure::decode(e.to_string()))?;
    let counter = m
        .get_one::<u64>("counter")
        .copied()
        .ok_or_else(|| Failure::usage("--counter N is required"))?;
    let (key, z) = build_keys(m)?;
    let signer: Option<&dyn gbcs::crypto::SignatureSigner> = key
        .as_ref()
        .map(|k| &*k.signer as &dyn gbcs::crypto::SignatureSigner);
    let z = z.as_ref();
    let bytes = match variant.as_str() {
        "6.15.1" | "6.21" => {
            let req = gbcs::duis::KrpRequest::from_xml(&xml)
                .map_err(|e| Failure::decode(e.to_string()))?;
            let mut header = req.header(counter);
            header.originator = originator_or(m, header.originator)?;
            req.with_command(counter, |cmd| {
                emit(
                    &header,
                    &Payload::UpdateSecurityCredentialsCommand(*cmd),
                    signer,
                    z,
                )
            })
        }
        "6.23" => {
            let originator = originator_or(m, gbcs::duis::DCC_TCOS)?;
            return format_output(m, &srv623_command(&xml, counter, originator, signer, z)?);
        }
        "8.5" => {
            // The ACB replaces its own KA certificate: MAC only, no signature.
            let req = gbcs::duis::OptOutRequest::from_xml(&xml)
                .map_err(|e| Failure::decode(e.to_string()))?;
            let mut header = req.header(counter);
            header.originator = originator_or(m, header.originator)?;
            req.with_command(counter, |cmd| {
                emit(
                    &header,
                    &Payload::UpdateSecurityCredentialsCommand(*cmd),
                    signer,
                    z,
                )
            })
        }
        "6.24.1" => {
            // DCC's ACB reads the device: its counter, no signature, its MAC.
            let req = gbcs::duis::ReadRequest::from_xml(&xml)
                .map_err(|e| Failure::decode(e.to_string()))?;
            let code = match m.get_one::<String>("read-as").map(String::as_str) {
                Some("cs02a") => gbcs::frame::MessageCode::CS02A,
                Some("cs02f") => gbcs::frame::MessageCode::CS02F,
                _ => req.message_code(),
            };
            gbcs::cos::command::credential_query_for(
                code,
                originator_or(m, gbcs::duis::DCC_ACB)?,
                req.request_id.target,
                counter,
                &req.roles,
                z,
            )
        }
        other => {
            return Err(Failure::usage(format!(
                "SRV {other}: not a service gbcs builds yet (6.23, 6.15.1, 6.21, 6.24.1, 8.5)"
            )))
        }
    }
    .map_err(build_failure)?;
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
    )?;
    let counter = m.get_one::<u64>("counter").copied().unwrap_or_default();
    let (key, z) = build_keys(m)?;
    let signer = key
        .as_ref()
        .map(|k| &*k.signer as &dyn gbcs::crypto::SignatureSigner);
    let bytes = srv623_command(&xml, counter, entity(m, "originator")?, signer, z.as_ref())?;
    Ok(gbcs::hex::encode_upper(&bytes) + "\n")
}
