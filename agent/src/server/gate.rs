//! Admission of connections that have not authenticated yet: a small budget of handshake slots,
//! a smaller one per source address, and eviction of the oldest pending handshake when a new
//! connection needs a slot. Connections without the secret can then hold no more than the budget of
//! sockets, never an authenticated slot, and can never keep a client with the secret out for long:
//! its handshake takes a round trip, theirs are evicted by every newcomer.
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Handshake slots, shared by every connection of a daemon.
#[derive(Debug)]
pub(crate) struct Gate {
    /// Pending handshakes, oldest first (keyed by admission order).
    pending: Mutex<BTreeMap<u64, (IpAddr, CancellationToken)>>,
    /// Next admission number.
    next: std::sync::atomic::AtomicU64,
    /// Pending handshakes at most.
    budget: usize,
    /// Pending handshakes per source address at most.
    per_source: usize,
}

/// A pending handshake's slot; freed on drop.
#[derive(Debug)]
pub(crate) struct Ticket {
    /// The gate it came from.
    gate: Arc<Gate>,
    /// Its admission number.
    id: u64,
    /// Cancelled when a newer connection reclaims the slot.
    pub(crate) evicted: CancellationToken,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.gate.lock().remove(&self.id);
    }
}

impl Gate {
    /// A gate with `budget` slots, at most `per_source` of them for one address.
    pub(crate) fn new(budget: usize, per_source: usize) -> Gate {
        Gate {
            pending: Mutex::default(),
            next: Default::default(),
            budget: budget.max(1),
            per_source: per_source.clamp(1, budget.max(1)),
        }
    }

    /// Locks the table (a panicked holder left it consistent).
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, (IpAddr, CancellationToken)>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a new connection from `source`, evicting that source's oldest pending handshake when
    /// it is at its share, else the oldest of all when the budget is spent. Returns whether one was
    /// evicted.
    pub(crate) fn admit(self: &Arc<Self>, source: IpAddr) -> (Ticket, bool) {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let evicted = CancellationToken::new();
        let mut table = self.lock();
        let same_source = table.iter().filter(|(_, (ip, _))| *ip == source).count();
        let victim = if same_source >= self.per_source {
            table
                .iter()
                .find(|(_, (ip, _))| *ip == source)
                .map(|(k, _)| *k)
        } else if table.len() >= self.budget {
            table.keys().next().copied()
        } else {
            None
        };
        if let Some(k) = victim {
            if let Some((_, token)) = table.remove(&k) {
                token.cancel();
            }
        }
        table.insert(id, (source, evicted.clone()));
        drop(table);
        let ticket = Ticket {
            gate: self.clone(),
            id,
            evicted,
        };
        (ticket, victim.is_some())
    }
}

/// Lets through a few lines per interval and counts the rest, so a flood of refused connections
/// cannot fill the log (which is not rotated by the agent).
#[derive(Debug)]
pub(crate) struct RateLimit {
    /// (start of the current interval, lines let through in it, lines held back since the last report).
    state: Mutex<(Instant, u32, u64)>,
    /// Lines per interval.
    lines: u32,
    /// The interval.
    every: Duration,
}

impl RateLimit {
    /// At most `lines` lines per `every`.
    pub(crate) fn new(lines: u32, every: Duration) -> RateLimit {
        RateLimit {
            state: Mutex::new((Instant::now(), 0, 0)),
            lines,
            every,
        }
    }

    /// Whether a line may be written now; when a new interval starts after lines were held back,
    /// says how many first.
    pub(crate) fn allow(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if now.duration_since(s.0) >= self.every {
            if s.2 > 0 {
                warn!(
                    suppressed = s.2,
                    "held back {} refusal messages in the last {} s",
                    s.2,
                    now.duration_since(s.0).as_secs()
                );
            }
            *s = (now, 0, 0);
        }
        if s.1 < self.lines {
            s.1 += 1;
            true
        } else {
            s.2 += 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_at_its_share_evicts_its_own_oldest() {
        let gate = Arc::new(Gate::new(4, 2));
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let (a1, _) = gate.admit(a);
        let (a2, _) = gate.admit(a);
        let (b1, _) = gate.admit(b);
        let (a3, evicted) = gate.admit(a);
        assert!(evicted);
        assert!(a1.evicted.is_cancelled());
        assert!(!a2.evicted.is_cancelled() && !b1.evicted.is_cancelled());
        assert!(!a3.evicted.is_cancelled());
        // The budget: the oldest of all goes.
        let c: IpAddr = [10, 0, 0, 3].into();
        let (_c1, evicted) = gate.admit(c);
        assert!(!evicted, "a slot was free");
        let (_c2, evicted) = gate.admit(c);
        assert!(evicted && a2.evicted.is_cancelled());
        drop(b1);
        assert_eq!(gate.lock().len(), 3);
    }

    #[test]
    fn the_rate_limit_lets_a_few_lines_through_per_interval() {
        let limit = RateLimit::new(3, Duration::from_secs(3600));
        let allowed = (0..100).filter(|_| limit.allow()).count();
        assert_eq!(allowed, 3);
    }
}
