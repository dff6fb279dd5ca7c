//! The `serde` feature: decoded messages serialize in the documented shape (bytes as
//! upper-case hex, entity IDs as 16 hex digits, enumerations as `{value, name}`), and the owned
//! values a user loads (policies, registry, ledger records) read back what they wrote and
//! refuse what they must not hold.

#[path = "support/shared.rs"]
mod shared;

use gbcs::cos::ledger::SupplierCounts;
use gbcs::cos::migration::{AutoStopPolicy, MigrationPolicy, RetryPolicy, SecPartyId};
use gbcs::cos::registry::{CosParty, CosRegistry, Credential};
use gbcs::cos::route::{DeviceType, RoutePolicy};
use gbcs::payload::{CredentialsReplacementMode, KeyUsage, RemotePartyRole};
use serde_json::{json, Value};

fn is_hex(v: &Value, digits: usize) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == digits
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    })
}

#[test]
fn enumerations_serialize_as_value_and_name_and_keep_unknown_values() {
    assert_eq!(
        serde_json::to_value(RemotePartyRole::TRANSITIONAL_COS).unwrap(),
        json!({"value": 5, "name": "transitionalCoS"})
    );
    assert_eq!(
        serde_json::to_value(CredentialsReplacementMode(42)).unwrap(),
        json!({"value": 42, "name": null})
    );
    assert_eq!(
        serde_json::to_value(KeyUsage::KEY_AGREEMENT).unwrap(),
        json!({"value": 0x0800, "name": "keyAgreement"})
    );
}

#[test]
fn every_rtds_cs02_message_serializes_with_hex_ids_and_typed_payloads() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let mut typed = 0;
    let files = shared::cs02_files(&dir);
    assert!(files.len() >= 60, "only {} CS02 files", files.len());
    for f in &files {
        let m = gbcs::parse(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let v = serde_json::to_value(m).expect("serializes");
        let gh = &v["grouping_header"];
        assert!(is_hex(&gh["originator"], 16), "{}: {gh}", f.name);
        assert!(is_hex(&gh["recipient"], 16), "{}", f.name);
        assert_eq!(
            gh["message_code"]["value"],
            m.header().message_code().0,
            "{}",
            f.name
        );
        assert_eq!(v["length"], f.bytes.len(), "{}", f.name);
        let p = &v["payload"];
        assert_eq!(p["length"], m.frame().payload().len(), "{}", f.name);
        if p["type"] != "Other" {
            typed += 1;
        }
        if let Some(reps) = p["replacements"].as_array() {
            for r in reps {
                let cert = &r["replacement_certificate"];
                let len = cert["length"].as_u64().expect("length");
                assert!(
                    is_hex(&cert["der"], 2 * usize::try_from(len).unwrap()),
                    "{}",
                    f.name
                );
            }
        }
    }
    assert!(typed >= 60, "only {typed} typed payloads");
}

#[test]
fn policies_read_back_what_they_wrote_and_fill_in_defaults() {
    let mut policy = MigrationPolicy::default();
    policy.non_migratable.insert(
        gbcs::cos::ModelKey::new("ACME", "MODEL-7"),
        Some("2.1.0".into()),
    );
    policy.in_scope.insert(DeviceType::Chf);
    policy.retry = RetryPolicy {
        base_secs: 60,
        factor: 4,
        cap_secs: 86_400,
    };
    let text = serde_json::to_string(&policy).unwrap();
    assert!(
        text.contains(r#""non_migratable":{"ACME/MODEL-7":"2.1.0"}"#),
        "{text}"
    );
    assert_eq!(
        serde_json::from_str::<MigrationPolicy>(&text).unwrap(),
        policy
    );

    let partial: MigrationPolicy =
        serde_json::from_str(r#"{"max_attempts": 3, "auto_stop": {"window": 1000}}"#).unwrap();
    assert_eq!(partial.max_attempts, 3);
    assert_eq!(partial.auto_stop.window, 1000);
    assert_eq!(
        partial.auto_stop.min_samples,
        AutoStopPolicy::default().min_samples
    );
    assert_eq!(partial.retry, RetryPolicy::default());

    let route: RoutePolicy = serde_json::from_str(r#"{"tcos_keys_held_by": "ecos"}"#).unwrap();
    assert_eq!(route.tcos_keys_held_by, CosParty::Ecos);
    assert!(route.tcos_signing_available);
}

#[test]
fn policies_refuse_unknown_fields_and_wrong_types() {
    for bad in [
        r#"{"max_attempt": 3}"#,
        r#"{"max_attempts": "three"}"#,
        r#"{"in_scope": ["TOASTER"]}"#,
        r#"{"retry": {"base_secs": 60, "facter": 2}}"#,
        // Models are keyed by manufacturer and model.
        r#"{"non_migratable": {"MODEL-7": null}}"#,
        r#"{"non_migratable": {"/MODEL-7": null}}"#,
        r#"{"non_migratable": {"ACME/": null}}"#,
    ] {
        assert!(
            serde_json::from_str::<MigrationPolicy>(bad).is_err(),
            "{bad}"
        );
    }
    assert!(serde_json::from_str::<RoutePolicy>(r#"{"tcos_keys_held_by": "ACB"}"#).is_err());
}

#[test]
fn registry_and_ledger_records_round_trip_and_check_their_identifiers() {
    let tcos = Credential {
        entity_id: "90B3D51F30000002".parse().unwrap(),
        key_id: "44899792D196F4B8".parse().unwrap(),
    };
    let text = serde_json::to_string(&tcos).unwrap();
    assert_eq!(
        text,
        r#"{"entity_id":"90B3D51F30000002","key_id":"44899792D196F4B8"}"#
    );
    assert_eq!(serde_json::from_str::<Credential>(&text).unwrap(), tcos);
    for bad in [
        r#"{"entity_id":"90B3D51F3000000","key_id":"44899792D196F4B8"}"#,
        r#"{"entity_id":"90B3D51F30000002","key_id":"44899792D196F4BG"}"#,
        r#"{"entity_id":"90B3D51F30000002"}"#,
    ] {
        assert!(serde_json::from_str::<Credential>(bad).is_err(), "{bad}");
    }

    let mut registry = CosRegistry::new();
    registry.add(CosParty::Tcos, tcos);
    let text = serde_json::to_string(&registry).unwrap();
    assert_eq!(
        serde_json::from_str::<CosRegistry>(&text).unwrap(),
        registry
    );

    let counts = SupplierCounts {
        migrations_completed: 7,
        failed_attempts: 2,
        ecos_installed: 7,
        remaining_tcos: 90,
        non_migratable: 1,
    };
    let text = serde_json::to_string(&counts).unwrap();
    assert_eq!(
        serde_json::from_str::<SupplierCounts>(&text).unwrap(),
        counts
    );

    assert_eq!(
        serde_json::from_str::<SecPartyId>(r#""SUPA""#).unwrap(),
        SecPartyId::new("SUPA").unwrap()
    );
    for bad in [r#""""#, r#""TOOLONG""#, r#""SU-A""#, "7"] {
        assert!(serde_json::from_str::<SecPartyId>(bad).is_err(), "{bad}");
    }
}
