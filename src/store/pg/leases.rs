//! Leases: several engines on one PostgreSQL database share a fleet, each device held by one
//! engine at a time. A lease is taken with `FOR UPDATE SKIP LOCKED` (engines never wait on
//! each other's rows), lasts a time-to-live on the wall clock, and is renewed by every commit
//! of the engine holding it — in the same transaction, which fails when another engine has
//! taken any of its devices: an engine that lost a lease cannot commit, so it cannot send
//! (every command's record is committed before the command leaves). A device whose engine
//! died is taken by another once its lease has run out; its counters start above every block
//! any engine reserved (`meta`, raised with `GREATEST`), so no meter sees a counter twice.
//!
//! | column   | holds                                               |
//! |----------|-----------------------------------------------------|
//! | device   | the device (its 64-bit ID as signed bits)           |
//! | owner    | the engine holding it, if any                       |
//! | until_ms | when its lease runs out (Unix milliseconds)         |
//! | done     | nothing more to do for it                           |

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{pg, PgStore};
use crate::frame::EntityId;
use crate::store::StoreError;

/// The table.
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS leases (
         device BIGINT PRIMARY KEY, owner TEXT, until_ms BIGINT NOT NULL DEFAULT 0,
         done BOOLEAN NOT NULL DEFAULT FALSE);";

/// The devices an engine holds, checked and renewed at each commit.
#[derive(Clone, Debug)]
pub(super) struct Fence {
    pub(super) owner: String,
    pub(super) devices: Vec<i64>,
    pub(super) ttl_ms: i64,
    /// When they were last renewed (Unix milliseconds, this process's clock).
    pub(super) renewed_ms: i64,
}

/// The wall clock, Unix milliseconds.
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Renews `fence`'s leases in `tx`; an error when another engine holds any of them now.
pub(super) fn renew(tx: &mut postgres::Transaction<'_>, fence: &Fence) -> Result<(), StoreError> {
    if fence.devices.is_empty() {
        return Ok(());
    }
    let until = now_ms().saturating_add(fence.ttl_ms);
    let held = tx
        .execute(
            "UPDATE leases SET until_ms = $3 WHERE owner = $1 AND device = ANY($2)",
            &[&fence.owner, &fence.devices, &until],
        )
        .map_err(|e| pg(&e))?;
    let want = u64::try_from(fence.devices.len()).unwrap_or(u64::MAX);
    if held < want {
        return Err(StoreError::Postgres(alloc::format!(
            "lease lost: engine {} holds {held} of its {want} devices; another engine has taken the rest (nothing more is committed or sent by this one)",
            fence.owner
        )));
    }
    Ok(())
}

impl PgStore {
    /// Puts every device of the fleet in the lease table (those already there are kept).
    ///
    /// # Errors
    /// [`StoreError::Postgres`].
    pub fn seed_leases(&self, devices: &[EntityId]) -> Result<(), StoreError> {
        let ids: Vec<i64> = devices.iter().map(|d| i64::from_be_bytes(d.0)).collect();
        self.call(move |c| {
            c.execute(
                "INSERT INTO leases (device) SELECT * FROM UNNEST($1::bigint[]) ON CONFLICT DO NOTHING",
                &[&ids],
            )
            .map_err(|e| pg(&e))?;
            Ok(())
        })
    }

    /// Takes up to `most` devices not done whose lease is free, run out, or already
    /// `owner`'s, for `ttl` milliseconds; from then on every commit renews them and fails once
    /// another engine has taken one ([`Self::release_done`] gives them back).
    ///
    /// # Errors
    /// [`StoreError::Postgres`].
    pub fn acquire(
        &mut self,
        owner: &str,
        most: usize,
        ttl_ms: i64,
    ) -> Result<Vec<EntityId>, StoreError> {
        let owner_s = owner.to_string();
        let most = i64::try_from(most).unwrap_or(i64::MAX);
        let got: Vec<i64> = self.call(move |c| {
            let now = now_ms();
            let rows = c
                .query(
                    "UPDATE leases SET owner = $1, until_ms = $2 WHERE device IN (
                         SELECT device FROM leases
                         WHERE NOT done AND (owner IS NULL OR owner = $1 OR until_ms < $3)
                         ORDER BY device LIMIT $4 FOR UPDATE SKIP LOCKED)
                     RETURNING device",
                    &[&owner_s, &now.saturating_add(ttl_ms), &now, &most],
                )
                .map_err(|e| pg(&e))?;
            Ok(rows.into_iter().map(|r| r.get(0)).collect())
        })?;
        self.fence = Some(Fence {
            owner: owner.to_string(),
            devices: got.clone(),
            ttl_ms,
            renewed_ms: now_ms(),
        });
        Ok(got.into_iter().map(|d| EntityId(d.to_be_bytes())).collect())
    }

    /// Renews the leases held when a third of their time-to-live has passed since they were
    /// last renewed: an engine waiting on replies or back-offs, with nothing to commit,
    /// keeps its devices (commits renew them too). The driver calls it as it waits.
    ///
    /// # Errors
    /// [`StoreError::Postgres`], or a lease another engine took meanwhile.
    pub fn keep_leases(&mut self) -> Result<(), StoreError> {
        let now = now_ms();
        let Some(fence) = self.fence.as_ref() else {
            return Ok(());
        };
        if now.saturating_sub(fence.renewed_ms) < fence.ttl_ms / 3 {
            return Ok(());
        }
        let fence = fence.clone();
        self.call(move |c| {
            let mut tx = c.transaction().map_err(|e| pg(&e))?;
            renew(&mut tx, &fence)?;
            tx.commit().map_err(|e| pg(&e))
        })?;
        if let Some(f) = self.fence.as_mut() {
            f.renewed_ms = now;
        }
        Ok(())
    }

    /// The devices held are done: marked so and given back.
    ///
    /// # Errors
    /// [`StoreError::Postgres`], or a lease lost meanwhile (nothing is marked then).
    pub fn release_done(&mut self) -> Result<(), StoreError> {
        let Some(fence) = self.fence.take() else {
            return Ok(());
        };
        self.call(move |c| {
            let mut tx = c.transaction().map_err(|e| pg(&e))?;
            renew(&mut tx, &fence)?;
            tx.execute(
                "UPDATE leases SET done = TRUE, owner = NULL WHERE owner = $1 AND device = ANY($2)",
                &[&fence.owner, &fence.devices],
            )
            .map_err(|e| pg(&e))?;
            tx.commit().map_err(|e| pg(&e))
        })
    }

    /// Devices not done yet, and how many of them another engine holds now.
    ///
    /// # Errors
    /// [`StoreError::Postgres`].
    pub fn lease_state(&self, owner: &str) -> Result<(u64, u64), StoreError> {
        let owner = owner.to_string();
        self.call(move |c| {
            let r = c
                .query_one(
                    "SELECT COUNT(*) FILTER (WHERE NOT done),
                            COUNT(*) FILTER (WHERE NOT done AND owner IS NOT NULL AND owner <> $1 AND until_ms >= $2)
                     FROM leases",
                    &[&owner, &now_ms()],
                )
                .map_err(|e| pg(&e))?;
            let (open, others): (i64, i64) = (r.get(0), r.get(1));
            Ok((u64::try_from(open).unwrap_or(0), u64::try_from(others).unwrap_or(0)))
        })
    }
}
