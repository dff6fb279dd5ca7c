//! A simulated fleet for bulk-migration tests: device records and simulated meters drawn from
//! a seeded mix of behaviours ([`Meters`], reached through a simulated network).

use alloc::vec::Vec;

use crate::cos::classify::{CosState, UnknownReason};
use crate::cos::command::CosSigner;
use crate::cos::command::{BuildError, MigrationCommand};
use crate::cos::device::ModelKey;
use crate::cos::engine::{
    Engine, EngineConfig, Input, InventoryChange, MigrationContext, StartingCounters, UnixTime,
};
use crate::cos::migration::{DeviceRecord, MigrationPolicy, MigrationStatus, SecPartyId};
use crate::cos::registry::Credential;
use crate::cos::registry::{CosParty, CosRegistry};
use crate::cos::route::DeviceType;
use crate::crypto::{Backend, CachedKeyAgreement, KeyAgreement, SharedSecretCache};
use crate::frame::EntityId;
use crate::payload::CertificateDer;
use crate::payload::KeyId;
use crate::payload::{StatusCode, TrustAnchorCellIdentifier};
use crate::sim::device::{Cell, DeviceKeyAgreement};
use crate::sim::harness::Harness;
use crate::sim::network::{Meters, NetworkProfile};
use crate::sim::pki::{ids, IssueError, TestPki};

mod parties;
mod window;
pub use parties::MigrationParties;

/// How a simulated device behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Answers and migrates at once.
    Healthy,
    /// Answers resourcesBusy this many times, then migrates.
    BusyThenHealthy(u32),
    /// Never answers.
    NeverAnswers,
    /// Answers every command with this device fault.
    DeviceFault(StatusCode),
    /// Of a model on the Non-Migratable list (never tried).
    NonMigratableModel,
    /// Of a listed model, running its fixing firmware (migrates).
    FixedFirmware,
    /// Flagged ineligible (never tried).
    Ineligible,
    /// A Gas Proxy Function (migrates; reported to the electricity supplier).
    GasProxy,
    /// Silent for longer than the NP005 period (lower priority; migrates when tried).
    Stale,
    /// Already holds the ECoS credential (never tried).
    AlreadyEcos,
    /// Runs the migration command but its reply is lost: read before the retry, found
    /// migrated.
    LostReply,
    /// Answers with a device fault (other, 127) until its firmware is upgraded
    /// ([`SimulatedMigration::upgrade_firmware`]); then migrates.
    FaultUntilUpgraded,
    /// Holds TCoS, but the inventory does not know its state: read first, then migrated.
    UnknownState,
    /// A Gas Proxy Function with a gas meter commissioned on its hub (reported to the gas
    /// supplier), of a model on the Non-Migratable list: not sent commands, counted as
    /// non-migratable, DCC's to resolve (revised ETMAD 3.10).
    GasProxyWithGasMeter,
}

/// The share of each profile, in parts per thousand (the rest is `Healthy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetMix(pub Vec<(Profile, u32)>);

impl Default for FleetMix {
    fn default() -> Self {
        Self(alloc::vec![
            (Profile::BusyThenHealthy(1), 40),
            (Profile::BusyThenHealthy(2), 15),
            (Profile::BusyThenHealthy(6), 5),
            (Profile::NeverAnswers, 20),
            (Profile::DeviceFault(StatusCode::INSUFFICIENT_MEMORY), 10),
            (Profile::DeviceFault(StatusCode::OTHER), 5),
            (Profile::NonMigratableModel, 30),
            (Profile::FixedFirmware, 20),
            (Profile::Ineligible, 20),
            (Profile::GasProxy, 40),
            (Profile::Stale, 30),
            (Profile::AlreadyEcos, 30),
            (Profile::LostReply, 20),
            (Profile::FaultUntilUpgraded, 10),
            (Profile::UnknownState, 20),
            (Profile::GasProxyWithGasMeter, 20),
        ])
    }
}

