//! [`Workers`]: every background task of an instance — the batch writers, the
//! partition upkeep, the live tail listener, and what comes — on one task
//! tracker with one cancellation signal, so that shutdown stops them all in
//! one place: cancel, let each finish its current batch, wait with a deadline.

use std::{future::Future, time::Duration};

use chrono::TimeDelta;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::queue::{Batch, Queue, WriterThread};

/// Background tasks of this instance and the signal that stops them.
#[derive(Clone, Default)]
pub struct Workers {
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl Workers {
    /// Starts `worker`, which ends soon after the token it is given is cancelled.
    pub fn spawn<F>(&self, worker: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(worker(self.cancel.clone()));
    }

    /// Starts the batch writers of one kind of record on `thread` (see
    /// [`Queue::start`]).
    pub fn start_queue<B: Batch>(
        &self,
        batch: B,
        thread: &WriterThread,
        budget_bytes: usize,
        retention: TimeDelta,
    ) -> Queue<B> {
        Queue::start(
            batch,
            thread,
            budget_bytes,
            retention,
            &self.tracker,
            self.cancel.clone(),
        )
    }

    /// A token cancelled when the workers are told to stop.
    pub fn cancelled(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Tells every worker to stop, then waits up to `deadline` for them to
    /// finish (writers drain their queues first). False when some did not.
    pub async fn stop(&self, deadline: Duration) -> bool {
        self.cancel.cancel();
        self.tracker.close();
        tokio::time::timeout(deadline, self.tracker.wait())
            .await
            .is_ok()
    }
}
