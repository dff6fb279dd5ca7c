//! The command line: subcommands, their arguments, help and examples.

use clap::{Arg, ArgAction, Command};

use crate::failure::EXIT_CODES;

/// `--ledger FILE`, the JSON ledger a report reads (or `--state`).
fn ledger_arg() -> Arg {
    Arg::new("ledger")
        .long("ledger")
        .value_name("FILE")
        .required_unless_present("state")
        .conflicts_with("state")
        .help("The ledger file (JSON, as `migrate --ledger` writes it)")
}

/// `--state URL`, the store a report reads (or `--ledger`).
fn state_arg() -> Arg {
    Arg::new("state")
        .long("state")
        .value_name("URL")
        .help("The migration's store instead of a ledger file (sqlite:PATH or postgres://…, as `migrate --state` writes it)")
}

pub fn input_arg() -> Arg {
    Arg::new("input")
        .value_name("FILE")
        .help("The message (hex, base64 or binary); '-' or nothing for stdin")
}

pub fn format_arg() -> Arg {
    Arg::new("format")
        .long("format")
        .value_parser(["auto", "hex", "base64", "binary"])
        .default_value("auto")
        .help("How the input is written")
}

/// DCC's parties in the environment a command is for (the library names none of them).
fn dcc_args() -> [Arg; 3] {
    [
        Arg::new("dcc")
            .long("dcc")
            .value_name("PRESET")
            .value_parser(["rtds"])
            .help("DCC's ACB and TCoS party by name: rtds = the RTDS test parties (ACB 90B3D51F30000002, TCoS 90B3D51F30000004)"),
        Arg::new("acb")
            .long("acb")
            .value_name("ENTITY")
            .help("DCC's ACB (overrides the --dcc preset's)"),
        Arg::new("tcos")
            .long("tcos")
            .value_name("ENTITY")
            .help("DCC's TCoS party (overrides the --dcc preset's)"),
    ]
}

/// What a build checks the request's certificates against, and the signing key's certificate.
fn trust_args() -> [Arg; 3] {
    [
        Arg::new("trust-anchor")
            .long("trust-anchor")
            .value_name("PEM")
            .help("The SMKI root (certificate or public key): every certificate's path must end there; without it, each is verified up to the request's own CA, and stderr says so"),
        Arg::new("now")
            .long("now")
            .value_name("TIME")
            .help("The time of building (RFC 3339, e.g. 2026-12-07T09:30:00Z; default: the clock): certificates must be valid then, and a future-dated request's time after it"),
        Arg::new("key-cert")
            .long("key-cert")
            .value_name("PEM")
            .help("The --key's certificate: the key is refused unless it is the originator's DS key (found by itself beside a keystore key or in the token)"),
    ]
}

fn counter_arg(required: bool) -> Arg {
    Arg::new("counter")
        .long("counter")
        .value_name("N")
        .required(required)
        .value_parser(crate::input::counter)
        .help("The originator counter (also authorisingRemotePartySeqNumber): decimal or 0x hex, 0 to 2^63 - 1")
}

/// The engine's caps and the simulated network (`migrate --simulate`, the bulk example).
fn network_args() -> [Arg; 8] {
    let duration = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .value_name("DURATION")
            .value_parser(crate::input::duration_ms)
            .help(help)
    };
    let rate = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .value_name("RATE")
            .value_parser(crate::input::fraction)
            .help(help)
    };
    [
        duration(
            "rtt-median",
            "The median round trip of the simulated network (e.g. 1s; default 0ms: no delay)",
        ),
        duration("rtt-p99", "Its 99th percentile (default: the median)"),
        rate(
            "loss",
            "Replies lost, the command having run (a fraction or a percentage; default 0)",
        ),
        rate(
            "late",
            "Replies that come after their command's deadline (default 0)",
        ),
        rate("duplicate", "Replies delivered twice (default 0)"),
        duration("deadline", "How long a reply is waited for (default 30s)"),
        Arg::new("max-in-flight")
            .long("max-in-flight")
            .value_name("N")
            .value_parser(clap::value_parser!(usize))
            .help("Commands in flight at most (default 100000)"),
        Arg::new("max-rate")
            .long("max-rate")
            .value_name("PER_SECOND")
            .value_parser(clap::value_parser!(u32).range(1..))
            .help("Commands sent per second at most (default: no cap)"),
    ]
}

