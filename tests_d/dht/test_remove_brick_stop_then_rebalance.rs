//! A `remove-brick start` stopped while its migration is in progress loses nothing: the stop is
//! accepted, the brick stays in the volume, and once the migration process has exited a new brick
//! can be added and a rebalance completes without failures; the mount shows the same tree with
//! the same contents as before, and every file is on exactly one brick.
//!
//! Ported from glusto-tests
//! `tests/functional/dht/test_remove_brick_no_commit_followed_by_rebalance.py` (files and
//! directories, remove-brick start, stopped while in progress, add-brick, rebalance to
//! completion, the mount's checksum unchanged). The migration is kept in progress by freezing
//! another brick before the start (`dht::start_held`), so the stop always comes mid-way.
use crate::prelude::*;

pub const CASE: Case = Case::new(743, "remove_brick_stop_then_rebalance", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let made = fileops::deep_tree(&ctx, &client, &format!("{}/tree", m.path), 2, 3, 5, 4 << 10).await?;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;

    let held = dht::start_held(&ctx, &vol, 0, &dht::brick_nodes(&vol, &[2]), dht::remove_brick_start(&ctx, &vol, &[2])).await?;
    let st = dht::remove_brick_status(&ctx, &vol, &[2]).await?;
    ensure!(st.iter().any(|n| n.status == "in progress"), "remove-brick status before the stop: {st:?}");
    dht::remove_brick_stop(&ctx, &vol, &[2]).await?;
    held.release(&ctx).await?;
    dht::wait_no_rebalance_process(&ctx, &vol, &dht::brick_nodes(&vol, &[2]), Duration::from_secs(60)).await?;
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 3, "bricks after remove-brick stop");

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(0)?], &[&m]).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let start = mgmt::attempt(&ctx, &vol.server, ["volume", "rebalance", vol.name.as_str(), "start"]).await?;
    ensure!(start.ok, "rebalance start after the stopped remove-brick and the add-brick refused: {}", start.message);
    let p = dht::wait_rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure_eq!(dht::total_failures(&p), 0, "rebalance failures: {p:?}");
    ensure!(p.iter().all(|n| n.status == "completed"), "rebalance after the stopped remove-brick: {p:?}");
    let mut on = Vec::new();
    for b in &vol.bricks {
        on.extend(io::brick_files(&ctx, &b.node, &b.path).await?);
    }
    let n = on.len();
    on.sort();
    on.dedup();
    ensure_eq!(on.len(), n, "data files present on more than one brick");
    ensure_eq!(n as u64, made, "data files over the four bricks");
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;
    Ok(())
}
