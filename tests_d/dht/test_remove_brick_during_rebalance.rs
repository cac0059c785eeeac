//! While a rebalance is in progress, `remove-brick start` is refused ("Rebalance is in progress")
//! and so is a second `rebalance start` ("already started"); the volume keeps its three bricks.
//! Let go, the rebalance completes on every node without failures, the added brick gets data and
//! every file reads back with its checksum.
//!
//! Ported from glusto-tests `tests/functional/dht/test_remove_brick_while_rebalance_is_running.py`
//! (add bricks, rebalance start, remove-brick start refused with "Rebalance is in progress"). The
//! rebalance is kept in progress by freezing a brick before the start (`dht::start_held`: the
//! rebalance processes wait for it) instead of hoping it is still running when the remove-brick
//! comes.
use crate::prelude::*;

pub const CASE: Case = Case::new(734, "remove_brick_during_rebalance", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 40, 16 << 10)).await?;
    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;

    let all: Vec<usize> = (0..vol.bricks.len()).collect();
    let held = dht::start_held(&ctx, &vol, 0, &dht::brick_nodes(&vol, &all), dht::rebalance_start(&ctx, &vol, dht::Rebalance::Full)).await?;
    let st = dht::rebalance_status(&ctx, &vol).await?;
    ensure!(st.len() == 3 && st.iter().all(|n| n.status == "in progress"), "rebalance status while it is held: {st:?}");
    let spec = vol.bricks[0].spec();
    let remove = mgmt::attempt(&ctx, &vol.server, ["volume", "remove-brick", vol.name.as_str(), spec.as_str(), "start"]).await?;
    ensure!(!remove.ok, "remove-brick start during a rebalance was accepted: {}", remove.message);
    ensure!(remove.says("Rebalance is in progress"), "remove-brick start during a rebalance refused for another reason: {}", remove.message);
    let again = mgmt::attempt(&ctx, &vol.server, ["volume", "rebalance", vol.name.as_str(), "start"]).await?;
    ensure!(!again.ok, "a second rebalance start was accepted: {}", again.message);
    ensure!(again.says("already started"), "a second rebalance start refused for another reason: {}", again.message);
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 3, "bricks after the refused remove-brick");

    held.release(&ctx).await?;
    let p = dht::wait_rebalance(&ctx, &vol, Duration::from_secs(240)).await?;
    ensure_eq!(dht::total_failures(&p), 0, "rebalance failures: {p:?}");
    ensure!(p.iter().all(|n| n.status == "completed"), "rebalance status after the release: {p:?}");
    let new = &vol.bricks[2];
    ensure!(!io::brick_files(&ctx, &new.node, &new.path).await?.is_empty(), "the rebalance moved nothing to the added brick");
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
