//! Parse-only: any bytes give a message or a typed error; verification never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = gbcs::parse(data) {
        let key = gbcs::crypto::SigningKey::from_scalar(&[7; 32]).map(|k| k.public_key());
        if let Ok(k) = key {
            let _ = m.verify_signature(&k);
        }
        let _ = m.verify_mac(&gbcs::crypto::SharedSecret::from_bytes([1; 32]));
        if let Ok(v) = gbcs::cli::describe(&m) {
            let _ = gbcs::cli::to_tree(&v);
        }
    }
    let _ = gbcs::frame::Frame::parse(data);
});
