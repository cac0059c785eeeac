//! A server whose outgoing packets to its peers are dropped (what it receives still arrives)
//! is a network failure to glusterd: `volume status` on it fails staging on every peer, and it
//! then sees every peer disconnected though still in the cluster; once the drop is lifted the
//! pool reconnects and `volume status` there answers again with every brick online.
//!
//! Ported from glusto-tests
//! `tests/functional/glusterd/test_gluster_detect_drop_of_outbound_traffic.py`, which drops the
//! node's outbound glusterd traffic with an iptables OUTPUT rule; here everything it sends to the
//! other servers is dropped (a one-way partition).
use crate::gluster::gluster_cmd;
use crate::prelude::*;

pub const CASE: Case = Case::new(303, "outbound_drop_peers_disconnected", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 0))
.timeout_secs(600)
.disruptive();

/// How long glusterd may take to give up on a connection whose packets go unanswered.
const NOTICE: Duration = Duration::from_secs(180);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, mute, s3) = (ctx.server(0)?, ctx.server(1)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let peers = vec![s1.clone(), s3.clone()];

    fault::partition_one_way(&ctx, std::slice::from_ref(&mute), &peers).await?;

    // A transaction from the muted server fails on every peer (glusto saw "Staging failed on
    // <peer>"; glusterd 10 takes the cluster lock first and reports "Locking failed on <peer>").
    let out = ctx
        .exec(
            &mute,
            gluster_cmd(["volume", "status", vol.name.as_str()]).timeout(NOTICE),
        )
        .await?;
    let text = format!("{}{}", out.stdout_str(), out.stderr_str());
    ensure!(
        !out.success(),
        "`volume status` on {} succeeded although its packets to the peers are dropped: {text}",
        mute.name()
    );
    let failed_on = text
        .lines()
        .filter(|l| l.starts_with("Staging failed on ") || l.starts_with("Locking failed on "))
        .count();
    ensure_eq!(
        failed_on,
        peers.len(),
        "`volume status` on {} should fail once per peer: {text}",
        mute.name()
    );

    // It sees every peer disconnected, yet still a member of the cluster.
    let seen = wait_for(
        &ctx,
        &format!("{} to see every peer disconnected", mute.name()),
        NOTICE,
        Duration::from_secs(2),
        || async {
            let seen = peer::status(&ctx, &mute).await?;
            let left: Vec<String> = peers
                .iter()
                .filter(|p| !seen.iter().any(|s| s.is(p.host()) && !s.connected))
                .map(|p| format!("{} not seen disconnected", p.host()))
                .collect();
            Ok(if left.is_empty() {
                Poll::Ready(seen)
            } else {
                Poll::Pending(left.join(", "))
            })
        },
    )
    .await?;
    for p in &seen {
        ensure_eq!(
            p.state,
            "Peer in Cluster",
            "{} sees {} disconnected, but no longer in the cluster",
            mute.name(),
            p.hostname
        );
    }

    fault::heal_partition(&ctx).await?;
    peer::wait_connected(&ctx, NOTICE).await?;
    let root = gluster_xml(&ctx, &mute, ["volume", "status", &vol.name]).await?;
    let st = volume::parse_status(&root);
    ensure!(
        st.len() == vol.bricks.len() && st.iter().all(|b| b.online),
        "after the drop is lifted, `volume status` on {} does not show every brick online: {st:?}",
        mute.name()
    );
    Ok(())
}
