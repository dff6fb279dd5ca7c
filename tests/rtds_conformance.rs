//! Conformance against DCC's Reference Test Data Set 4.5.0 (`../shared/rtds`).
//!
//! For every message in the CS02a, CS02b, CS02f and CS02g folders: it decodes to typed values;
//! its signature verifies (commands with the originator's DS certificate, responses and alerts
//! with the device's); its MAC verifies where it has one (ACB KA × device KA); commands and
//! pre-commands re-encode byte-identical from their typed form; every pre-command plus its
//! signature is its command; and changing any byte of a signed or MAC'd region makes
//! verification fail. Every RTDS message of every use case decodes at the frame level, every
//! signature in it verifies, and every MAC but those of the PCS01/PCS02 device-to-device
//! messages (whose device KA private keys RTDS does not publish). Signatures and MACs are
//! checked on every crypto backend compiled in.

#[path = "support/shared.rs"]
mod shared;

use gbcs::crypto::keystore::{KeyRole, Keystore};
use gbcs::crypto::{Backend, KeyAgreement, SharedSecret};
use gbcs::frame::{EntityId, SignatureTail};
use gbcs::message::{self, CommandHeader, Message};
use gbcs::payload::Payload;
use shared::{RtdsFile, ACB};

/// The device end of a CS02 message: the recipient of a command, the originator otherwise.
fn device_of(m: &Message<'_>) -> EntityId {
    let h = m.header();
    if h.originator.0[0] == 0x00 && h.originator.0[1] == 0xDB {
        h.originator
    } else {
        h.recipient
    }
}

/// Z of the ACB's KA private key and the device's KA certificate.
fn acb_device_secret(ks: &Keystore, device: EntityId) -> SharedSecret {
    acb_device_secret_on(ks, device, Backend::DEFAULT)
}

/// Z of the ACB's KA private key and the device's KA certificate, both on `backend`.
fn acb_device_secret_on(ks: &Keystore, device: EntityId, backend: Backend) -> SharedSecret {
    let acb = ks
        .key_agreement_key(EntityId::from_u64(ACB), KeyRole::KeyAgreement)
        .map(|k| k.with_backend(backend).expect("backend"))
        .expect("ACB KA key");
    let dev = ks
        .public_key(device, KeyRole::KeyAgreement)
        .map(|k| k.with_backend(backend).expect("backend"))
        .expect("device KA certificate");
    acb.agree(&dev).expect("ECDH")
}

fn with_cs02<F: FnMut(&Keystore, &RtdsFile, Message<'_>)>(mut f: F) -> usize {
    let Some(dir) = shared::shared_dir() else {
        return 0;
    };
    let ks = shared::keystore(&dir);
    let files = shared::cs02_files(&dir);
    assert!(
        files.len() >= 60,
        "expected the RTDS CS02 folders, found {} files",
        files.len()
    );
    for file in &files {
        let m = gbcs::parse(&file.bytes).unwrap_or_else(|e| panic!("{}: {e}", file.name));
        f(&ks, file, m);
    }
    files.len()
}

#[test]
fn every_cs02_message_decodes_to_typed_values() {
    let mut kinds = [0usize; 5];
    let n = with_cs02(|_, file, m| {
        let i = match m.payload() {
            Payload::CredentialDetailsCommand(_) => 0,
            Payload::CredentialDetailsResponse(_) => 1,
            Payload::UpdateSecurityCredentialsCommand(_) => 2,
            Payload::UpdateSecurityCredentialsResponse(_) => 3,
            Payload::UpdateSecurityCredentialsAlert(_) => 4,
            Payload::Other(_) => panic!(
                "{}: payload not typed ({:?})",
                file.name,
                m.header().message_code()
            ),
        };
        kinds[i] += 1;
        let name_kind = if file.name.contains("_ALERT_") {
            4
        } else if file.name.contains("_RESPONSE_") {
            if file.folder.contains("CS02a") || file.folder.contains("CS02f") {
                1
            } else {
                3
            }
        } else if file.folder.contains("CS02a") || file.folder.contains("CS02f") {
            0
        } else {
            2
        };
        assert_eq!(i, name_kind, "{}", file.name);
    });
    eprintln!(
        "typed {n} CS02 messages: {kinds:?} (CS02a cmd, CS02a rsp, CS02b cmd, CS02b rsp, alert)"
    );
}

