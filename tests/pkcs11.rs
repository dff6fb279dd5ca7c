//! HSM-held keys through PKCS#11, against SoftHSM2.
//!
//! Each test run makes its own SoftHSM configuration and tokens in a temporary directory
//! (`SOFTHSM2_CONF`). Where SoftHSM is not installed the HSM tests skip with a note — unless
//! `GBCS_REQUIRE_SOFTHSM` is set (`.ci/run` sets it), when they fail. The URI tests need no HSM.
//!
//! They show: the RTDS TCoS DS key imported into a token signs DCC's 6.23 pre-command so that
//! the TCoS certificate verifies it; Z derived in the token from the RTDS ACB KA key gives
//! DCC's MAC byte for byte; a command built wholly with HSM keys is accepted by a simulated
//! meter; a 1,000-meter migration runs with HSM keys whose public keys the test PKI certified
//! after reading them from the token; a failing HSM is a local fault of the engine, not a
//! device attempt; and each error case is typed.

#[path = "support/shared.rs"]
mod shared;
#[path = "support/softhsm.rs"]
mod softhsm;

use std::path::Path;

use cryptoki::object::{Attribute, ObjectClass};
use gbcs::cos::engine::{EngineConfig, Event, StartingCounters};
use gbcs::cos::migration::{Incident, LocalFault, MigrationStatus};
use gbcs::cos::{CosParty, CosRegistry, CosSigner, Credential, MigrationCommand};
use gbcs::crypto::keystore::KeyRole;
use gbcs::crypto::pkcs11::{
    HsmKeyAgreementKey, HsmSigningKey, Pkcs11Error, Pkcs11Module, Pkcs11Uri,
};
use gbcs::crypto::{Backend, CryptoError, KeyAgreement, PublicKey, SignatureVerifier};
use gbcs::driver::DriverConfig;
use gbcs::frame::EntityId;
use gbcs::payload::{CertificateDer, TrustAnchorCellIdentifier};
use gbcs::sim::fleet::{FleetMix, MigrationParties, Profile, SimulatedMigration};
use gbcs::sim::network::NetworkProfile;
use gbcs::sim::pki::ids;
use gbcs::sim::{Reply, TestPki};
use softhsm::{softhsm, SoftHsm};

const CLOCK: i64 = 1_764_547_200;

/// The raw scalar of an RTDS keystore private key.
fn rtds_scalar(shared: &Path, file: &str) -> [u8; 32] {
    let pem = std::fs::read_to_string(shared.join("rtds/keystore").join(file)).expect("key file");
    let (_, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).expect("PEM");
    use p256::pkcs8::DecodePrivateKey as _;
    p256::SecretKey::from_pkcs8_der(&der)
        .expect("PKCS#8 P-256 key")
        .to_bytes()
        .into()
}

#[test]
fn the_rtds_tcos_key_in_the_hsm_signs_the_6_23_precommand_verifiably() {
    let (Some(hsm), Some(shared)) = (softhsm(), shared::shared_dir()) else {
        return;
    };
    hsm.token("rtds-tcos");
    hsm.import(
        "rtds-tcos",
        "tcos-ds",
        4,
        &rtds_scalar(&shared, "90b3d51f30000004-ds.key"),
        true,
        false,
    );
    let key = HsmSigningKey::open(&hsm.module, &hsm.uri("rtds-tcos", "tcos-ds")).expect("key");
    // DCC's 6.23 command, its signature and MAC taken off: the pre-command DCC had signed.
    let cmd = shared::cs02_file(
        &shared,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
    );
    let dcc = gbcs::parse(&cmd.bytes).expect("parse");
    let pre = dcc.frame().general_signing().precommand_bytes();
    let signed = gbcs::message::sign_precommand(pre, &key).expect("sign in the HSM");
    let ks = shared::keystore(&shared);
    let tcos = ks
        .public_key(
            EntityId::from_u64(0x90B3_D51F_3000_0004),
            KeyRole::DigitalSignature,
        )
        .expect("TCoS certificate");
    let m = gbcs::parse(&signed).expect("parse");
    assert_eq!(m.payload(), dcc.payload());
    assert_ne!(m.tail(), dcc.tail(), "a fresh signature, not DCC's");
    for &b in Backend::ALL {
        m.verify_signature(&tcos.clone().with_backend(b).expect("backend"))
            .expect("the TCoS certificate verifies the HSM's signature");
    }
    // The token's public key object is the certificate's key.
    assert_eq!(key.public_key(), Some(&tcos));
}

