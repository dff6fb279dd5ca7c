//! The project's own test vectors (`test-vectors/`): messages made with the test PKI and a
//! simulated meter — a CS02a role-5 query and its MAC'd response, a 0x0107 signed by the TCoS
//! party, the 0x0106 migration command, a 0x0107 signed by the ECoS party, a future-dated
//! 0x0107 with its acceptance and 0x00CB alert — each with its response. Everything is
//! deterministic: `generate` always returns the same bytes.

use alloc::vec;
use alloc::vec::Vec;

use crate::cos::command::{credential_query, Execution, MigrationCommand};
use crate::cos::registry::{CosParty, CosRegistry};
use crate::cos::route::Route;
use crate::payload::{CertificateDer, GeneralizedTime};
use crate::sim::pki::{ids, IssueError, TestPki};
use crate::sim::Reply;

/// The seed of the PKI behind the vectors.
pub const SEED: &[u8] = b"gbcs test vectors";
/// The simulated meter's clock: 2023-11-14T22:13:20Z.
pub const CLOCK: i64 = 1_700_000_000;

/// Why the vectors could not be generated (an internal fault).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorError(pub &'static str);

impl From<IssueError> for VectorError {
    fn from(_: IssueError) -> Self {
        Self("test PKI")
    }
}

/// Generates every vector as (file name, bytes), in a fixed order.
///
/// # Errors
/// [`VectorError`] only on an internal fault.
pub fn generate() -> Result<Vec<(&'static str, Vec<u8>)>, VectorError> {
    let pki = TestPki::generate(SEED)?;
    let device = ids::device(1);
    let mut meter = pki.meter(device, &pki.supplier_a, &pki.tcos, CLOCK)?;
    let z = pki.acb_secret(device)?;
    let mut registry = CosRegistry::new();
    registry
        .add(CosParty::Tcos, pki.tcos.credential())
        .add(CosParty::Ecos, pki.ecos.credential());
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let tcos = pki.tcos.signer();
    let ecos = pki.ecos.signer();

    let mut out = Vec::new();
    let exchange = |name_cmd: &'static str,
                    name_rsp: &'static str,
                    cmd: Vec<u8>,
                    meter: &mut crate::sim::SimDevice|
     -> Result<Vec<(&'static str, Vec<u8>)>, VectorError> {
        let Reply::Response(rsp) = meter.process(&cmd) else {
            return Err(VectorError("the meter did not answer"));
        };
        Ok(vec![(name_cmd, cmd), (name_rsp, rsp)])
    };

    let q = credential_query(pki.acb.entity_id, device, 1, &z).map_err(|_| VectorError("CS02a"))?;
    out.extend(exchange(
        "cs02a-role5-query-command.hex",
        "cs02a-role5-query-response.hex",
        q,
        &mut meter,
    )?);

    let tcos_route = Route::Tcos {
        credential: Some(pki.tcos.credential()),
        signed_by: CosParty::Tcos,
    };
    let c = pki
        .supplier_b
        .change_of_supplier_to(device, &path, Execution::Immediate)
        .build(&tcos_route, &registry, &tcos, 100, &z)
        .map_err(|_| VectorError("0x0107 by TCoS"))?;
    out.extend(exchange(
        "0107-tcos-signed-command.hex",
        "0107-tcos-signed-response.hex",
        c,
        &mut meter,
    )?);

    let migration = MigrationCommand::new(
        &registry,
        CertificateDer(&pki.ecos.ds.certificate),
        &path,
        Some(0),
        true,
    )
    .map_err(|_| VectorError("ECoS certificate"))?;
    let m = migration
        .build(&registry, device, pki.tcos.credential(), &tcos, 101, &z)
        .map_err(|_| VectorError("0x0106"))?;
    out.extend(exchange(
        "0106-migration-command.hex",
        "0106-migration-response.hex",
        m,
        &mut meter,
    )?);

    let ecos_route = Route::Ecos {
        credential: Some(pki.ecos.credential()),
    };
    let c = pki
        .supplier_a
        .change_of_supplier_to(device, &path, Execution::Immediate)
        .build(&ecos_route, &registry, &ecos, 1, &z)
        .map_err(|_| VectorError("0x0107 by ECoS"))?;
    out.extend(exchange(
        "0107-ecos-signed-command.hex",
        "0107-ecos-signed-response.hex",
        c,
        &mut meter,
    )?);

    let at = GeneralizedTime::from_unix_seconds(CLOCK + 86_400).ok_or(VectorError("time"))?;
    let c = pki
        .supplier_b
        .change_of_supplier_to(device, &path, Execution::At(at))
        .build(&ecos_route, &registry, &ecos, 2, &z)
        .map_err(|_| VectorError("future-dated 0x0107"))?;
    out.extend(exchange(
        "0107-future-dated-command.hex",
        "0107-future-dated-response.hex",
        c,
        &mut meter,
    )?);
    let alert = meter
        .advance_to(CLOCK + 86_400)
        .pop()
        .ok_or(VectorError("no alert"))?;
    out.push(("0107-future-dated-alert.hex", alert));
    Ok(out)
}
