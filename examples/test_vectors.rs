//! Regenerates the project's test vectors into `test-vectors/`, and the test PKI that made
//! them into `test-vectors/keystore/` (or checks them).
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
    // The test PKI that made them (test keys only), named like the RTDS keystore.
    let keys = match gbcs::sim::vectors::keystore() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {}", e.0);
            return ExitCode::FAILURE;
        }
    };
    let kdir = dir.join("keystore");
    if !check {
        if let Err(e) = std::fs::create_dir_all(&kdir) {
            eprintln!("error: {}: {e}", kdir.display());
            return ExitCode::FAILURE;
        }
    }
    for (name, text) in keys {
        let path = kdir.join(&name);
        if check {
            let same = std::fs::read_to_string(&path).is_ok_and(|t| t == text);
            println!(
                "{} keystore/{name}",
                if same { "same   " } else { "DIFFERS" }
            );
            differ += usize::from(!same);
        } else if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::FAILURE;
        } else {
            println!("wrote keystore/{name}");
        }
    }
    if differ == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
