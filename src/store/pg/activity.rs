//! The dashboard's activity from a PostgreSQL store: the same queries as SQLite's
//! (`events::sql`, their `?N` parameters written `$N`), assembled by the same code.

use alloc::string::String;
use alloc::vec::Vec;

use super::{pg, PgStore};
use crate::cos::engine::{Activity, Buckets};
use crate::store::events::{assemble, sql, window_ms, ActivityRows};
use crate::store::StoreError;

/// A query in PostgreSQL's spelling.
fn dollars(q: &str) -> String {
    q.replace('?', "$")
}

impl PgStore {
    /// What the run did over `buckets`, aggregated in the database (as
    /// [`crate::store::SqliteLedger::activity`]).
    ///
    /// # Errors
    /// [`StoreError::Postgres`].
    pub fn activity(&self, buckets: Buckets) -> Result<Activity, StoreError> {
        let (start, end, width) = window_ms(buckets);
        let rows = self.call(move |c| {
            let pairs = |c: &mut postgres::Client,
                         q: &str,
                         p: &[&(dyn postgres::types::ToSql + Sync)]|
             -> Result<Vec<(i64, i64)>, StoreError> {
                Ok(c.query(&dollars(q), p)
                    .map_err(|e| pg(&e))?
                    .iter()
                    .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1)))
                    .collect())
            };
            let before = |c: &mut postgres::Client, kind: &str| -> Result<i64, StoreError> {
                Ok(c.query_one(&dollars(sql::BEFORE), &[&kind, &start])
                    .map_err(|e| pg(&e))?
                    .get(0))
            };
            let marks = c
                .query(&dollars(sql::MARKS), &[&start, &end])
                .map_err(|e| pg(&e))?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect();
            Ok(ActivityRows {
                sent: pairs(c, sql::PER_BUCKET, &[&"sent", &start, &end, &width])?,
                sent_before: before(c, "sent")?,
                settled: pairs(c, sql::PER_BUCKET, &[&"settled", &start, &end, &width])?,
                settled_before: before(c, "settled")?,
                recorded: c.query_one(sql::RECORDED, &[]).map_err(|e| pg(&e))?.get(0),
                first: pairs(c, sql::FIRST, &[&start, &end, &width])?,
                marks,
            })
        })?;
        assemble(buckets, rows)
    }
}
