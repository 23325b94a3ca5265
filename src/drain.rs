//! The answers a shutdown waits for: chat turns and `/v1` calls register here, so that
//! SIGTERM lets them finish within the grace period and then cuts them off, each with a
//! final event, its answer saved and its usage settled.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio_util::{
    sync::{CancellationToken, WaitForCancellationFutureOwned},
    task::{TaskTracker, task_tracker::TaskTrackerToken},
};

#[derive(Clone, Debug)]
pub struct Drain {
    /// Cancelled when the grace period is over: every open answer ends now.
    cut_off: CancellationToken,
    /// Every open answer, so that shutdown can wait for them.
    tracker: TaskTracker,
}

impl Default for Drain {
    fn default() -> Self {
        Self {
            cut_off: CancellationToken::new(),
            tracker: TaskTracker::new(),
        }
    }
}

impl Drain {
    /// Runs a task that writes an answer; shutdown waits for it.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tracker.spawn(task);
    }

    /// A token cancelled at the end of the grace period (and by whoever cancels it).
    pub fn child_token(&self) -> CancellationToken {
        self.cut_off.child_token()
    }

    /// Whether the grace period is over.
    pub fn is_cut_off(&self) -> bool {
        self.cut_off.is_cancelled()
    }

    /// Registers an answer that is not a task of its own (a `/v1` call, driven by its
    /// HTTP response): shutdown waits until the returned value is dropped, and it
    /// resolves as a future when the grace period is over.
    pub fn hold(&self) -> Held {
        Held {
            _open: self.tracker.token(),
            // A child of its own, so that waiting on it takes no lock other answers
            // share.
            cut_off: Box::pin(self.cut_off.child_token().cancelled_owned()),
        }
    }

    /// Waits until every open answer has ended; after `grace`, cuts them off and waits
    /// for them to send their final event and save, for at most `cleanup` more.
    pub async fn wait(&self, grace: Duration, cleanup: Duration) {
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
        {
            return;
        }
        tracing::warn!(
            open = self.tracker.len(),
            "drain deadline reached: cutting off open answers"
        );
        self.cut_off.cancel();
        if tokio::time::timeout(cleanup, self.tracker.wait())
            .await
            .is_err()
        {
            // A client that reads nothing cannot be sent its last event; its connection
            // is closed with the rest, and its usage settled then.
            tracing::warn!(
                open = self.tracker.len(),
                "answers still open after being cut off"
            );
        }
    }

    /// After the connections are closed, waits at most `limit` for the answers still
    /// open: a turn whose reader read nothing saves itself once its reader is gone.
    pub async fn settle(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.tracker.wait()).await;
    }
}

/// One open answer that is not a task of its own; see [`Drain::hold`].
pub struct Held {
    _open: TaskTrackerToken,
    cut_off: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Future for Held {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.cut_off.as_mut().poll(cx)
    }
}
