//! Restarting glusterd on every server after a completed rebalance does not start the rebalance
//! again: once glusterd answers and the peers are connected, no rebalance process of the volume
//! appears on any server (watched for 15 s), `rebalance status` still reports the same completed
//! run on every node (same files migrated), and every file reads back with its checksum.
//!
//! Ported from glusto-tests `tests/functional/dht/test_restart_glusterd_after_rebalance.py`
//! (expand, rebalance to completion, restart glusterd on all servers, `pgrep rebalance` finds
//! nothing on any of them), with the kept status and the data checked.
use crate::prelude::*;

pub const CASE: Case = Case::new(742, "restart_glusterd_after_rebalance", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 40, 16 << 10)).await?;
    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let before = dht::rebalance(&ctx, &vol, Duration::from_secs(240)).await?;
    ensure!(dht::total_files(&before) > 0, "the rebalance moved no file: {before:?}");
    let servers = ctx.servers().to_vec();
    dht::wait_no_rebalance_process(&ctx, &vol, &servers, Duration::from_secs(60)).await?;

    for s in &servers {
        glusterd::restart(&ctx, s).await?;
    }
    for s in &servers {
        glusterd::wait(&ctx, s, Duration::from_secs(60)).await?;
    }
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    ctx.step("watch for 15 s that no rebalance process starts");
    for _ in 0..15 {
        let procs = dht::rebalance_processes(&ctx, &vol, &servers).await?;
        ensure!(procs.iter().all(|(_, p)| p.is_empty()), "a rebalance process of {} runs after the glusterd restarts: {procs:?}", vol.name);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let after = dht::rebalance_status(&ctx, &vol).await?;
    let view = |p: &[dht::NodeProgress]| {
        let mut v: Vec<(String, String, u64)> = p.iter().map(|n| (n.node.clone(), n.status.clone(), n.files)).collect();
        v.sort();
        v
    };
    ensure_eq!(view(&after), view(&before), "rebalance status (node, status, files) after the glusterd restarts");
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
