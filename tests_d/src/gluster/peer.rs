//! Trusted storage pool: probe, detach, status, wait until every server sees every other connected.
use std::time::Duration;

use super::{gluster, gluster_xml, req, wait_for, Poll};
use crate::ctx::Node;
use crate::xml::Element;
use crate::{Ctx, TestError};

/// How often pool changes are looked at: a probe settles in a fraction of a second.
const POLL: Duration = Duration::from_millis(200);

/// One peer as another server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Peer UUID.
    pub uuid: String,
    /// Primary hostname.
    pub hostname: String,
    /// All names the pool knows it by.
    pub hostnames: Vec<String>,
    /// Whether the connection is up.
    pub connected: bool,
    /// `Peer in Cluster`, `Accepted peer request`, ...
    pub state: String,
}

impl Peer {
    /// Whether the pool knows this peer as `host`.
    pub fn is(&self, host: &str) -> bool {
        self.hostname == host || self.hostnames.iter().any(|h| h == host)
    }
    /// Connected and fully in the cluster.
    pub fn healthy(&self) -> bool {
        self.connected && self.state == "Peer in Cluster"
    }
}

fn parse_peers(root: &Element, node: &Node, cmd: &str) -> Result<Vec<Peer>, TestError> {
    let Some(list) = root.find("peerStatus") else {
        return Err(TestError::Parse {
            node: node.name().to_string(),
            command: cmd.to_string(),
            message: "no <peerStatus> element".into(),
        });
    };
    list.children("peer")
        .map(|p| {
            Ok(Peer {
                uuid: req(p, "uuid", cmd, node)?.to_string(),
                hostname: req(p, "hostname", cmd, node)?.to_string(),
                hostnames: p
                    .child("hostnames")
                    .map(|h| h.children("hostname").map(|e| e.text.clone()).collect())
                    .unwrap_or_default(),
                connected: req(p, "connected", cmd, node)? == "1",
                state: p.child_text("stateStr").unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// `gluster peer status` on `node`: the other servers as it sees them.
pub async fn status(ctx: &Ctx, node: &Node) -> Result<Vec<Peer>, TestError> {
    let root = gluster_xml(ctx, node, ["peer", "status"]).await?;
    parse_peers(&root, node, "gluster peer status --xml")
}

/// `gluster pool list` on `node`: every pool member including itself (as `localhost`).
pub async fn pool_list(ctx: &Ctx, node: &Node) -> Result<Vec<Peer>, TestError> {
    let root = gluster_xml(ctx, node, ["pool", "list"]).await?;
    parse_peers(&root, node, "gluster pool list --xml")
}

/// `gluster peer probe HOST` from `from`.
pub async fn probe(ctx: &Ctx, from: &Node, host: &str) -> Result<(), TestError> {
    gluster(ctx, from, ["peer", "probe", host])
        .await
        .map(|_| ())
}

/// `gluster peer probe HOST` from `from`, tried again while it fails, for up to `timeout`.
async fn probe_until(
    ctx: &Ctx,
    from: &Node,
    host: &str,
    timeout: Duration,
) -> Result<(), TestError> {
    wait_for(
        ctx,
        &format!("{} to accept a probe of {host}", from.name()),
        timeout,
        POLL,
        || async move { probe(ctx, from, host).await.map(Poll::Ready) },
    )
    .await
}

/// `gluster peer detach HOST` from `from`.
pub async fn detach(ctx: &Ctx, from: &Node, host: &str) -> Result<(), TestError> {
    gluster(ctx, from, ["peer", "detach", host])
        .await
        .map(|_| ())
}

/// Waits until every server sees every other server connected and in the cluster.
pub async fn wait_connected(ctx: &Ctx, timeout: Duration) -> Result<(), TestError> {
    let servers = ctx.servers();
    wait_for(
        ctx,
        "every server to see all peers connected",
        timeout,
        POLL,
        || {
            let servers = servers.clone();
            async move {
                for s in &servers {
                    let peers = status(ctx, s).await?;
                    for other in servers.iter().filter(|o| o.name() != s.name()) {
                        match peers.iter().find(|p| p.is(other.host())) {
                            Some(p) if p.healthy() => {}
                            Some(p) => {
                                return Ok(Poll::Pending(format!(
                                    "{} sees {} as connected={} state={:?}",
                                    s.name(),
                                    other.host(),
                                    p.connected,
                                    p.state
                                )))
                            }
                            None => {
                                return Ok(Poll::Pending(format!(
                                    "{} does not list {}",
                                    s.name(),
                                    other.host()
                                )))
                            }
                        }
                    }
                }
                Ok(Poll::Ready(()))
            }
        },
    )
    .await
}

/// Forms the pool if needed, then waits until it is connected. From the first server it probes every
/// server it does not list; then every server that knows a peer only by another name (the reverse DNS
/// name of the address the probe came from) probes that peer by its node-list host, which is how
/// GlusterFS learns a peer's name. On a lab formed that way already nothing is probed. A probe that
/// fails (a glusterd that has just started may refuse one) is tried again until `timeout`. `gflab up`
/// forms its labs' pools with this function.
pub async fn ensure_pool(ctx: &Ctx, timeout: Duration) -> Result<(), TestError> {
    let servers = ctx.servers();
    let Some(first) = servers.first() else {
        return Err(TestError::Nodes("the node list has no servers".into()));
    };
    let peers = status(ctx, first).await?;
    for other in servers.iter().skip(1) {
        if !peers.iter().any(|p| p.is(other.host())) {
            ctx.step(format!("probing {} from {}", other.host(), first.name()));
            probe_until(ctx, first, other.host(), timeout).await?;
        }
    }
    for s in servers.iter().skip(1) {
        let peers = status(ctx, s).await?;
        for other in servers.iter().filter(|o| o.name() != s.name()) {
            if !peers.iter().any(|p| p.is(other.host())) {
                ctx.step(format!(
                    "{} does not know {} by that name; probing it by name",
                    s.name(),
                    other.host()
                ));
                probe_until(ctx, s, other.host(), timeout).await?;
            }
        }
    }
    wait_connected(ctx, timeout).await
}
