//! SMKI certificates from the RTDS keystore and commands: every certificate parses, its key
//! identifier is the one computed from its key, its role and entity ID match its file name;
//! path validation passes for the replacements of the successful RTDS CS02b commands and fails,
//! on exactly that certificate, for the KA certificate whose AKI does not match.

#[path = "support/shared.rs"]
mod shared;

use gbcs::payload::{Payload, RemotePartyRole, UpdateSecurityCredentialsCommand};
use gbcs::smki::{validate_path, CertificateKind, PathError, SmkiCertificate, SmkiError};

#[test]
fn every_keystore_certificate_parses_with_matching_key_id_role_and_entity() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let mut n = 0;
    let mut public_keys = 0;
    let mut quirks = 0;
    for (name, label, der) in shared::keystore_pems(&dir) {
        if label == "PUBLIC KEY" {
            // The GBCS 18.4 Device A KA key is a bare SubjectPublicKeyInfo, not a certificate.
            gbcs::crypto::PublicKey::from_public_key_der(&der)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            public_keys += 1;
            continue;
        }
        assert_eq!(label, "CERTIFICATE", "{name}");
        let cert = SmkiCertificate::from_der(&der).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            cert.ski_matches_key(),
            "{name}: SKI {} vs computed {}",
            cert.subject_key_id(),
            cert.computed_key_id()
        );
        cert.check_profile()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // <entity-id>-<ds|ka>[-pp].pem
        let stem = name.trim_end_matches(".pem");
        let (id, usage) = stem.split_once('-').expect("name");
        let entity: gbcs::frame::EntityId = id.parse().expect("entity id in name");
        if name == "90b3d51f30000007-ka.pem" {
            // A quirk of the reference data: this file is a byte-identical copy of the new
            // supplier's KA certificate, not the WAN provider's.
            let copy =
                std::fs::read(dir.join("rtds/keystore/90b3d51f30030000-ka.pem")).expect("read");
            let this = std::fs::read(dir.join("rtds/keystore").join(&name)).expect("read");
            assert_eq!(this, copy);
            quirks += 1;
            n += 1;
            continue;
        }
        assert_eq!(cert.entity_id(), Some(entity), "{name}");
        let want_usage = if usage.ends_with("ka") {
            gbcs::payload::KeyUsage::KEY_AGREEMENT
        } else {
            gbcs::payload::KeyUsage::DIGITAL_SIGNATURE
        };
        assert_eq!(cert.key_usage(), want_usage, "{name}");
        match cert.kind() {
            CertificateKind::Organisation { role, .. } => {
                // 90B3D51F3000000N: the DCC parties; 90B3D51F30010000 and …30000 suppliers.
                assert!(role.0 <= 8, "{name}: role {role:?}");
                assert!(id.starts_with("90b3"), "{name}");
            }
            CertificateKind::Device { .. } => assert!(!id.starts_with("90b3"), "{name}"),
            other => panic!("{name}: unexpected {other:?}"),
        }
        n += 1;
    }
    eprintln!("{n} keystore certificates parse with matching key identifiers ({public_keys} bare public key, {quirks} misnamed copy)");
    assert!(n >= 400, "only {n} certificates");
    assert_eq!(public_keys, 1);
    assert_eq!(quirks, 1);
}

#[test]
fn organisation_roles_match_the_rtds_parties() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    for (id, role) in [
        ("90b3d51f30000001-ds", RemotePartyRole::RECOVERY),
        (
            "90b3d51f30000002-ka",
            RemotePartyRole::ACCESS_CONTROL_BROKER,
        ),
        ("90b3d51f30000004-ds", RemotePartyRole::TRANSITIONAL_COS),
        ("90b3d51f30000007-ds", RemotePartyRole::WAN_PROVIDER),
        ("90b3d51f30010000-ds", RemotePartyRole::SUPPLIER),
        ("90b3d51f30020000-ka", RemotePartyRole::NETWORK_OPERATOR),
        ("90b3d51f30010008-ds", RemotePartyRole::LOAD_CONTROLLER),
    ] {
        let pem =
            std::fs::read_to_string(dir.join(format!("rtds/keystore/{id}.pem"))).expect("read");
        let (_, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).expect("PEM");
        assert_eq!(
            SmkiCertificate::from_der(&der).expect("parse").role(),
            Some(role),
            "{id}"
        );
    }
}

