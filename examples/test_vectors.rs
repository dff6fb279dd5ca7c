//! Regenerates the project's test vectors into `test-vectors/`, and the test PKI that made
//! them into `test-vectors/test-pki.pem` (or checks them); `--keystore DIR` also lays the
//! keys out as an RTDS-style keystore folder.
//!
//! ```text
//! cargo run --example test_vectors --features sim            # write
//! cargo run --example test_vectors --features sim -- --check # compare, exit 1 on a difference
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let vectors = match gbcs::sim::vectors::generate() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {}", e.0);
            return ExitCode::FAILURE;
        }
    };
    let mut differ = 0;
    for (name, bytes) in vectors {
        let path = dir.join(name);
        let text = format!("{}\n", gbcs::hex::encode_upper(&bytes));
        if check {
            let same = std::fs::read_to_string(&path).is_ok_and(|t| t == text);
            println!("{} {name}", if same { "same   " } else { "DIFFERS" });
            differ += usize::from(!same);
        } else if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::FAILURE;
        } else {
            println!("wrote {name} ({} bytes)", bytes.len());
        }
    }
    // The test PKI that made them (test keys only), as one published bundle.
    let bundle = match gbcs::sim::vectors::test_pki_bundle() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {}", e.0);
            return ExitCode::FAILURE;
        }
    };
    let path = dir.join("test-pki.pem");
    if check {
        let same = std::fs::read_to_string(&path).is_ok_and(|t| t == bundle);
        println!("{} test-pki.pem", if same { "same   " } else { "DIFFERS" });
        differ += usize::from(!same);
    } else if let Err(e) = std::fs::write(&path, &bundle) {
        eprintln!("error: {}: {e}", path.display());
        return ExitCode::FAILURE;
    } else {
        println!("wrote test-pki.pem");
    }
    // On request, the same keys as a keystore folder (for `gbcs verify --keystore DIR`).
    let args: Vec<String> = std::env::args().collect();
    if let Some(kdir) = args
        .iter()
        .position(|a| a == "--keystore")
        .and_then(|i| args.get(i + 1))
    {
        let kdir = PathBuf::from(kdir);
        let files = match gbcs::sim::vectors::keystore() {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {}", e.0);
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = std::fs::create_dir_all(&kdir) {
            eprintln!("error: {}: {e}", kdir.display());
            return ExitCode::FAILURE;
        }
        for (name, text) in files {
            if let Err(e) = std::fs::write(kdir.join(&name), text) {
                eprintln!("error: {name}: {e}");
                return ExitCode::FAILURE;
            }
        }
        println!("wrote the keystore folder {}", kdir.display());
    }
    if differ == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
