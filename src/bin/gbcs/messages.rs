//! The message subcommands: decode, verify, sign, mac, build.

use clap::ArgMatches;
use gbcs::cli;
use gbcs::crypto::keystore::{KeyRole, Keystore};
use gbcs::crypto::KeyAgreement;
use gbcs::frame::SignatureTail;
use gbcs::payload::Payload;

use crate::failure::{Failure, Result};
use crate::input::{name, parse, read_input};
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
    let (acb, _) = crate::input::dcc(m)?;
    let h = msg.header();
    let mut out = String::new();
    // The checks that failed, for the one-line verdict.
    let mut failed: Vec<&str> = Vec::new();
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
                        failed.push("signature");
                        out += &format!("signature: FAIL with {}: {e}\n", name(&path));
                    }
                },
                Err(e) => {
                    failed.push("signature");
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
        // The MAC key is the shared secret of the ACB and the device. The CRA flag says which
        // end is the device: a command's recipient, a response's or an alert's originator.
        let device = if is_command {
            h.recipient
        } else {
            h.originator
        };
        let remote = if is_command {
            h.originator
        } else {
            h.recipient
        };
        // A CS02 message's MAC is the ACB's with the device, nobody else's; another message's
        // may be the remote party's with the device.
        let parties: Vec<gbcs::frame::EntityId> = if msg.payload().is_typed() {
            acb.into_iter().collect()
        } else {
            acb.into_iter().chain([remote]).collect()
        };
        let (verdict, passed) = if parties.is_empty() {
            (
                String::from(
                    "MAC: NOT CHECKED: which ACB MACs it? give --acb ENTITY or --dcc rtds\n",
                ),
                false,
            )
        } else {
            mac_verdict(&ks, &msg, &parties, device, acb)
        };
        out += &verdict;
        if passed {
            authenticated = true;
        } else {
            failed.push("MAC");
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
                failed.push("mode rule");
                out += &format!("mode rule: FAIL: {v}\n");
            }
        }
    }
    if !authenticated && !m.get_flag("allow-unauthenticated") {
        if failed.is_empty() {
            failed.push("nothing authenticates the message");
        }
        out += "not authenticated: nothing in this message can be checked (a pre-command, or 00 without a MAC header); --allow-unauthenticated accepts that\n";
    }
    if failed.is_empty() {
        Ok(out)
    } else {
        // The report is output like any other; the verdict is the error.
        print!("{out}");
        Err(Failure::check(format!(
            "verification failed: {} (see the report on stdout)",
            failed.join(", ")
        )))
    }
}

/// The MAC checked with Z of each of `parties` (the ACB first) and `device`: tried with each
/// party's KA private keys in the keystore (management, then prepayment) against the device's
/// KA certificate. The line to print, and whether it passed; a missing or unreadable file is
/// named.
fn mac_verdict(
    ks: &Keystore,
    msg: &gbcs::Message<'_>,
    parties: &[gbcs::frame::EntityId],
    device: gbcs::frame::EntityId,
    acb: Option<gbcs::frame::EntityId>,
) -> (String, bool) {
    let public = match ks.public_key(device, KeyRole::KeyAgreement) {
        Ok(k) => k,
        Err(e) => {
            return (
                format!("MAC: NO KEY: the device {device}'s KA certificate: {e}\n"),
                false,
            )
        }
    };
    let mut tried = Vec::new();
    let mut missing = Vec::new();
    for &party in parties {
        for role in [KeyRole::KeyAgreement, KeyRole::PrepaymentKeyAgreement] {
            let private = match ks.key_agreement_key(party, role) {
                Ok(k) => k,
                Err(e) => {
                    missing.push(e.to_string());
                    continue;
                }
            };
            let label = format!(
                "{} x {}",
                name(&ks.path(party, role, "key")),
                name(&ks.path(device, KeyRole::KeyAgreement, "pem"))
            );
            match private.agree(&public) {
                Ok(z) if msg.verify_mac(&z).is_ok() => {
                    let who = if Some(party) == acb {
                        "the ACB"
                    } else {
                        "the party"
                    };
                    return (
                        format!(
                            "MAC: PASS with Z = {label} ({who} {party} x the device {device})\n"
                        ),
                        true,
                    );
                }
                Ok(_) => tried.push(label),
                Err(e) => tried.push(format!("{label} (key agreement failed: {e})")),
            }
        }
    }
    if tried.is_empty() {
        (
            format!(
                "MAC: NO KEY: no KA private key to try: {}\n",
                missing.join("; ")
            ),
            false,
        )
    } else {
        (format!("MAC: FAIL with {}\n", tried.join(", ")), false)
    }
}

pub fn module(m: &ArgMatches) -> Option<&str> {
    m.get_one::<String>("pkcs11-module").map(String::as_str)
}

pub fn signing_key(m: &ArgMatches, spec: &str) -> Result<keys::Signer> {
    keys::signer(spec, module(m), deterministic(m)).map_err(Failure::key)
}

/// Whether `--deterministic` was given (signatures by RFC 6979).
pub fn deterministic(m: &ArgMatches) -> bool {
    m.try_get_one::<bool>("deterministic")
        .ok()
        .flatten()
        .copied()
        .unwrap_or(false)
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

pub fn shared_secret(m: &ArgMatches, key: &str, peer: &str) -> Result<gbcs::crypto::SharedSecret> {
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