#[test]
fn z_derived_in_the_hsm_gives_dccs_mac_byte_for_byte() {
    let (Some(hsm), Some(shared)) = (softhsm(), shared::shared_dir()) else {
        return;
    };
    hsm.token("rtds-acb");
    hsm.import(
        "rtds-acb",
        "acb-ka",
        2,
        &rtds_scalar(&shared, "90b3d51f30000002-ka.key"),
        false,
        true,
    );
    let acb = HsmKeyAgreementKey::open(&hsm.module, &hsm.uri("rtds-acb", "acb-ka")).expect("key");
    let ks = shared::keystore(&shared);
    let meter = ks
        .public_key(
            EntityId::from_u64(0x00DB_1234_5678_90A0),
            KeyRole::KeyAgreement,
        )
        .expect("meter KA certificate");
    let z = acb.agree(&meter).expect("ECDH in the HSM");
    let software = ks
        .key_agreement_key(EntityId::from_u64(shared::ACB), KeyRole::KeyAgreement)
        .expect("ACB key")
        .agree(&meter)
        .expect("ECDH");
    assert_eq!(z.as_bytes(), software.as_bytes());
    let cmd = shared::cs02_file(
        &shared,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
    );
    let apdu = gbcs::parse(&cmd.bytes)
        .expect("parse")
        .frame()
        .general_signing()
        .as_bytes()
        .to_vec();
    let remade = gbcs::message::add_mac(&apdu, &z).expect("MAC");
    assert_eq!(
        remade, cmd.bytes,
        "DCC's command, MAC and all, byte for byte"
    );
}

/// A TCoS DS key and an ACB KA key generated in a new token, opened by URI, and certified by
/// `pki` from the public keys read from the token.
struct HsmParties {
    tcos: HsmSigningKey,
    acb: HsmKeyAgreementKey,
    parties: MigrationParties,
    tcos_credential: Credential,
}

fn hsm_parties(hsm: &SoftHsm, token: &str, pki: &TestPki) -> HsmParties {
    hsm.token(token);
    hsm.generate(token, "tcos-ds", 5, true, false);
    hsm.generate(token, "acb-ka", 4, false, true);
    let tcos = HsmSigningKey::open(&hsm.module, &hsm.uri(token, "tcos-ds")).expect("TCoS key");
    let acb = HsmKeyAgreementKey::open(&hsm.module, &hsm.uri(token, "acb-ka")).expect("ACB key");
    let parties = MigrationParties::certified(
        pki,
        Some(tcos.public_key().expect("TCoS public key object")),
        Some(acb.public_key().expect("ACB public key object")),
    )
    .expect("certify the HSM keys");
    let tcos_credential = parties.tcos_credential().expect("TCoS credential");
    assert_eq!(
        tcos_credential.key_id,
        tcos.public_key().expect("public key").key_id()
    );
    HsmParties {
        tcos,
        acb,
        parties,
        tcos_credential,
    }
}

