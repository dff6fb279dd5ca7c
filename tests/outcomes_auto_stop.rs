//! Auto-stop (continued from `outcomes.rs`): the failure window, a model's fault rate with its
//! minimum sample and absolute cap, which attempts are judged, and resume forgetting the window
//! that raised the incident.

#[path = "support/outcomes_common.rs"]
mod common;

use common::*;

mod auto_stop {
    use gbcs::cos::migration::{AutoStop, AutoStopPolicy, Incident, Outcome};
    use gbcs::cos::ModelKey;
    use gbcs::frame::EntityId;
    use gbcs::payload::StatusCode;

    const FAULT: Outcome = Outcome::DeviceFault(StatusCode::OTHER);

    fn feed(
        stop: &mut AutoStop,
        model: &ModelKey,
        n: usize,
        fault_every: usize,
    ) -> Option<(usize, Incident)> {
        (0..n).find_map(|i| {
            let outcome = if fault_every > 0 && i % fault_every == 0 {
                FAULT
            } else {
                Outcome::Migrated
            };
            stop.record(EntityId::from_u64(i as u64), model, &outcome, false)
                .map(|incident| (i, incident))
        })
    }

    #[test]
    fn a_model_faulting_at_a_low_rate_never_stops_the_run_however_many_attempts() {
        let mut stop = AutoStop::new(AutoStopPolicy::default());
        // 1.5 % of 100,000 attempts: 1,500 faults, far more than any fixed count would allow.
        assert_eq!(feed(&mut stop, &super::mk("MODEL-14"), 100_000, 66), None);
        let faults: u32 = stop.model_faults().map(|(_, f)| f).sum();
        assert!(faults > 0 && faults < 20, "window holds {faults} faults");
    }

    #[test]
    fn a_faulty_model_stops_the_run_once_its_minimum_sample_is_reached() {
        let policy = AutoStopPolicy::default();
        let mut stop = AutoStop::new(policy);
        let model = super::mk("BAD");
        let (at, incident) = feed(&mut stop, &model, 1_000, 1).expect("stops");
        assert_eq!(at + 1, policy.model_min_samples);
        assert!(matches!(
            incident,
            Incident::ModelFaults {
                faults: 100,
                attempts: 100,
                ..
            }
        ));
        // Another model's faults are judged on its own window (the run-wide failure ratio
        // switched off here, so only the model rule speaks).
        let mut stop = AutoStop::new(AutoStopPolicy {
            failure_per_mille: 1000,
            ..policy
        });
        assert_eq!(feed(&mut stop, &super::mk("GOOD"), 99, 0), None);
        assert_eq!(
            feed(&mut stop, &super::mk("BAD"), 99, 1),
            None,
            "below its own sample"
        );
    }

    #[test]
    fn an_absolute_cap_stops_a_model_even_at_a_low_rate() {
        let policy = AutoStopPolicy {
            model_fault_cap: Some(10),
            ..AutoStopPolicy::default()
        };
        let mut stop = AutoStop::new(policy);
        let (_, incident) = feed(&mut stop, &super::mk("M"), 10_000, 50).expect("stops");
        assert!(
            matches!(incident, Incident::ModelFaults { faults: 10, .. }),
            "{incident:?}"
        );
    }

    #[test]
    fn resume_forgets_the_window_that_raised_the_incident() {
        let policy = AutoStopPolicy {
            failure_per_mille: 1000,
            ..AutoStopPolicy::default()
        };
        let mut stop = AutoStop::new(policy);
        let bad = super::mk("BAD");
        let (_, incident) = feed(&mut stop, &bad, 1_000, 1).expect("stops");
        stop.resume(&incident);
        assert_eq!(stop.model_faults().count(), 0);
        // Judged afresh: the next faults stop it only once a new sample is in.
        let (at, _) = feed(&mut stop, &bad, 1_000, 1).expect("stops again");
        assert_eq!(at + 1, policy.model_min_samples);
    }

    #[test]
    fn every_attempt_is_judged_unless_the_policy_says_first_attempts_only() {
        let model = super::mk("BAD");
        for (first_attempts_only, stops) in [(false, true), (true, false)] {
            let policy = AutoStopPolicy {
                first_attempts_only,
                ..AutoStopPolicy::default()
            };
            let mut stop = AutoStop::new(policy);
            let stopped = (0..1_000).any(|i| {
                stop.record(EntityId::from_u64(i), &model, &FAULT, true)
                    .is_some()
            });
            assert_eq!(
                stopped, stops,
                "first_attempts_only = {first_attempts_only}"
            );
        }
        assert!(!AutoStopPolicy::default().first_attempts_only);
    }

    #[test]
    fn a_retry_that_fails_transiently_again_is_judged_but_not_a_failure() {
        let model = super::mk("GOOD");
        let lost = Outcome::Transient(gbcs::cos::migration::TransientCause::NoResponse);
        // The tail of a run: nothing but retries of unreachable hubs. No stop.
        let mut stop = AutoStop::new(AutoStopPolicy::default());
        assert!((0..2_000).all(|i| stop
            .record(EntityId::from_u64(i % 100), &model, &lost, true)
            .is_none()));
        // The same failures on first attempts are a wave: stop.
        let mut stop = AutoStop::new(AutoStopPolicy::default());
        let at = (0..2_000).position(|i| {
            stop.record(EntityId::from_u64(i), &model, &lost, false)
                .is_some()
        });
        assert_eq!(at, Some(AutoStopPolicy::default().min_samples - 1));
        // And they dilute nothing once fresh failures arrive: half the window retries, half
        // first attempts that all fail, is over 20 %.
        let mut stop = AutoStop::new(AutoStopPolicy::default());
        let stopped = (0..1_000).any(|i| {
            stop.record(EntityId::from_u64(i), &model, &lost, i % 2 == 0)
                .is_some()
        });
        assert!(stopped);
    }
}
