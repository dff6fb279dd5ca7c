//! The change-of-supplier subcommands: classify, migrate.

use clap::ArgMatches;
use gbcs::cos::classify;
use gbcs::cos::ledger::csv_file::write_csv;
use gbcs::cos::CosRegistry;
use gbcs::crypto::KeyAgreement;
use gbcs::payload::Payload;

use crate::failure::{Failure, Result};
use crate::input::{parse, read_input, read_text, REGISTRY};
use crate::keys;
use crate::messages::{module, signing_key};
use crate::report_cmds::write_ledger;

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

/// When a simulated migration starts: 2025-12-01T00:00:00Z (the same for `sim-meters`).
const SIM_START: i64 = 1_764_547_200;

pub fn migrate(m: &ArgMatches) -> Result<String> {
    use gbcs::sim::fleet::{FleetMix, MigrationParties, SimulatedMigration};
    let n = usize::try_from(m.get_one::<u64>("simulate").copied().unwrap_or(0))
        .map_err(|_| Failure::usage("--simulate too large"))?;
    let seed = m.get_one::<u64>("seed").copied().unwrap_or(1);
    let (config, profile) = crate::input::network_flags(m, seed)?;
    // Nothing is overwritten silently: a ledger file already there is another run's.
    if let Some(path) = m.get_one::<String>("ledger") {
        if std::path::Path::new(path).exists() {
            return Err(Failure::usage(format!(
                "--ledger {path} exists (another run's ledger and the report numbers issued from it): nothing is overwritten; give a new path"
            )));
        }
    }
    let pki =
        gbcs::sim::TestPki::generate_with_backend(b"gbcs migrate", gbcs::crypto::Backend::DEFAULT)
            .map_err(|e| Failure::key(e.to_string()))?;
    // Keys given on the command line (files or HSM URIs) sign and MAC; the test PKI certifies
    // their public keys, so the simulated meters trust them.
    let tcos = m
        .get_one::<String>("key")
        .map(|k| signing_key(m, k))
        .transpose()?;
    let acb = m
        .get_one::<String>("acb-key")
        .map(|k| keys::agreement(k, module(m)).map_err(Failure::key))
        .transpose()?;
    let public = |k: Option<&gbcs::crypto::PublicKey>, what: &str| {
        k.cloned().ok_or_else(|| {
            Failure::key(format!(
                "{what}: the token has no public key object beside the key"
            ))
        })
    };
    let tcos_public = tcos
        .as_ref()
        .map(|t| public(t.public.as_ref(), "--key"))
        .transpose()?;
    let acb_public = acb
        .as_ref()
        .map(|a| public(a.public.as_ref(), "--acb-key"))
        .transpose()?;
    let parties = MigrationParties::certified(&pki, tcos_public.as_ref(), acb_public.as_ref())
        .map_err(|e| Failure::key(e.to_string()))?;
    let tcos_credential = parties
        .tcos_credential()
        .map_err(|e| Failure::key(e.to_string()))?;
    let mut sim =
        SimulatedMigration::from_pki(pki, parties, seed, n, &FleetMix::default(), SIM_START)
            .map_err(|e| Failure::key(e.to_string()))?;
    let mut engine = sim.engine(
        config,
        // Each party's counters start where that party's stand: a meter accepts only counters
        // above the last it saw from the same originator.
        gbcs::cos::engine::StartingCounters {
            tcos: m.get_one::<u64>("tcos-counter").copied().unwrap_or(1),
            acb: m.get_one::<u64>("acb-counter").copied().unwrap_or(1),
        },
    );
    // Drawn on stderr only when it is a terminal (indicatif's own check).
    let bar = indicatif::ProgressBar::new(n as u64).with_style(
        indicatif::ProgressStyle::with_template("[{bar:30}] {pos:>6}/{len} migrated, {msg}")
            .map_err(|e| Failure::key(e.to_string()))?
            .progress_chars("#>-"),
    );
    let signer = gbcs::cos::CosSigner {
        credential: tcos_credential,
        signer: match &tcos {
            Some(t) => &*t.signer,
            None => &sim.pki.tcos.ds.key,
        },
    };
    let acb_key: &(dyn KeyAgreement + Sync) = match &acb {
        Some(a) => &*a.key,
        None => &sim.pki.acb.ka.key,
    };
    let driver = gbcs::driver::DriverConfig {
        stop_on_ctrl_c: true,
        ..gbcs::driver::DriverConfig::default()
    };
    // The store, when given: empty (a run is never resumed or overwritten from here), then
    // written as the run goes, each batch before the engine acts on it.
    let mut store = match m.get_one::<String>("state") {
        Some(url) => {
            let store = gbcs::store::SqliteLedger::open_url(url)
                .map_err(|e| crate::report_cmds::store_failure(url, &e))?;
            let fail = |e: gbcs::store::StoreError| crate::report_cmds::store_failure(url, &e);
            let held = store.simulated_run().map_err(fail)?;
            let meters = u64::try_from(n).unwrap_or(u64::MAX);
            match held {
                Some(r) if r.meters == meters && r.seed == seed && r.complete => {
                    return Ok(format!(
                        "complete: {url} holds the finished run of --simulate {n} --seed {seed}; nothing to do\n"
                    ));
                }
                Some(r) if r.meters == meters && r.seed == seed => {
                    return Err(Failure::usage(format!(
                        "--state {url} holds the unfinished run of --simulate {n} --seed {seed}: resuming a run from a store is not supported yet; nothing is overwritten"
                    )));
                }
                Some(r) => {
                    return Err(Failure::usage(format!(
                        "--state {url} holds the run of --simulate {} --seed {}, not this one: nothing is overwritten or mixed",
                        r.meters, r.seed
                    )));
                }
                None if !store.is_empty().map_err(fail)? => {
                    return Err(Failure::usage(format!(
                        "--state {url} already holds a run: nothing is overwritten (resuming a run from a store is not supported yet)"
                    )));
                }
                None => {}
            }
            let mut store = store;
            store.set_simulated_run(meters, seed).map_err(fail)?;
            Some(store)
        }
        None => None,
    };
    let mut no_store = gbcs::driver::NoStore;
    let sink: &mut dyn gbcs::driver::RecordSink = match store.as_mut() {
        Some(s) => s,
        None => &mut no_store,
    };
    let mut on_progress = |p: &gbcs::cos::engine::Stats| {
        bar.set_length(p.devices as u64);
        bar.set_position(p.migrated as u64);
        bar.set_message(format!(
            "{} attempts, {} in flight",
            p.attempts, p.in_flight
        ));
    };
    let transport = m
        .get_one::<String>("transport")
        .map(String::as_str)
        .unwrap_or("sim");
    let mut malformed = None;
    let report = match transport.strip_prefix("exec:") {
        Some(command) => {
            let mut child = gbcs::driver::exec::ExecTransport::spawn_line(command)
                .map_err(|e| Failure::usage(format!("--transport {transport}: {e}")))?;
            let report = sim.run_over(
                &mut engine,
                &mut child,
                &driver,
                signer,
                acb_key,
                sink,
                &mut |_| {},
                &mut on_progress,
            );
            malformed = Some(child.malformed());
            report
        }
        None if transport == "sim" => sim.run_realtime_using(
            &mut engine,
            profile,
            &driver,
            signer,
            acb_key,
            sink,
            &mut |_| {},
            &mut on_progress,
        ),
        None => {
            return Err(Failure::usage(format!(
                "--transport {transport}: give sim or exec:COMMAND"
            )))
        }
    }
    .map_err(Failure::key)?;
    bar.finish_and_clear();
    let summary = engine.ledger().summary(engine.records(), engine.policy());
    if let Some(path) = m.get_one::<String>("ledger") {
        write_ledger(path, engine.ledger())?;
    }
    let stats = report.stats;
    let mut out = format!(
        "{} devices, {} migrated, {} attempts in {:.1} s ({:.0} attempts/s); {} commands sent, {} late and {} duplicate replies\n",
        n,
        stats.migrated,
        stats.attempts,
        report.wall_secs,
        stats.attempts as f64 / report.wall_secs.max(1e-9),
        stats.sent,
        stats.late_replies,
        stats.duplicate_replies,
    );
    if let Some((n, Some(first))) = malformed.filter(|(n, _)| *n > 0) {
        out += &format!(
            "MALFORMED LINES from the transport: {n} (skipped; their commands counted as unanswered); the first: {first}\n"
        );
    }
    if stats.local_faults > 0 {
        out += &format!(
            "LOCAL FAULTS: {} (the engine's keys failed; not device attempts)\n",
            stats.local_faults
        );
    }
    if let Some(i) = engine.stopped() {
        out += &format!("AUTO-STOP: {i}\n");
    }
    out += &write_csv(&summary).map_err(|e| Failure::key(e.to_string()))?;
    out += &crate::input::figures(&report);
    match engine.stopped() {
        Some(i) => Err(Failure::Stopped {
            out,
            reason: i.to_string(),
        }),
        None if report.interrupted || !engine.is_finished() => Err(Failure::Stopped {
            out,
            reason: String::from(
                "interrupted: the commands in flight were waited for; the run did not finish",
            ),
        }),
        None => {
            if let (Some(store), Some(url)) = (store.as_mut(), m.get_one::<String>("state")) {
                store
                    .set_simulated_complete()
                    .map_err(|e| crate::report_cmds::store_failure(url, &e))?;
            }
            let remaining = stats.devices.saturating_sub(stats.migrated);
            out += &format!(
                "complete: {} devices, {} migrated, {} not migrated (excluded or failed: see the notices), {} attempts\n",
                stats.devices, stats.migrated, remaining, stats.attempts
            );
            Ok(out)
        }
    }
}

