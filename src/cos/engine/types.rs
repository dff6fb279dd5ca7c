//! What goes into the engine core and what comes out: time, inputs, CPU work and its results,
//! commands to transmit, events, and the records a store keeps.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::cos::classify::Classification;
use crate::cos::command::BuildError;
use crate::cos::device::{FirmwareVersion, IneligibleReason, ModelKey};
use crate::cos::ledger::LedgerEntry;
use crate::cos::migration::{
    DeviceProgress, Incident, InvalidReason, LocalFault, Outcome, SecPartyId,
};
use crate::cos::registry::Credential;
use crate::crypto::PublicKey;
use crate::frame::EntityId;

/// UTC milliseconds since the Unix epoch: the engine's time. A wall-clock time, not an
/// `Instant`, because deadlines are persisted and must mean the same after a restart; the
/// ledger keeps whole seconds ([`UnixTime::secs`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// `secs` seconds after the epoch.
    #[must_use]
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Whole seconds (rounded down): the ledger's time.
    #[must_use]
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Milliseconds since the epoch.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// `ms` milliseconds later (saturating).
    #[must_use]
    pub const fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// The later of `self` and `other`.
    #[must_use]
    pub fn max(self, other: Self) -> Self {
        Ord::max(self, other)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::payload::GeneralizedTime::from_unix_seconds(self.secs()) {
            Some(t) => write!(f, "{t}.{:03}", self.0.rem_euclid(1000)),
            None => write!(f, "{} ms", self.0),
        }
    }
}

/// A log sequence number: the position of a [`Record`] in the engine's output. The engine
/// withholds every transmit and event until the driver says the records it depends on are
/// durable ([`super::Engine::handle_durable`]).
pub type Lsn = u64;

/// A CPU job's number, to match its result to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);

/// Which command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum CommandKind {
    /// The migration command: CS02b 0x0106 from the TCoS party.
    Migration,
    /// A read of the role-5 cell: CS02a from the ACB.
    Read,
}

/// Whose counter: the TCoS party's (0x0106) and the ACB's (CS02a) are separate sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum CounterParty {
    /// The TCoS party.
    Tcos,
    /// The access control broker.
    Acb,
}

impl CommandKind {
    /// Whose counter the command carries.
    #[must_use]
    pub const fn party(self) -> CounterParty {
        match self {
            Self::Migration => CounterParty::Tcos,
            Self::Read => CounterParty::Acb,
        }
    }
}

/// An inventory update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InventoryChange {
    /// The device now runs this firmware (a device that faulted on another is eligible again).
    Firmware(FirmwareVersion),
    /// A gas meter is (or is no longer) commissioned on a Gas Proxy Function's hub.
    GasMeterCommissioned(bool),
    /// The Responsible Supplier flags the device ineligible for this reason (ETMAD
    /// 3.10(b)), or clears the flag (`None`): the ledger records the standing it gives.
    Ineligible(Option<IneligibleReason>),
}

/// What happens to the engine.
#[derive(Clone, Debug)]
pub enum Input {
    /// Bytes that arrived from `device`: a reply, late or early, once or again, genuine or not.
    Reply {
        /// The device the transport says they came from.
        device: EntityId,
        /// The message.
        bytes: Vec<u8>,
    },
    /// An alert (0x00CB) that arrived.
    Alert {
        /// The message.
        bytes: Vec<u8>,
    },
    /// A CPU job finished.
    WorkDone {
        /// Its number.
        job: JobId,
        /// What it gave.
        result: WorkResult,
    },
    /// The transport could not send a command: no reply will come (it counts as none).
    SendFailed {
        /// The device.
        device: EntityId,
        /// The command's counter.
        counter: u64,
    },
    /// An inventory update.
    Inventory {
        /// The device.
        device: EntityId,
        /// The change.
        change: InventoryChange,
    },
    /// A model is categorised as Non-Migratable (ETMAD 3.10(a)), unless it runs
    /// `fixed_from` or later: the ledger records, at this instant, every device of the model
    /// that this excludes (one entry each, counted in ECOSMIG-004 and 007 from then on).
    ListModel {
        /// The manufacturer and model.
        model: ModelKey,
        /// The manufacturer's fixing firmware, if there is one.
        fixed_from: Option<FirmwareVersion>,
    },
    /// A failed or ineligible device's cause is resolved: it returns to selection with its
    /// attempts renewed, and the ledger records who resolved it and when.
    Clear {
        /// The device.
        device: EntityId,
        /// Who resolved it (a party or an operator, as the caller names them).
        by: String,
    },
    /// The incident that stopped the run is marked high priority: the suppliers whose
    /// devices were in the window that raised it are notified (DCC's response ¶31c), each
    /// with its devices ([`Event::HighPriorityIncident`]).
    MarkHighPriority,
    /// Stop sending new commands (those in flight are still waited for).
    Pause,
    /// Go on: clears a pause and the incident that stopped the run.
    Resume,
}

