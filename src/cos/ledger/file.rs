//! The ledger as a file (serde): `{"devices": {ID: history, …}, "attempts": [entry, …],
//! "report_sequences": {report: {recipient: [n, …]}}, "reports_made": {report: {recipient:
//! [[start, end], …]}}}` (the periods, in Unix seconds, of the reports made), devices first so that each attempt
//! is checked, where it stands, against the devices read before it. A file of the earlier
//! form, `"sequences": {recipient: [n, …]}`, numbered ECOSMIG-007 only: it is read as that
//! report's numbers (and written in the new form).
//!
//! Reading refuses what would shift the counts silently: a device listed twice (a JSON map
//! with a repeated key would otherwise keep the last), a device without a reporting supplier,
//! an attempt on a device the file does not hold, the same attempt (device and counter) twice.
//! Each error is raised where the fault is read, so the deserializer reports its line and
//! column (`serde_json::Error::line`). A file that lists its attempts before its devices (as
//! files written before this order did) is checked once both are read, and the error names
//! the attempt by its index.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeStruct;

use super::{AttemptEntry, DeviceHistory, Ledger};
use crate::cos::migration::SecPartyId;
use crate::frame::EntityId;

impl serde::Serialize for Ledger {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Ledger", 4)?;
        st.serialize_field("devices", &self.devices)?;
        st.serialize_field("attempts", &self.attempts)?;
        st.serialize_field("report_sequences", &self.sequences)?;
        st.serialize_field("reports_made", &self.made)?;
        st.end()
    }
}

/// The `devices` map, refusing a repeated device and one without a supplier.
struct Devices;

impl<'de> DeserializeSeed<'de> for Devices {
    type Value = BTreeMap<EntityId, DeviceHistory>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Devices {
    type Value = BTreeMap<EntityId, DeviceHistory>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map from entity IDs to device histories")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(id) = map.next_key::<EntityId>()? {
            if out.contains_key(&id) {
                return Err(de::Error::custom(format!(
                    "device {id} is listed twice; the ledger holds each device once"
                )));
            }
            let history: DeviceHistory = map.next_value()?;
            if history.suppliers.is_empty() {
                return Err(de::Error::custom(format!(
                    "device {id} has no reporting supplier: its counts would belong to nobody"
                )));
            }
            let ordered = |times: Vec<i64>| times.is_sorted();
            let h = &history;
            if !(ordered(h.suppliers.iter().map(|e| e.0).collect())
                && ordered(h.states.iter().map(|e| e.at).collect())
                && ordered(h.standings.iter().map(|e| e.0).collect())
                && ordered(h.descriptors.iter().map(|e| e.0).collect())
                && ordered(h.clearances.iter().map(|e| e.0).collect()))
            {
                return Err(de::Error::custom(format!(
                    "device {id} has a history out of time order: each list must run oldest first"
                )));
            }
            out.insert(id, history);
        }
        Ok(out)
    }
}

/// The attempts, with their index by (device, counter).
type Indexed = (Vec<AttemptEntry>, BTreeMap<(EntityId, u64), usize>);

/// The `attempts` list, each checked as it is read: not twice, and (when the devices came
/// first) on a device the file holds.
struct Attempts<'a> {
    devices: Option<&'a BTreeMap<EntityId, DeviceHistory>>,
}

impl<'de> DeserializeSeed<'de> for Attempts<'_> {
    type Value = Indexed;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Attempts<'_> {
    type Value = Indexed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of attempts")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut attempts = Vec::new();
        let mut index = BTreeMap::new();
        while let Some(a) = seq.next_element::<AttemptEntry>()? {
            if index
                .insert((a.device, a.counter), attempts.len())
                .is_some()
            {
                return Err(de::Error::custom(format!(
                    "attempt {} on {} is listed twice; each attempt counts once",
                    a.counter, a.device
                )));
            }
            if let Some(devices) = self.devices {
                if !devices.contains_key(&a.device) {
                    return Err(unknown_device(attempts.len(), &a));
                }
            }
            attempts.push(a);
        }
        Ok((attempts, index))
    }
}

fn unknown_device<E: de::Error>(i: usize, a: &AttemptEntry) -> E {
    E::custom(format!(
        "attempt {i} (counter {} on {}) names a device the ledger does not hold",
        a.counter, a.device
    ))
}

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Devices,
    Attempts,
    Sequences,
    ReportSequences,
    ReportsMade,
}

/// Report identifier → recipient → numbers issued.
type Sequences = BTreeMap<alloc::string::String, BTreeMap<SecPartyId, BTreeSet<u32>>>;

/// The report a file of the earlier form numbered (its `sequences` were ECOSMIG-007's).
const EARLIER_REPORT: &str = "ECOSMIG-007";

struct LedgerVisitor;

impl<'de> Visitor<'de> for LedgerVisitor {
    type Value = Ledger;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ledger: devices, attempts and sequences")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ledger, A::Error> {
        let mut devices: Option<BTreeMap<EntityId, DeviceHistory>> = None;
        let mut attempts: Option<Indexed> = None;
        let mut sequences: Option<Sequences> = None;
        let mut made: Option<super::Made> = None;
        // Whether the attempts were read before the devices (and so not yet checked).
        let mut unchecked = false;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Devices if devices.is_some() => {
                    return Err(de::Error::duplicate_field("devices"))
                }
                Field::Attempts if attempts.is_some() => {
                    return Err(de::Error::duplicate_field("attempts"))
                }
                Field::Sequences | Field::ReportSequences if sequences.is_some() => {
                    return Err(de::Error::custom(
                        "the report sequence numbers are given twice",
                    ))
                }
                Field::ReportsMade if made.is_some() => {
                    return Err(de::Error::duplicate_field("reports_made"))
                }
                Field::ReportsMade => made = Some(map.next_value()?),
                Field::Devices => devices = Some(map.next_value_seed(Devices)?),
                Field::Attempts => {
                    unchecked = devices.is_none();
                    attempts = Some(map.next_value_seed(Attempts {
                        devices: devices.as_ref(),
                    })?);
                }
                Field::Sequences => {
                    let earlier: BTreeMap<SecPartyId, BTreeSet<u32>> = map.next_value()?;
                    let mut per_report = Sequences::new();
                    if !earlier.is_empty() {
                        per_report.insert(alloc::string::String::from(EARLIER_REPORT), earlier);
                    }
                    sequences = Some(per_report);
                }
                Field::ReportSequences => sequences = Some(map.next_value()?),
            }
        }
        let devices = devices.ok_or_else(|| de::Error::missing_field("devices"))?;
        let (attempts, index) = attempts.ok_or_else(|| de::Error::missing_field("attempts"))?;
        let sequences = sequences.ok_or_else(|| de::Error::missing_field("report_sequences"))?;
        if unchecked {
            if let Some((i, a)) = attempts
                .iter()
                .enumerate()
                .find(|(_, a)| !devices.contains_key(&a.device))
            {
                return Err(unknown_device(i, a));
            }
        }
        Ok(Ledger {
            attempts,
            index,
            devices,
            sequences,
            // Absent from files written before reports' periods were kept.
            made: made.unwrap_or_default(),
        })
    }
}

impl<'de> serde::Deserialize<'de> for Ledger {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(
            "Ledger",
            &[
                "devices",
                "attempts",
                "report_sequences",
                "reports_made",
                "sequences",
            ],
            LedgerVisitor,
        )
    }
}
