//! Node control: what a test can do to whole nodes beyond running commands on them (reboot, power
//! off and on). The runner hands [`Ctx`](crate::Ctx) a [`NodeControl`] that knows each node's
//! kind (a container is restarted through the engine, a kernel-VM node's VM reboots with it, a real
//! host reboots through its agent); tests never touch the engine themselves.
use futures::future::BoxFuture;
use gflab_agent::{Client, NodeEntry};

/// A power action on one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Power {
    /// Reboot: every process stops, state on disk survives, the node comes back by itself.
    Restart,
    /// Power off; the node stays down until [`Power::Start`].
    Stop,
    /// Power a stopped node on again.
    Start,
}

impl std::fmt::Display for Power {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Power::Restart => "restart",
            Power::Stop => "stop",
            Power::Start => "start",
        })
    }
}

/// The runner's handle on the nodes' kinds.
pub trait NodeControl: std::fmt::Debug + Send + Sync {
    /// Carries out `action` on the node of `entry` and returns when it is done: after a restart
    /// or a start, when its agent answers (at its new address, which the handle gives to
    /// `client`, the test's connection to it) and, on servers, glusterd answers. The error says
    /// why, in words for the test's report.
    fn power<'a>(
        &'a self,
        entry: &'a NodeEntry,
        client: &'a Client,
        action: Power,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// The kind of the node of `entry` (`container`, `kernel-vm`, `host`), for messages.
    fn kind(&self, entry: &NodeEntry) -> &'static str;
    /// Upgrades the node of `entry` to `release` (a lab node: its container replaced by one of the
    /// release's image, state kept) and returns when it is back (`client` follows it; a server's
    /// pool is whole and its bricks online). Real hosts are upgraded by their owners: the default
    /// refuses.
    fn upgrade<'a>(
        &'a self,
        entry: &'a NodeEntry,
        client: &'a Client,
        release: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        let _ = (client, release);
        Box::pin(async move {
            Err(format!(
                "{} cannot be upgraded by the runner (a {} node)",
                entry.name,
                self.kind(entry)
            ))
        })
    }
}