/// The CS02b commands with their replacement certificates and certification paths.
fn commands(dir: &std::path::Path) -> Vec<shared::RtdsFile> {
    shared::cs02_files(dir)
        .into_iter()
        .filter(|f| f.is_command() && f.folder.contains("CS02b"))
        .collect()
}

fn command_of(
    file: &shared::RtdsFile,
) -> (gbcs::Message<'_>, UpdateSecurityCredentialsCommand<'_>) {
    let m = gbcs::parse(&file.bytes).expect("parse");
    let Payload::UpdateSecurityCredentialsCommand(c) = *m.payload() else {
        panic!("{}: not a CS02b command", file.name)
    };
    (m, c)
}

#[test]
fn replacements_of_successful_commands_chain_to_the_root() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let mut validated = 0;
    let mut anchor = None;
    for file in commands(&dir) {
        let (_, cmd) = command_of(&file);
        let path: Vec<SmkiCertificate<'_>> = cmd
            .certification_path
            .iter()
            .map(|c| SmkiCertificate::from_der(c.as_bytes()).expect("CA certificate"))
            .collect();
        let z1 = path
            .iter()
            .find(|c| c.kind() == CertificateKind::IssuingCa)
            .expect("Z1 in the path");
        let anchor = anchor
            .get_or_insert_with(|| shared::rtds_root_anchor(z1))
            .clone();
        for (i, r) in cmd.replacements.iter().enumerate() {
            let cert = SmkiCertificate::from_der(r.certificate.as_bytes())
                .unwrap_or_else(|e| panic!("{} #{i}: {e}", file.name));
            let result = validate_path(&cert, &path, &anchor, None);
            if file.name.contains("_ERROR_") && cert.authority_key_id() != Some(z1.subject_key_id())
            {
                assert_eq!(
                    result,
                    Err(PathError::NoIssuer {
                        depth: 0,
                        authority_key_id: cert.authority_key_id()
                    }),
                    "{} #{i}",
                    file.name
                );
            } else {
                result.unwrap_or_else(|e| panic!("{} #{i}: {e}", file.name));
                validated += 1;
            }
        }
    }
    eprintln!("{validated} replacement certificates chain to the root");
    assert!(validated >= 20, "only {validated}");
}

#[test]
fn cpv_failure_falls_on_exactly_the_ka_certificate_of_the_error_commands() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let mut failures = 0;
    for file in commands(&dir) {
        if !(file.name.starts_with("CS02bSupplierBySupplier_6.15.1_")
            && file.name.contains("_ERROR_"))
        {
            continue;
        }
        let (_, cmd) = command_of(&file);
        let path: Vec<SmkiCertificate<'_>> = cmd
            .certification_path
            .iter()
            .map(|c| SmkiCertificate::from_der(c.as_bytes()).expect("CA"))
            .collect();
        let anchor = shared::rtds_root_anchor(&path[0]);
        let outcomes: Vec<bool> = cmd
            .replacements
            .iter()
            .map(|r| {
                validate_path(
                    &SmkiCertificate::from_der(r.certificate.as_bytes()).expect("cert"),
                    &path,
                    &anchor,
                    None,
                )
                .is_ok()
            })
            .collect();
        // The RTDS response reports status 10 for the KA (management) cell only.
        let failed: Vec<_> = cmd
            .replacements
            .iter()
            .zip(&outcomes)
            .filter(|(_, ok)| !**ok)
            .map(|(r, _)| r.target_cell)
            .collect();
        assert_eq!(
            failed,
            vec![gbcs::payload::TrustAnchorCellIdentifier::new(
                RemotePartyRole::SUPPLIER,
                gbcs::payload::KeyUsage::KEY_AGREEMENT
            )],
            "{}",
            file.name
        );
        failures += 1;
    }
    assert_eq!(failures, 2, "IMMEDIATE_ERROR and FUTURE_DATED_ERROR");
}