#[test]
fn every_cs02_signature_verifies_with_the_originators_certificate() {
    let mut signed = 0;
    with_cs02(|ks, file, m| {
        if let SignatureTail::Signature(_) = m.tail() {
            let key = ks
                .public_key(m.header().originator, KeyRole::DigitalSignature)
                .expect("DS certificate");
            for &b in Backend::ALL {
                let key = key.clone().with_backend(b).expect("backend");
                m.verify_signature(&key)
                    .unwrap_or_else(|e| panic!("{} on {b}: {e}", file.name));
            }
            signed += 1;
        } else {
            assert!(
                m.frame().mac().is_some() || file.is_precommand(),
                "{}: neither signed nor MAC'd",
                file.name
            );
        }
    });
    if shared::shared_dir().is_some() {
        assert!(signed >= 40, "only {signed} signed messages");
    }
}

#[test]
fn every_cs02_mac_verifies_with_the_acb_and_device_keys() {
    let mut macd = 0;
    with_cs02(|ks, file, m| {
        if m.frame().mac().is_some() {
            for &b in Backend::ALL {
                let z = acb_device_secret_on(ks, device_of(&m), b);
                m.verify_mac(&z)
                    .unwrap_or_else(|e| panic!("{} on {b}: {e}", file.name));
            }
            macd += 1;
        }
    });
    if shared::shared_dir().is_some() {
        assert!(macd >= 20, "only {macd} MAC'd messages");
    }
}

#[test]
fn commands_and_precommands_re_encode_byte_identical() {
    let mut checked = 0;
    with_cs02(|ks, file, m| {
        if !(file.is_command() || file.is_precommand()) {
            return;
        }
        let h = m.header();
        let header = CommandHeader::of(h);
        let pre = message::build_precommand(&header, m.payload())
            .unwrap_or_else(|e| panic!("{}: {e}", file.name));
        let gs = m.frame().general_signing();
        assert_eq!(
            pre,
            gs.precommand_bytes(),
            "{}: pre-command differs",
            file.name
        );
        // The whole message: the rebuilt pre-command, the original tail, and a MAC computed
        // afresh where the original has one.
        let mut apdu = pre.clone();
        match gs.tail() {
            SignatureTail::Signature(sig) => {
                apdu.push(0x40);
                apdu.extend_from_slice(sig);
            }
            SignatureTail::NoSignature => apdu.push(0),
            SignatureTail::Absent => {}
        }
        let whole = if m.frame().mac().is_some() {
            message::add_mac(&apdu, &acb_device_secret(ks, device_of(&m))).expect("MAC")
        } else {
            apdu
        };
        assert_eq!(whole, file.bytes, "{}: message differs", file.name);
        checked += 1;
    });
    if shared::shared_dir().is_some() {
        assert!(checked >= 39, "only {checked} commands and pre-commands");
    }
}

#[test]
fn every_precommand_plus_its_signature_is_its_command() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = shared::keystore(&dir);
    let files = shared::rtds_files(&dir);
    let mut pairs = 0;
    for pre in files.iter().filter(|f| f.is_precommand()) {
        let cmd_name = pre.name.replace("_PRECOMMAND_", "_COMMAND_");
        let cmd = files
            .iter()
            .find(|f| f.folder == pre.folder && f.name == cmd_name)
            .unwrap_or_else(|| panic!("{}: no command", pre.name));
        let p = gbcs::parse(&pre.bytes).unwrap_or_else(|e| panic!("{}: {e}", pre.name));
        assert_eq!(p.tail(), &SignatureTail::Absent, "{}", pre.name);
        let c = gbcs::parse(&cmd.bytes).unwrap_or_else(|e| panic!("{}: {e}", cmd.name));
        let SignatureTail::Signature(sig) = c.tail() else {
            panic!("{}: command not signed", cmd.name)
        };
        let mut signed = pre.bytes.clone();
        signed.push(0x40);
        signed.extend_from_slice(sig);
        assert_eq!(
            signed,
            c.frame().general_signing().as_bytes(),
            "{}",
            pre.name
        );
        // The signature is over the pre-command without its DF tag.
        let key = ks
            .public_key(p.header().originator, KeyRole::DigitalSignature)
            .expect("DS certificate");
        let sig = gbcs::crypto::Signature(*sig);
        gbcs::crypto::SignatureVerifier::verify(&key, &pre.bytes[1..], &sig)
            .expect("signature over precommand[1..]");
        pairs += 1;
    }
    eprintln!("{pairs} pre-command/command pairs match");
    assert!(pairs >= 170, "only {pairs} pre-commands");
}

