//! Client quorum `auto`: on replica 3 (its default) writes go on with one brick of each set down
//! and are refused with ENOTCONN once two are down, as are reads of existing files; with the bricks
//! back writes resume and heal brings the bricks into agreement. On replica 2 with `auto` set, a
//! write goes on with the second brick down and is refused with the first one down (half the set,
//! but not the first brick).
//!
//! Ported from glusto-tests `tests/functional/afr/test_client_side_quorum_with_auto_option.py`
//! (quorum-type auto, bricks killed, writes, links and reads refused with "Transport endpoint is not
//! connected")
//! and `tests/functional/afr/test_write_io_mount_point_resumed_quorum_restored.py` (I/O resumes
//! once the bricks are back). The replica 2 half is GlusterFS `tests/basic/afr/quorum.t`.
use crate::gluster::mount::WriteExpect;
use crate::prelude::*;

/// A write refused for lack of client quorum: GlusterFS 10 fails every operation on the
/// volume with ENOTCONN then (older releases said EROFS).
const NO_QUORUM: WriteExpect = WriteExpect::Refused("Transport endpoint is not connected");

pub const CASE: Case = Case::new(416, "client_quorum_auto", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(&[VolumeType::Replicate, VolumeType::DistributedReplicate])
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    ensure_eq!(vol.get(&ctx, "cluster.quorum-type").await?, "auto", "default quorum-type of replica 3");
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("old", 6, 4096)).await?;

    brick::take_down(&ctx, &vol, Select::Nth(2)).await?;
    mount::ensure_write(&ctx, &m, "one", WriteExpect::Allowed).await?;
    brick::take_down(&ctx, &vol, Select::Nth(1)).await?;
    mount::ensure_write(&ctx, &m, "two", NO_QUORUM).await?;
    let read = mount::attempt(&ctx, &client, &m.path, &format!("cat $M/{}", before[0].name), Duration::from_secs(60)).await?;
    ensure!(
        !read.success() && read.stderr_str().contains("Transport endpoint is not connected"),
        "reading {} without quorum should fail with ENOTCONN: {}",
        before[0].name,
        read.stderr_str()
    );

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    mount::ensure_write(&ctx, &m, "back", WriteExpect::Allowed).await?;
    io::verify(&ctx, &client, &m.path, &before).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;

    let two = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    two.set(&ctx, "cluster.quorum-type", "auto").await?;
    two.start_and_wait(&ctx).await?;
    let m2 = mount::mount(&ctx, &client, &two).await?;
    brick::kill(&ctx, &two, 1).await?;
    mount::ensure_write(&ctx, &m2, "second-down", WriteExpect::Allowed).await?;
    brick::bring_back(&ctx, &two).await?;
    brick::wait_client_up(&ctx, &m2, &two, Duration::from_secs(60)).await?;
    brick::kill(&ctx, &two, 0).await?;
    mount::ensure_write(&ctx, &m2, "first-down", NO_QUORUM).await?;
    brick::bring_back(&ctx, &two).await?;
    Ok(())
}

