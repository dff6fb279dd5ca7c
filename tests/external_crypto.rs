//! Signing and MACing outside the crate (`message::external`), against DCC's reference data:
//! the MAC inputs of every MAC'd CS02 message give its MAC, its bytes rebuild from the APDU
//! and the MAC, a signature made elsewhere appended to a pre-command gives the command, and
//! `complete_precommand` gives what `build_command` gives and refuses what the mode forbids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "support/shared.rs"]
mod shared;

use gbcs::crypto::keystore::KeyRole;
use gbcs::crypto::{gmac, KeyAgreement, SignatureSigner};
use gbcs::frame::{EntityId, SignatureTail};
use gbcs::message::{self, external, CommandHeader, GbcsError};
use gbcs::payload::modes::ModeViolation;

/// DCC's ACB's key-agreement private key from the RTDS keystore.
fn acb_key(ks: &gbcs::crypto::keystore::Keystore) -> gbcs::crypto::KeyAgreementKey {
    ks.key_agreement_key(EntityId::from_u64(shared::ACB), KeyRole::KeyAgreement)
        .expect("ACB KA key")
}

#[test]
fn the_mac_inputs_of_every_macd_cs02_message_give_its_mac_and_its_bytes() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = shared::keystore(&dir);
    let acb = acb_key(&ks);
    let mut checked = 0;
    for f in shared::cs02_files(&dir) {
        let m = gbcs::parse(&f.bytes).expect("parse");
        let Some(mac) = m.frame().mac() else {
            assert!(external::MacInputs::of_message(&m).is_err(), "{}", f.name);
            continue;
        };
        let h = m.header();
        let device = if h.cra_flag == gbcs::frame::CraFlag::COMMAND {
            h.recipient
        } else {
            h.originator
        };
        let Ok(peer) = ks.public_key(device, KeyRole::KeyAgreement) else {
            continue;
        };
        let z = acb.agree(&peer).expect("Z");
        let inputs = external::MacInputs::of_message(&m).expect("inputs");
        let tag = gmac(&inputs.mac_key(&z), &inputs.iv, &[&inputs.aad]);
        assert_eq!(&tag[..12], &mac[..], "{}", f.name);
        let apdu = m.frame().general_signing().as_bytes();
        if m.frame().mac_header().map(|h| h.invocation_counter) == Some(0) {
            assert_eq!(
                external::MacInputs::for_apdu(apdu).expect("for apdu"),
                inputs,
                "{}",
                f.name
            );
            assert_eq!(
                external::wrap_mac(apdu, mac).expect("wrap"),
                f.bytes,
                "{}",
                f.name
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "some MAC'd message had its keys");
}

#[test]
fn a_signature_made_elsewhere_appended_to_each_precommand_gives_its_command() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let files = shared::cs02_files(&dir);
    let mut checked = 0;
    for pre in files.iter().filter(|f| f.name.contains("_PRECOMMAND_")) {
        let command_name = pre.name.replace("_PRECOMMAND_", "_COMMAND_");
        let Some(command) = files
            .iter()
            .find(|f| f.folder == pre.folder && f.name == command_name)
        else {
            continue;
        };
        let m = gbcs::parse(&command.bytes).expect("parse");
        let SignatureTail::Signature(sig) = m.tail() else {
            continue;
        };
        let signed = external::signed_bytes(&pre.bytes).expect("signed bytes");
        assert_eq!(
            signed,
            m.frame().general_signing().signed_bytes(),
            "{}",
            pre.name
        );
        let apdu =
            external::append_signature(&pre.bytes, &gbcs::crypto::Signature(*sig)).expect("append");
        assert_eq!(apdu, m.frame().general_signing().as_bytes(), "{}", pre.name);
        checked += 1;
    }
    assert!(checked > 0, "some pre-command had its signed command");
}