/// What a transport delivers: a reply from a device, or an alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A reply from `device` (as the transport says).
    Reply {
        /// The device.
        device: EntityId,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// An alert.
    Alert {
        /// The bytes.
        bytes: Vec<u8>,
    },
}

impl From<Arrival> for Input {
    fn from(a: Arrival) -> Self {
        match a {
            Arrival::Reply { device, bytes } => Self::Reply { device, bytes },
            Arrival::Alert { bytes } => Self::Alert { bytes },
        }
    }
}

/// CPU work the engine asks for: values, not keys — the driver's workers hold the keys
/// ([`super::MigrationContext`]) and run [`super::execute`].
#[derive(Clone, Debug)]
// The variants carry the device's keys by value (a check carries two): at most
// `EngineConfig::max_work` jobs exist at once, so their size is bounded, and boxing would cost
// an allocation per job.
#[allow(clippy::large_enum_variant)]
pub enum Work {
    /// Build a command (ECDH with the device's KA key; sign the 0x0106; MAC).
    Build {
        /// The job.
        job: JobId,
        /// The device.
        device: EntityId,
        /// Which command.
        kind: CommandKind,
        /// Its counter.
        counter: u64,
        /// The TCoS credential a reading found in the device's cell (signs a 0x0106); `None`:
        /// the context's own TCoS credential.
        in_cell: Option<Credential>,
        /// The device's KA key.
        device_ka: PublicKey,
    },
    /// Verify and interpret a reply.
    CheckReply {
        /// The job.
        job: JobId,
        /// The device.
        device: EntityId,
        /// Which command it answers.
        kind: CommandKind,
        /// The command's counter.
        counter: u64,
        /// The device's DS key (a migration reply's signature).
        device_ds: PublicKey,
        /// The device's KA key (a read reply's MAC).
        device_ka: PublicKey,
        /// The reply.
        bytes: Vec<u8>,
    },
    /// Verify and interpret a future-dated command's alert.
    CheckAlert {
        /// The job.
        job: JobId,
        /// The device.
        device: EntityId,
        /// The counter of the command it ends.
        counter: u64,
        /// The device's DS key.
        device_ds: PublicKey,
        /// The alert.
        bytes: Vec<u8>,
    },
}

impl Work {
    /// The job's number.
    #[must_use]
    pub const fn job(&self) -> JobId {
        match self {
            Self::Build { job, .. }
            | Self::CheckReply { job, .. }
            | Self::CheckAlert { job, .. } => *job,
        }
    }
}

/// A reading of a device's role-5 cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reading {
    /// A trusted answer (MAC verified, parties and counter matched).
    Cell(Classification),
    /// No answer.
    NoAnswer,
    /// An answer not trusted: a security event.
    Invalid(InvalidReason),
}

/// What a CPU job gave.
#[derive(Clone, Debug)]
pub enum WorkResult {
    /// The command's bytes.
    Built(Vec<u8>),
    /// The command was refused (loudly): no command for this device.
    NotBuilt(BuildError),
    /// The engine's own key agreement or signer failed: not a device attempt.
    Local(LocalFault),
    /// A migration reply or alert, verified and interpreted.
    Migration(Outcome),
    /// A read reply, verified and interpreted.
    Read(Reading),
}

/// A command to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The device.
    pub device: EntityId,
    /// Which command.
    pub kind: CommandKind,
    /// Its counter.
    pub counter: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// When a reply that has not come counts as none.
    pub deadline: UnixTime,
}

/// Something the embedding service must hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A migration command's outcome (the reply's, or no reply by the deadline).
    Outcome {
        /// The device.
        device: EntityId,
        /// The command's counter.
        counter: u64,
        /// What it came to.
        outcome: Outcome,
    },
    /// A reply that failed verification, did not match, or answers nothing sent: a security
    /// event.
    SecurityEvent {
        /// The device.
        device: EntityId,
        /// Why.
        reason: InvalidReason,
    },
    /// A reply after its command's deadline: verified and recorded, not counted again.
    LateReply {
        /// The device.
        device: EntityId,
        /// The command's counter.
        counter: u64,
    },
    /// A reply to a command already answered: ignored.
    DuplicateReply {
        /// The device.
        device: EntityId,
        /// The command's counter.
        counter: u64,
    },
    /// A command was not built (refused loudly).
    Refused {
        /// The device.
        device: EntityId,
        /// Why.
        error: BuildError,
    },
    /// The engine's own key agreement or signer failed; no command was sent.
    LocalFault {
        /// The device it was for.
        device: EntityId,
        /// What failed.
        fault: LocalFault,
    },
    /// The run stopped.
    Incident(Incident),
    /// An inventory update for a device not in the fleet: not applied.
    UnknownDevice {
        /// The device.
        device: EntityId,
    },
    /// A device's cause was resolved: it is back in selection.
    Cleared {
        /// The device.
        device: EntityId,
        /// Who resolved it.
        by: String,
    },
    /// A high-priority incident: `supplier` is told that these of its devices were in the
    /// window that stopped the run (the embedding service delivers it).
    HighPriorityIncident {
        /// The supplier told (each device's reporting supplier).
        supplier: SecPartyId,
        /// Its devices in the window.
        devices: Vec<EntityId>,
        /// The incident.
        incident: Incident,
    },
    /// [`Input::MarkHighPriority`] while the run is not stopped: nothing to mark.
    NoIncident,
    /// A clearance for a device that had neither failed nor been flagged ineligible: nothing
    /// was changed.
    NothingToClear {
        /// The device.
        device: EntityId,
    },
    /// The ledger refused an attempt as already counted: a broken invariant of the engine
    /// (counters are never reused), reported rather than dropped.
    DuplicateAttempt {
        /// The device.
        device: EntityId,
        /// The counter.
        counter: u64,
    },
}