/// The most meters `migrate --simulate` takes: the scale of the national fleet.
pub const MAX_SIMULATED: u64 = 100_000_000;

fn simulated(s: &str) -> Result<u64, String> {
    let n: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s} is not a number of meters"))?;
    if n > MAX_SIMULATED {
        return Err(format!(
            "{n} meters: the most --simulate takes is {MAX_SIMULATED} (100 million, the scale of the national fleet)"
        ));
    }
    Ok(n)
}

pub fn command() -> Command {
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
                        .help("For a CS02a/CS02b response or alert: the DUIS body a Service User receives (MMC ra:GBCSResponse, schema 5.4)"),
                )
                .arg(
                    Arg::new("service")
                        .long("service")
                        .value_name("VARIANT")
                        .requires("duis-response")
                        .help("The service the command was sent for (6.15.1, 6.21, 6.23, 6.24.1, 8.5); default: the one its mode implies (6.15.1 for a supplierBySupplier or NO-by-NO)"),
                )
                .after_help("Examples:\n  gbcs decode ../shared/rtds/RTDS-4.5.0/6.23_CS02bSupplierByTransCoS/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX\n  gbcs decode --duis-response ../shared/rtds/RTDS-4.5.0/6.24.1_CS02aMAC/CS02aMAC_6.24.1_SUCCESS_RESPONSE_GBCS.HEX"),
        )
        .subcommand(
            Command::new("verify")
                .about("Check the signature and the MAC with keys found by entity ID in a keystore folder")
                .arg(input_arg())
                .arg(format_arg())
                .arg(Arg::new("keystore").long("keystore").value_name("DIR").required(true).help("A folder laid out like rtds/keystore: <entity-id>-<ds|ka|pp-ka>.<pem|key>"))
                .args(dcc_args())
                .arg(Arg::new("allow-unauthenticated").long("allow-unauthenticated").action(ArgAction::SetTrue).help("Exit 0 for a message with nothing to check (a pre-command, or 00 without a MAC header)"))
                .after_help("Each check names the key it used and whose it must be: a command's signature the\noriginator's DS certificate (and the cell its mode authorises with), a response's or\nalert's the device's, the MAC the ACB x device pair (the ACB from --acb or --dcc; the\ndevice is a command's recipient, a response's or alert's originator). A CS02b/CS02g\ncommand is also checked against its mode's row (fields, [3], protection). The report goes\nto stdout, a one-line verdict to stderr when a check fails.\n\nExit codes: 0 every check passed; 1 a check failed, or nothing authenticates the\nmessage (unless --allow-unauthenticated); 3 not a GBCS message; 4 the keystore could not be read.\n\nExample:\n  gbcs verify --keystore ../shared/rtds/keystore --dcc rtds COMMAND.HEX"),
        )
        .subcommand(
            Command::new("sign")
                .about("Sign a pre-command: append 40 || r || s over everything after DF")
                .arg(input_arg())
                .arg(format_arg())
                .arg(Arg::new("key").long("key").value_name("PEM|URI").required(true).help("The signer's DS private key: PKCS#8 or SEC1 PEM, or a pkcs11: URI"))
                .arg(Arg::new("deterministic").long("deterministic").action(ArgAction::SetTrue).help("Sign by RFC 6979: the same input gives the same signature, so outputs compare byte for byte (a PEM key; an HSM key is refused)"))
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
                .args_conflicts_with_subcommands(true)
                .arg(Arg::new("duis").long("duis").value_name("FILE").help("The DUIS request XML, checked against the DUIS 5.4 schema; the service comes from its ServiceReferenceVariant (6.23, 6.15.1, 6.21, 8.5, 6.24.1)"))
                .arg(Arg::new("originator").long("originator").value_name("ENTITY").help("Who originates: by default the requesting Service User (6.15.1), DCC's TCoS party (6.23), DCC's ACB (6.21, 8.5, 6.24.1), from --dcc, --acb, --tcos"))
                .args(dcc_args())
                .arg(counter_arg(false))
                .arg(Arg::new("key").long("key").value_name("PEM|URI").help("Sign with this DS key (PEM, or a pkcs11: URI)"))
                .arg(Arg::new("deterministic").long("deterministic").action(ArgAction::SetTrue).help("Sign by RFC 6979: the same input gives the same signature, so outputs compare byte for byte (a PEM key; an HSM key is refused)"))
                .args(trust_args())
                .arg(Arg::new("acb-key").long("acb-key").value_name("PEM|URI").requires("device-ka").help("MAC with this ACB KA key (PEM, or a pkcs11: URI)"))
                .arg(Arg::new("device-ka").long("device-ka").value_name("PEM").requires("acb-key").help("The meter's KA certificate, for the MAC"))
                .arg(Arg::new("format").long("format").value_name("FORMAT").value_parser(["hex", "binary", "base64"]).default_value("hex").help("Output: hex, raw binary, or base64"))
                .arg(Arg::new("read-as").long("read-as").value_name("CODE").value_parser(["cs02a", "cs02f"]).help("6.24.1: send the read as CS02a (0x0008) or CS02f (0x011B); default CS02f when the load controller is asked for, CS02a otherwise"))
                .after_help("Examples:\n  gbcs build --duis ../shared/duis/CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML --counter 1000\n  gbcs build srv-6.23 --dcc rtds --duis ../shared/duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML --counter 6001\n\nWithout --key it prints the pre-command; with --key the signed command; with --acb-key and\n--device-ka too, the MAC'd command. The request's certificates are verified first (each under\nits CA in the request, the path to --trust-anchor when given, valid --now and at a\nfuture-dated request's execution time); a failed check exits 1.")
                .subcommand(
                    Command::new("srv-6.23")
                        .about("UpdateSecurityCredentialsCoS → CS02b supplierByTransCoS (0x0107)")
                        .arg(Arg::new("duis").long("duis").value_name("FILE").required(true).help("The DUIS request XML"))
                        .arg(Arg::new("originator").long("originator").value_name("ENTITY").help("The party in the meter's {5, DS} cell, who signs (default: DCC's TCoS party, from --dcc or --tcos)"))
                        .args(dcc_args())
                        .arg(counter_arg(true))
                        .arg(Arg::new("key").long("key").value_name("PEM|URI").help("Sign with this DS key (PEM, or a pkcs11: URI)"))
                        .arg(Arg::new("deterministic").long("deterministic").action(ArgAction::SetTrue).help("Sign by RFC 6979: the same input gives the same signature, so outputs compare byte for byte (a PEM key; an HSM key is refused)"))
                        .args(trust_args())
                        .arg(Arg::new("acb-key").long("acb-key").value_name("PEM|URI").requires("device-ka").help("MAC with this ACB KA key (PEM, or a pkcs11: URI)"))
                        .arg(Arg::new("device-ka").long("device-ka").value_name("PEM").requires("acb-key").help("The meter's KA certificate, for the MAC"))
                        .after_help("Example:\n  gbcs build srv-6.23 --dcc rtds --duis ../shared/duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML --counter 6001\n\nWithout --key it prints the pre-command; with --key the signed command; with --acb-key and\n--device-ka too, the MAC'd command."),
                ),
        )
        .subcommand(
            Command::new("classify")
                .about("Decide from a CS02a response or a CS02b outcome whether a meter holds TCoS or ECoS credentials")
                .arg(input_arg())
                .arg(format_arg())
                .arg(Arg::new("registry").long("registry").value_name("FILE").required(true).help("Lines `tcos|ecos ENTITY KEYID`"))
                .arg(Arg::new("keystore").long("keystore").value_name("DIR").help("Verify first with the device's DS certificate, or the ACB x device KA pair for a MAC, from a keystore folder"))
                .arg(Arg::new("device-key").long("device-key").value_name("PEM").help("Verify first with the device's DS certificate or public key"))
                .args(dcc_args())
                .arg(Arg::new("no-verify").long("no-verify").action(ArgAction::SetTrue).conflicts_with_all(["keystore", "device-key"]).help("Classify without verifying (the output says so)"))
                .after_help("The evidence is verified before it is classified: the device's signature, or the ACB x\ndevice MAC; give --keystore or --device-key, or --no-verify.\n\nExample:\n  printf 'tcos 90B3D51F30000004 4B38EB47561D93E8\\n' > registry.txt\n  gbcs classify --registry registry.txt --keystore ../shared/rtds/keystore --dcc rtds RESPONSE.HEX"),
        )
        .subcommand(
            Command::new("migrate")
                .about("Migrate a fleet from TCoS to ECoS (an inventory's real devices, or a simulated fleet), with a progress bar")
                .arg(Arg::new("simulate").long("simulate").value_name("N").required_unless_present("inventory").conflicts_with("inventory").value_parser(simulated).help("Simulated meters (at most 100,000,000, the scale of the national fleet)"))
                .arg(Arg::new("inventory").long("inventory").value_name("FILE").requires_all(["parties", "state"]).conflicts_with_all(["key", "acb-key"]).help("The devices to migrate: CSV (a header row) or JSON (an array of objects), one record per device (see `cos::inventory` for the fields)"))
                .arg(Arg::new("parties").long("parties").value_name("FILE").requires("inventory").help("With --inventory: JSON naming acb_id, acb_key, tcos_key (PEM files or pkcs11: URIs), tcos_certificate, ecos_certificate, certification_path, and optionally registry and device_keystore (paths beside the file)"))
                .arg(Arg::new("keystore").long("keystore").value_name("DIR").requires("inventory").help("With --inventory: the device certificates (<id>-ds.pem, <id>-ka.pem) of rows that name none"))
                .arg(Arg::new("policy").long("policy").value_name("FILE").requires("inventory").help("With --inventory: the migration policy (JSON; default: the default policy)"))
                .arg(Arg::new("now").long("now").value_name("TIME").requires("inventory").help("With --inventory: when a new run starts (RFC 3339; default: the clock)"))
                .arg(Arg::new("seed").long("seed").value_name("S").default_value("1").value_parser(clap::value_parser!(u64)))
                .arg(Arg::new("tcos-counter").long("tcos-counter").value_name("N").default_value("1").value_parser(clap::value_parser!(u64).range(1..)).help("The TCoS party's next originator counter: above every counter it has used (its 0x0106 commands)"))
                .arg(Arg::new("acb-counter").long("acb-counter").value_name("N").default_value("1").value_parser(clap::value_parser!(u64).range(1..)).help("The ACB's next originator counter: above every counter it has used (its CS02a reads; a sequence of its own)"))
                .args(network_args())
                .arg(Arg::new("transport").long("transport").value_name("sim|exec:COMMAND").default_value("sim").help("sim: the in-process simulated network (the --rtt/--loss flags); exec:COMMAND: a child process speaking JSON lines (a command out: device, counter, kind, at, deadline, base64 bytes; a reply in: device, base64 bytes), e.g. exec:'gbcs sim-meters --simulate N --seed S'"))
                .arg(Arg::new("ledger").long("ledger").value_name("FILE").help("Write the ledger here (JSON: timed attempts, readings, standings, report sequence numbers)"))
                .arg(Arg::new("state").long("state").value_name("URL").help("Write the ledger into this store as the run goes (sqlite:PATH; created if absent, refused if it already holds a run)"))
                .arg(Arg::new("engine").long("engine").value_name("NAME").requires("state").help("Migrate together with other engines on one PostgreSQL --state (a simulated fleet or an --inventory): this engine's name; it takes devices by lease, in batches, and takes over those of an engine whose leases ran out"))
                .arg(Arg::new("lease-batch").long("lease-batch").value_name("N").value_parser(clap::value_parser!(usize)).help("Devices leased at a time by --engine (default 1000)"))
                .arg(Arg::new("window").long("window").value_name("N").value_parser(clap::value_parser!(u64).range(1..)).requires("state").conflicts_with("engine").help("With --state (one engine): devices taken at a time (default 10000): the engine holds one window's records and history (and a simulated run one window's meters), not the fleet's; each window runs to its end before the next, and a resumed run starts where the store says the windows got to"))
                .arg(Arg::new("lease-ttl").long("lease-ttl").value_name("DURATION").value_parser(crate::input::duration_ms).help("How long a lease lasts unless renewed by a commit (default 30s): an engine that dies is taken over after it"))
                .arg(Arg::new("key").long("key").value_name("PEM|URI").help("The TCoS DS key that signs (PEM, or a pkcs11: URI); the test PKI certifies its public key for the simulated meters"))
                .arg(Arg::new("deterministic").long("deterministic").action(ArgAction::SetTrue).help("Sign by RFC 6979: the same input gives the same signature, so outputs compare byte for byte (a PEM key; an HSM key is refused)"))
                .arg(Arg::new("acb-key").long("acb-key").value_name("PEM|URI").help("The ACB KA key that MACs (PEM, or a pkcs11: URI); certified likewise"))
                .after_help("The simulated network answers each command after a round trip drawn from a log-normal\ndistribution (--rtt-median, --rtt-p99); replies may be lost, late or duplicated at the rates\ngiven. stdout ends with three lines scripts read: `first commands per second: N`, `first\nattempts resolved per second: N`, `peak in flight: M`; then, when the run finished, a last line\n`complete: …` (a run stopped by an auto-stop or Ctrl-C exits 5 instead, saying `stopped: REASON`). Ctrl-C stops gracefully: commands in\nflight are waited for up to their deadline.\n\nExamples:\n  gbcs migrate --simulate 2000 --ledger ledger.json\n  gbcs migrate --simulate 20000 --rtt-median 1s --rtt-p99 10s --loss 0.01 --late 0.005 --duplicate 0.005\n  gbcs migrate --simulate 1000 --pkcs11-module /usr/lib/softhsm/libsofthsm2.so \\\n    --key 'pkcs11:token=gbcs;object=tcos-ds?pin-source=file:pin.txt' \\\n    --acb-key 'pkcs11:token=gbcs;object=acb-ka?pin-source=file:pin.txt'"),
        )
        .subcommand(
            Command::new("report")
                .about("Write a report")
                .subcommand_required(true)
                .subcommand(device_report(
                    "ecosmig-001",
                    "ECOSMIG-001: devices successfully migrated in a day, one record per device, from the ledger",
                    Period::Day,
                    "Each device once, in the day its migration was first known to have completed (a reply, or a reading\nthat showed a lost reply's command ran), to the supplier of that attempt. Refused, before any number is used: a period not yet ended, a year outside 2000-9999, a supplier the\nledger has never reported to, a device it cannot name (type, model, firmware), a --sequence that reuses\na number or goes back.\n\nExample:\n  gbcs report ecosmig-001 --ledger ledger.json --supplier SUPA01 --day 2026-12-08",
                ))
                .subcommand(device_report(
                    "ecosmig-002",
                    "ECOSMIG-002: devices whose migration failed in a day, with the category and GBCS status, from the ledger",
                    Period::Day,
                    "Each device once, in the day its migration failed for good (faulted, or needing investigation: no more\nautomatic tries), with the notice category and the GBCS status of its last attempt. Refused, before any number is used: a period not yet ended, a year outside 2000-9999, a supplier the\nledger has never reported to, a device it cannot name (type, model, firmware), a --sequence that reuses\na number or goes back.\n\nExample:\n  gbcs report ecosmig-002 --ledger ledger.json --supplier SUPA01 --day 2026-12-08",
                ))
                .subcommand(device_report(
                    "ecosmig-004",
                    "ECOSMIG-004: devices that became non-migratable in a day and still are at its end, from the ledger",
                    Period::Day,
                    "With --from-start, every device of a Non-Migratable model as at the day's end: ECOSMIG-007's last total.\nRefused, before any number is used: a period not yet ended, a year outside 2000-9999, a supplier the\nledger has never reported to, a device it cannot name (type, model, firmware), a --sequence that reuses\na number or goes back.\n\nExample:\n  gbcs report ecosmig-004 --ledger ledger.json --supplier SUPA01 --day 2026-12-08 --from-start",
                ))
                .subcommand(
                    Command::new("ecosmig-005")
                        .about("ECOSMIG-005 reconciliation report: migrations completed and failed attempts in a week, from the ledger")
                        .arg(ledger_arg()).arg(state_arg())
                        .arg(Arg::new("supplier").long("supplier").value_name("SEC-ID").required(true))
                        .arg(Arg::new("week").long("week").value_name("YYYY-MM-DD").required(true).help("Any day of the week reported on (Monday to Sunday, UTC; made the Monday after at 06:00)"))
                        .arg(Arg::new("sequence").long("sequence").value_name("N").value_parser(clap::value_parser!(u32)).help("Override the sequence number (default: the ledger's next ECOSMIG-005 for this recipient); one that reuses a number or goes back is refused"))
                        .arg(Arg::new("now").long("now").value_name("TIME").help("The time of making (RFC 3339; default: the clock): a week that has not ended by then is refused"))
                        .after_help("Made every week, even when nothing happened. Counts are the week's own: the cumulative totals at its end\nless those before its start, so the weeks add up to ECOSMIG-007's first two totals.\n\nExample:\n  gbcs report ecosmig-005 --ledger ledger.json --supplier SUPA01 --week 2026-11-30"),
                )
                .subcommand(device_report(
                    "ecosmig-006",
                    "ECOSMIG-006: devices with ECoS installed in a month and still at its end, 'ECoS Status' Installed, from the ledger",
                    Period::Month,
                    "With --from-start, every ECoS installed device as at the month's end: ECOSMIG-007's third total.\nRefused, before any number is used: a period not yet ended, a year outside 2000-9999, a supplier the\nledger has never reported to, a device it cannot name (type, model, firmware), a --sequence that reuses\na number or goes back.\n\nExample:\n  gbcs report ecosmig-006 --ledger ledger.json --supplier SUPA01 --month 2026-12",
                ))
                .subcommand(
                    Command::new("ecosmig-007")
                        .about("ECOSMIG-007 Summary Report: ECoS Total Counts, from the ledger, as at the month's end")
                        .arg(ledger_arg()).arg(state_arg())
                        .arg(Arg::new("supplier").long("supplier").value_name("SEC-ID").required(true))
                        .arg(Arg::new("month").long("month").value_name("YYYY-MM").required(true).help("The month reported on (created on the 1st of the next at 06:00)"))
                        .arg(Arg::new("sequence").long("sequence").value_name("N").value_parser(clap::value_parser!(u32)).help("Override the sequence number (default: the ledger's next for this recipient); says so on stderr; one that reuses a number or goes back is refused"))
                        .arg(Arg::new("now").long("now").value_name("TIME").help("The time of making, the report's creation date-time (RFC 3339, e.g. 2026-12-01T06:00:00Z; default: the clock): a month that has not ended by then is refused"))
                        .after_help("Counts are cumulative as at 23:59:59 of the month's last day, whenever the report is made.\nThe sequence number issued is recorded in the ledger file. Refused, before any number is used: a month\nnot yet ended, a year outside 2000-9999, a supplier the ledger has never reported to, a --sequence\nthat reuses a number or goes back.\n\nExample:\n  gbcs report ecosmig-007 --ledger ledger.json --supplier SUPA01 --month 2026-11"),
                )
                .subcommand(
                    Command::new("due")
                        .about("Reports due and not yet made: lists them, or makes and writes each to its own file")
                        .arg(ledger_arg()).arg(state_arg())
                        .arg(Arg::new("at").long("at").value_name("TIME").help("List what is due by this time (RFC 3339; default: --now)"))
                        .arg(Arg::new("write").long("write").value_name("DIR").help("Make every report due and write each to DIR/REPORT_RECIPIENT_SEQUENCE.txt; then write the ledger"))
                        .arg(Arg::new("now").long("now").value_name("TIME").help("The time of making (RFC 3339; default: the clock)"))
                        .after_help("Cadences: ECOSMIG-001, 002 and 004 daily (due 06:00 the next day); ECOSMIG-005 weekly, Monday to\nSunday (due Monday 06:00); ECOSMIG-006 and 007 monthly (due the 1st at 06:00). Every supplier the\nledger knows gets every report, and every Meter Asset Provider its devices name gets 001, 002, 004\nand 006, for every period from the one holding the migration's first instant, empty or not.\nFiles are written before the ledger: a run killed before it saved the ledger is run again and\nkeeps the files it finds that are the same reports; a file of that name holding anything else is\nnever overwritten.\n\nExamples:\n  gbcs report due --ledger ledger.json --at 2026-12-08T06:00:00Z\n  gbcs report due --ledger ledger.json --write reports/   # from cron, daily after 06:00\n  gbcs report due --state sqlite:state.sqlite --write reports/"),
                )
                .subcommand(
                    Command::new("notices")
                        .about("Notices: a Responsible Supplier's devices excluded or failed, or DCC's list (--dcc), with category, GBCS status, reason and last outcome (CSV)")
                        .arg(ledger_arg()).arg(state_arg())
                        .arg(Arg::new("supplier").long("supplier").value_name("SEC-ID").required_unless_present("dcc").conflicts_with("dcc"))
                        .arg(Arg::new("dcc").long("dcc").action(ArgAction::SetTrue).help("DCC's list instead: communications hub faults and Gas Proxy Functions of a Non-Migratable model"))
                        .after_help("Categories: communications failure, device refused, invalid response, excluded (non-migratable or\nineligible), DCC to resolve. What DCC resolves is on DCC's list only. Prints only the header row when\nthere is nothing to tell.\n\nExamples:\n  gbcs report notices --ledger ledger.json --supplier SUPA01\n  gbcs report notices --ledger ledger.json --dcc"),
                ),
        )
        .subcommand(
            Command::new("sim-meters")
                .about("The simulated meters of `migrate --simulate N --seed S` as a process: JSON-line commands in on stdin, replies and alerts out on stdout (for --transport exec:)")
                .arg(Arg::new("simulate").long("simulate").value_name("N").required(true).value_parser(simulated).help("Simulated meters: the same N as the migrate run's"))
                .arg(Arg::new("seed").long("seed").value_name("S").default_value("1").value_parser(clap::value_parser!(u64)).help("The same seed as the migrate run's"))
                .arg(Arg::new("write-inventory").long("write-inventory").value_name("DIR").conflicts_with_all(["world", "shared", "loss", "late", "late-by"]).help("Instead of serving commands, write these meters as a real migration's inputs into DIR (created; refused if it exists): inventory.csv, keystore/, parties.json, parties/, policy.json, for `migrate --inventory`"))
                .arg(Arg::new("shared").long("shared").action(ArgAction::SetTrue).help("Let several sim-meters hold the --world at once (one per engine of a leased run); each delivery is still one transaction"))
                .arg(Arg::new("world").long("world").value_name("URL").help("Keep the meters' memory and a log of every command delivered in this SQLite file (sqlite:PATH), so the meters outlive this process: one sim-meters at a time holds a world (the next waits)"))
                .arg(Arg::new("loss").long("loss").value_name("RATE").value_parser(crate::input::fraction).help("Replies lost after the meter executed the command (a fraction or a percentage; default 0)"))
                .arg(Arg::new("late").long("late").value_name("RATE").value_parser(crate::input::fraction).help("Replies held back by --late-by (default 0)"))
                .arg(Arg::new("late-by").long("late-by").value_name("DURATION").value_parser(crate::input::duration_ms).help("How long a late reply is held (default 5s)"))
                .after_help("Built from the same seeds as `migrate --simulate N --seed S` with its built-in test keys, so its meters\ntrust that run's parties. A line that is not a command is reported on stderr and skipped. With --world\neach command is committed to the world (the meter's new memory and the log row) before its reply is\nwritten; which replies are lost or late is drawn from the seed, the device and the counter.\n\nExamples:\n  gbcs migrate --simulate 2000 --transport \"exec:gbcs sim-meters --simulate 2000\"\n  gbcs migrate --simulate 2000 --state sqlite:run.db --deadline 5s \\\n    --transport \"exec:gbcs sim-meters --simulate 2000 --world sqlite:world.db --loss 0.05 --late 0.02 --late-by 8s\""),
        )
        .subcommand(
            Command::new("dashboard")
                .about("The migration at a glance: one self-contained HTML file (inline SVG charts, no script, nothing fetched)")
                .arg(ledger_arg())
                .arg(state_arg())
                .arg(Arg::new("out").long("out").value_name("FILE.html").required(true).help("The page to write (refused if it exists, unless --replace)"))
                .arg(Arg::new("replace").long("replace").action(ArgAction::SetTrue).help("Replace --out if it exists (written to a temporary file and renamed into place)"))
                .arg(Arg::new("from").long("from").value_name("TIME").help("The window's start (RFC 3339; default: the first thing the state records)"))
                .arg(Arg::new("to").long("to").value_name("TIME").help("The window's end, the instant the counts are as at (RFC 3339; default: the last thing recorded)"))
                .arg(Arg::new("policy").long("policy").value_name("FILE").help("The migration policy (JSON) whose auto-stop thresholds the model chart marks (default: the default policy)"))
                .arg(Arg::new("now").long("now").value_name("TIME").help("The time the page says it was made (RFC 3339; default: the clock)"))
                .after_help("The page shows, per bucket of time (a day for a migration's months; shorter for shorter windows):
migrations, failed attempts and devices remaining, for the fleet and each Responsible Supplier;
per device model, attempts, fault rate and sample against the auto-stop's per-model threshold,
those needing a decision first; auto-stops and local faults on a timeline; first commands per
second and commands in flight (from a store); and the latest EMRR report of each type and recipient.

Examples:
  gbcs dashboard --state sqlite:state.sqlite --out dashboard.html
  gbcs dashboard --ledger ledger.json --from 2026-01-01T00:00:00Z --to 2026-06-30T23:59:59Z --out h1.html"),
        )
        .subcommand(
            Command::new("state")
                .about("Move the migration's ledger between a store and a JSON ledger file")
                .subcommand_required(true)
                .subcommand(
                    Command::new("export")
                        .about("Write the store's ledger to a new JSON ledger file")
                        .arg(Arg::new("state").long("state").value_name("URL").required(true).help("The store (sqlite:PATH)"))
                        .arg(Arg::new("out").long("out").value_name("FILE").required(true).help("The ledger file to write (refused if it exists)"))
                        .after_help("The file is written to a temporary file, flushed and renamed into place; one that exists is never\noverwritten.\n\nExample:\n  gbcs state export --state sqlite:state.sqlite --out ledger.json"),
                )
                .subcommand(
                    Command::new("import")
                        .about("Write a JSON ledger file into an empty store")
                        .arg(Arg::new("ledger").long("ledger").value_name("FILE").required(true).help("The ledger file (as `migrate --ledger` writes it)"))
                        .arg(Arg::new("state").long("state").value_name("URL").required(true).help("The store (sqlite:PATH; created if absent, refused if it holds anything)"))
                        .after_help("Every entry goes in one transaction: the store holds the whole ledger or nothing.\n\nExample:\n  gbcs state import --ledger ledger.json --state sqlite:state.sqlite"),
                ),
        )
}

