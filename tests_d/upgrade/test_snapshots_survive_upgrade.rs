//! Snapshots taken before an upgrade are still listed after every server is upgraded, and one of
//! them restores the volume to what it held when it was taken.
//!
//! GlusterFS's upgrade guide (glusterdocs `docs/Upgrade-Guide/generic-upgrade-procedure.md`;
//! snapshots are kept in glusterd's state and on the bricks' thin LVs, which an upgrade keeps).
//! Needs thin-LVM bricks (the snapshot lab); it is skipped with the reason elsewhere, and on
//! kernel-VM servers, which cannot be upgraded by image.
use crate::prelude::*;

pub const CASE: Case = Case::new(608, "snapshots_survive_upgrade", |ctx| Box::pin(run(ctx)))
    .needs(
        Needs::nodes(2, 1)
            .with(&[Capability::ThinLvm])
            .gluster_below(11, 0),
    )
    .disruptive()
    .timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let kept = io::write_files(&ctx, &client, &m.path, &io::files("kept", 4, 100_000)).await?;
    let snap = snapshot::create(&ctx, &vol, None).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("later", 3, 50_000)).await?;
    mount::unmount(&ctx, &m).await?;

    upgrade::servers_rolling(&ctx, &vol, upgrade::NEXT_RELEASE, Duration::from_secs(300)).await?;
    let server = ctx.server(0)?;
    ensure!(
        snapshot::list(&ctx, &server, Some(&vol.name))
            .await?
            .contains(&snap),
        "snapshot {snap} is not listed after the upgrade"
    );
    vol.stop(&ctx).await?;
    snapshot::restore(&ctx, &server, &snap).await?;
    vol.start_and_wait(&ctx).await?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &m.path, &kept).await?;
    let names = ctx.sh(&client, format!("ls {}", m.path)).await?;
    ensure!(
        !names.contains("later"),
        "files written after the snapshot are still there after restoring it: {names}"
    );
    Ok(())
}
