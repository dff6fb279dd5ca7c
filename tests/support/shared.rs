//! Locating DCC's reference data in `../shared` (never copied into the project).
//!
//! When `GBCS_REFERENCE_DATA` is set (CI sets it), the folder it names must exist and hold the
//! RTDS: a missing folder fails the test. When it is not set, `../shared` beside the checkout is
//! used if present, and tests that need it are skipped with a note otherwise.
#![allow(dead_code)]

use std::path::PathBuf;

use gbcs::crypto::keystore::Keystore;

/// One RTDS message: its file name, folder and bytes.
pub struct RtdsFile {
    pub name: String,
    pub folder: String,
    pub bytes: Vec<u8>,
}

impl RtdsFile {
    pub fn is_precommand(&self) -> bool {
        self.name.contains("_PRECOMMAND_")
    }
    pub fn is_command(&self) -> bool {
        self.name.contains("_COMMAND_") && !self.is_precommand()
    }
}

/// The `shared` folder, or `None` (after a note) when it is absent and not required.
pub fn shared_dir() -> Option<PathBuf> {
    match std::env::var_os("GBCS_REFERENCE_DATA") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_relative() {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)
            } else {
                dir
            };
            assert!(
                dir.join("rtds/RTDS-4.5.0").is_dir() && dir.join("rtds/keystore").is_dir(),
                "GBCS_REFERENCE_DATA={} does not hold rtds/RTDS-4.5.0 and rtds/keystore",
                dir.display()
            );
            Some(dir)
        }
        None => {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
            if dir.join("rtds/RTDS-4.5.0").is_dir() {
                Some(dir)
            } else {
                eprintln!("note: ../shared not found and GBCS_REFERENCE_DATA not set: skipping RTDS checks");
                None
            }
        }
    }
}

/// Every RTDS message, sorted by folder and name.
pub fn rtds_files(shared: &std::path::Path) -> Vec<RtdsFile> {
    let mut out = Vec::new();
    let root = shared.join("rtds/RTDS-4.5.0");
    for folder in std::fs::read_dir(&root).expect("RTDS folder") {
        let folder = folder.expect("RTDS entry").path();
        if !folder.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&folder).expect("RTDS use-case folder") {
            let path = file.expect("RTDS file").path();
            if path.extension().and_then(|e| e.to_str()) != Some("HEX") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("RTDS file text");
            let bytes =
                gbcs::hex::decode(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push(RtdsFile {
                name: path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned(),
                folder: folder
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned(),
                bytes,
            });
        }
    }
    out.sort_by(|a, b| (&a.folder, &a.name).cmp(&(&b.folder, &b.name)));
    out
}

/// The RTDS messages of the CS02a, CS02b, CS02f and CS02g folders.
pub fn cs02_files(shared: &std::path::Path) -> Vec<RtdsFile> {
    rtds_files(shared)
        .into_iter()
        .filter(|f| {
            ["CS02a", "CS02b", "CS02f", "CS02g"]
                .iter()
                .any(|k| f.folder.contains(k))
        })
        .collect()
}

/// The RTDS keystore.
pub fn keystore(shared: &std::path::Path) -> Keystore {
    Keystore::open(shared.join("rtds/keystore")).expect("RTDS keystore")
}

/// The ACB's entity ID in RTDS.
pub const ACB: u64 = 0x90B3_D51F_3000_0002;