/// A model on the Non-Migratable list, with no fix.
pub const BROKEN_MODEL: &str = "NOMIG-1";
/// A model on the list whose fixing firmware exists.
pub const FIXABLE_MODEL: &str = "FIXABLE-2";
/// That model's fixing firmware.
pub const FIXING_FIRMWARE: &str = "2.0.1";
/// The manufacturers: ordinary models alternate between them; the listed models are the
/// first one's.
pub const MANUFACTURERS: [&str; 2] = ["ACME", "BRITMTR"];
/// The ordinary models (device faults spread over them).
pub const MODELS: usize = 16;
/// The responsible suppliers.
pub const SUPPLIERS: [&str; 3] = ["SUPA01", "SUPB02", "SUPC03"];
/// The gas supplier of the gas proxy functions.
pub const GAS_SUPPLIER: &str = "GASS04";
/// The Meter Asset Providers: one per manufacturer (the listed models are the first's); a
/// tenth of the devices has none.
pub const ASSET_PROVIDERS: [&str; 2] = ["MAPA01", "MAPB02"];

/// SplitMix64: a small deterministic generator for the mix.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A ready-made migration over a simulated fleet: the test PKI, a registry of its TCoS and
/// ECoS credentials, the fleet, the policy its models call for, and the ACB's cache of
/// shared secrets (one ECDH per meter, however many commands it is sent).
#[derive(Debug)]
pub struct SimulatedMigration {
    /// The ACB × meter shared secrets, one entry per meter.
    pub secrets: SharedSecretCache,
    /// The TCoS and ACB certificates the meters hold.
    pub parties: MigrationParties,
    /// The key identifier of `parties`' ACB certificate (what the cache keys the ACB by).
    acb_key_id: KeyId,
    /// The PKI.
    pub pki: TestPki,
    /// Its TCoS and ECoS credentials.
    pub registry: CosRegistry,
    /// The fleet.
    pub fleet: SimulatedFleet,
    /// The policy ([`fleet_policy`]).
    pub policy: MigrationPolicy,
    /// The start time.
    pub clock: i64,
}

impl SimulatedMigration {
    /// A PKI from `pki_seed`, and `devices` meters drawn from `mix` with `fleet_seed`, every
    /// key (engine side and meters) on [`Backend::DEFAULT`].
    ///
    /// # Errors
    /// [`IssueError`] only on an internal fault.
    pub fn new(
        pki_seed: &[u8],
        fleet_seed: u64,
        devices: usize,
        mix: &FleetMix,
        clock: i64,
    ) -> Result<Self, IssueError> {
        Self::with_backend(pki_seed, fleet_seed, devices, mix, clock, Backend::DEFAULT)
    }

    /// As [`Self::new`], with every key on `backend`. The outcomes do not depend on it; the
    /// speed does.
    ///
    /// # Errors
    /// [`IssueError`] only on an internal fault.
    pub fn with_backend(
        pki_seed: &[u8],
        fleet_seed: u64,
        devices: usize,
        mix: &FleetMix,
        clock: i64,
        backend: Backend,
    ) -> Result<Self, IssueError> {
        let pki = TestPki::generate_with_backend(pki_seed, backend)?;
        let parties = MigrationParties::of(&pki);
        Self::from_pki(pki, parties, fleet_seed, devices, mix, clock)
    }

    /// A migration with `pki`, whose meters hold `parties`' certificates (the registry's TCoS
    /// credential is `parties`' too): `devices` meters drawn from `mix` with `fleet_seed`.
    ///
    /// # Errors
    /// [`IssueError`] when a party certificate is not what it should be.
    pub fn from_pki(
        pki: TestPki,
        parties: MigrationParties,
        fleet_seed: u64,
        devices: usize,
        mix: &FleetMix,
        clock: i64,
    ) -> Result<Self, IssueError> {
        let mut registry = CosRegistry::new();
        registry
            .add(CosParty::Tcos, parties.tcos_credential()?)
            .add(CosParty::Ecos, pki.ecos.credential());
        let acb_key_id = parties.acb_key_id()?;
        let fleet = SimulatedFleet::generate_for(&pki, &parties, fleet_seed, devices, mix, clock)?;
        Ok(Self {
            secrets: SharedSecretCache::new(devices.max(1)),
            parties,
            acb_key_id,
            pki,
            registry,
            fleet,
            policy: fleet_policy(),
            clock,
        })
    }

    /// The engine over the fleet's records (taken out of the fleet), under `config`, each
    /// party's counters from `counters`, its clock at the simulation's start.
    pub fn engine(&mut self, config: EngineConfig, counters: StartingCounters) -> Engine {
        Engine::new(
            core::mem::take(&mut self.fleet.records),
            self.policy.clone(),
            config,
            counters,
            UnixTime::from_secs(self.clock),
        )
    }