#[test]
fn complete_precommand_gives_build_commands_bytes_and_refuses_what_the_mode_forbids() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = shared::keystore(&dir);
    let acb = acb_key(&ks);
    let tcos = ks
        .signing_key(EntityId::from_u64(0x90B3_D51F_3000_0004))
        .expect("TCoS DS key")
        // RFC 6979, so the two paths sign alike.
        .with_backend(gbcs::crypto::Backend::RustCrypto)
        .expect("RustCrypto key");
    let mut built = 0;
    for (name, path) in shared::duis_templates(&dir, &shared::DUIS_SERVICES) {
        let xml = std::fs::read_to_string(&path).expect("read");
        let options = gbcs::duis::build::BuildOptions {
            counter: 7000,
            originator: None,
            acb: Some(shared::RTDS_DCC.acb),
            tcos: Some(shared::RTDS_DCC.tcos),
            trust: shared::trust(),
            read_as: None,
        };
        let Ok(pre) = gbcs::duis::build::precommand(&xml, &options) else {
            continue;
        };
        let m = gbcs::parse(&pre.bytes).expect("the pre-command parses");
        assert_eq!(m.header().originator, pre.originator, "{name}");
        assert_eq!(m.header().recipient, pre.recipient, "{name}");
        let header = CommandHeader::of(m.header());
        let z = ks
            .public_key(pre.recipient, KeyRole::KeyAgreement)
            .ok()
            .map(|peer| acb.agree(&peer).expect("Z"));
        let signer: Option<&dyn SignatureSigner> = pre
            .protection
            .signed()
            .then_some(&tcos as &dyn SignatureSigner);
        let mac = if pre.protection.macd() {
            z.as_ref()
        } else {
            None
        };
        let ours = external::complete_precommand(&pre.bytes, signer, mac).expect(&name);
        let theirs =
            message::build_command(&header, m.payload(), signer, mac).expect("build_command");
        assert_eq!(ours, theirs, "{name}");
        // A protection the mode lacks is refused, as build_command refuses it; a read has no
        // mode rule (CS02a may be signed: RTDS NA_CS02aSignature) and is refused nothing.
        let Some(mode) = external::precommand_protection(&pre.bytes).expect("parses") else {
            assert!(
                name.contains("_6.24.1_"),
                "{name}: only reads have no mode rule"
            );
            assert_eq!(
                external::check_protection(&pre.bytes, true, true),
                Ok(()),
                "{name}"
            );
            built += 1;
            continue;
        };
        assert_eq!(mode, pre.protection, "{name}");
        if !pre.protection.signed() {
            assert_eq!(
                external::complete_precommand(&pre.bytes, Some(&tcos), None),
                Err(GbcsError::ModeRule(ModeViolation::Signature)),
                "{name}"
            );
        }
        if !pre.protection.macd() {
            if let Some(z) = &z {
                assert_eq!(
                    external::check_protection(&pre.bytes, false, true),
                    Err(GbcsError::ModeRule(ModeViolation::Mac)),
                    "{name}"
                );
                assert!(external::complete_precommand(&pre.bytes, None, Some(z)).is_err());
            }
        }
        built += 1;
    }
    assert!(built > 0, "some template built");
}

#[test]
fn a_truncated_or_tailless_apdu_is_refused_with_where() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let f = shared::cs02_file(
        &dir,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
    );
    let m = gbcs::parse(&f.bytes).expect("parse");
    let apdu = m.frame().general_signing().as_bytes();
    for n in 0..apdu.len() {
        let e = external::MacInputs::for_apdu(&apdu[..n]).expect_err("a prefix is refused");
        assert!(e.offset() <= n, "prefix {n}: {e}");
        assert!(
            external::wrap_mac(&apdu[..n], &[0; 12]).is_err(),
            "prefix {n}"
        );
    }
    let pre_len = apdu.len() - 65;
    assert!(external::signed_bytes(&apdu[..pre_len]).is_ok());
    assert!(
        external::signed_bytes(apdu).is_err(),
        "a signed APDU is no pre-command"
    );
}
