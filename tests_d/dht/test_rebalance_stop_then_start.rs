//! A rebalance stopped part-way reports `stopped` and leaves every file readable with its
//! checksum (nothing half-migrated shows); started again, it completes on every node, the added
//! brick ends up with data, each file is on exactly one brick and no link file is left.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rebalance_stop_mid_migration.py` (start a
//! rebalance, stop it, status says stopped) and `test_exericse_rebalance_command.py` (stop in the
//! middle of migration, the mount's checksum unchanged), then a second `rebalance start` that must
//! complete.
//!
//! On GlusterFS 10.3 this fails more often than not under load: after the stop, files that are on a
//! brick answer ENOENT through the mount (with `cluster.lookup-optimize` on, a directory is taken as
//! fully laid out before its files have moved; it looks like gluster/glusterfs issue #973), or the
//! stop itself fails on a node whose rebalance process just ended. CI leaves it out (Makefile).
use crate::prelude::*;

pub const CASE: Case = Case::new(706, "rebalance_stop_then_start", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let mut files = Vec::new();
    for d in 0..6 {
        files.extend(io::files(&format!("d{d}/f"), 50, 8 << 10));
    }
    let sums = io::write_files(&ctx, &client, &m.path, &files).await?;
    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    vol.set(&ctx, "cluster.rebal-throttle", "lazy").await?;

    dht::rebalance_start(&ctx, &vol, dht::Rebalance::Full).await?;
    let p = dht::rebalance_stop(&ctx, &vol).await?;
    // A node with nothing left to move may have completed already; none may still be running.
    ensure!(
        p.iter().any(|n| n.status == "stopped") && p.iter().all(dht::NodeProgress::finished),
        "rebalance stop did not stop the migration: {p:?}"
    );
    let first = dht::total_files(&p);
    io::verify(&ctx, &client, &m.path, &sums).await?;

    vol.reset(&ctx, "cluster.rebal-throttle").await?;
    // The stopped process may still finish the file it was moving: start again once allowed.
    wait_for(&ctx, "a new rebalance to be accepted", Duration::from_secs(60), Duration::from_secs(2), || async {
        Ok(match dht::rebalance_start(&ctx, &vol, dht::Rebalance::Full).await {
            Ok(()) => Poll::Ready(()),
            Err(e) => Poll::Pending(e.to_string()),
        })
    })
    .await?;
    let p = dht::wait_rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure!(p.iter().all(|n| n.status == "completed") && dht::total_failures(&p) == 0, "second rebalance: {p:?}");
    ctx.step(format!("{first} file(s) moved before the stop, {} by the second run", dht::total_files(&p)));
    let new = &vol.bricks[2];
    ensure!(!io::brick_files(&ctx, &new.node, &new.path).await?.is_empty(), "the added brick holds no data after the second rebalance");
    let mut total = 0;
    for b in &vol.bricks {
        total += io::brick_files(&ctx, &b.node, &b.path).await?.len();
        let l = dht::link_files(&ctx, &b.node, &b.path).await?;
        ensure!(l.is_empty(), "link files left on {} after rebalance: {:?}", b.spec(), &l[..l.len().min(5)]);
    }
    ensure_eq!(total, files.len(), "data files over all bricks");
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
