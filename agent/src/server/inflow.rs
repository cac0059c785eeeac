//! Flow control for data the client sends (a file being put, a large stdin): the client sends only
//! what the agent granted with [`Reply::Window`], and the agent grants only out of a per-connection
//! budget that is given back as the data is written out. Data held by the agent for one connection is
//! thus bounded by the budget, whatever the client does; data beyond its grant closes the connection.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};

use crate::proto::{Reply, ServerMsg, DATA_WINDOW};

/// Data bytes one connection's requests may have granted and not yet written out.
pub(crate) const CONNECTION_BUDGET: usize = 16 * 1024 * 1024;

/// One request's incoming data.
#[derive(Debug)]
pub(crate) struct Inflow {
    /// The request's id.
    id: u64,
    /// The connection's budget.
    budget: Arc<Semaphore>,
    /// Granted and not yet received (shared with the connection's reader, which checks it).
    allowance: Arc<AtomicI64>,
    /// Where grants go.
    out: mpsc::Sender<ServerMsg>,
    /// Bytes the request announced and the agent has not granted yet.
    ungranted: u64,
    /// Budget taken and not yet given back (granted and not yet written out).
    held: u64,
}

impl Inflow {
    /// `size` bytes are to come for request `id`.
    pub(crate) fn new(
        id: u64,
        size: u64,
        budget: Arc<Semaphore>,
        allowance: Arc<AtomicI64>,
        out: mpsc::Sender<ServerMsg>,
    ) -> Inflow {
        Inflow {
            id,
            budget,
            allowance,
            out,
            ungranted: size,
            held: 0,
        }
    }

    /// Grants the client more when less than half a window is outstanding: waits for budget when
    /// nothing is outstanding (else the client would wait forever), takes only what is free otherwise.
    /// `false` when the connection is gone.
    pub(crate) async fn top_up(&mut self) -> bool {
        let outstanding = self.allowance.load(Ordering::Acquire).max(0) as u64;
        let window = u64::from(DATA_WINDOW);
        if self.ungranted == 0 || outstanding >= window / 2 {
            return true;
        }
        let want = (window - outstanding).min(self.ungranted) as u32;
        let permit = if outstanding == 0 {
            match self.budget.clone().acquire_many_owned(want).await {
                Ok(p) => p,
                Err(_) => return false,
            }
        } else {
            match self.budget.clone().try_acquire_many_owned(want) {
                Ok(p) => p,
                Err(_) => return true,
            }
        };
        permit.forget();
        self.held += u64::from(want);
        self.ungranted -= u64::from(want);
        self.allowance.fetch_add(i64::from(want), Ordering::AcqRel);
        let grant = ServerMsg::Reply {
            id: self.id,
            reply: Reply::Window(want),
        };
        self.out.send(grant).await.is_ok()
    }

    /// `n` received bytes were written out: their budget goes back to the connection.
    pub(crate) fn consumed(&mut self, n: usize) {
        let n = (n as u64).min(self.held);
        self.held -= n;
        self.budget.add_permits(n as usize);
    }
}

impl Drop for Inflow {
    fn drop(&mut self) {
        // Granted but never written (the request ended early): give it all back.
        self.budget.add_permits(self.held as usize);
    }
}
