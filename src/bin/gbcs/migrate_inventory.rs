//! `gbcs migrate --inventory FILE --parties FILE --state URL --transport exec:COMMAND`: a
//! real migration. The inventory (CSV or JSON) lists the devices; the parties file names the
//! keys that sign and MAC (PEM files or PKCS#11 URIs), the ECoS certificate and its
//! certification path, the CoS registry and the ACB's ID. The run is written to the store as
//! it goes and resumed from it; the store is marked with the inventory's fingerprint, so
//! another inventory is never run into it.

use std::path::{Path, PathBuf};

use clap::ArgMatches;
use gbcs::cos::engine::{Engine, MigrationContext, StartingCounters, UnixTime};
use gbcs::cos::inventory::{self, DeviceCertificates, InventoryRow};
use gbcs::cos::migration::{DeviceRecord, MigrationPolicy};
use gbcs::cos::{CosParty, CosRegistry, CosSigner};
use gbcs::crypto::keystore::{KeyRole, Keystore};
use gbcs::frame::EntityId;
use gbcs::store::RunKind;

use crate::failure::{Failure, Result};
use crate::input::{read_bounded, read_text, Bound};
use crate::migrate_store::{open_run_store, Concluded, RunId, RunStore};

/// An inventory: about 200 bytes a device with its certificates in a keystore; 8 GiB holds
/// the national fleet.
const INVENTORY: Bound = Bound {
    kind: "an inventory",
    bytes: 8 << 30,
};
/// A parties file: a few paths and IDs.
const PARTIES: Bound = Bound {
    kind: "a parties file",
    bytes: 1 << 20,
};

/// The parties file (JSON). Paths are relative to the file's folder.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PartiesFile {
    /// The ACB's entity ID (16 hex digits): the originator of the CS02a reads.
    acb_id: String,
    /// The ACB's KA private key: a PEM file or a `pkcs11:` URI.
    acb_key: String,
    /// The TCoS party's DS private key: a PEM file or a `pkcs11:` URI.
    tcos_key: String,
    /// The TCoS party's DS certificate (PEM or DER): the credential the meters hold.
    tcos_certificate: String,
    /// The ECoS party's DS certificate: what the migration writes into role 5.
    ecos_certificate: String,
    /// Its certification path (the issuing CA's certificate first).
    #[serde(default)]
    certification_path: Vec<String>,
    /// Further TCoS and ECoS credentials (renewed certificates): a CoS registry file
    /// (`tcos|ecos ENTITY KEYID` lines). The two certificates above are always in it.
    #[serde(default)]
    registry: Option<String>,
    /// A folder of device certificates (`<id>-ds.pem`, `<id>-ka.pem`) for rows that name none.
    #[serde(default)]
    device_keystore: Option<String>,
}

/// Where a path named in `base`'s file is: as given when absolute, else beside the file.
fn beside(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// A certificate file, PEM or DER.
fn certificate(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display().to_string();
    let bytes = read_bounded(&shown, crate::input::KEY_FILE)?;
    if bytes.starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Failure::key(format!("{shown}: not UTF-8 PEM")))?;
        let (label, der) = pem_rfc7468::decode_vec(text.trim().as_bytes())
            .map_err(|e| Failure::key(format!("{shown}: not a PEM certificate ({e})")))?;
        if label != "CERTIFICATE" {
            return Err(Failure::key(format!(
                "{shown}: a PEM {label}, not a CERTIFICATE"
            )));
        }
        return Ok(der);
    }
    Ok(bytes)
}

/// A key spec from the parties file: a `pkcs11:` URI as is, a file beside the parties file.
fn key_spec(base: &Path, spec: &str) -> String {
    if gbcs::crypto::pkcs11::Pkcs11Uri::is_uri(spec) {
        spec.to_owned()
    } else {
        beside(base, spec).display().to_string()
    }
}

