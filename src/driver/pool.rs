//! The CPU workers' queue: work that finishes a command already in flight (checking a reply
//! or an alert) is taken before work that starts a new one (building a command). Under a
//! saturated CPU, first-in-first-out would let the builds of new commands delay the
//! verification of replies that have already come, so outcomes would lag the network by
//! however much build work is queued; finishing first keeps them as prompt as the network
//! allows, and new commands take what CPU is left.

use alloc::collections::VecDeque;
use std::sync::{Condvar, Mutex, PoisonError};

use crate::cos::engine::Work;

#[derive(Debug, Default)]
struct Queues {
    /// Checks of replies and alerts.
    finishing: VecDeque<Work>,
    /// Builds of commands.
    starting: VecDeque<Work>,
    closed: bool,
}

/// A two-level work queue shared by the driver (which pushes) and the workers (which pop).
#[derive(Debug, Default)]
pub(crate) struct WorkQueue {
    queues: Mutex<Queues>,
    ready: Condvar,
}

impl WorkQueue {
    /// Queues `work` at its level; false when the queue is closed.
    pub(crate) fn push(&self, work: Work) -> bool {
        let mut q = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if q.closed {
            return false;
        }
        if matches!(work, Work::Build { .. }) {
            q.starting.push_back(work);
        } else {
            q.finishing.push_back(work);
        }
        drop(q);
        self.ready.notify_one();
        true
    }

    /// The next work, finishing before starting; `None` once closed and empty.
    pub(crate) fn pop(&self) -> Option<Work> {
        let mut q = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(w) = q.finishing.pop_front().or_else(|| q.starting.pop_front()) {
                return Some(w);
            }
            if q.closed {
                return None;
            }
            q = self.ready.wait(q).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// No more work: workers finish what is queued and stop.
    pub(crate) fn close(&self) {
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.ready.notify_all();
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    use crate::cos::engine::{CommandKind, JobId};
    use crate::crypto::SigningKey;
    use crate::frame::EntityId;

    fn build(job: u64, key: &crate::crypto::PublicKey) -> Work {
        Work::Build {
            job: JobId(job),
            device: EntityId([0; 8]),
            kind: CommandKind::Migration,
            counter: job,
            in_cell: None,
            device_ka: key.clone(),
        }
    }

    fn check(job: u64, key: &crate::crypto::PublicKey) -> Work {
        Work::CheckAlert {
            job: JobId(job),
            device: EntityId([0; 8]),
            counter: job,
            device_ds: key.clone(),
            bytes: Vec::new(),
        }
    }

    #[test]
    fn checks_are_taken_before_builds_each_in_order() {
        let key = SigningKey::from_scalar(&[7; 32])
            .expect("a scalar of sevens is a key")
            .public_key();
        let q = WorkQueue::default();
        for w in [
            build(1, &key),
            build(2, &key),
            check(3, &key),
            check(4, &key),
        ] {
            assert!(q.push(w));
        }
        q.close();
        let order: Vec<u64> = core::iter::from_fn(|| q.pop()).map(|w| w.job().0).collect();
        assert_eq!(order, [3, 4, 1, 2]);
    }

    #[test]
    fn a_closed_queue_refuses_work_and_drains() {
        let q = WorkQueue::default();
        q.close();
        let key = SigningKey::from_scalar(&[7; 32])
            .expect("a scalar of sevens is a key")
            .public_key();
        assert!(!q.push(build(1, &key)));
        assert!(q.pop().is_none());
    }
}
