//! Property test: random sequences of valid and invalid commands never leave a simulated meter
//! in a state that contradicts what it said. A cell reported replaced holds the new key; a
//! cell reported failed, and every cell after a refusal, is unchanged; a CS02a answer reports
//! exactly what the meter holds; an alert's outcome is what the meter did at that time.

#[path = "support/cos.rs"]
mod cos;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use cos::{Options, T0};
use gbcs::payload::{
    ExecutionOutcome, GeneralizedTime, Payload, RemotePartyRole, TrustAnchorCellIdentifier,
};
use gbcs::sim::pki::ids;
use gbcs::sim::{Cell, Reply, SimDevice, TestPki};
use proptest::prelude::*;

fn pki() -> &'static (TestPki, TestPki) {
    static PKI: OnceLock<(TestPki, TestPki)> = OnceLock::new();
    PKI.get_or_init(|| {
        (
            TestPki::generate(b"property").expect("pki"),
            TestPki::generate(b"rogue").expect("pki"),
        )
    })
}

#[derive(Clone, Debug)]
enum Action {
    ChangeSupplier {
        signer: u8,
        new: u8,
        delta: i8,
        rogue: bool,
        future: Option<u16>,
        tamper: bool,
    },
    Migrate {
        signer: u8,
        incoming: u8,
        delta: i8,
        floor: bool,
    },
    Query {
        delta: i8,
    },
    Advance(u16),
    Busy,
    Silent,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..3u8, 0..2u8, -2..4i8, any::<bool>(), proptest::option::of(0..600u16), proptest::bool::weighted(0.15))
            .prop_map(|(signer, new, delta, rogue, future, tamper)| Action::ChangeSupplier { signer, new, delta, rogue, future, tamper }),
        2 => (0..3u8, 0..2u8, -2..4i8, any::<bool>()).prop_map(|(signer, incoming, delta, floor)| Action::Migrate { signer, incoming, delta, floor }),
        1 => (-2..4i8).prop_map(|delta| Action::Query { delta }),
        1 => (0..900u16).prop_map(Action::Advance),
        1 => Just(Action::Busy),
        1 => Just(Action::Silent),
    ]
}

type Cells = BTreeMap<TrustAnchorCellIdentifier, (gbcs::frame::EntityId, gbcs::payload::KeyId)>;

fn cells(d: &SimDevice) -> Cells {
    d.cells()
        .map(|(k, c): (&TrustAnchorCellIdentifier, &Cell)| (*k, (c.entity_id, c.key_id)))
        .collect()
}

