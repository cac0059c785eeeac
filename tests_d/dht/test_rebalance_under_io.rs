//! Rebalance while a client keeps writing: after add-brick the rebalance completes with no
//! failure, the writer meets no error, every file it reports written and every file written
//! before reads back with its checksum, the added brick gets data, and the directories have a
//! complete layout over all three bricks.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rebalance_add_brick_command.py::
//! test_add_bricks_io_mount_point` (IO on the mount, add-brick and rebalance, wait for it, no IO
//! failure), with the written files validated by checksum.
use crate::prelude::*;

pub const CASE: Case = Case::new(710, "rebalance_under_io", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("pre/f", 60, 64 << 10)).await?;
    let w = bgio::start_on_mounts(&ctx, &[&m], "io", Default::default()).await?;
    w.wait_progress(&ctx, 10, Duration::from_secs(60)).await?;

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    dht::rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    w.wait_progress(&ctx, 10, Duration::from_secs(60)).await?;
    w.stop_and_validate(&ctx, 0).await?;

    io::verify(&ctx, &client, &m.path, &sums).await?;
    let new = &vol.bricks[2];
    ensure!(!io::brick_files(&ctx, &new.node, &new.path).await?.is_empty(), "the added brick holds no data");
    for dir in ["/", "pre"] {
        dht::ensure_layout_complete(&ctx, &vol, dir).await?;
    }
    Ok(())
}
