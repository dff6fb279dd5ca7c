//! `gbcs`: look inside GBCS CS02 messages, check and make their signatures and MACs, turn a
//! DUIS SRV 6.23 request into its CS02b command, classify meters, run a simulated migration
//! and write the ECOSMIG-007 report. `gbcs --help` lists the exit codes.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::ExitCode;

#[path = "gbcs/keys.rs"]
mod keys;

use clap::{Arg, ArgAction, ArgMatches, Command};
use gbcs::cli::{self, InputFormat};
use gbcs::cos::classify;
use gbcs::crypto::keystore::{KeyRole, Keystore};
use gbcs::crypto::KeyAgreement;
use gbcs::frame::{EntityId, SignatureTail};
use gbcs::payload::Payload;

const EXIT_CODES: &str = "Exit codes:
  0  success
  1  a check failed: a signature or MAC does not verify, or no key was found to check it
  2  usage error (bad arguments)
  3  the input could not be decoded (the message names the field and byte offset)
  4  a file, key or certificate could not be read";

/// A failure with its exit code.
struct Failure(u8, String);

impl Failure {
    fn check(msg: impl Into<String>) -> Self {
        Self(1, msg.into())
    }
    fn decode(msg: impl Into<String>) -> Self {
        Self(3, msg.into())
    }
    fn io(msg: impl Into<String>) -> Self {
        Self(4, msg.into())
    }
}

type Result<T> = std::result::Result<T, Failure>;

fn input_arg() -> Arg {
    Arg::new("input")
        .value_name("FILE")
        .help("The message (hex, base64 or binary); '-' or nothing for stdin")
}

fn format_arg() -> Arg {
    Arg::new("format")
        .long("format")
        .value_parser(["auto", "hex", "base64", "binary"])
        .default_value("auto")
        .help("How the input is written")
}