/// The period a per-device report is asked for by.
#[derive(Clone, Copy)]
enum Period {
    /// `--day YYYY-MM-DD`.
    Day,
    /// `--month YYYY-MM`.
    Month,
}

/// A per-device report's subcommand (ECOSMIG-001, 002, 004, 006): the ledger, the supplier,
/// its period, `--from-start`, `--sequence` and `--now`.
fn device_report(
    name: &'static str,
    about: &'static str,
    period: Period,
    after: &'static str,
) -> Command {
    let (period, unit) = match period {
        Period::Day => (
            Arg::new("day")
                .long("day")
                .value_name("YYYY-MM-DD")
                .required(true)
                .help("The day reported on (00:00:00 to 23:59:59 UTC; due the next day at 06:00)"),
            "day",
        ),
        Period::Month => (
            Arg::new("month")
                .long("month")
                .value_name("YYYY-MM")
                .required(true)
                .help("The month reported on (due on the 1st of the next at 06:00)"),
            "month",
        ),
    };
    Command::new(name)
        .about(about)
        .arg(ledger_arg()).arg(state_arg())
        .arg(Arg::new("supplier").long("supplier").value_name("SEC-ID").required(true))
        .arg(period)
        .arg(Arg::new("from-start").long("from-start").action(ArgAction::SetTrue).help(format!(
            "Cover the period from the migration's first instant in the ledger to the end of the {unit} (lists what ECOSMIG-007 counts as at that end)"
        )))
        .arg(Arg::new("sequence").long("sequence").value_name("N").value_parser(clap::value_parser!(u32)).help("Override the sequence number (default: the ledger's next of this report for this recipient); one that reuses a number or goes back is refused"))
        .arg(Arg::new("now").long("now").value_name("TIME").help("The time of making, the report's creation date-time (RFC 3339; default: the clock): a period not ended by then is refused"))
        .after_help(after)
}