/// `gbcs sim-meters`: the simulated meters of `migrate --simulate N --seed S` behind JSON
/// lines on stdin and stdout, for `migrate --transport exec:…`.
pub fn sim_meters(m: &ArgMatches) -> Result<String> {
    use gbcs::driver::exec::{alert_line, parse_command_line, reply_line};
    use gbcs::sim::fleet::{FleetMix, MigrationParties, SimulatedMigration};
    use std::io::{BufRead, Write};
    let n = usize::try_from(m.get_one::<u64>("simulate").copied().unwrap_or(0))
        .map_err(|_| Failure::usage("--simulate too large"))?;
    let seed = m.get_one::<u64>("seed").copied().unwrap_or(1);
    let pki =
        gbcs::sim::TestPki::generate_with_backend(b"gbcs migrate", gbcs::crypto::Backend::DEFAULT)
            .map_err(|e| Failure::key(e.to_string()))?;
    let parties =
        MigrationParties::certified(&pki, None, None).map_err(|e| Failure::key(e.to_string()))?;
    let sim = SimulatedMigration::from_pki(pki, parties, seed, n, &FleetMix::default(), SIM_START)
        .map_err(|e| Failure::key(e.to_string()))?;
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut commands, mut replies, mut refused) = (0u64, 0u64, 0u64);
    for (i, line) in stdin.lock().lines().enumerate() {
        let line = line.map_err(|e| Failure::io("stdin", e))?;
        if line.trim().is_empty() {
            continue;
        }
        let c = match parse_command_line(&line) {
            Ok(c) => c,
            Err(why) => {
                refused += 1;
                eprintln!("sim-meters: line {}: {why}", i + 1);
                continue;
            }
        };
        commands += 1;
        let (reply, alerts) = sim.fleet.meters.deliver(c.device, &c.bytes, c.at.secs());
        let mut lines: Vec<String> = alerts.iter().map(|a| alert_line(a)).collect();
        if let Some(r) = reply {
            replies += 1;
            lines.push(reply_line(c.device, &r));
        }
        for l in lines {
            writeln!(out, "{l}").map_err(|e| Failure::io("stdout", e))?;
        }
        out.flush().map_err(|e| Failure::io("stdout", e))?;
    }
    eprintln!("sim-meters: {commands} commands, {replies} replies, {refused} lines refused");
    Ok(String::new())
}
