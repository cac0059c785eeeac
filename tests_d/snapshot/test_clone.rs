//! Clone: a new volume from an activated snapshot starts, mounts, holds the snapshot's data and takes
//! writes that the origin volume never sees (GlusterFS `snapshot clone` tests,
//! bug-1162462-style clone checks).
use crate::prelude::*;

pub const CASE: Case = Case::new(209, "snapshot_clone_mount_write", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1).with(&[Capability::ThinLvm]))
    .timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let server = ctx.server(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let data = io::write_files(&ctx, &client, &m.path, &io::files("orig", 4, 100_000)).await?;
    let snap = snapshot::create(&ctx, &vol, None).await?;

    // Cloning needs an activated snapshot.
    let refused = ctx
        .exec(
            &server,
            Command::new("gluster").args([
                "--mode=script",
                "snapshot",
                "clone",
                &ctx.unique("early"),
                &snap,
            ]),
        )
        .await?;
    ensure!(
        !refused.success(),
        "clone of a deactivated snapshot succeeded"
    );
    snapshot::activate(&ctx, &server, &snap).await?;
    let clone = snapshot::clone(&ctx, &vol, &snap).await?;
    ensure_eq!(
        clone.bricks.len(),
        vol.bricks.len(),
        "bricks of clone {}",
        clone.name
    );
    clone.start_and_wait(&ctx).await?;

    let cm = mount::mount(&ctx, &client, &clone).await?;
    io::verify(&ctx, &client, &cm.path, &data).await?;
    let extra =
        io::write_files(&ctx, &client, &cm.path, &io::files("clone-only", 3, 50_000)).await?;
    io::verify(&ctx, &client, &cm.path, &extra).await?;
    let leaked = io::present(&ctx, &client, &m.path, &extra).await?;
    ensure!(
        leaked.is_empty(),
        "{leaked:?} written to the clone show(s) up in the origin"
    );
    io::verify(&ctx, &client, &m.path, &data).await?;
    Ok(())
}
