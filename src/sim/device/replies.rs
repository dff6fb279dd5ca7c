//! How the simulated device answers: responses and alerts framed, signed or MAC'd, payload
//! lengths in the devices' form; the CS02a credential details.

use super::*;

impl SimDevice {
    pub(super) fn respond(
        &self,
        m: &Message<'_>,
        payload: &[u8],
        date_time: bool,
        mac: bool,
    ) -> Result<Vec<u8>, Rejection> {
        let h = m.header();
        let header = GroupingHeader {
            cra_flag: CraFlag::RESPONSE,
            originator_counter: h.originator_counter,
            originator: self.entity_id,
            recipient: h.originator,
            date_time: date_time.then(|| dlms(self.clock)),
            other_information: OtherInformation::code(h.message_code()),
            content_len: payload.len(),
        };
        self.frame(&header, payload, mac)
    }

    pub(super) fn frame(
        &self,
        header: &GroupingHeader<'_>,
        payload: &[u8],
        mac: bool,
    ) -> Result<Vec<u8>, Rejection> {
        let mut pre = vec![0u8; header.buffer_len() + payload.len()];
        let mut w = Writer::new(&mut pre);
        header.emit(&mut w).map_err(Rejection::Malformed)?;
        w.put(payload, "payload").map_err(Rejection::Malformed)?;
        if mac {
            let z = self
                .shared_secret_with_acb()
                .ok_or(Rejection::NoAuthorisingCell(
                    TrustAnchorCellIdentifier::ACB_KA,
                ))?;
            let unsigned = message::append_no_signature(&pre).map_err(Rejection::Malformed)?;
            message::add_mac(&unsigned, &z).map_err(Rejection::Malformed)
        } else {
            message::sign_precommand(&pre, &self.ds).map_err(|_| Rejection::BadSignature)
        }
    }

    pub(super) fn credentials(
        &mut self,
        m: &Message<'_>,
        c: &CredentialDetailsCommand<'_>,
    ) -> Result<Vec<u8>, Rejection> {
        let by_acb = c.authorising_cell == TrustAnchorCellIdentifier::ACB_KA;
        self.authenticate(m, Some(c.authorising_cell), by_acb, !by_acb)?;
        let mut cell_lists: Vec<Vec<TrustAnchorCellContents>> = Vec::new();
        let roles: Vec<RemotePartyRole> = c.roles.iter().collect();
        for role in &roles {
            let mut cells: Vec<(TrustAnchorCellIdentifier, Cell)> = self
                .cells
                .iter()
                .filter(|(id, _)| id.role == *role)
                .map(|(id, c)| (*id, Cell::clone(c)))
                .collect();
            cells.sort_by_key(|(id, _)| (core::cmp::Reverse(id.key_usage), id.cell_usage));
            cell_lists.push(
                cells
                    .into_iter()
                    .map(|(id, c)| TrustAnchorCellContents {
                        key_usage: id.key_usage,
                        cell_usage: id.cell_usage,
                        subject_unique_id: c.entity_id,
                        subject_key_identifier: c.key_id,
                    })
                    .collect(),
            );
        }
        let details: Vec<RemotePartyDetails<'_>> = roles
            .iter()
            .zip(&cell_lists)
            .map(|(role, cells)| {
                if cells.is_empty() {
                    RemotePartyDetails {
                        role: *role,
                        status: StatusCode::TRUST_ANCHOR_NOT_FOUND,
                        current_seq_number: None,
                        cells: None,
                    }
                } else {
                    RemotePartyDetails {
                        role: *role,
                        status: StatusCode::SUCCESS,
                        current_seq_number: Some(self.counter(*role)),
                        cells: Some(SeqOf::from_slice(cells)),
                    }
                }
            })
            .collect();
        let der = CredentialDetailsResponse {
            details: SeqOf::from_slice(&details),
        }
        .to_vec_in(self.length_form)
        .map_err(Rejection::Malformed)?;
        let macd = m.frame().mac().is_some() && by_acb;
        self.respond(m, &der, false, macd)
    }
}

pub(super) fn dlms(t: i64) -> DlmsDateTime {
    let g = GeneralizedTime::from_unix_seconds(t).unwrap_or(GeneralizedTime::CANCELLATION);
    let [y0, y1] = g.year.to_be_bytes();
    DlmsDateTime([
        y0, y1, g.month, g.day, 0xFF, g.hour, g.minute, g.second, 0x00, 0x80, 0x00, 0xFF,
    ])
}