/// Flips each byte of the region `range` in turn; every altered message must be rejected by
/// `rejects` (a parse failure counts as a rejection).
fn assert_every_flip_rejected(
    name: &str,
    bytes: &[u8],
    range: std::ops::Range<usize>,
    rejects: impl Fn(&[u8]) -> bool,
) {
    let mut altered = bytes.to_vec();
    for i in range {
        altered[i] ^= 0x01;
        assert!(
            rejects(&altered),
            "{name}: flipping byte {i} went unnoticed"
        );
        altered[i] ^= 0x01;
    }
}

#[test]
fn altering_any_signed_or_maced_byte_fails_verification() {
    let mut flips = 0usize;
    with_cs02(|ks, file, m| {
        if let SignatureTail::Signature(_) = m.tail() {
            let key = ks
                .public_key(m.header().originator, KeyRole::DigitalSignature)
                .expect("DS certificate");
            let gs = m.frame().general_signing();
            let start = m.frame().payload_offset() - gs.view().header_len();
            // Signed bytes after DF, the 0x40 and the signature itself.
            let range = start + 1..start + gs.as_bytes().len();
            flips += range.len();
            assert_every_flip_rejected(&file.name, &file.bytes, range, |b| {
                gbcs::parse(b).map_or(true, |m| m.verify_signature(&key).is_err())
            });
        }
        if m.frame().mac().is_some() {
            let z = acb_device_secret(ks, device_of(&m));
            flips += file.bytes.len();
            assert_every_flip_rejected(&file.name, &file.bytes, 0..file.bytes.len(), |b| {
                gbcs::parse(b).map_or(true, |m| m.verify_mac(&z).is_err())
            });
        }
    });
    eprintln!("{flips} single-byte alterations all rejected");
}

/// The RTDS use-case folders of device-to-device messages, whose MACs are keyed by the two
/// devices' KA keys; RTDS publishes no device KA private key, so nothing here can verify them.
const DEVICE_TO_DEVICE: [&str; 2] = ["NA_PCS01", "NA_PCS02"];

#[test]
fn every_rtds_message_decodes_at_the_frame_level() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = &shared::keystore(&dir);
    let files = shared::rtds_files(&dir);
    assert!(
        files.len() >= 1200,
        "expected ~1,260 RTDS messages, found {}",
        files.len()
    );
    for &backend in Backend::ALL {
        let (mut frames, mut typed, mut signed, mut macd, mut mac_ok) = (0, 0, 0, 0, 0);
        let mut unverifiable = Vec::new();
        for file in &files {
            let frame = gbcs::frame::Frame::parse(&file.bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", file.name));
            frames += 1;
            let m = gbcs::parse(&file.bytes).unwrap_or_else(|e| panic!("{}: {e}", file.name));
            typed += usize::from(m.payload().is_typed());
            let h = frame.header();
            if let SignatureTail::Signature(_) = frame.general_signing().tail() {
                signed += 1;
                let key = ks
                    .public_key(h.originator, KeyRole::DigitalSignature)
                    .map(|k| k.with_backend(backend).expect("backend"))
                    .unwrap_or_else(|e| panic!("{}: {e}", file.name));
                m.verify_signature(&key)
                    .unwrap_or_else(|e| panic!("{} on {backend}: {e}", file.name));
            }
            if frame.mac().is_some() {
                macd += 1;
                // Try each party's KA private key that the keystore has against the other
                // end's KA certificate (management and prepayment cells).
                let ok = [
                    (h.originator, h.recipient),
                    (h.recipient, h.originator),
                    (EntityId::from_u64(ACB), device_of(&m)),
                ]
                .iter()
                .flat_map(|&(own, peer)| {
                    [KeyRole::KeyAgreement, KeyRole::PrepaymentKeyAgreement]
                        .into_iter()
                        .filter_map(move |role| {
                            let private = ks.key_agreement_key(own, role).ok()?;
                            let private = private.with_backend(backend).ok()?;
                            let public = ks.public_key(peer, KeyRole::KeyAgreement).ok()?;
                            private.agree(&public.with_backend(backend).ok()?).ok()
                        })
                })
                .any(|z| m.verify_mac(&z).is_ok());
                if ok {
                    mac_ok += 1;
                } else {
                    unverifiable.push(file);
                }
            }
        }
        eprintln!(
            "RTDS on {backend}: {frames}/{} frames decode ({typed} typed payloads); signatures {signed}/{signed} verify; MACs {mac_ok}/{macd} verify",
            files.len()
        );
        assert_eq!(frames, files.len());
        assert!(signed >= 400, "only {signed} signed messages");
        assert!(macd >= 700, "only {macd} MAC'd messages");
        for file in &unverifiable {
            assert!(
                DEVICE_TO_DEVICE.contains(&file.folder.as_str()),
                "{}/{}: MAC does not verify on {backend}",
                file.folder,
                file.name
            );
        }
        // The device-to-device messages are all that is left unverified, and they are there.
        assert!(
            !unverifiable.is_empty()
                && unverifiable.len()
                    == files
                        .iter()
                        .filter(|f| DEVICE_TO_DEVICE.contains(&f.folder.as_str()))
                        .filter(|f| gbcs::frame::Frame::parse(&f.bytes)
                            .is_ok_and(|fr| fr.mac().is_some()))
                        .count(),
            "unverified MACs: {:?}",
            unverifiable.iter().map(|f| &f.name).collect::<Vec<_>>()
        );
    }
}