fn command() -> Command {
    Command::new("gbcs")
        .version(env!("CARGO_PKG_VERSION"))
        .about("GBCS CS02a/CS02b messages, TCoS→ECoS change of supplier and migration")
        .after_help(EXIT_CODES)
        .subcommand_required(true)
        .arg(
            Arg::new("pkcs11-module")
                .long("pkcs11-module")
                .value_name("SO")
                .global(true)
                .help("The PKCS#11 module for keys given as pkcs11: URIs (default: $GBCS_PKCS11_MODULE)"),
        )
        .subcommand(
            Command::new("decode")
                .about("Print a message as a tree of named fields, or as JSON")
                .arg(input_arg())
                .arg(format_arg())
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("JSON (shape documented in gbcs::cli)"))
                .arg(
                    Arg::new("duis-response")
                        .long("duis-response")
                        .action(ArgAction::SetTrue)
                        .conflicts_with("json")
                        .help("For a CS02b response or alert: the DUIS ra:ExecutionOutcome it maps to"),
                )
                .after_help("Example:\n  gbcs decode ../shared/rtds/RTDS-4.5.0/6.23_CS02bSupplierByTransCoS/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX"),
        )
        .subcommand(
            Command::new("verify")
                .about("Check the signature and the MAC with keys found by entity ID in a keystore folder")
                .arg(input_arg())
                .arg(format_arg())
                .arg(Arg::new("keystore").long("keystore").value_name("DIR").required(true).help("A folder laid out like rtds/keystore: <entity-id>-<ds|ka|pp-ka>.<pem|key>"))
                .arg(Arg::new("acb").long("acb").value_name("ENTITY").default_value("90B3D51F30000002").help("The ACB whose KA key MACs commands"))
                .after_help("Example:\n  gbcs verify --keystore ../shared/rtds/keystore COMMAND.HEX"),
        )
        .subcommand(
            Command::new("sign")
                .about("Sign a pre-command: append 40 || r || s over everything after DF")
                .arg(input_arg())
                .arg(format_arg())
                .arg(Arg::new("key").long("key").value_name("PEM|URI").required(true).help("The signer's DS private key: PKCS#8 or SEC1 PEM, or a pkcs11: URI"))
                .after_help("Examples:\n  gbcs sign --key ../shared/rtds/keystore/90b3d51f30000004-ds.key PRECOMMAND.hex > signed.hex\n  gbcs sign --pkcs11-module /usr/lib/softhsm/libsofthsm2.so \\\n    --key 'pkcs11:token=gbcs;object=tcos-ds?pin-source=file:pin.txt' PRECOMMAND.hex"),
        )
        .subcommand(
            Command::new("mac")
                .about("Wrap a signed (or 00-tailed) message in the MAC header and append the MAC")
                .arg(input_arg())
                .arg(format_arg())
                .arg(Arg::new("key").long("key").value_name("PEM|URI").required(true).help("The ACB's KA private key: PEM, or a pkcs11: URI"))
                .arg(Arg::new("peer").long("peer").value_name("PEM").required(true).help("The meter's KA certificate (or public key)"))
                .after_help("Example:\n  gbcs mac --key ../shared/rtds/keystore/90b3d51f30000002-ka.key --peer ../shared/rtds/keystore/00db1234567890a0-ka.pem signed.hex"),
        )
        .subcommand(
            Command::new("build")
                .about("Build a GBCS command from a DUIS service request")
                .subcommand_required(true)
                .subcommand(
                    Command::new("srv-6.23")
                        .about("UpdateSecurityCredentialsCoS → CS02b supplierByTransCoS (0x0107)")
                        .arg(Arg::new("duis").long("duis").value_name("FILE").required(true).help("The DUIS request XML"))
                        .arg(Arg::new("originator").long("originator").value_name("ENTITY").default_value("90B3D51F30000004").help("The party in the meter's {5, DS} cell, who signs"))
                        .arg(Arg::new("counter").long("counter").value_name("N").required(true).value_parser(clap::value_parser!(u64)).help("The originator counter (also authorisingRemotePartySeqNumber)"))
                        .arg(Arg::new("key").long("key").value_name("PEM|URI").help("Sign with this DS key (PEM, or a pkcs11: URI)"))
                        .arg(Arg::new("acb-key").long("acb-key").value_name("PEM|URI").requires("device-ka").help("MAC with this ACB KA key (PEM, or a pkcs11: URI)"))
                        .arg(Arg::new("device-ka").long("device-ka").value_name("PEM").requires("acb-key").help("The meter's KA certificate, for the MAC"))
                        .after_help("Example:\n  gbcs build srv-6.23 --duis ../shared/duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML --counter 6001\n\nWithout --key it prints the pre-command; with --key the signed command; with --acb-key and\n--device-ka too, the MAC'd command."),
                ),
        )
        .subcommand(
            Command::new("classify")
                .about("Decide from a CS02a response or a CS02b outcome whether a meter holds TCoS or ECoS credentials")
                .arg(input_arg())
                .arg(format_arg())
                .arg(Arg::new("registry").long("registry").value_name("FILE").required(true).help("Lines `tcos|ecos ENTITY KEYID`"))
                .after_help("Example:\n  printf 'tcos 90B3D51F30000004 4B38EB47561D93E8\\n' > registry.txt\n  gbcs classify --registry registry.txt RESPONSE.HEX"),
        )
        .subcommand(
            Command::new("migrate")
                .about("Migrate a simulated fleet from TCoS to ECoS, with a progress bar")
                .arg(Arg::new("simulate").long("simulate").value_name("N").required(true).value_parser(clap::value_parser!(u64)).help("Simulated meters"))
                .arg(Arg::new("seed").long("seed").value_name("S").default_value("1").value_parser(clap::value_parser!(u64)))
                .arg(Arg::new("ledger").long("ledger").value_name("FILE").help("Write the ledger summary (CSV) here"))
                .arg(Arg::new("key").long("key").value_name("PEM|URI").help("The TCoS DS key that signs (PEM, or a pkcs11: URI); the test PKI certifies its public key for the simulated meters"))
                .arg(Arg::new("acb-key").long("acb-key").value_name("PEM|URI").help("The ACB KA key that MACs (PEM, or a pkcs11: URI); certified likewise"))
                .after_help("Examples:\n  gbcs migrate --simulate 2000 --ledger ledger.csv\n  gbcs migrate --simulate 1000 --pkcs11-module /usr/lib/softhsm/libsofthsm2.so \\\n    --key 'pkcs11:token=gbcs;object=tcos-ds?pin-source=file:pin.txt' \\\n    --acb-key 'pkcs11:token=gbcs;object=acb-ka?pin-source=file:pin.txt'"),
        )
        .subcommand(
            Command::new("report")
                .about("Write a report")
                .subcommand_required(true)
                .subcommand(
                    Command::new("ecosmig-007")
                        .about("ECOSMIG-007 Summary Report: ECoS Total Counts, from a ledger file")
                        .arg(Arg::new("ledger").long("ledger").value_name("FILE").required(true))
                        .arg(Arg::new("supplier").long("supplier").value_name("SEC-ID").required(true))
                        .arg(Arg::new("month").long("month").value_name("YYYY-MM").required(true).help("The month reported on (created on the 1st of the next at 06:00)"))
                        .arg(Arg::new("sequence").long("sequence").value_name("N").default_value("1").value_parser(clap::value_parser!(u32)))
                        .after_help("Example:\n  gbcs report ecosmig-007 --ledger ledger.csv --supplier SUPA01 --month 2026-11"),
                ),
        )
}