/// The inventory's rows (JSON when it starts with `[`, else CSV) and its fingerprint.
fn read_inventory(path: &str) -> Result<(Vec<InventoryRow>, u64)> {
    use sha2::Digest as _;
    let bytes = read_bounded(path, INVENTORY)?;
    let digest = sha2::Sha256::digest(&bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    let fingerprint = u64::from_be_bytes(first);
    let at = |line: u64, message: String| Failure::File {
        path: path.to_owned(),
        line,
        column: None,
        message,
    };
    let trimmed = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let rows = if trimmed.and_then(|i| bytes.get(i)) == Some(&b'[') {
        serde_json::from_slice::<Vec<InventoryRow>>(&bytes)
            .map_err(|e| at(u64::try_from(e.line()).unwrap_or(0), e.to_string()))?
    } else {
        inventory::read_csv(bytes.as_slice()).map_err(|e| {
            let line = u64::try_from(e.record).unwrap_or(0).saturating_add(1);
            at(line, format!("{}: {}", e.field, e.message))
        })?
    };
    if rows.is_empty() {
        return Err(at(0, String::from("no devices")));
    }
    Ok((rows, fingerprint))
}

/// The records of `rows`, each device's certificates from its row's files (beside the
/// inventory) or from `keystore`.
fn records(
    inventory_path: &str,
    rows: &[InventoryRow],
    keystore: Option<&Keystore>,
    now: i64,
) -> Result<Vec<DeviceRecord>> {
    let base = Path::new(inventory_path)
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut find = |row: &InventoryRow,
                    id: EntityId|
     -> std::result::Result<DeviceCertificates, String> {
        let one = |named: Option<&String>, role: KeyRole, what: &str| {
            match (named.map(|s| s.trim()).filter(|s| !s.is_empty()), keystore) {
                (Some(file), _) => certificate(&beside(&base, file)).map_err(|e| e.to_string()),
                (None, Some(k)) => k.certificate_der(id, role).map_err(|e| e.to_string()),
                (None, None) => Err(format!(
                    "device {id}: no {what} and no device keystore (the parties file's device_keystore or --keystore)"
                )),
            }
        };
        Ok(DeviceCertificates {
            ds: one(
                row.ds_certificate.as_ref(),
                KeyRole::DigitalSignature,
                "ds_certificate",
            )?,
            ka: one(
                row.ka_certificate.as_ref(),
                KeyRole::KeyAgreement,
                "ka_certificate",
            )?,
        })
    };
    inventory::records(rows, &mut find, now, &|t| gbcs::cli::parse_time(t)).map_err(|e| {
        Failure::File {
            path: inventory_path.to_owned(),
            line: 0,
            column: None,
            message: e.to_string(),
        }
    })
}

/// The parties' keys and certificates, opened.
struct Parties {
    acb_id: EntityId,
    acb: crate::keys::Agreement,
    tcos: crate::keys::Signer,
    tcos_credential: gbcs::cos::Credential,
    ecos: Vec<u8>,
    path: Vec<Vec<u8>>,
    registry: CosRegistry,
    keystore: Option<PathBuf>,
}

fn parties(m: &ArgMatches, file: &str) -> Result<Parties> {
    let text = read_text(file, PARTIES)?;
    let p: PartiesFile = serde_json::from_str(&text).map_err(|e| Failure::File {
        path: file.to_owned(),
        line: u64::try_from(e.line()).unwrap_or(0),
        column: Some(e.column()),
        message: e.to_string(),
    })?;
    let base = Path::new(file)
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let acb_id: EntityId = p.acb_id.trim().parse().map_err(|_| {
        Failure::usage(format!(
            "{file}: acb_id {:?} is not 16 hex digits",
            p.acb_id
        ))
    })?;
    let module = crate::messages::module(m);
    let acb = crate::keys::agreement(&key_spec(&base, &p.acb_key), module).map_err(Failure::key)?;
    let tcos = crate::keys::signer(
        &key_spec(&base, &p.tcos_key),
        module,
        crate::messages::deterministic(m),
    )
    .map_err(Failure::key)?;
    let tcos_cert = certificate(&beside(&base, &p.tcos_certificate))?;
    let ecos = certificate(&beside(&base, &p.ecos_certificate))?;
    let mut registry = match &p.registry {
        Some(r) => {
            let path = beside(&base, r).display().to_string();
            CosRegistry::from_text(&read_text(&path, crate::input::REGISTRY)?)
                .map_err(|e| Failure::key(format!("{path}: {e}")))?
        }
        None => CosRegistry::new(),
    };
    let named =
        |what: &str, e: &dyn std::fmt::Display| Failure::key(format!("{file}: {what}: {e}"));
    let tcos_credential = registry
        .add_certificate(CosParty::Tcos, &tcos_cert)
        .map_err(|e| named("tcos_certificate", &e))?;
    registry
        .add_certificate(CosParty::Ecos, &ecos)
        .map_err(|e| named("ecos_certificate", &e))?;
    // A credential of both parties would make every reading ambiguous.
    if let Some(both) = registry.tcos().find(|c| registry.ecos().any(|e| e == *c)) {
        return Err(Failure::key(format!(
            "{file}: the credential {} {} is both a TCoS and an ECoS credential: a meter holding it could not be classified",
            both.entity_id, both.key_id
        )));
    }
    // The key must be the certificate's: a meter verifies with the certificate's key.
    if let Some(public) = &tcos.public {
        let certified = gbcs::crypto::PublicKey::from_certificate_der(&tcos_cert)
            .map_err(|e| named("tcos_certificate", &e))?;
        if public != &certified {
            return Err(Failure::key(format!(
                "{file}: tcos_key is not the key of tcos_certificate: every command would be refused"
            )));
        }
    }
    let path = p
        .certification_path
        .iter()
        .map(|c| certificate(&beside(&base, c)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Parties {
        acb_id,
        acb,
        tcos,
        tcos_credential,
        ecos,
        path,
        registry,
        keystore: p.device_keystore.map(|k| beside(&base, &k)),
    })
}

/// `gbcs migrate --inventory …`.
pub fn migrate(m: &ArgMatches, inventory_path: &str) -> Result<String> {
    let parties_file = m.get_one::<String>("parties").ok_or_else(|| {
        Failure::usage("--inventory needs --parties FILE: the keys that sign and MAC")
    })?;
    let url = m.get_one::<String>("state").ok_or_else(|| {
        Failure::usage(
            "--inventory needs --state URL: a real migration is written as it goes, to be resumed",
        )
    })?;
    let transport = m
        .get_one::<String>("transport")
        .map_or("sim", String::as_str);
    let Some(exec) = transport.strip_prefix("exec:") else {
        return Err(Failure::usage(format!(
            "--transport {transport}: an inventory's devices are reached through exec:COMMAND (sim is the simulation's own meters)"
        )));
    };
    let policy: MigrationPolicy = match m.get_one::<String>("policy") {
        Some(p) => serde_json::from_str(&read_text(p, crate::input::POLICY)?).map_err(|e| {
            Failure::File {
                path: p.clone(),
                line: u64::try_from(e.line()).unwrap_or(0),
                column: Some(e.column()),
                message: e.to_string(),
            }
        })?,
        None => MigrationPolicy::default(),
    };
    let parties = parties(m, parties_file)?;
    let keystore_dir = m
        .get_one::<String>("keystore")
        .map(PathBuf::from)
        .or_else(|| parties.keystore.clone());
    let keystore = keystore_dir
        .map(|d| Keystore::open(&d).map_err(|e| Failure::key(format!("{}: {e}", d.display()))))
        .transpose()?;
    let start = crate::input::now(m)?;
    let (rows, fingerprint) = read_inventory(inventory_path)?;
    let records = records(inventory_path, &rows, keystore.as_ref(), start)?;
    drop(rows);
    let n = records.len();
    let run_id = RunId::new(
        RunKind::Inventory,
        u64::try_from(n).unwrap_or(u64::MAX),
        fingerprint,
    );
    let (config, _) = crate::input::network_flags(m, 0)?;
    let flags = StartingCounters {
        tcos: m.get_one::<u64>("tcos-counter").copied().unwrap_or(1),
        acb: m.get_one::<u64>("acb-counter").copied().unwrap_or(1),
    };
    let certification_path: Vec<_> = parties
        .path
        .iter()
        .map(|c| gbcs::payload::CertificateDer(c))
        .collect();
    let command = gbcs::cos::MigrationCommand::new(
        &parties.registry,
        gbcs::payload::CertificateDer(&parties.ecos),
        &certification_path,
        policy.ecos_floor,
        true,
    )
    .map_err(|e| Failure::key(format!("{parties_file}: ecos_certificate: {e}")))?;
    let ctx = MigrationContext {
        registry: &parties.registry,
        tcos: CosSigner {
            credential: parties.tcos_credential,
            signer: &*parties.tcos.signer,
        },
        command,
        acb: &*parties.acb.key,
        acb_id: parties.acb_id,
    };
    let driver = crate::migrate_store::driver_config();
    if let Some(engine_name) = m.get_one::<String>("engine") {
        // One of several engines on one PostgreSQL store: devices by lease, a child per batch.
        let mut batch = |engine: &mut Engine, sink: &mut dyn gbcs::driver::RecordSink| {
            let mut child = gbcs::driver::exec::ExecTransport::spawn_line(exec)
                .map_err(|e| format!("--transport {transport}: {e}"))?;
            gbcs::driver::run(
                engine,
                &ctx,
                &mut child,
                sink,
                &driver,
                &mut |_| {},
                &mut |_| {},
            )
        };
        let run = crate::migrate_leased::Leased {
            run: run_id,
            inventory: records,
            policy,
            config,
            flags,
            start,
            run_batch: &mut batch,
        };
        return crate::migrate_leased::run(m, url, engine_name, run);
    }
    let (mut store, resuming) = match open_run_store(url, &run_id)? {
        RunStore::Complete(line) => return Ok(line),
        RunStore::Fresh(s) => (s, false),
        RunStore::Resume(s) => (s, true),
    };
    // The engine takes the inventory a window at a time (`--window`): it holds one window's
    // records and history, and a child per window carries its commands.
    let mut malformed: (u64, Option<String>) = (0, None);
    let mut run_window = |_: &(),
                          engine: &mut Engine,
                          sink: &mut dyn gbcs::driver::RecordSink,
                          progress: &mut dyn FnMut(&gbcs::cos::engine::Stats)|
     -> std::result::Result<gbcs::driver::RunReport, String> {
        let mut child = gbcs::driver::exec::ExecTransport::spawn_line(exec)
            .map_err(|e| format!("--transport {transport}: {e}"))?;
        let report = gbcs::driver::run(
            engine,
            &ctx,
            &mut child,
            sink,
            &driver,
            &mut |_| {},
            progress,
        );
        crate::migrate_window::tally_malformed(&mut malformed, child.malformed());
        report
    };
    let mut load = |_: &mut (), range: core::ops::Range<usize>, _: UnixTime| {
        Ok(records.get(range).map(<[_]>::to_vec).unwrap_or_default())
    };
    let windows = crate::migrate_window::Windows {
        n,
        window: crate::migrate_window::window_flag(m),
        policy,
        config,
        flags,
        start,
        url,
        resuming,
    };
    let bar = crate::migrate_store::progress_bar(n)?;
    let done = crate::migrate_window::run(
        &mut (),
        &mut load,
        &mut run_window,
        &mut *store,
        &windows,
        &bar,
    )?;
    bar.finish_and_clear();
    let run = Concluded {
        summary: done.summary,
        stopped: done.stopped,
        finished: done.finished,
        ledger: None,
        report: &done.report,
        malformed: Some(malformed),
        devices: n,
        resumed_line: done.resumed_line,
    };
    run.conclude(m, Some(&mut *store), RunKind::Inventory)
}