/// The outcome agrees with the cells before and after.
fn check_outcome(o: &ExecutionOutcome<'_>, before: &Cells, after: &Cells) {
    for r in o.replacement_outcomes.iter() {
        let held = before.get(&r.cell).copied();
        if let Some(held) = held {
            assert_eq!(
                held,
                (
                    r.existing_subject_unique_id,
                    r.existing_subject_key_identifier
                ),
                "existing as held"
            );
        }
        let now = after.get(&r.cell).copied();
        if r.status.is_success() {
            assert_eq!(
                now,
                Some((
                    r.replacing_subject_unique_id,
                    r.replacing_subject_key_identifier
                )),
                "replaced cell holds the new key"
            );
        } else {
            assert_eq!(now, held, "failed cell unchanged");
            assert_eq!(
                (
                    r.existing_subject_unique_id,
                    r.existing_subject_key_identifier
                ),
                (
                    r.replacing_subject_unique_id,
                    r.replacing_subject_key_identifier
                )
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn meter_state_never_contradicts_its_responses(actions in proptest::collection::vec(action(), 1..12)) {
        let (pki, rogue) = pki();
        let meter_id = ids::device(7);
        let mut meter = pki.meter(meter_id, &pki.supplier_a, &pki.tcos, T0).expect("meter");
        let mut counters: BTreeMap<u8, u64> = BTreeMap::new();
        let mut next = |who: u8, delta: i8| {
            let c = counters.entry(who).or_insert(10);
            *c = c.saturating_add_signed(i64::from(delta)).max(1);
            *c
        };
        let parties = [&pki.tcos, &pki.ecos, &pki.supplier_a];
        for a in actions {
            let before = cells(&meter);
            let counters_before: Vec<u64> = (0..=8).map(|r| meter.counter(RemotePartyRole(r))).collect();
            let (reply, is_query) = match &a {
                Action::ChangeSupplier { signer, new, delta, rogue: r, future, tamper } => {
                    let opts = Options {
                        execution: future.map(|s| GeneralizedTime::from_unix_seconds(meter.clock() + i64::from(s)).expect("time")),
                        certificate_override: r.then(|| rogue.supplier_b.ds.certificate.clone()),
                        ..Options::default()
                    };
                    let new = if *new == 0 { &pki.supplier_a } else { &pki.supplier_b };
                    let mut cmd = cos::supplier_by_trans_cos(pki, parties[usize::from(*signer)], new, meter_id, next(*signer, *delta), &opts);
                    if *tamper {
                        let n = cmd.len() - 1;
                        cmd[n] ^= 0x40;
                    }
                    (meter.process(&cmd), false)
                }
                Action::Migrate { signer, incoming, delta, floor } => {
                    let incoming = if *incoming == 0 { &pki.ecos } else { &pki.tcos };
                    let opts = Options { own_floor: floor.then_some(0), ..Options::default() };
                    (meter.process(&cos::trans_cos_by_trans_cos(pki, parties[usize::from(*signer)], incoming, meter_id, next(*signer, *delta), &opts)), false)
                }
                Action::Query { delta } => {
                    let roles = [RemotePartyRole::TRANSITIONAL_COS, RemotePartyRole::SUPPLIER];
                    (meter.process(&cos::acb_query(pki, meter_id, next(9, *delta), &roles)), true)
                }
                Action::Advance(s) => {
                    let before_clock = meter.clock();
                    for alert in meter.advance_to(before_clock + i64::from(*s)) {
                        let m = gbcs::parse(&alert).expect("alert parses");
                        m.verify_signature(&meter.ds_public_key()).expect("alert signed");
                        let Payload::UpdateSecurityCredentialsAlert(al) = m.payload() else { panic!("not an alert") };
                        check_outcome(&al.execution_outcome, &before, &cells(&meter));
                    }
                    continue;
                }
                Action::Busy => { meter.faults.busy += 1; continue; }
                Action::Silent => { meter.faults.silent += 1; continue; }
            };
            let after = cells(&meter);
            match reply {
                Reply::Response(bytes) => {
                    let m = gbcs::parse(&bytes).expect("response parses");
                    match m.payload() {
                        Payload::UpdateSecurityCredentialsResponse(r) => {
                            m.verify_signature(&meter.ds_public_key()).expect("response signed");
                            match &r.execution_outcome {
                                Some(o) => check_outcome(o, &before, &after),
                                None => prop_assert_eq!(&before, &after, "future-dated acceptance changes nothing yet"),
                            }
                        }
                        Payload::CredentialDetailsResponse(r) => {
                            prop_assert!(is_query);
                            prop_assert_eq!(&before, &after);
                            for d in r.details.iter() {
                                let held: Vec<_> = after.iter().filter(|(k, _)| k.role == d.role).map(|(k, v)| (*k, *v)).collect();
                                let reported: Vec<_> = d.cells.iter().flat_map(|c| c.iter()).map(|c| {
                                    (TrustAnchorCellIdentifier { role: d.role, key_usage: c.key_usage, cell_usage: c.cell_usage }, (c.subject_unique_id, c.subject_key_identifier))
                                }).collect();
                                let mut reported_sorted = reported.clone();
                                reported_sorted.sort();
                                prop_assert_eq!(held, reported_sorted);
                                if d.status.is_success() {
                                    prop_assert_eq!(d.current_seq_number, Some(meter.counter(d.role)));
                                }
                            }
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
                Reply::Rejected(_) | Reply::Silent => {
                    prop_assert_eq!(&before, &after, "a refused command changes no cell");
                    let counters_after: Vec<u64> = (0..=8).map(|r| meter.counter(RemotePartyRole(r))).collect();
                    prop_assert_eq!(counters_before, counters_after, "nor any counter");
                }
            }
        }
    }
}
