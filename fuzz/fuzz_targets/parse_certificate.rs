//! SMKI certificate parsing and path validation never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = gbcs::smki::SmkiCertificate::from_der(data) {
        let _ = c.check_profile();
        let anchor = gbcs::smki::TrustAnchor {
            key_id: c.subject_key_id(),
            public_key: c.public_key().clone(),
        };
        let _ = gbcs::smki::validate_path(&c, core::slice::from_ref(&c), &anchor, Some(0));
    }
});