#[test]
fn a_command_built_wholly_with_hsm_keys_is_accepted_by_the_simulated_meter() {
    let Some(hsm) = softhsm() else {
        return;
    };
    let pki = TestPki::generate(b"hsm command").expect("pki");
    let h = hsm_parties(hsm, "hsm-command", &pki);
    let device = ids::device(7);
    let mut meter = pki
        .meter(device, &pki.supplier_a, &pki.tcos, CLOCK)
        .expect("meter");
    meter
        .install_certificate(
            TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
            &h.parties.tcos_ds_certificate,
        )
        .expect("TCoS cell");
    meter
        .install_certificate(
            TrustAnchorCellIdentifier::ACB_KA,
            &h.parties.acb_ka_certificate,
        )
        .expect("ACB cell");
    let mut registry = CosRegistry::new();
    registry
        .add(CosParty::Tcos, h.tcos_credential)
        .add(CosParty::Ecos, pki.ecos.credential());
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let command = MigrationCommand::new(
        &registry,
        CertificateDer(&pki.ecos.ds.certificate),
        &path,
        Some(0),
        true,
    )
    .expect("ECoS certificate");
    let meter_ka = pki.device(device).expect("device").ka.key.public_key();
    let z = h.acb.agree(&meter_ka).expect("ECDH in the HSM");
    let signer = CosSigner {
        credential: h.tcos_credential,
        signer: &h.tcos,
    };
    let cmd = command
        .build(&registry, device, h.tcos_credential, &signer, 100, &z)
        .expect("build with HSM keys");
    let Reply::Response(response) = meter.process(&cmd) else {
        panic!("the meter refused the HSM-built command")
    };
    let outcome = gbcs::cos::migration::interpret_response(
        &response,
        &gbcs::cos::migration::IssuedCommand {
            device,
            originator: ids::TCOS,
            counter: 100,
            ecos: pki.ecos.credential(),
        },
        &pki.device(device).expect("device").ds.key.public_key(),
    );
    assert_eq!(outcome, gbcs::cos::Outcome::Migrated);
    assert_eq!(
        meter
            .cell(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
            .map(|c| c.entity_id),
        Some(ids::ECOS)
    );
    // The same command signed by the PKI's own (software) TCoS key is refused: the meter
    // holds the HSM key's certificate.
    let wrong = CosSigner {
        credential: h.tcos_credential,
        signer: &pki.tcos.ds.key,
    };
    let forged = command
        .build(&registry, device, h.tcos_credential, &wrong, 101, &z)
        .expect("build");
    assert!(matches!(meter.process(&forged), Reply::Rejected(_)));
}

#[test]
fn a_thousand_meters_migrate_with_hsm_keys() {
    let Some(hsm) = softhsm() else {
        return;
    };
    let pki = TestPki::generate_with_backend(b"hsm fleet", Backend::DEFAULT).expect("pki");
    let h = hsm_parties(hsm, "hsm-fleet", &pki);
    let mix = FleetMix(vec![
        (Profile::Healthy, 900),
        (Profile::BusyThenHealthy(1), 100),
    ]);
    let mut sim =
        SimulatedMigration::from_pki(pki, h.parties.clone(), 11, 1000, &mix, CLOCK).expect("fleet");
    let mut engine = sim.engine(
        EngineConfig::default(),
        StartingCounters { tcos: 1, acb: 1 },
    );
    let signer = CosSigner {
        credential: h.tcos_credential,
        signer: &h.tcos,
    };
    // In real time, on the tokio driver, its CPU workers signing and agreeing in the HSM.
    let report = sim
        .run_realtime_using(
            &mut engine,
            NetworkProfile::default(),
            &DriverConfig::default(),
            signer,
            &h.acb,
            &mut gbcs::driver::NoStore,
            &mut |_| {},
            &mut |_| {},
        )
        .expect("driver");
    eprintln!(
        "1,000 meters with SoftHSM keys: {} attempts in {:.2} s",
        report.stats.attempts, report.wall_secs
    );
    assert!(engine.stopped().is_none(), "{:?}", engine.stopped());
    assert!(engine
        .records()
        .iter()
        .all(|r| r.status == MigrationStatus::Migrated));
    assert_eq!(report.stats.local_faults, 0);
    // One HSM ECDH per meter; retries took Z from the cache.
    assert_eq!(sim.secrets.stats().misses, 1000);
    assert!(sim.secrets.stats().hits >= 50);
    // The PKI's own software keys are not what the meters trust: the engine refuses to sign
    // with them (the registry holds the HSM credential), and nothing is sent.
    let mut again = SimulatedMigration::from_pki(
        TestPki::generate(b"hsm fleet").expect("pki"),
        h.parties.clone(),
        12,
        5,
        &mix,
        CLOCK,
    )
    .expect("fleet");
    let mut refused = again.harness(
        EngineConfig::default(),
        StartingCounters { tcos: 1, acb: 1 },
        NetworkProfile::default(),
    );
    again.run(&mut refused).expect("context");
    assert_eq!(refused.engine.ledger().total_attempts(), 0);
    assert!(refused.sent.is_empty());
    assert!(!refused.events.is_empty());
    assert!(refused
        .events
        .iter()
        .all(|e| matches!(e, Event::Refused { .. })));
}

#[test]
fn an_hsm_that_fails_mid_run_is_a_local_fault_not_a_device_attempt() {
    let Some(hsm) = softhsm() else {
        return;
    };
    let pki = TestPki::generate_with_backend(b"hsm failure", Backend::DEFAULT).expect("pki");
    let h = hsm_parties(hsm, "hsm-failure", &pki);
    let mix = FleetMix(vec![(Profile::Healthy, 1000)]);
    let mut sim =
        SimulatedMigration::from_pki(pki, h.parties.clone(), 3, 40, &mix, CLOCK).expect("fleet");
    // The TCoS key disappears from the token: every signature now fails in the HSM.
    let session = hsm.user_session("hsm-failure");
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(b"tcos-ds".to_vec()),
        ])
        .expect("find");
    for o in found {
        session.destroy_object(o).expect("destroy");
    }
    assert!(h.tcos.try_sign(b"anything").is_err());
    let mut engine = sim.engine(
        EngineConfig {
            max_work: 8,
            ..EngineConfig::default()
        },
        StartingCounters { tcos: 1, acb: 1 },
    );
    let signer = CosSigner {
        credential: h.tcos_credential,
        signer: &h.tcos,
    };
    let mut events = Vec::new();
    let report = sim
        .run_realtime_using(
            &mut engine,
            NetworkProfile::default(),
            &DriverConfig::default(),
            signer,
            &h.acb,
            &mut gbcs::driver::NoStore,
            &mut |e| events.push(e.clone()),
            &mut |_| {},
        )
        .expect("driver");
    let limit = engine.policy().auto_stop.local_fault_limit;
    match engine.stopped() {
        Some(Incident::LocalFaults { in_a_row, last }) => {
            assert!(*in_a_row >= limit);
            assert_eq!(*last, LocalFault::Signing(CryptoError::Backend));
        }
        other => panic!("expected a local-fault stop, got {other:?}"),
    }
    // Nothing reached a meter and no device spent an attempt.
    assert_eq!(engine.ledger().total_attempts(), 0);
    assert_eq!(report.stats.sent, 0);
    assert!(engine
        .records()
        .iter()
        .all(|r| r.attempts == 0 && r.status == MigrationStatus::NotStarted));
    assert!(report.stats.local_faults >= u64::from(limit));
    assert!(events.iter().any(|e| matches!(e, Event::LocalFault { .. })));
}

