//! Server-side heal happens only while the self-heal daemon runs: with it off (and client heals
//! off), files rewritten while a brick of each set was down stay pending after the brick is back,
//! and `volume heal` is refused; turned on, the daemon heals them without any client access and
//! the bricks agree again. Runs on every replicated type.
//!
//! Ported from glusto-tests
//! `tests/functional/afr/heal/test_server_side_healing_happens_only_when_glustershd_running.py`
//! (shd off, bricks down, I/O, bricks back, no heal and `heal` refused; shd on, heal completes,
//! checksums agree).
use crate::prelude::*;

pub const CASE: Case = Case::new(411, "heal_only_with_shd_running", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::REPLICATED)
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    heal::set_self_heal(&ctx, &vol, false, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("f", 10, 8192)).await?;

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 10, 40000)).await?;
    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;

    let refused = heal::index(&ctx, &vol).await;
    ensure!(
        refused.is_err(),
        "volume heal should be refused while the self-heal daemon is off: {refused:?}"
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let pending = heal::pending_count(&ctx, &vol).await?;
    ensure!(
        pending >= sums.len() as u64,
        "{pending} entries pending 10 s after the bricks came back with the daemon off; \
         expected the {} rewritten files still pending",
        sums.len()
    );
    // Every down brick whose set holds some of the files still has their old contents.
    let mut stale_checked = 0;
    for &d in &down {
        let b = &vol.bricks[d];
        let here = sums_on(&ctx, b, &sums).await?;
        if brick::holds_data(&vol, d) && !here.is_empty() {
            let stale = io::verify(&ctx, &b.node, &b.path, &here).await;
            ensure!(stale.is_err(), "{} got the new data without the daemon", b.spec());
            stale_checked += 1;
        }
    }
    ensure!(stale_checked > 0, "no brick that was down holds any of the rewritten files");

    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    for &d in &down {
        let b = &vol.bricks[d];
        if brick::holds_data(&vol, d) {
            io::verify(&ctx, &b.node, &b.path, &sums_on(&ctx, b, &sums).await?).await?;
        }
    }
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}

/// The files of `sums` that live on brick `b`.
async fn sums_on(ctx: &Ctx, b: &Brick, sums: &[io::FileSum]) -> Result<Vec<io::FileSum>, TestError> {
    let present = io::brick_files(ctx, &b.node, &b.path).await?;
    Ok(sums
        .iter()
        .filter(|s| present.contains(&s.name))
        .cloned()
        .collect())
}
