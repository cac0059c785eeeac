//! Removing the arbiter makes plain replica 2: on a 1 x (2 + 1) volume, `remove-brick replica 2`
//! of either data brick is refused, of the arbiter accepted; the volume is then `1 x 2 = 2`,
//! and a directory and a 1 MiB file written afterwards are on both remaining bricks in full.
//!
//! Ported from GlusterFS `tests/basic/afr/arbiter-remove-brick.t` (the refusals, the brick count,
//! `ls` of both bricks equal, the file 1 MiB on the mount and on each brick).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(512, "arbiter_to_replica2", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::arbiter(1)).await?;
    let info = vol.info(&ctx).await?;
    ensure_eq!((info.brick_count, info.arbiter_count), (3, 1), "a 1 x (2 + 1) volume");
    vol.set(&ctx, "performance.stat-prefetch", "off").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let two = Layout::Replicate { replica: 2 };
    for data in [0, 1] {
        let refused = arbiter::remove_bricks(&ctx, &vol, &[data], two).await;
        ensure!(refused.is_err(), "remove-brick replica 2 of data brick #{data} was accepted");
    }
    let vol = arbiter::remove_bricks(&ctx, &vol, &[2], two).await?;
    let info = vol.info(&ctx).await?;
    ensure_eq!(
        (info.brick_count, info.replica_count, info.arbiter_count),
        (2, 2, 0),
        "bricks, replica and arbiter count after removing the arbiter"
    );
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    ctx.sh(&client, format!("mkdir {}/dir", m.path)).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &[("file".into(), 1 << 20)]).await?;
    let a = ctx.sh(&vol.bricks[0].node, format!("ls {} | sort", vol.bricks[0].path)).await?;
    let b = ctx.sh(&vol.bricks[1].node, format!("ls {} | sort", vol.bricks[1].path)).await?;
    ensure_eq!(a, b, "names on the two remaining bricks");
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &sums).await?;
    }
    Ok(())
}
