//! Heal in every direction under I/O: while a background writer keeps writing, each brick of
//! every set is killed in turn (first data brick, second data brick, arbiter), the writer makes
//! progress with it down, it comes back and heal completes before the next one goes. No write
//! fails (two of three bricks always hold quorum), every file the writer reports written reads
//! back intact, and at the end the data bricks agree, the arbiters hold names only and no AFR
//! counter is left.
//!
//! Ported from glusto-tests `tests/functional/arbiter/brick_cases/test_cyclic_brick_kill_list.py`
//! (I/O on the mount, bricks killed in cyclic order, heal after each, files listed at the end);
//! its 1 GB files and 15-minute writes are replaced by small files, and heal and data are
//! checked after every round. Runs on 1 x (2 + 1) and 2 x (2 + 1).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(503, "bricks_down_in_turn_under_io", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.runs_on(VolumeType::ARBITER)
.timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = arbiter::mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let spec = bgio::BgIoSpec {
        file_size: 32 * 1024,
        pause_ms: 50,
    };
    let writers = bgio::start_on_mounts(&ctx, &[&m], "io", spec).await?;
    writers.wait_progress(&ctx, 3, Duration::from_secs(60)).await?;
    for n in 0..3 {
        let down = brick::take_down(&ctx, &vol, Select::Nth(n)).await?;
        ctx.step(format!("brick #{n} of each set down: {down:?}"));
        writers.wait_progress(&ctx, 5, Duration::from_secs(60)).await?;
        brick::bring_back(&ctx, &vol).await?;
        brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
        heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    }
    writers.stop_and_validate(&ctx, 0).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    let on_arbiters = arbiter::ensure_healed(&ctx, &vol, &m).await?;
    let written = io::brick_files(&ctx, &client, &m.path).await?.len();
    ensure_eq!(on_arbiters, written, "files named on the arbiter bricks vs on the mount");
    Ok(())
}