    /// [`Self::engine`] in a [`Harness`] on a virtual clock, over a network with `profile`.
    pub fn harness(
        &mut self,
        config: EngineConfig,
        counters: StartingCounters,
        profile: NetworkProfile,
    ) -> Harness {
        Harness::new(self.engine(config, counters), profile)
    }

    /// Runs `harness` to the end with this simulation's keys ([`Self::with_context`]).
    ///
    /// # Errors
    /// [`BuildError`] if the ECoS certificate were refused (it is not, for this PKI).
    pub fn run(&self, harness: &mut Harness) -> Result<(), BuildError> {
        self.with_context(|ctx| harness.run(ctx, &self.fleet.meters))
    }

    /// Runs `harness` until nothing more happens by `until` (Unix seconds).
    ///
    /// # Errors
    /// [`BuildError`] if the ECoS certificate were refused (it is not, for this PKI).
    pub fn run_until(&self, harness: &mut Harness, until: i64) -> Result<(), BuildError> {
        self.with_context(|ctx| {
            harness.run_until(ctx, &self.fleet.meters, UnixTime::from_secs(until));
        })
    }

    /// The manufacturer's fix reaches `device`: the simulated meter stops faulting; the
    /// returned inventory update (its new `firmware`) is for the engine, which makes a device
    /// that faulted eligible again.
    #[must_use]
    pub fn upgrade_firmware(&self, device: EntityId, firmware: &str) -> Input {
        let _ = self
            .fleet
            .meters
            .with_device(device, |d| d.faults.fault_status = None);
        Input::Inventory {
            device,
            change: InventoryChange::Firmware(firmware.into()),
        }
    }

