//! The ECoS domain (`ecos.md`): deciding whether a meter holds TCoS or ECoS credentials,
//! routing SRV 6.23 along the ETMAD split, building the change-of-supplier and migration
//! commands, interpreting device outcomes, retry and auto-stop, the migration ledger, and the
//! ECOSMIG-007 report. Every choice the public rules leave open is a policy value.
//!
//! Needs the `alloc` feature.

pub mod classify;
pub mod command;
pub mod device;
pub mod engine;
pub mod inventory;
pub mod ledger;
pub mod migration;
pub mod party;
pub mod registry;
pub mod report;
pub mod route;

pub use classify::{Classification, CosState, Evidence, EvidenceSource, MatchKind, UnknownReason};
pub use command::{BuildError, ChangeOfSupplierRequest, CosSigner, Execution, MigrationCommand};
pub use device::{DeviceModel, FirmwareVersion, IneligibleReason, Manufacturer, ModelKey};
pub use ledger::{Ledger, SupplierCounts};
pub use migration::{
    select, Decision, DeviceRecord, Incident, MigrationPolicy, MigrationStatus, Outcome, Priority,
    SkipReason,
};
pub use party::SecPartyId;
pub use registry::{CosParty, CosRegistry, Credential};
pub use report::Ecosmig007;
pub use route::{route, DeviceType, Refusal, Route, RoutePolicy};