#[test]
fn hsm_errors_are_typed() {
    let Some(hsm) = softhsm() else {
        return;
    };
    hsm.token("errors");
    hsm.generate("errors", "sign-only", 1, true, false);
    hsm.generate("errors", "derive-only", 2, false, true);
    let m = &hsm.module;
    // A key without the usage the operation needs.
    assert_eq!(
        HsmKeyAgreementKey::open(m, &hsm.uri("errors", "sign-only")).map(|_| ()),
        Err(Pkcs11Error::MissingUsage("derivation (CKA_DERIVE)"))
    );
    assert_eq!(
        HsmSigningKey::open(m, &hsm.uri("errors", "derive-only")).map(|_| ()),
        Err(Pkcs11Error::MissingUsage("signing (CKA_SIGN)"))
    );
    // No such key, no such token.
    assert!(matches!(
        HsmSigningKey::open(m, &hsm.uri("errors", "nothing-here")),
        Err(Pkcs11Error::KeyNotFound(_))
    ));
    assert!(matches!(
        HsmSigningKey::open(m, &hsm.uri("no-such-token", "sign-only")),
        Err(Pkcs11Error::TokenNotFound(_))
    ));
    // A PIN file that is not there.
    let no_pin: Pkcs11Uri = format!(
        "pkcs11:token=errors;object=sign-only?pin-source=file:{}",
        hsm.dir.join("absent").display()
    )
    .parse()
    .expect("URI");
    assert!(matches!(
        HsmSigningKey::open(m, &no_pin),
        Err(Pkcs11Error::PinUnavailable(_))
    ));
    // A module that does not load.
    let not_a_module = hsm.dir.join("pin");
    assert!(matches!(
        Pkcs11Module::load(&not_a_module),
        Err(Pkcs11Error::ModuleLoad(_))
    ));
    // Two keys under one label: named by object alone, neither is chosen; the id picks one.
    hsm.generate("errors", "twice", 3, true, false);
    hsm.generate("errors", "twice", 4, true, false);
    assert_eq!(
        HsmSigningKey::open(m, &hsm.uri("errors", "twice")).map(|_| ()),
        Err(Pkcs11Error::AmbiguousKey(2))
    );
    let by_id: Pkcs11Uri = format!(
        "pkcs11:token=errors;object=twice;id=%04?pin-source=file:{}",
        hsm.dir.join("pin").display()
    )
    .parse()
    .expect("URI");
    assert!(HsmSigningKey::open(m, &by_id).is_ok());
    // A key on another curve (P-384).
    const P384: [u8; 7] = [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22];
    hsm.generate_on_curve("errors", "p384", 5, true, false, &P384);
    assert_eq!(
        HsmSigningKey::open(m, &hsm.uri("errors", "p384")).map(|_| ()),
        Err(Pkcs11Error::NotP256)
    );
}