fn read_input(m: &ArgMatches) -> Result<Vec<u8>> {
    let path = m
        .get_one::<String>("input")
        .map(String::as_str)
        .unwrap_or("-");
    let raw = if path == "-" {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .map_err(|e| Failure::io(format!("stdin: {e}")))?;
        v
    } else {
        std::fs::read(path).map_err(|e| Failure::io(format!("{path}: {e}")))?
    };
    let format = match m.get_one::<String>("format").map(String::as_str) {
        Some("hex") => InputFormat::Hex,
        Some("base64") => InputFormat::Base64,
        Some("binary") => InputFormat::Binary,
        _ => InputFormat::Auto,
    };
    cli::read_message(&raw, format).map_err(Failure::decode)
}

fn read_text(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Failure::io(format!("{path}: {e}")))
}

fn entity(m: &ArgMatches, name: &str) -> Result<EntityId> {
    let v = m
        .get_one::<String>(name)
        .map(String::as_str)
        .unwrap_or_default();
    v.parse()
        .map_err(|_| Failure(2, format!("--{name}: {v} is not a 16-hex-digit entity ID")))
}

fn parse(bytes: &[u8]) -> Result<gbcs::Message<'_>> {
    gbcs::parse(bytes).map_err(|e| Failure::decode(e.to_string()))
}

fn decode(m: &ArgMatches) -> Result<String> {
    let bytes = read_input(m)?;
    let msg = parse(&bytes)?;
    if m.get_flag("duis-response") {
        let outcome = match msg.payload() {
            Payload::UpdateSecurityCredentialsResponse(r) => r.execution_outcome,
            Payload::UpdateSecurityCredentialsAlert(a) => Some(a.execution_outcome),
            _ => None,
        };
        return outcome
            .map(|o| gbcs::duis::execution_outcome_xml(&o))
            .ok_or_else(|| {
                Failure::decode("not a CS02b response or alert with an execution outcome")
            });
    }
    let description =
        cli::describe(&msg).map_err(|e| Failure::decode(format!("describing: {e}")))?;
    Ok(if m.get_flag("json") {
        description.to_string() + "\n"
    } else {
        cli::to_tree(&description)
    })
}

