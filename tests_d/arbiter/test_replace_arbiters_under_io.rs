//! Replacing every arbiter brick while I/O runs: a background writer keeps writing while each
//! arbiter brick is replaced by an empty one (`replace-brick ... commit force`); heal fills the
//! new arbiters with every name and no data, the writer never fails, every file it reports
//! written reads back intact, and the data bricks agree with the mount with no counter left.
//!
//! Ported from glusto-tests
//! `tests/functional/arbiter/test_replacing_all_arbiter_bricks_in_the_volume.py` (I/O started,
//! all arbiter bricks replaced while it runs, new bricks online, heal complete, no split-brain,
//! I/O validated). Runs on 1 x (2 + 1) and 2 x (2 + 1) (the source uses distributed-arbiter).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(510, "replace_arbiters_under_io", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::ARBITER)
    .timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (mut vol, m) = arbiter::mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    io::write_files(&ctx, &client, &m.path, &io::files("pre/f", 6, 32 * 1024)).await?;
    let writers = bgio::start_on_mounts(&ctx, &[&m], "io", bgio::BgIoSpec::default()).await?;
    writers.wait_progress(&ctx, 3, Duration::from_secs(60)).await?;

    let old: Vec<String> = brick::select(&vol, Select::Arbiter)?
        .iter()
        .map(|&i| vol.bricks[i].spec())
        .collect();
    for i in brick::select(&vol, Select::Arbiter)? {
        vol = replace::replace_brick(&ctx, &vol, i, None).await?;
        writers.wait_progress(&ctx, 3, Duration::from_secs(60)).await?;
    }
    let info = vol.info(&ctx).await?;
    for spec in &old {
        ensure!(!info.bricks.contains(spec), "{spec} is still in the volume: {:?}", info.bricks);
    }
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    writers.stop_and_validate(&ctx, 0).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    let on_arbiters = arbiter::ensure_healed(&ctx, &vol, &m).await?;
    let on_mount = io::brick_files(&ctx, &client, &m.path).await?.len();
    ensure_eq!(on_arbiters, on_mount, "files named on the new arbiter bricks vs on the mount");
    Ok(())
}