#[test]
fn refuses_what_the_profile_forbids() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let pem =
        std::fs::read_to_string(dir.join("rtds/keystore/90b3d51f30000004-ds.pem")).expect("read");
    let (_, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).expect("PEM");
    assert!(matches!(
        SmkiCertificate::from_der(&der[..der.len() - 1]),
        Err(SmkiError::Malformed(_))
    ));
    // Turn the keyUsage extension non-critical: 06 03 55 1D 0F 01 01 FF -> 01 01 00.
    let ku = [0x06, 0x03, 0x55, 0x1D, 0x0F, 0x01, 0x01, 0xFF];
    let at = der
        .windows(ku.len())
        .position(|w| w == ku)
        .expect("keyUsage extension");
    let mut not_critical = der.clone();
    not_critical[at + 7] = 0x00;
    assert_eq!(
        SmkiCertificate::from_der(&not_critical).expect_err("non-critical KU"),
        SmkiError::MissingCriticalKeyUsage
    );
    // Change the curve OID to secp256k1 (1.3.132.0.10).
    let p256 = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
    let at = der
        .windows(p256.len())
        .position(|w| w == p256)
        .expect("curve OID");
    let mut other_curve = der.clone();
    other_curve.splice(
        at..at + p256.len(),
        [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A],
    );
    // Fix up the lengths the splice shortened by 3: SPKI, its algorithm, the TBS, the certificate.
    let fixed = shorten_enclosing(&other_curve, at, 3);
    assert_eq!(
        SmkiCertificate::from_der(&fixed).expect_err("not P-256"),
        SmkiError::NotP256
    );
    // A changed key (SKI now wrong): flip a byte of the point, keep it a valid P-256 point by
    // substituting another certificate's point.
    let other =
        std::fs::read_to_string(dir.join("rtds/keystore/90b3d51f30010000-ds.pem")).expect("read");
    let (_, other_der) = pem_rfc7468::decode_vec(other.trim().as_bytes()).expect("PEM");
    let point_of = |d: &[u8]| {
        let c = SmkiCertificate::from_der(d).expect("parse");
        c.public_key().to_uncompressed()
    };
    let (mine, theirs) = (point_of(&der), point_of(&other_der));
    let at = der.windows(65).position(|w| w == mine).expect("point");
    let mut swapped = der.clone();
    swapped[at..at + 65].copy_from_slice(&theirs);
    let c = SmkiCertificate::from_der(&swapped).expect("still parses");
    assert!(!c.ski_matches_key());
    assert!(matches!(
        c.check_profile(),
        Err(SmkiError::SkiMismatch { .. })
    ));
    // The same key as a compressed point (02/03 || X, 32 bytes shorter), with the BIT
    // STRING's length and every enclosing length fixed up.
    let mut compressed = der.clone();
    let prefix = if mine[64] & 1 == 0 { 0x02 } else { 0x03 };
    compressed.splice(
        at..at + 65,
        std::iter::once(prefix).chain(mine[1..33].iter().copied()),
    );
    assert_eq!(compressed[at - 2], 0x42, "BIT STRING length");
    compressed[at - 2] -= 32;
    let compressed = shorten_enclosing(&compressed, at, 32);
    assert_eq!(
        SmkiCertificate::from_der(&compressed).expect_err("compressed"),
        SmkiError::CompressedPoint
    );
}

