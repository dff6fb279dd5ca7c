//! What a request's certificates must prove before any command carries them: each replacement
//! certificate is signed by a CA certificate of the request's own certification path, and —
//! given the SMKI root ([`CertificateTrust::anchor`]) — that path ends at the root; every
//! certificate on the way is valid when the command is built and, for a future-dated request,
//! when it executes. A meter runs the same certification path validation on the command
//! (`gbcs-cs02.md` C.3); a request that would fail there is refused here, before it is sent.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::DuisError;
use crate::cos::command::Execution;
use crate::smki::{validate_path, PathError, SmkiCertificate, TrustAnchor};

/// How the certificates of a request are checked: against which root, at what time.
#[derive(Clone, Copy, Debug)]
pub struct CertificateTrust<'a> {
    /// The SMKI root (its key identifier and public key). `None`: each certificate is checked
    /// up to the CA certificate the request carries, and that CA's own signature is not — the
    /// caller should say so (the CLI does, on stderr).
    pub anchor: Option<&'a TrustAnchor>,
    /// The time the command is built (Unix seconds, UTC): every certificate must be valid then.
    pub now: i64,
}

impl<'a> CertificateTrust<'a> {
    /// Checks at `now` against `anchor`.
    #[must_use]
    pub const fn new(anchor: Option<&'a TrustAnchor>, now: i64) -> Self {
        Self { anchor, now }
    }
}

/// Where the times a certificate must be valid at come from: the building time, and the
/// execution time of a future-dated request (a cancellation executes nothing).
fn times(trust: &CertificateTrust<'_>, execution: Execution) -> Vec<(i64, &'static str)> {
    let mut t = alloc::vec![(trust.now, "now")];
    if let Execution::At(at) = execution {
        t.push((at.unix_seconds(), "at ExecutionDateTime"));
    }
    t
}

fn untrusted(element: &'static str, reason: String) -> DuisError {
    DuisError::Untrusted { element, reason }
}

/// Checks every replacement certificate (`element`, DER) of a request against its
/// `certification_path` under `trust`, and the path itself; refuses a future-dated
/// `execution` already past.
///
/// # Errors
/// [`DuisError::Untrusted`] naming the element whose certificate fails and why;
/// [`DuisError::ExecutionPassed`] for a future-dated request whose time is past.
pub(super) fn check(
    replacements: &[(&'static str, &[u8])],
    certification_path: &[Vec<u8>],
    trust: &CertificateTrust<'_>,
    execution: Execution,
) -> Result<(), DuisError> {
    check_execution(trust.now, execution)?;
    let path = certification_path
        .iter()
        .map(|der| SmkiCertificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| untrusted("Certificate", format!("{e}")))?;
    let times = times(trust, execution);
    for ca in &path {
        for &(t, when) in &times {
            if !ca.is_valid_at(t) {
                return Err(untrusted(
                    "Certificate",
                    format!("a certification-path CA certificate is not valid {when}"),
                ));
            }
        }
    }
    for &(element, der) in replacements {
        let cert =
            SmkiCertificate::from_der(der).map_err(|e| untrusted(element, format!("{e}")))?;
        for &(t, when) in &times {
            if !cert.is_valid_at(t) {
                return Err(untrusted(element, format!("not valid {when}")));
            }
        }
        match trust.anchor {
            Some(anchor) => validate_path(&cert, &path, anchor, None)
                .map_err(|e| untrusted(element, path_reason(e)))?,
            None => {
                let aki = cert.authority_key_id();
                let issuer = path
                    .iter()
                    .find(|c| Some(c.subject_key_id()) == aki)
                    .ok_or_else(|| {
                        untrusted(
                            element,
                            match aki {
                                Some(k) => format!(
                                    "its issuer (key identifier {k}) is not in the certification path"
                                ),
                                None => String::from("no authority key identifier"),
                            },
                        )
                    })?;
                cert.verify_signed_by(issuer.public_key()).map_err(|_| {
                    untrusted(
                        element,
                        String::from(
                            "its signature does not verify under its issuer in the certification path",
                        ),
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// A future-dated request (`Execution::At`) whose time is not after `now` is refused: the
/// command would run at once, not when the Service User asked. A cancellation is never late.
///
/// # Errors
/// [`DuisError::ExecutionPassed`].
pub(super) fn check_execution(now: i64, execution: Execution) -> Result<(), DuisError> {
    match execution {
        Execution::At(t) if t.unix_seconds() <= now => Err(DuisError::ExecutionPassed {
            at: t.unix_seconds(),
            now,
        }),
        _ => Ok(()),
    }
}

fn path_reason(e: PathError) -> String {
    // Depth 0 is the certificate itself; the rest are the request's CAs and the root.
    match e {
        PathError::BadSignature { depth: 0 } => {
            String::from("its signature does not verify under its issuer in the certification path")
        }
        PathError::BadSignature { depth } => format!(
            "the certification path does not lead to the trust anchor: the CA at depth {depth} is not signed by its issuer"
        ),
        other => format!("certification path: {other}"),
    }
}
