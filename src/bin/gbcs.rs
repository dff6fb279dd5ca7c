//! `gbcs`: look inside GBCS CS02 messages, check and make their signatures and MACs, turn a
//! DUIS SRV 6.23 request into its CS02b command, classify meters, run a simulated migration
//! and write the EMRR reports (ECOSMIG-001 to 007) and what is due. `gbcs --help` lists the exit codes.

use std::process::ExitCode;

#[path = "gbcs/args.rs"]
mod args;
#[path = "gbcs/build.rs"]
mod build;
#[path = "gbcs/cos_cmds.rs"]
mod cos_cmds;
#[path = "gbcs/dashboard_cmd.rs"]
mod dashboard_cmd;
#[path = "gbcs/failure.rs"]
mod failure;
#[path = "gbcs/input.rs"]
mod input;
#[path = "gbcs/keys.rs"]
mod keys;
#[path = "gbcs/messages.rs"]
mod messages;
#[path = "gbcs/migrate_cmd.rs"]
mod migrate_cmd;
#[path = "gbcs/migrate_inventory.rs"]
mod migrate_inventory;
#[path = "gbcs/migrate_leased.rs"]
mod migrate_leased;
#[path = "gbcs/migrate_store.rs"]
mod migrate_store;
#[path = "gbcs/migrate_window.rs"]
mod migrate_window;
#[path = "gbcs/report_cmds.rs"]
mod report_cmds;
#[path = "gbcs/report_due.rs"]
mod report_due;
#[path = "gbcs/sim_inventory.rs"]
mod sim_inventory;
#[path = "gbcs/sim_meters.rs"]
mod sim_meters;

use failure::Failure;

fn main() -> ExitCode {
    let matches = args::command().get_matches();
    let result = match matches.subcommand() {
        Some(("decode", m)) => messages::decode(m),
        Some(("verify", m)) => messages::verify(m),
        Some(("sign", m)) => messages::sign(m),
        Some(("mac", m)) => messages::mac(m),
        Some(("build", m)) => build::build(m),
        Some(("classify", m)) => cos_cmds::classify_cmd(m),
        Some(("migrate", m)) => migrate_cmd::migrate(m),
        Some(("report", m)) => report_cmds::report(m),
        Some(("state", m)) => report_cmds::state(m),
        Some(("dashboard", m)) => dashboard_cmd::dashboard(m),
        Some(("sim-meters", m)) => sim_meters::sim_meters(m),
        _ => Err(Failure::usage("unknown command")),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(stopped @ Failure::Stopped { .. }) => {
            if let Failure::Stopped { out, .. } = &stopped {
                print!("{out}");
            }
            eprintln!("{stopped}");
            ExitCode::from(stopped.exit_code())
        }
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