fn name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn verify(m: &ArgMatches) -> Result<String> {
    let bytes = read_input(m)?;
    let msg = parse(&bytes)?;
    let dir = m
        .get_one::<String>("keystore")
        .map(String::as_str)
        .unwrap_or_default();
    let ks = Keystore::open(dir).map_err(|e| Failure::io(e.to_string()))?;
    let acb = entity(m, "acb")?;
    let h = msg.header();
    let mut out = String::new();
    let mut ok = true;
    match msg.tail() {
        SignatureTail::Signature(_) => {
            let path = ks.path(h.originator, KeyRole::DigitalSignature, "pem");
            match ks.public_key(h.originator, KeyRole::DigitalSignature) {
                Ok(key) => match msg.verify_signature(&key) {
                    Ok(()) => {
                        out += &format!(
                            "signature: PASS with {} (the originator {}'s DS certificate)\n",
                            name(&path),
                            h.originator
                        )
                    }
                    Err(e) => {
                        ok = false;
                        out += &format!("signature: FAIL with {}: {e}\n", name(&path));
                    }
                },
                Err(e) => {
                    ok = false;
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
        // The MAC key is the shared secret of the ACB (or the remote party) and the device:
        // try each private key the keystore has against the other end's KA certificate.
        let device = if h.originator == acb || h.originator.0[0] != 0x00 {
            h.recipient
        } else {
            h.originator
        };
        let mut tried = Vec::new();
        let mut found = None;
        'search: for (own, peer) in [
            (acb, device),
            (h.originator, h.recipient),
            (h.recipient, h.originator),
        ] {
            for role in [KeyRole::KeyAgreement, KeyRole::PrepaymentKeyAgreement] {
                let (Ok(private), Ok(public)) = (
                    ks.key_agreement_key(own, role),
                    ks.public_key(peer, KeyRole::KeyAgreement),
                ) else {
                    continue;
                };
                let label = format!(
                    "{} x {}",
                    name(&ks.path(own, role, "key")),
                    name(&ks.path(peer, KeyRole::KeyAgreement, "pem"))
                );
                let Ok(z) = private.agree(&public) else {
                    continue;
                };
                if msg.verify_mac(&z).is_ok() {
                    found = Some(label);
                    break 'search;
                }
                tried.push(label);
            }
        }
        match found {
            Some(label) => out += &format!("MAC: PASS with Z = {label}\n"),
            None if tried.is_empty() => {
                ok = false;
                out += "MAC: NO KEY: no KA private key for either end in the keystore\n";
            }
            None => {
                ok = false;
                out += &format!("MAC: FAIL with {}\n", tried.join(", "));
            }
        }
    } else {
        out += "MAC: none (no MAC header)\n";
    }
    if ok {
        Ok(out)
    } else {
        Err(Failure::check(out.trim_end().to_owned()))
    }
}

fn module(m: &ArgMatches) -> Option<&str> {
    m.get_one::<String>("pkcs11-module").map(String::as_str)
}

fn signing_key(m: &ArgMatches, spec: &str) -> Result<keys::Signer> {
    keys::signer(spec, module(m)).map_err(Failure::io)
}

fn sign(m: &ArgMatches) -> Result<String> {
    let bytes = read_input(m)?;
    let key = signing_key(
        m,
        m.get_one::<String>("key")
            .map(String::as_str)
            .unwrap_or_default(),
    )?;
    let signed = gbcs::message::sign_precommand(&bytes, &key.signer).map_err(|e| match e {
        gbcs::GbcsError::Crypto(c) => Failure::io(format!("signing failed: {c}")),
        gbcs::GbcsError::Codec(c) => Failure::decode(c.to_string()),
    })?;
    Ok(gbcs::hex::encode_upper(&signed) + "\n")
}

fn shared_secret(m: &ArgMatches, key: &str, peer: &str) -> Result<gbcs::crypto::SharedSecret> {
    let private = keys::agreement(key, module(m)).map_err(Failure::io)?;
    let public = keys::peer(peer).map_err(Failure::io)?;
    private
        .key
        .agree(&public)
        .map_err(|e| Failure::io(format!("key agreement failed: {e}")))
}

fn mac(m: &ArgMatches) -> Result<String> {
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

fn build(m: &ArgMatches) -> Result<String> {
    let Some(("srv-6.23", m)) = m.subcommand() else {
        return Err(Failure(2, "unknown build".into()));
    };
    let xml = read_text(
        m.get_one::<String>("duis")
            .map(String::as_str)
            .unwrap_or_default(),
    )?;
    let request =
        gbcs::duis::Srv623Request::from_xml(&xml).map_err(|e| Failure::decode(e.to_string()))?;
    let originator = entity(m, "originator")?;
    let counter = m.get_one::<u64>("counter").copied().unwrap_or_default();
    let key = m
        .get_one::<String>("key")
        .map(|p| signing_key(m, p))
        .transpose()?;
    let z = match (
        m.get_one::<String>("acb-key"),
        m.get_one::<String>("device-ka"),
    ) {
        (Some(k), Some(p)) => Some(shared_secret(m, k, p)?),
        _ => None,
    };
    let bytes = request.with_request(|req| {
        req.with_payload(counter, |payload| {
            let header = gbcs::message::CommandHeader {
                message_code: gbcs::frame::MessageCode::CS02B_SUPPLIER_BY_TRANS_COS,
                counter,
                originator,
                recipient: req.target,
            };
            match &key {
                None => {
                    gbcs::message::build_precommand(&header, payload).map_err(gbcs::GbcsError::from)
                }
                Some(k) => {
                    let signer: &dyn gbcs::crypto::SignatureSigner = &*k.signer;
                    gbcs::message::build_command(&header, payload, Some(signer), z.as_ref())
                }
            }
        })
    });
    bytes
        .map(|b| gbcs::hex::encode_upper(&b) + "\n")
        .map_err(|e| Failure::decode(e.to_string()))
}

fn classify_cmd(m: &ArgMatches) -> Result<String> {
    let bytes = read_input(m)?;
    let msg = parse(&bytes)?;
    let registry = cli::parse_registry(&read_text(
        m.get_one::<String>("registry")
            .map(String::as_str)
            .unwrap_or_default(),
    )?)
    .map_err(Failure::io)?;
    let c = match msg.payload() {
        Payload::CredentialDetailsResponse(_) => classify::from_credential_details(&registry, &msg),
        Payload::UpdateSecurityCredentialsResponse(_)
        | Payload::UpdateSecurityCredentialsAlert(_) => {
            classify::from_update_outcome(&registry, &msg)
        }
        _ => Err(classify::NotEvidence::WrongMessage),
    }
    .map_err(|e| Failure::decode(format!("not evidence of the meter's credentials: {e:?}")))?;
    let state = match c.state {
        gbcs::cos::CosState::Tcos => "TCOS".to_owned(),
        gbcs::cos::CosState::Ecos => "ECOS".to_owned(),
        gbcs::cos::CosState::Unknown(r) => format!("UNKNOWN ({r:?})"),
    };
    let e = c.evidence;
    Ok(format!(
        "state: {state}\nmatched: {}\nevidence: {:?} from device {} (counter {})\ncell: {}\nstatus: {}\n",
        c.matched.map_or("-".into(), |k| format!("{k:?}")),
        e.source,
        e.device,
        e.counter.map_or("-".into(), |n| n.to_string()),
        e.credential.map_or("(none)".into(), |x| x.to_string()),
        e.status.map_or("-".into(), |s| format!("{s:?}")),
    ))
}

fn migrate(m: &ArgMatches) -> Result<String> {
    use gbcs::cos::engine::EngineConfig;
    use gbcs::sim::fleet::{FleetMix, MigrationParties, SimulatedMigration};
    let n = usize::try_from(m.get_one::<u64>("simulate").copied().unwrap_or(0))
        .map_err(|_| Failure(2, "--simulate too large".into()))?;
    let seed = m.get_one::<u64>("seed").copied().unwrap_or(1);
    let pki =
        gbcs::sim::TestPki::generate_with_backend(b"gbcs migrate", gbcs::crypto::Backend::DEFAULT)
            .map_err(|e| Failure::io(e.to_string()))?;
    // Keys given on the command line (files or HSM URIs) sign and MAC; the test PKI certifies
    // their public keys, so the simulated meters trust them.
    let tcos = m
        .get_one::<String>("key")
        .map(|k| signing_key(m, k))
        .transpose()?;
    let acb = m
        .get_one::<String>("acb-key")
        .map(|k| keys::agreement(k, module(m)).map_err(Failure::io))
        .transpose()?;
    let public = |k: Option<&gbcs::crypto::PublicKey>, what: &str| {
        k.cloned().ok_or_else(|| {
            Failure::io(format!(
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
        .map_err(|e| Failure::io(e.to_string()))?;
    let tcos_credential = parties
        .tcos_credential()
        .map_err(|e| Failure::io(e.to_string()))?;
    let mut sim =
        SimulatedMigration::from_pki(pki, parties, seed, n, &FleetMix::default(), 1_764_547_200)
            .map_err(|e| Failure::io(e.to_string()))?;
    let mut run = sim.start(1);
    let started = std::time::Instant::now();
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
    let last = sim
        .with_context_using(signer, acb_key, |ctx| {
            run.run(
                ctx,
                &sim.fleet.transport,
                &EngineConfig {
                    batch_size: 500,
                    ..EngineConfig::default()
                },
                |p| {
                    let done = p.migrated * 30 / p.devices.max(1);
                    eprint!(
                        "\r[{}{}] {:>6}/{} migrated, {:>6} attempts",
                        "#".repeat(done),
                        " ".repeat(30 - done),
                        p.migrated,
                        p.devices,
                        p.attempts
                    );
                    let _ = std::io::stderr().flush();
                },
            )
        })
        .map_err(|e| Failure::io(e.to_string()))?;
    eprintln!();
    let secs = started.elapsed().as_secs_f64();
    let summary = run.ledger.summary(&run.records, &run.policy);
    if let Some(path) = m.get_one::<String>("ledger") {
        std::fs::write(path, cli::write_ledger(&summary))
            .map_err(|e| Failure::io(format!("{path}: {e}")))?;
    }
    let mut out = format!(
        "{} devices, {} migrated, {} attempts in {secs:.1} s ({:.0} devices/s)\n",
        n,
        last.migrated,
        last.attempts,
        last.attempts as f64 / secs.max(1e-9)
    );
    if run.local_faults() > 0 {
        out += &format!(
            "LOCAL FAULTS: {} (the engine's keys failed; not device attempts)\n",
            run.local_faults()
        );
    }
    if let Some(i) = run.stopped() {
        out += &format!("AUTO-STOP: {i}\n");
    }
    out += &cli::write_ledger(&summary);
    Ok(out)
}

fn report(m: &ArgMatches) -> Result<String> {
    let Some(("ecosmig-007", m)) = m.subcommand() else {
        return Err(Failure(2, "unknown report".into()));
    };
    let ledger = cli::parse_ledger(&read_text(
        m.get_one::<String>("ledger")
            .map(String::as_str)
            .unwrap_or_default(),
    )?)
    .map_err(Failure::io)?;
    let supplier = m
        .get_one::<String>("supplier")
        .map(String::as_str)
        .unwrap_or_default();
    let counts = ledger
        .iter()
        .find(|(s, _)| s.as_str() == supplier)
        .map(|(_, c)| *c)
        .ok_or_else(|| Failure::io(format!("supplier {supplier} is not in the ledger")))?;
    let month = m
        .get_one::<String>("month")
        .map(String::as_str)
        .unwrap_or_default();
    let (y, mo) = month
        .split_once('-')
        .and_then(|(y, m)| {
            Some((
                y.parse::<u16>().ok()?,
                m.parse::<u8>().ok().filter(|m| (1..=12).contains(m))?,
            ))
        })
        .ok_or_else(|| Failure(2, format!("--month {month}: expected YYYY-MM")))?;
    let id = gbcs::cos::SecPartyId::new(supplier).map_err(|e| Failure(2, e.to_string()))?;
    let seq = m.get_one::<u32>("sequence").copied().unwrap_or(1);
    let r = gbcs::cos::report::Ecosmig007::monthly(
        id,
        seq,
        gbcs::cos::report::scheduled_creation(y, mo),
        counts,
    );
    r.to_text(&gbcs::cos::report::ReportFormat::default())
        .map_err(|e| Failure::decode(e.to_string()))
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    let result = match matches.subcommand() {
        Some(("decode", m)) => decode(m),
        Some(("verify", m)) => verify(m),
        Some(("sign", m)) => sign(m),
        Some(("mac", m)) => mac(m),
        Some(("build", m)) => build(m),
        Some(("classify", m)) => classify_cmd(m),
        Some(("migrate", m)) => migrate(m),
        Some(("report", m)) => report(m),
        _ => Err(Failure(2, "unknown command".into())),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(Failure(code, msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}
