//! Logging in: the PIN (from the URI's `pin-source` file, read up to a bound, or the
//! environment) and what to say when a module will not initialise.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use cryptoki::types::AuthPin;

use super::{Pkcs11Error, Pkcs11Uri, PIN_ENV};

/// What to try when a module fails to initialise: SoftHSM2 reads its configuration from
/// `SOFTHSM2_CONF` (else `/etc/softhsm/softhsm2.conf`) and, without a readable one or its token
/// folder, fails with a general error that says nothing of it.
pub(super) fn initialise_hint(path: &std::path::Path) -> String {
    let softhsm = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("softhsm"));
    if !softhsm {
        return String::new();
    }
    match std::env::var_os("SOFTHSM2_CONF") {
        None => String::from(
            " (SoftHSM2 reads its configuration from SOFTHSM2_CONF, which is not set, else \
             /etc/softhsm/softhsm2.conf: set SOFTHSM2_CONF to a file naming an existing \
             directories.tokendir)",
        ),
        Some(conf) => alloc::format!(
            " (SoftHSM2 reads its configuration from SOFTHSM2_CONF={}: check that the file \
             exists and its directories.tokendir is an existing folder)",
            std::path::Path::new(&conf).display()
        ),
    }
}

/// The largest PIN file read (a PIN is a line; anything larger is not a PIN file).
pub const MAX_PIN_FILE_BYTES: u64 = 4096;

/// The PIN the URI's `pin-source` file holds (first line), else `GBCS_PKCS11_PIN`. The file is
/// read up to [`MAX_PIN_FILE_BYTES`]: a larger one (or a device such as `/dev/zero`) is
/// refused, not read without end.
pub(super) fn pin_for(uri: &Pkcs11Uri) -> Result<AuthPin, Pkcs11Error> {
    if let Some(path) = &uri.pin_source {
        use std::io::Read as _;
        let unavailable = |why: &dyn fmt::Display| {
            Pkcs11Error::PinUnavailable(alloc::format!("{}: {why}", path.display()))
        };
        let mut bytes = zeroize::Zeroizing::new(Vec::new());
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_PIN_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| unavailable(&e))?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_PIN_FILE_BYTES {
            return Err(unavailable(&alloc::format!(
                "larger than the {MAX_PIN_FILE_BYTES}-byte bound of a PIN file"
            )));
        }
        let text = zeroize::Zeroizing::new(
            String::from_utf8(core::mem::take(&mut *bytes))
                .map_err(|_| unavailable(&"not UTF-8 text"))?,
        );
        let pin = text.lines().next().unwrap_or_default();
        return Ok(AuthPin::from(String::from(pin)));
    }
    match std::env::var(PIN_ENV) {
        Ok(pin) => Ok(AuthPin::from(pin)),
        Err(_) => Err(Pkcs11Error::PinUnavailable(alloc::format!(
            "the URI has no pin-source and {PIN_ENV} is not set"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::panic)]
mod tests {
    use super::{initialise_hint, pin_for};
    use crate::crypto::pkcs11::{Pkcs11Error, Pkcs11Uri};

    #[test]
    fn a_pin_file_without_end_is_refused_at_its_bound() {
        let uri: Pkcs11Uri = "pkcs11:token=t;object=k?pin-source=file:/dev/zero"
            .parse()
            .expect("URI");
        match pin_for(&uri) {
            Err(Pkcs11Error::PinUnavailable(why)) => {
                assert!(
                    why.contains("/dev/zero") && why.contains("4096-byte bound"),
                    "{why}"
                )
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("a PIN from /dev/zero"),
        }
    }

    #[test]
    fn a_softhsm_that_will_not_initialise_points_at_its_configuration() {
        let hint = initialise_hint(std::path::Path::new("/usr/lib/softhsm/libsofthsm2.so"));
        assert!(
            hint.contains("SOFTHSM2_CONF") && hint.contains("directories.tokendir"),
            "{hint}"
        );
        assert_eq!(
            initialise_hint(std::path::Path::new("/opt/hsm/libcknfast.so")),
            ""
        );
    }
}