    /// Calls `f` with the engine context: the PKI's TCoS party signs, its ACB MACs (through
    /// [`Self::secrets`]), the ECoS party's DS certificate goes into {5, DS} through the
    /// issuing CA. For [`MigrationParties`] other than the PKI's own, use
    /// [`Self::with_context_using`] with their keys (the PKI's would be refused).
    ///
    /// # Errors
    /// [`BuildError`] if the ECoS certificate were refused (it is not, for this PKI).
    pub fn with_context<R>(
        &self,
        f: impl FnOnce(&MigrationContext<'_>) -> R,
    ) -> Result<R, BuildError> {
        self.with_context_using(self.pki.tcos.signer(), &self.pki.acb.ka.key, f)
    }

    /// As [`Self::with_context`], signing with `tcos` and MAC'ing with `acb` (an HSM's keys,
    /// say); `acb`'s shared secrets go through [`Self::secrets`] under the key identifier of
    /// the parties' ACB certificate.
    ///
    /// # Errors
    /// [`BuildError`] if the ECoS certificate were refused (it is not, for this PKI).
    pub fn with_context_using<R>(
        &self,
        tcos: CosSigner<'_>,
        acb: &(dyn KeyAgreement + Sync),
        f: impl FnOnce(&MigrationContext<'_>) -> R,
    ) -> Result<R, BuildError> {
        let path = [CertificateDer(&self.pki.issuing_ca.certificate)];
        let command = MigrationCommand::new(
            &self.registry,
            CertificateDer(&self.pki.ecos.ds.certificate),
            &path,
            self.policy.ecos_floor,
            true,
        )?;
        let ctx = MigrationContext {
            registry: &self.registry,
            tcos,
            command,
            acb: &CachedKeyAgreement::new(acb, self.acb_key_id, &self.secrets),
            acb_id: self.pki.acb.entity_id,
        };
        Ok(f(&ctx))
    }
}

/// A simulated fleet.
#[derive(Debug)]
pub struct SimulatedFleet {
    /// The device records (the inventory), in device order.
    pub records: Vec<DeviceRecord>,
    /// Each device's behaviour.
    pub profiles: Vec<Profile>,
    /// The meters (shared with a real-time simulated network's tasks).
    pub meters: alloc::sync::Arc<Meters>,
}

/// What the fleet's seed draws for one device, in the order drawn.
struct Draw {
    profile: Profile,
    supplier: usize,
    model_no: u64,
    /// Not a Gas Proxy Function: an ESME (else a GSME).
    esme: bool,
}

impl Draw {
    /// The next device's draws.
    fn next(rng: &mut SplitMix64, mix: &FleetMix) -> Self {
        let roll = u32::try_from(rng.below(1000)).unwrap_or(0);
        let mut acc = 0;
        let profile = mix
            .0
            .iter()
            .find(|(_, w)| {
                acc += w;
                roll < acc
            })
            .map_or(Profile::Healthy, |(p, _)| *p);
        let supplier = usize::try_from(rng.below(3)).unwrap_or(0);
        let model_no = rng.below(MODELS as u64);
        let gpf = matches!(profile, Profile::GasProxy | Profile::GasProxyWithGasMeter);
        let esme = !gpf && rng.below(2) == 0;
        Self {
            profile,
            supplier,
            model_no,
            esme,
        }
    }
}

/// The policy the fleet's models call for: [`BROKEN_MODEL`] non-migratable, [`FIXABLE_MODEL`]
/// fixed by [`FIXING_FIRMWARE`]; the rest default.
#[must_use]
pub fn fleet_policy() -> MigrationPolicy {
    let mut p = MigrationPolicy::default();
    let [maker, _] = MANUFACTURERS;
    p.non_migratable
        .insert(ModelKey::new(maker, BROKEN_MODEL), None);
    p.non_migratable.insert(
        ModelKey::new(maker, FIXABLE_MODEL),
        Some(FIXING_FIRMWARE.into()),
    );
    p
}

fn party(s: &str) -> Result<SecPartyId, IssueError> {
    SecPartyId::new(s).map_err(|_| IssueError::internal("supplier ID"))
}

impl SimulatedFleet {
    /// `n` devices (`ids::device(0..n)`) drawn from `mix` with `seed`, their meters holding
    /// the TCoS credential (or the ECoS one for [`Profile::AlreadyEcos`]), clock `clock`.
    ///
    /// # Errors
    /// [`IssueError`] only on an internal fault.
    pub fn generate(
        pki: &TestPki,
        seed: u64,
        n: usize,
        mix: &FleetMix,
        clock: i64,
    ) -> Result<Self, IssueError> {
        Self::generate_for(pki, &MigrationParties::of(pki), seed, n, mix, clock)
    }

    /// As [`Self::generate`], the meters holding `parties`' TCoS and ACB certificates.
    ///
    /// # Errors
    /// [`IssueError`] when a party certificate does not parse.
    pub fn generate_for(
        pki: &TestPki,
        parties: &MigrationParties,
        seed: u64,
        n: usize,
        mix: &FleetMix,
        clock: i64,
    ) -> Result<Self, IssueError> {
        Self::generate_range(pki, parties, seed, 0..n, mix, clock)
    }

    /// As [`Self::generate_for`], the devices in `range` only: each device is what it is in
    /// the whole fleet of the same seed (the draws of the devices before it are made and
    /// dropped), so a fleet larger than memory is taken a window at a time. `clock` is when
    /// the window's inventory is taken (its devices last communicated an hour before).
    ///
    /// # Errors
    /// As [`Self::generate_for`].
    pub fn generate_range(
        pki: &TestPki,
        parties: &MigrationParties,
        seed: u64,
        range: core::ops::Range<usize>,
        mix: &FleetMix,
        clock: i64,
    ) -> Result<Self, IssueError> {
        let mut template_tcos =
            pki.meter(ids::device(0xFFFF_FFFF), &pki.supplier_a, &pki.tcos, clock)?;
        for (cell, cert) in [
            (
                TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
                &parties.tcos_ds_certificate,
            ),
            (
                TrustAnchorCellIdentifier::ACB_KA,
                &parties.acb_ka_certificate,
            ),
        ] {
            template_tcos
                .install_certificate(cell, cert)
                .map_err(|_| IssueError::internal("party certificate"))?;
        }
        let mut template_ecos = template_tcos.clone();
        template_ecos.install(
            TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
            Cell {
                entity_id: pki.ecos.entity_id,
                key_id: pki.ecos.ds.key_id,
                public_key: Some(pki.ecos.ds.key.public_key()),
            },
        );
        let tcos = parties.tcos_credential()?;
        let ecos = Credential {
            entity_id: pki.ecos.entity_id,
            key_id: pki.ecos.ds.key_id,
        };
        let [first_maker, second_maker] = MANUFACTURERS;
        let mut rng = SplitMix64::new(seed);
        let n = range.len();
        let mut records = Vec::with_capacity(n);
        let mut profiles = Vec::with_capacity(n);
        let mut devices = Vec::with_capacity(n);
        for i in 0..range.end {
            let Draw {
                profile,
                supplier,
                model_no,
                esme,
            } = Draw::next(&mut rng, mix);
            if i < range.start {
                continue;
            }
            let entity_id = ids::device(u64::try_from(i).unwrap_or(u64::MAX));
            let supplier = party(SUPPLIERS.get(supplier).copied().unwrap_or("SUPA01"))?;
            let (ds, ka) = pki.device_keys(entity_id)?;
            let (ds_public, ka_public) = (ds.public_key(), ka.public_key());
            let template = if profile == Profile::AlreadyEcos {
                &template_ecos
            } else {
                &template_tcos
            };
            let mut device = template.clone_for(entity_id, ds, DeviceKeyAgreement::Key(ka));
            match profile {
                Profile::BusyThenHealthy(k) => device.faults.busy = k,
                Profile::NeverAnswers => device.faults.silent = u32::MAX,
                Profile::DeviceFault(s) => device.faults.fault_status = Some(s),
                Profile::FaultUntilUpgraded => device.faults.fault_status = Some(StatusCode::OTHER),
                Profile::LostReply => device.faults.lost_replies = 1,
                _ => {}
            }
            let (model, firmware) = match profile {
                Profile::NonMigratableModel | Profile::GasProxyWithGasMeter => {
                    (ModelKey::new(first_maker, BROKEN_MODEL), "1.0.0".into())
                }
                Profile::FixedFirmware => (
                    ModelKey::new(first_maker, FIXABLE_MODEL),
                    FIXING_FIRMWARE.into(),
                ),
                _ => (
                    ModelKey::new(
                        if model_no % 2 == 0 {
                            first_maker
                        } else {
                            second_maker
                        },
                        alloc::format!("MODEL-{model_no:02}"),
                    ),
                    "1.0.0".into(),
                ),
            };
            let gpf = matches!(profile, Profile::GasProxy | Profile::GasProxyWithGasMeter);
            records.push(DeviceRecord {
                entity_id,
                device_type: if gpf {
                    DeviceType::Gpf
                } else if esme {
                    DeviceType::Esme
                } else {
                    DeviceType::Gsme
                },
                model,
                firmware,
                responsible_supplier: if gpf {
                    party(GAS_SUPPLIER)?
                } else {
                    supplier.clone()
                },
                electricity_supplier: gpf.then_some(supplier),
                // Two asset providers, by manufacturer; a tenth of the meters owned outright.
                meter_asset_provider: match (model_no % 2 == 0, i % 10 == 9) {
                    (_, true) => None,
                    (true, false) => Some(party(ASSET_PROVIDERS[0])?),
                    (false, false) => Some(party(ASSET_PROVIDERS[1])?),
                },
                gas_meter_commissioned: profile == Profile::GasProxyWithGasMeter,
                state: match profile {
                    Profile::AlreadyEcos => CosState::Ecos,
                    Profile::UnknownState => CosState::Unknown(UnknownReason::NoEvidence),
                    _ => CosState::Tcos,
                },
                cell_credential: match profile {
                    Profile::AlreadyEcos => Some(ecos),
                    Profile::UnknownState => None,
                    _ => Some(tcos),
                },
                last_communication: if profile == Profile::Stale {
                    clock - 60 * 86_400
                } else {
                    clock - 3_600
                },
                ineligible: (profile == Profile::Ineligible).then(|| "site access".into()),
                ds_public_key: ds_public,
                ka_public_key: ka_public,
                attempts: 0,
                invalid_responses: 0,
                next_attempt_at: None,
                unconfirmed: None,
                unanswered_reads: 0,
                status: MigrationStatus::NotStarted,
                faulted_firmware: None,
            });
            profiles.push(profile);
            devices.push(device);
        }
        Ok(Self {
            records,
            profiles,
            meters: alloc::sync::Arc::new(Meters::numbered_from(range.start, devices)),
        })
    }
}
