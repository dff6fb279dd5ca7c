//! Locating DCC's reference data in `../shared` (never copied into the project).
//!
//! When `GBCS_REFERENCE_DATA` is set (CI sets it), the folder it names must exist and hold the
//! RTDS: a missing folder fails the test. When it is not set, `../shared` beside the checkout is
//! used if present, and tests that need it are skipped with a note otherwise.
#![allow(dead_code)]

#[allow(clippy::duplicate_mod)] // each support module may bring it; one test may use several
#[path = "skip.rs"]
mod skip;

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
                skip::skipped(
                    "the checks against DCC's reference data",
                    "../shared is not beside the checkout and GBCS_REFERENCE_DATA is not set",
                );
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

/// The RTDS CS02 message whose file name starts with `prefix`.
pub fn cs02_file(shared: &std::path::Path, prefix: &str) -> RtdsFile {
    cs02_files(shared)
        .into_iter()
        .find(|f| f.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no RTDS CS02 file {prefix}*"))
}

/// Every `.pem` file of the RTDS keystore: file name, PEM label and DER bytes.
pub fn keystore_pems(shared: &std::path::Path) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(shared.join("rtds/keystore")).expect("keystore") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !name.ends_with(".pem") {
            continue;
        }
        let pem = std::fs::read_to_string(&path).expect("read");
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name, label.to_owned(), der));
    }
    out.sort();
    out
}

/// The RTDS keystore.
pub fn keystore(shared: &std::path::Path) -> Keystore {
    Keystore::open(shared.join("rtds/keystore")).expect("RTDS keystore")
}

/// The ACB's entity ID in RTDS.
pub const ACB: u64 = 0x90B3_D51F_3000_0002;

/// The RTDS root `CN=ZA` is not in the reference data; only the `CN=Z1` CA it signed is (in
/// every CS02b command's certification path). Its key is recovered here from Z1's signature
/// (ECDSA public-key recovery gives up to four candidates) and chosen by Z1's authority key
/// identifier, which is the root's key identifier.
pub fn rtds_root_anchor(z1: &gbcs::smki::SmkiCertificate<'_>) -> gbcs::smki::TrustAnchor {
    use ecdsa::RecoveryId;
    use p256::ecdsa::{Signature, VerifyingKey};
    use sha2::Digest as _;
    let aki = z1.authority_key_id().expect("Z1 has an AKI");
    let digest = sha2::Sha256::digest(z1.tbs_bytes());
    let sig = Signature::from_slice(&z1.signature().0).expect("signature");
    for id in 0..4 {
        let Some(recid) = RecoveryId::from_byte(id) else {
            continue;
        };
        let Ok(key) = VerifyingKey::recover_from_prehash(&digest, &sig, recid) else {
            continue;
        };
        let point: [u8; 65] = key
            .to_encoded_point(false)
            .as_bytes()
            .try_into()
            .expect("65 bytes");
        if gbcs::smki::key_id(&point) == aki {
            return gbcs::smki::TrustAnchor {
                key_id: aki,
                public_key: gbcs::crypto::PublicKey::from_sec1_bytes(&point).expect("point"),
            };
        }
    }
    panic!("no recovered key matches Z1's AKI {aki}");
}

/// The DUIS request templates in `shared/duis` whose file name contains one of `markers`
/// (e.g. `"_6.15.1_"`), as (file name, path), sorted by name.
pub fn duis_templates(shared: &std::path::Path, markers: &[&str]) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(shared.join("duis"))
        .expect("duis folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            (name, p)
        })
        .filter(|(name, _)| markers.iter().any(|m| name.contains(m)))
        .collect();
    out.sort();
    out
}

/// The markers of the certificate services gbcs reads, as they appear in template names.
pub const DUIS_SERVICES: [&str; 5] = ["_6.15.1_", "_6.21_", "_6.23_", "_8.5_", "_6.24.1_"];

/// DCC's parties as the RTDS names them (a test's choice; the library names no party).
#[cfg(feature = "duis")]
pub const RTDS_DCC: gbcs::duis::DccParties = gbcs::duis::DccParties {
    acb: gbcs::frame::EntityId::from_u64(ACB),
    tcos: gbcs::frame::EntityId::from_u64(0x90B3_D51F_3000_0004),
};

/// The time the DUIS tests build at: 2026-12-07T09:30:00Z (the templates' certificates are
/// valid from 2025 to 2035; the future-dated ones execute in 2030).
#[cfg(feature = "duis")]
pub const BUILD_TIME: i64 = 1_796_635_800;

/// How the DUIS tests check a request's certificates: each under the CA the request carries,
/// at [`BUILD_TIME`] (the RTDS root is no file's; tests that need it recover it with
/// [`rtds_root_anchor`]).
#[cfg(feature = "duis")]
pub fn trust() -> gbcs::duis::CertificateTrust<'static> {
    gbcs::duis::CertificateTrust::new(None, BUILD_TIME)
}