/// Responses and alerts come from devices, which write lengths 128–255 as `82 00 xx`: every
/// typed RTDS response and alert payload re-encodes byte-identical in
/// `LengthForm::Device`, and its DER encoding differs exactly when it has such a length.
#[test]
fn responses_and_alerts_re_encode_byte_identical_in_the_device_length_form() {
    use gbcs::codec::{LengthForm, Writer};
    let (mut checked, mut with_long_lengths) = (0, 0);
    with_cs02(|_, file, m| {
        if file.is_command() || file.is_precommand() || !m.payload().is_typed() {
            return;
        }
        let encode = |form| {
            let mut buf = vec![0u8; m.payload().encoded_len_in(form)];
            let mut w = Writer::with_length_form(&mut buf, form);
            m.payload().encode(&mut w).expect("encode");
            assert_eq!(w.position(), buf.len(), "{}: computed length", file.name);
            buf
        };
        let original = m.frame().payload();
        assert_eq!(encode(LengthForm::Device), original, "{}", file.name);
        if encode(LengthForm::Minimal) != original {
            with_long_lengths += 1;
        }
        checked += 1;
    });
    if shared::shared_dir().is_some() {
        assert!(checked >= 25, "only {checked} responses and alerts");
        assert!(
            with_long_lengths >= 10,
            "only {with_long_lengths} with 82 00 xx lengths"
        );
    }
    println!("{checked} responses and alerts, {with_long_lengths} with device lengths");
}

/// `build_command` (header, payload, signer, MAC in one pass, nothing parsed back) gives
/// DCC's bytes: for every RTDS command with the `00` tail, exactly; for every signed one,
/// DCC's bytes but the signature (the TCoS and supplier keys sign with fresh randomness
/// there), and a signature that verifies.
#[test]
fn build_command_gives_every_rtds_command_back() {
    use gbcs::crypto::keystore::KeyRole;
    let (mut exact, mut signed) = (0, 0);
    with_cs02(|ks, file, m| {
        if !file.is_command() {
            return;
        }
        let h = m.header();
        let header = CommandHeader::of(h);
        let z = m
            .frame()
            .mac()
            .map(|_| acb_device_secret(ks, device_of(&m)));
        match m.tail() {
            SignatureTail::NoSignature => {
                let built = message::build_command(&header, m.payload(), None, z.as_ref())
                    .unwrap_or_else(|e| panic!("{}: {e}", file.name));
                assert_eq!(built, file.bytes, "{}", file.name);
                exact += 1;
            }
            SignatureTail::Signature(_) => {
                let Ok(key) = ks.signing_key(h.originator) else {
                    return;
                };
                let built = message::build_command(&header, m.payload(), Some(&key), z.as_ref())
                    .unwrap_or_else(|e| panic!("{}: {e}", file.name));
                let again = gbcs::parse(&built).expect("parses");
                let public = ks
                    .public_key(h.originator, KeyRole::DigitalSignature)
                    .expect("originator key");
                again.verify_signature(&public).expect("verifies");
                if let Some(z) = &z {
                    again.verify_mac(z).expect("MAC verifies");
                }
                assert_eq!(built.len(), file.bytes.len(), "{}", file.name);
                let sig_at = m.frame().payload_offset() + m.frame().payload().len();
                assert_eq!(built[..sig_at], file.bytes[..sig_at], "{}", file.name);
                signed += 1;
            }
            SignatureTail::Absent => {}
        }
    });
    if shared::shared_dir().is_some() {
        assert!(exact >= 2, "only {exact} unsigned commands");
        assert!(signed >= 10, "only {signed} signed commands rebuilt");
    }
    println!("{exact} unsigned commands exact, {signed} signed commands rebuilt");
}