/// How a sent command was resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Resolution {
    /// A verified reply.
    Replied,
    /// No reply by the deadline (or the transport could not send it).
    NoReply,
    /// A verified reply after the deadline.
    LateReply,
}

/// What must be durable before anyone acts on a decision: the store keeps these, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// Counters of `party` below `below` may be used: reserved before the first of them
    /// leaves, so no counter is ever used twice, whatever happens after.
    CounterBlock {
        /// Whose counters.
        party: CounterParty,
        /// The first counter not reserved.
        below: u64,
    },
    /// A command is about to leave.
    Sent {
        /// The device.
        device: EntityId,
        /// Which command.
        kind: CommandKind,
        /// Its counter.
        counter: u64,
        /// When.
        at: UnixTime,
        /// When no reply counts as none.
        deadline: UnixTime,
    },
    /// What came of a sent command.
    Resolved {
        /// The device.
        device: EntityId,
        /// Which command.
        kind: CommandKind,
        /// Its counter.
        counter: u64,
        /// When.
        at: UnixTime,
        /// How.
        how: Resolution,
    },
    /// A device's record as it now stands.
    Device {
        /// The device.
        device: EntityId,
        /// Its progress.
        progress: DeviceProgress,
    },
    /// A change to the ledger.
    Ledger(LedgerEntry),
    /// The run stopped.
    Incident {
        /// When.
        at: UnixTime,
        /// Why.
        incident: Incident,
    },
    /// A model was categorised as Non-Migratable.
    Listed {
        /// When.
        at: UnixTime,
        /// The manufacturer and model.
        model: ModelKey,
        /// Its fixing firmware, if any.
        fixed_from: Option<FirmwareVersion>,
    },
    /// The stopping incident was marked high priority and these suppliers notified, each
    /// of its devices in the window that raised it.
    HighPriority {
        /// When.
        at: UnixTime,
        /// The incident.
        incident: Incident,
        /// Each supplier notified, with its devices.
        notified: Vec<(SecPartyId, Vec<EntityId>)>,
    },
    /// The run was paused (`true`) or resumed (`false`).
    Paused {
        /// When.
        at: UnixTime,
        /// Paused or resumed.
        paused: bool,
    },
}

/// Flow control and timing: what the operator sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct EngineConfig {
    /// Commands in flight at most (default 100,000).
    pub max_in_flight: usize,
    /// Commands in flight per device model at most (default: no cap).
    pub max_in_flight_per_model: Option<usize>,
    /// Commands sent per second at most (default: no cap).
    pub max_rate: Option<u32>,
    /// How long a reply is waited for, milliseconds (default 30 s).
    pub deadline_millis: i64,
    /// CPU jobs outstanding, with commands built and not yet taken by
    /// [`Engine::poll_transmit`](super::Engine::poll_transmit), at most (default 64): enough
    /// to keep a pool of workers busy, few enough that replies are verified soon after they
    /// come. A new command starts only below it, so when the transport holds commands back,
    /// building slows with it instead of built commands piling up with their deadlines
    /// running.
    pub max_work: usize,
    /// Counters reserved per [`Record::CounterBlock`] (default 1,000).
    pub counter_block: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 100_000,
            max_in_flight_per_model: None,
            max_rate: None,
            deadline_millis: 30_000,
            max_work: 64,
            counter_block: 1000,
        }
    }
}

/// Where the first counters of each party stand: above every counter that party has used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartingCounters {
    /// The TCoS party's next counter.
    pub tcos: u64,
    /// The ACB's next counter.
    pub acb: u64,
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Devices in the fleet.
    pub devices: usize,
    /// Devices migrated.
    pub migrated: usize,
    /// Attempts counted.
    pub attempts: u64,
    /// Commands sent (migration commands and reads).
    pub sent: u64,
    /// Commands in flight now.
    pub in_flight: usize,
    /// The most commands in flight at once.
    pub peak_in_flight: usize,
    /// CPU jobs outstanding.
    pub work_pending: usize,
    /// Replies after their deadline.
    pub late_replies: u64,
    /// Replies to commands already answered.
    pub duplicate_replies: u64,
    /// Security events.
    pub security_events: u64,
    /// Local faults (the engine's own keys failed; not device attempts).
    pub local_faults: u64,
    /// The clock.
    pub now: UnixTime,
}
