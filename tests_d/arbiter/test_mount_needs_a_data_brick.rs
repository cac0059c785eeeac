//! A client cannot use an arbiter volume whose data bricks are both down: with only the arbiter
//! up, a new FUSE mount does not come up usable (the mount helper fails, or the mount point
//! cannot be stat'ed), because the arbiter alone is no quorum and holds no data. With the data
//! bricks forced back, the same mount works and sees the file written before.
//!
//! Ported from GlusterFS `tests/basic/afr/arbiter-mount.t` (both data bricks killed, `! stat` on
//! a fresh FUSE mount, `volume start force`, the mount then stat-able); its NFS half is not
//! ported (gflab labs run no gNFS server).
use crate::prelude::*;

pub const CASE: Case = Case::new(515, "mount_needs_a_data_brick", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(&[VolumeType::Arbiter])
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let first = mount::mount(&ctx, &client, &vol).await?;
    let sums = io::write_files(&ctx, &client, &first.path, &io::files("f", 2, 4096)).await?;
    mount::unmount(&ctx, &first).await?;

    brick::kill_many(&ctx, &vol, &[0, 1]).await?;
    let dir = format!("/mnt/gflab/{}", ctx.unique("noquorum"));
    ctx.defer(Cleanup::Unmount {
        node: client.clone(),
        path: dir.clone(),
    });
    let line = format!(
        "mkdir -p \"$M\" && mount -t glusterfs {}:/{} \"$M\" && stat \"$M\"",
        vol.server.host(),
        vol.name
    );
    let out = mount::attempt(&ctx, &client, &dir, &line, Duration::from_secs(90)).await?;
    ensure!(
        !out.success(),
        "a mount with only the arbiter up answered stat: {}",
        out.stdout_str().trim()
    );
    ctx.sh(
        &client,
        format!("if mountpoint -q {dir}; then umount {dir} || umount -l {dir}; fi"),
    )
    .await?;

    brick::bring_back(&ctx, &vol).await?;
    let again = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &again.path, &sums).await?;
    Ok(())
}