#[test]
fn a_wrong_pin_is_refused() {
    let Some(hsm) = softhsm() else {
        return;
    };
    // A token nothing else logs into (PKCS#11 login is per application and token).
    hsm.token("wrong-pin");
    hsm.generate("wrong-pin", "k", 1, true, false);
    let uri: Pkcs11Uri = format!(
        "pkcs11:token=wrong-pin;object=k?pin-source=file:{}",
        hsm.dir.join("wrong-pin").display()
    )
    .parse()
    .expect("URI");
    assert_eq!(
        HsmSigningKey::open(&hsm.module, &uri).map(|_| ()),
        Err(Pkcs11Error::WrongPin)
    );
}

#[test]
fn hsm_signatures_verify_on_both_backends_from_several_threads() {
    let Some(hsm) = softhsm() else {
        return;
    };
    hsm.token("threads");
    hsm.generate("threads", "ds", 1, true, false);
    let key = HsmSigningKey::open(&hsm.module, &hsm.uri("threads", "ds")).expect("key");
    let public: PublicKey = key.public_key().expect("public key").clone();
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let (key, public) = (&key, &public);
            s.spawn(move || {
                for i in 0..10u8 {
                    let msg = [t, i, 0x42];
                    let sig = gbcs::crypto::SignatureSigner::sign(key, &msg).expect("sign");
                    for &b in Backend::ALL {
                        public
                            .clone()
                            .with_backend(b)
                            .expect("backend")
                            .verify(&msg, &sig)
                            .expect("verify");
                    }
                }
            });
        }
    });
}

#[test]
fn pkcs11_uris_are_parsed_strictly() {
    let u: Pkcs11Uri = "pkcs11:token=GBCS%20test;object=tcos-ds;id=%01%a0?pin-source=file:/run/pin"
        .parse()
        .expect("URI");
    assert_eq!(u.token.as_deref(), Some("GBCS test"));
    assert_eq!(u.object.as_deref(), Some("tcos-ds"));
    assert_eq!(u.id.as_deref(), Some(&[0x01, 0xA0][..]));
    assert_eq!(u.pin_source.as_deref(), Some(Path::new("/run/pin")));
    for (bad, reason) in [
        ("token=x;object=y", "does not start with pkcs11:"),
        (
            "pkcs11:token=x;object=y?pin-value=1234",
            "pin-value refused",
        ),
        (
            "pkcs11:token=x;object=y;colour=red",
            "unknown path attribute",
        ),
        (
            "pkcs11:token=x;object=y?verbose=1",
            "unknown query attribute",
        ),
        ("pkcs11:token=x;object=%zz", "bad percent-encoding"),
        ("pkcs11:token=x;token=y;object=z", "attribute given twice"),
        ("pkcs11:object=y", "names no token"),
        ("pkcs11:token=x", "names no key"),
        (
            "pkcs11:token=x;object=y;slot-id=one",
            "slot-id is not a number",
        ),
        ("pkcs11:token=x;object=y;type=secret", "unknown object type"),
        (
            "pkcs11:token=x;object=y?pin-source=https://pins.example/1",
            "pin-source must be a file path",
        ),
    ] {
        let e = bad.parse::<Pkcs11Uri>().expect_err(bad);
        assert!(e.reason.starts_with(reason), "{bad}: {e}");
    }
    let e = "pkcs11:token=x;object=%4"
        .parse::<Pkcs11Uri>()
        .expect_err("short escape");
    assert_eq!(e.position, "pkcs11:token=x;object=".len());
    let e = "pkcs11:token=x;object=y?module-path=/m&colour=red"
        .parse::<Pkcs11Uri>()
        .expect_err("unknown query attribute");
    assert_eq!(e.position, "pkcs11:token=x;object=y?module-path=/m&".len());
    assert!(Pkcs11Uri::is_uri("pkcs11:token=x;object=y"));
    assert!(!Pkcs11Uri::is_uri("keys/tcos.pem"));
}