/// Shortens by `by` every DER length whose TLV encloses byte `at`.
fn shorten_enclosing(bytes: &[u8], at: usize, by: usize) -> Vec<u8> {
    fn walk(b: &[u8], base: usize, at: usize, out: &mut Vec<(usize, usize)>) {
        let mut i = 0;
        while i + 2 <= b.len() {
            let first = b[i + 1];
            let (len, n) = if first < 0x80 {
                (usize::from(first), 1)
            } else {
                let k = usize::from(first & 0x7F);
                let Some(octets) = b.get(i + 2..i + 2 + k) else {
                    return;
                };
                (
                    octets.iter().fold(0, |a, x| (a << 8) | usize::from(*x)),
                    1 + k,
                )
            };
            let start = i + 1 + n;
            let end = (start + len).min(b.len());
            if base + i < at && at < base + end && b[i] & 0x20 != 0 {
                // Only one TLV per level encloses `at`; the siblings after it are shifted.
                out.push((base + i + 1, n));
                walk(&b[start..end], base + start, at, out);
                return;
            }
            i = start + len;
        }
    }
    let mut fields = Vec::new();
    walk(bytes, 0, at, &mut fields);
    let mut out = bytes.to_vec();
    for (pos, n) in fields {
        let last = pos + n - 1;
        let v = if n == 1 {
            usize::from(out[pos])
        } else {
            out[pos + 1..pos + n]
                .iter()
                .fold(0, |a, x| (a << 8) | usize::from(*x))
        };
        let v = v - by;
        if n == 1 {
            out[pos] = u8::try_from(v).expect("short");
        } else {
            out[last] = u8::try_from(v & 0xFF).expect("byte");
            if n == 3 {
                out[last - 1] = u8::try_from(v >> 8).expect("byte");
            }
        }
    }
    out
}

#[test]
fn a_key_ring_of_the_rtds_keystore_finds_every_cs02_signers_key_by_entity_and_key_id() {
    use gbcs::frame::SignatureTail;
    use gbcs::smki::KeyRing;
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let mut ring = KeyRing::new();
    let mut added = 0;
    for (name, label, der) in shared::keystore_pems(&dir) {
        if label == "CERTIFICATE" {
            let (entity, key_id) = ring
                .add_certificate(&der)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            // The one exception: a copy of the new supplier's KA certificate.
            assert!(
                name.to_uppercase().starts_with(&entity.to_string())
                    || (name == "90b3d51f30000007-ka.pem"
                        && entity.to_string() == "90B3D51F30030000"),
                "{name} holds {entity}"
            );
            let cert = SmkiCertificate::from_der(&der).expect("parse");
            assert_eq!(ring.get(entity, key_id), Some(cert.public_key()));
            added += 1;
        }
    }
    assert!(added >= 400, "only {added} certificates");
    // The keystore's 90b3d51f30000007-ka.pem is a copy of another file: fewer keys than files.
    assert!(ring.len() < added && ring.len() >= 400, "{}", ring.len());
    let mut verified = 0;
    for file in shared::cs02_files(&dir) {
        let m = gbcs::parse(&file.bytes).expect("parse");
        if let SignatureTail::Signature(_) = m.tail() {
            let originator = m.header().originator;
            let ok = ring
                .keys_of(originator)
                .filter(|(_, key)| m.verify_signature(*key).is_ok())
                .count();
            assert_eq!(ok, 1, "{}: keys of {originator} that verify", file.name);
            verified += 1;
        }
    }
    assert!(verified >= 40, "{verified}");
}

#[test]
fn a_key_ring_refuses_ca_certificates_and_forgets_removed_keys() {
    use gbcs::smki::{KeyRing, SmkiError};
    let pki = gbcs::sim::TestPki::generate(b"key ring").expect("pki");
    let mut ring = KeyRing::new();
    assert_eq!(
        ring.add_certificate(&pki.issuing_ca.certificate),
        Err(SmkiError::NotEndEntity)
    );
    assert!(matches!(
        ring.add_certificate(&pki.tcos.ds.certificate[..40]),
        Err(SmkiError::Malformed(_))
    ));
    assert!(ring.is_empty());
    let (e, k) = ring
        .add_certificate(&pki.tcos.ds.certificate)
        .expect("tcos");
    let (e2, k2) = ring
        .add_certificate(&pki.ecos.ds.certificate)
        .expect("ecos");
    assert_ne!(e, e2);
    assert_eq!(
        ring.get(e, k2),
        None,
        "a key is found only under its own pair"
    );
    assert_eq!(ring.keys_of(e).count(), 1);
    assert!(ring.remove(e, k).is_some());
    assert_eq!(ring.get(e, k), None);
    assert_eq!(ring.len(), 1);
}
