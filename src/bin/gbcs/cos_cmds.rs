//! `gbcs classify`: a meter's credential state from its evidence, verified first.

use clap::ArgMatches;
use gbcs::cos::classify;
use gbcs::cos::CosRegistry;
use gbcs::crypto::KeyAgreement;
use gbcs::payload::Payload;

use crate::failure::{Failure, Result};
use crate::input::{parse, read_input, read_text, REGISTRY};
use crate::keys;

pub fn classify_cmd(m: &ArgMatches) -> Result<String> {
    let path = m
        .get_one::<String>("registry")
        .map(String::as_str)
        .unwrap_or_default();
    let registry =
        CosRegistry::from_text(&read_text(path, REGISTRY)?).map_err(|e| Failure::File {
            path: path.to_owned(),
            line: e.line as u64,
            column: Some(e.column),
            message: format!("expected {}", e.expected),
        })?;
    let bytes = read_input(m)?;
    let msg = parse(&bytes)?;
    let checked = authenticate_device(m, &msg)?;
    let c = match msg.payload() {
        Payload::CredentialDetailsResponse(_) => classify::from_credential_details(&registry, &msg),
        Payload::UpdateSecurityCredentialsResponse(_)
        | Payload::UpdateSecurityCredentialsAlert(_) => {
            classify::from_update_outcome(&registry, &msg)
        }
        _ => Err(classify::NotEvidence::WrongMessage),
    }
    .map_err(|e| Failure::decode(format!("not evidence of the meter's credentials: {e}")))?;
    let state = match c.state {
        gbcs::cos::CosState::Tcos => "TCOS".to_owned(),
        gbcs::cos::CosState::Ecos => "ECOS".to_owned(),
        gbcs::cos::CosState::Unknown(r) => format!("UNKNOWN: {r}"),
    };
    let e = c.evidence;
    Ok(format!(
        "{checked}state: {state}\nmatched: {}\nevidence: {} from device {} (counter {})\ncell: {}\nstatus: {}\n",
        c.matched.map_or("-".into(), |k| k.to_string()),
        e.source,
        e.device,
        e.counter.map_or("-".into(), |n| n.to_string()),
        e.credential.map_or("(none)".into(), |x| x.to_string()),
        e.status.map_or("-".into(), |s| s.to_string()),
    ))
}

/// Evidence is trusted only from the device: its signature, or the MAC of the ACB × device
/// pair, verified before anything is classified (`--no-verify` skips this, and says so).
/// Returns the line that says what was checked.
fn authenticate_device(m: &ArgMatches, msg: &gbcs::Message<'_>) -> Result<String> {
    use gbcs::crypto::keystore::{KeyRole, Keystore};
    use gbcs::frame::SignatureTail;
    if m.get_flag("no-verify") {
        return Ok("verified: NO (--no-verify: the evidence is taken on trust)\n".to_owned());
    }
    let device = msg.header().originator;
    let signed = matches!(msg.tail(), SignatureTail::Signature(_));
    if let Some(path) = m.get_one::<String>("device-key") {
        if !signed {
            return Err(Failure::usage(
                "the message is not signed: its MAC needs --keystore (the ACB's and the device's KA keys)",
            ));
        }
        let key = keys::peer(path).map_err(Failure::key)?;
        msg.verify_signature(&key).map_err(|e| {
            Failure::check(format!(
                "the device's signature does not verify with {path}: {e}"
            ))
        })?;
        return Ok(format!(
            "verified: signature of the device {device} with {path}\n"
        ));
    }
    let Some(dir) = m.get_one::<String>("keystore") else {
        return Err(Failure::usage(
            "classify verifies the device's signature or MAC first: give --keystore DIR or --device-key PEM, or --no-verify",
        ));
    };
    let ks = Keystore::open(dir).map_err(|e| Failure::key(e.to_string()))?;
    if signed {
        let key = ks
            .public_key(device, KeyRole::DigitalSignature)
            .map_err(|e| Failure::key(e.to_string()))?;
        msg.verify_signature(&key).map_err(|e| {
            Failure::check(format!(
                "the device {device}'s signature does not verify: {e}"
            ))
        })?;
        return Ok(format!(
            "verified: signature of the device {device} (keystore)\n"
        ));
    }
    if msg.frame().mac().is_some() {
        let acb = crate::input::dcc(m)?.0.ok_or_else(|| {
            Failure::usage("the evidence is MAC'd: say which ACB with --acb ENTITY or --dcc rtds")
        })?;
        let z = ks
            .key_agreement_key(acb, KeyRole::KeyAgreement)
            .and_then(|k| {
                let peer = ks.public_key(device, KeyRole::KeyAgreement)?;
                Ok(k.agree(&peer))
            })
            .map_err(|e| Failure::key(e.to_string()))?
            .map_err(|e| Failure::key(e.to_string()))?;
        msg.verify_mac(&z).map_err(|e| {
            Failure::check(format!(
                "the MAC of the ACB {acb} x device {device} does not verify: {e}"
            ))
        })?;
        return Ok(format!(
            "verified: MAC of the ACB {acb} x device {device}\n"
        ));
    }
    Err(Failure::check(
        "not authenticated: the message is neither signed nor MAC'd; --no-verify takes it on trust",
    ))
}
