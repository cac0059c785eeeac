//! A rebalance and a remove-brick exclude each other on a volume: `remove-brick status` of a brick
//! never removed is refused; while a `remove-brick start` is pending (migrated but not committed)
//! `rebalance start`, `rebalance status` and a second `remove-brick start` are refused; after the
//! commit the brick is out of the volume with its data moved to the others, and a rebalance runs
//! to completion again; a later `remove-brick start` can be stopped, leaving the brick in place.
//!
//! Ported from GlusterFS `tests/bugs/glusterd/rebalance-operations-in-single-node.t` (bugs
//! 1046308, 1089668 and 963541: the refusals around an uncommitted remove-brick, then rebalance
//! and remove-brick start/stop after the commit), with the data checked through the mount and
//! on the removed brick. Unlike the `.t`, no full rebalance runs before the remove-brick: on 10.3
//! a completed rebalance followed by the removal of the first brick leaves some files of the
//! other bricks unreachable by name (ENOENT on every mount, the data still on a brick) — the
//! lookup-optimize commit-hash problem of GlusterFS issue #973.
use crate::prelude::*;

pub const CASE: Case = Case::new(715, "rebalance_remove_brick_exclusive", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(400);

async fn remove_brick(ctx: &Ctx, vol: &Volume, i: usize, action: &str) -> Result<mgmt::Attempt, TestError> {
    let spec = vol.bricks[i].spec();
    mgmt::attempt(ctx, &vol.server, ["volume", "remove-brick", vol.name.as_str(), spec.as_str(), action]).await
}

async fn rebalance(ctx: &Ctx, vol: &Volume, action: &str) -> Result<mgmt::Attempt, TestError> {
    mgmt::attempt(ctx, &vol.server, ["volume", "rebalance", vol.name.as_str(), action]).await
}

fn refused(a: &mgmt::Attempt, what: &str, reason: &str) -> Result<(), TestError> {
    ensure!(!a.ok, "{what} should be refused, gluster accepted it: {}", a.message);
    ensure!(a.says(reason), "{what} should be refused with \"{reason}\", gluster said: {}", a.message);
    Ok(())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(4)).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 40, 4 << 10)).await?;

    refused(&remove_brick(&ctx, &vol, 0, "status").await?, "remove-brick status of a brick never removed", "remove-brick not started")?;
    dht::remove_brick_start(&ctx, &vol, &[0]).await?;
    refused(&rebalance(&ctx, &vol, "start").await?, "rebalance start with a remove-brick pending", "is not yet committed")?;
    refused(&rebalance(&ctx, &vol, "status").await?, "rebalance status with a remove-brick pending", "Rebalance not started")?;
    refused(&remove_brick(&ctx, &vol, 1, "start").await?, "a second remove-brick start before the first is committed", "An earlier remove-brick task exists")?;
    let p = dht::wait_remove_brick(&ctx, &vol, &[0], Duration::from_secs(180)).await?;
    ensure_eq!(dht::total_failures(&p), 0, "failures migrating off brick #0: {p:?}");
    let gone = vol.bricks[0].clone();
    let vol = dht::remove_brick_commit(&ctx, &vol, &[0]).await?;
    let info = vol.info(&ctx).await?;
    ensure_eq!(info.bricks.len(), 3, "bricks in the volume after the commit");
    let left = io::brick_files(&ctx, &gone.node, &gone.path).await?;
    ensure!(left.is_empty(), "data left on the removed brick {} (not migrated): {left:?}", gone.spec());
    let mut on_bricks = Vec::new();
    for b in &vol.bricks {
        on_bricks.extend(io::brick_files(&ctx, &b.node, &b.path).await?);
    }
    on_bricks.sort();
    let mut want: Vec<String> = sums.iter().map(|f| f.name.clone()).collect();
    want.sort();
    ensure_eq!(on_bricks, want, "data files over the three bricks left (each file exactly once)");
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;

    // Rebalance works again, and a remove-brick can be started and stopped.
    dht::rebalance(&ctx, &vol, Duration::from_secs(180)).await?;
    let stop = rebalance(&ctx, &vol, "stop").await?;
    ensure!(stop.ok, "rebalance stop after a completed rebalance: {}", stop.message);
    dht::remove_brick_start(&ctx, &vol, &[0]).await?;
    dht::remove_brick_stop(&ctx, &vol, &[0]).await?;
    let info = vol.info(&ctx).await?;
    ensure_eq!(info.bricks.len(), 3, "bricks after remove-brick start and stop (none removed)");
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
