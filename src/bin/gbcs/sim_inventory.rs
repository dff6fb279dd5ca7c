//! `gbcs sim-meters --simulate N --seed S --write-inventory DIR`: the simulated fleet as a
//! real migration's inputs, so `migrate --inventory` can be tried end to end against
//! `sim-meters` as the network: the inventory (CSV), the devices' certificates (a keystore
//! folder), the parties' keys and certificates, the parties file, the registry and the policy.

use std::path::Path;

use gbcs::cos::inventory::{self, InventoryRow};
use gbcs::crypto::keystore::KeyRole;
use gbcs::sim::fleet::SimulatedMigration;

use crate::failure::{Failure, Result};

fn pem(label: &str, der: &[u8]) -> Result<String> {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der)
        .map_err(|e| Failure::key(format!("PEM: {e}")))
}

/// A new file, refused if it exists (nothing is overwritten).
fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let shown = path.display().to_string();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Failure::io(&shown, e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Failure::io(&shown, e))
}

/// An RFC 3339 UTC time of Unix seconds `t`.
fn rfc3339(t: i64) -> String {
    gbcs::payload::GeneralizedTime::from_unix_seconds(t).map_or_else(
        || String::from("1970-01-01T00:00:00Z"),
        |g| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                g.year, g.month, g.day, g.hour, g.minute, g.second
            )
        },
    )
}

/// Writes `sim`'s inputs into `dir` (created; refused if it exists). Everything is written
/// into a staging folder beside it, flushed, and the folder renamed into place: a process
/// killed midway leaves `DIR.partial-PID`, never a `DIR` with a truncated inventory.
pub fn write(sim: &SimulatedMigration, dir: &str) -> Result<String> {
    let target = Path::new(dir.trim_end_matches('/'));
    if target.exists() {
        return Err(Failure::io(
            dir,
            std::io::Error::other("exists: nothing is overwritten; give a new folder"),
        ));
    }
    let staging = target.with_file_name(format!(
        "{}.partial-{}",
        crate::input::name(target),
        std::process::id()
    ));
    let shown = staging.display().to_string();
    std::fs::create_dir(&staging).map_err(|e| Failure::io(&shown, e))?;
    let written = fill(sim, &staging);
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    let devices = written?;
    // Onto a folder made meanwhile the rename fails (unless it is empty): nothing is lost.
    std::fs::rename(&staging, target).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staging);
        Failure::io(dir, e)
    })?;
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(format!(
        "{dir}: inventory.csv ({devices} devices), keystore/ ({} certificates), parties.json, parties/ (keys and certificates), policy.json\n",
        devices.saturating_mul(2)
    ))
}

/// Writes the inputs into the new folder `root`; returns the devices listed.
fn fill(sim: &SimulatedMigration, root: &Path) -> Result<usize> {
    let keystore = root.join("keystore");
    let parties = root.join("parties");
    for d in [&keystore, &parties] {
        std::fs::create_dir(d).map_err(|e| Failure::io(&d.display().to_string(), e))?;
    }
    let store = gbcs::crypto::keystore::Keystore::open(&keystore)
        .map_err(|e| Failure::key(format!("{}: {e}", keystore.display())))?;
    let key = |e: gbcs::sim::pki::IssueError| Failure::key(e.to_string());
    let mut rows = Vec::with_capacity(sim.fleet.records.len());
    for r in &sim.fleet.records {
        let d = sim.pki.device(r.entity_id).map_err(key)?;
        for (role, der) in [
            (KeyRole::DigitalSignature, &d.ds.certificate),
            (KeyRole::KeyAgreement, &d.ka.certificate),
        ] {
            write_new(
                &store.path(r.entity_id, role, "pem"),
                &pem("CERTIFICATE", der)?,
            )?;
        }
        rows.push(InventoryRow::from_record(r, None, None, &rfc3339));
    }
    let text = inventory::write_csv(&rows).map_err(|e| Failure::key(e.to_string()))?;
    write_new(&root.join("inventory.csv"), &text)?;
    let pki = &sim.pki;
    let files = [
        (
            "tcos-ds.pem",
            pem("CERTIFICATE", &sim.parties.tcos_ds_certificate)?,
        ),
        ("tcos-ds.key", pki.tcos.ds.key.to_pkcs8_pem().to_string()),
        (
            "acb-ka.pem",
            pem("CERTIFICATE", &sim.parties.acb_ka_certificate)?,
        ),
        ("acb-ka.key", pki.acb.ka.key.to_pkcs8_pem().to_string()),
        ("ecos-ds.pem", pem("CERTIFICATE", &pki.ecos.ds.certificate)?),
        (
            "issuing-ca.pem",
            pem("CERTIFICATE", &pki.issuing_ca.certificate)?,
        ),
    ];
    for (name, text) in &files {
        write_new(&parties.join(name), text)?;
    }
    let parties_file = serde_json::json!({
        "acb_id": pki.acb.entity_id.to_string(),
        "acb_key": "parties/acb-ka.key",
        "tcos_key": "parties/tcos-ds.key",
        "tcos_certificate": "parties/tcos-ds.pem",
        "ecos_certificate": "parties/ecos-ds.pem",
        "certification_path": ["parties/issuing-ca.pem"],
        "device_keystore": "keystore",
    });
    let text =
        serde_json::to_string_pretty(&parties_file).map_err(|e| Failure::key(e.to_string()))?;
    write_new(&root.join("parties.json"), &(text + "\n"))?;
    let policy =
        serde_json::to_string_pretty(&sim.policy).map_err(|e| Failure::key(e.to_string()))?;
    write_new(&root.join("policy.json"), &(policy + "\n"))?;
    Ok(rows.len())
}
