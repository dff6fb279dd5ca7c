//! How the simulated device authenticates a command: the ACB MAC, the signature of the
//! authorising cell, anti-replay.

use super::*;

impl SimDevice {
    pub(super) fn shared_secret_with_acb(&self) -> Option<SharedSecret> {
        match &self.ka {
            DeviceKeyAgreement::Shared(z) => Some(z.clone()),
            DeviceKeyAgreement::Key(k) => {
                let acb = self
                    .cells
                    .get(&TrustAnchorCellIdentifier::ACB_KA)?
                    .public_key
                    .as_ref()?;
                k.agree(acb).ok()
            }
        }
    }

    /// MAC, signature and anti-replay; returns the authorising role.
    pub(super) fn authenticate(
        &mut self,
        m: &Message<'_>,
        cell: Option<TrustAnchorCellIdentifier>,
        need_mac: bool,
        need_signature: bool,
    ) -> Result<RemotePartyRole, Rejection> {
        if m.frame().mac().is_some() {
            let z = self
                .shared_secret_with_acb()
                .ok_or(Rejection::NoAuthorisingCell(
                    TrustAnchorCellIdentifier::ACB_KA,
                ))?;
            m.verify_mac(&z).map_err(|_| Rejection::BadMac)?;
        } else if need_mac {
            return Err(Rejection::MissingMac);
        }
        let role = match cell {
            Some(id) => {
                if need_signature {
                    let key = self
                        .cells
                        .get(&id)
                        .and_then(|c| c.public_key.as_ref())
                        .ok_or(Rejection::NoAuthorisingCell(id))?;
                    match m.tail() {
                        SignatureTail::Signature(_) => m
                            .verify_signature(&key)
                            .map_err(|_| Rejection::BadSignature)?,
                        _ => return Err(Rejection::NotSigned),
                    }
                }
                id.role
            }
            None => RemotePartyRole::ACCESS_CONTROL_BROKER,
        };
        let counter = m.header().originator_counter;
        let stored = self.counter(role);
        if counter <= stored {
            return Err(Rejection::Replay { counter, stored });
        }
        self.counters.insert(role, counter);
        Ok(role)
    }
}
