//! A rebalance started while glusterd is down on a node holding a brick cannot reach that brick (the
//! port map is not answered): it ends `failed` on the nodes that ran it, the rebalance log saying
//! the layout of `/` could not be fixed because the transport endpoint is not connected, and no
//! file is lost. With glusterd back and the peers connected, a new rebalance completes without
//! failures, the added brick gets data and every file reads back with its checksum.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rebalance_start_when_glusterd_down.py`
//! (expand, stop glusterd on a server other than the one asked, rebalance start, it does not
//! complete, the rebalance log has "fix layout on / failed" with "Transport endpoint is not
//! connected"), with the later rebalance and the data checked.
use crate::prelude::*;

pub const CASE: Case = Case::new(741, "rebalance_glusterd_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 40, 16 << 10)).await?;
    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;

    let down = vol.bricks[1].node.clone();
    ensure!(down.name() != vol.server.name(), "the node whose glusterd stops must not be the one asked");
    glusterd::stop(&ctx, &down).await?;
    dht::rebalance_start(&ctx, &vol, dht::Rebalance::Full).await?;
    let p = wait_for(&ctx, "the rebalance with a glusterd down to end", Duration::from_secs(180), Duration::from_secs(2), || async {
        let p = dht::rebalance_status(&ctx, &vol).await?;
        Ok(if !p.is_empty() && p.iter().all(dht::NodeProgress::finished) { Poll::Ready(p) } else { Poll::Pending(format!("{p:?}")) })
    })
    .await?;
    ctx.step(format!("rebalance status with glusterd down on {}: {p:?}", down.name()));
    ensure!(p.iter().any(|n| n.status == "failed"), "a rebalance that cannot reach the brick on {} should fail, status: {p:?}", down.name());
    ensure!(!p.iter().any(|n| n.status == "completed"), "the rebalance completed on a node although a brick could not be reached: {p:?}");
    let log = format!("/var/log/glusterfs/{}-rebalance.log", vol.name);
    let lines = ctx.sh(&vol.server, format!("grep -w 'fix layout on / failed' {log} | grep 'Transport endpoint is not connected' || true")).await?;
    ensure!(!lines.trim().is_empty(), "{log} on {} does not say the fix-layout of / failed with ENOTCONN", vol.server.name());

    glusterd::start(&ctx, &down).await?;
    glusterd::wait(&ctx, &down, Duration::from_secs(60)).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    let p = dht::rebalance(&ctx, &vol, Duration::from_secs(240)).await?;
    ensure_eq!(dht::total_failures(&p), 0, "failures of the rebalance with every glusterd up: {p:?}");
    let new = &vol.bricks[2];
    ensure!(!io::brick_files(&ctx, &new.node, &new.path).await?.is_empty(), "the rebalance moved nothing to the added brick");
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
