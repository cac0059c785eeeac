//! A volume cannot be stopped while a rebalance is in progress: `volume stop` is refused ("rebalance
//! session is in progress"), the volume stays Started. Once
//! the rebalance has completed the stop is accepted, and the volume started again serves the same
//! data.
//!
//! Ported from glusto-tests
//! `tests/functional/dht/test_volume_start_stop_while_rebalance_in_progress.py` (add bricks,
//! rebalance start, volume stop refused with "rebalance session is in progress", volume info
//! still Started). The rebalance is kept in progress by freezing a brick
//! before the start (`dht::start_held`: the rebalance processes wait for it).
use crate::prelude::*;

pub const CASE: Case = Case::new(735, "volume_stop_during_rebalance", |ctx| Box::pin(run(ctx)))
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
    let stop = mgmt::attempt(&ctx, &vol.server, ["volume", "stop", vol.name.as_str()]).await?;
    ensure!(!stop.ok, "volume stop during a rebalance was accepted: {}", stop.message);
    ensure!(stop.says("rebalance session is in progress"), "volume stop during a rebalance refused for another reason: {}", stop.message);
    ensure_eq!(vol.info(&ctx).await?.status, "Started", "volume status after the refused stop");

    held.release(&ctx).await?;
    let p = dht::wait_rebalance(&ctx, &vol, Duration::from_secs(240)).await?;
    ensure_eq!(dht::total_failures(&p), 0, "rebalance failures: {p:?}");
    io::verify(&ctx, &client, &m.path, &sums).await?;
    mount::unmount(&ctx, &m).await?;
    vol.stop(&ctx).await?;
    ensure_eq!(vol.info(&ctx).await?.status, "Stopped", "volume status after a stop once the rebalance completed");
    vol.start_and_wait(&ctx).await?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
