//! Restore of a stopped volume: after restore the volume serves exactly the snapshot's data (files
//! written later are gone, files changed later are back to their old contents), and the snapshot is
//! consumed (GlusterFS `volume-snapshot.t`, bug-1322772).
use crate::prelude::*;

pub const CASE: Case = Case::new(207, "snapshot_restore_stopped_volume", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 1).with(&[Capability::ThinLvm]))
.timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let server = ctx.server(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let kept = io::write_files(&ctx, &client, &m.path, &io::files("kept", 4, 100_000)).await?;
    let snap = snapshot::create(&ctx, &vol, None).await?;

    // After the snapshot: new files, and the old ones overwritten with other data.
    let later = io::write_files(&ctx, &client, &m.path, &io::files("later", 3, 50_000)).await?;
    let changed = io::write_files(&ctx, &client, &m.path, &io::files("kept", 4, 100_000)).await?;
    ensure!(
        changed[0].sha256 != kept[0].sha256,
        "rewrite produced the same data"
    );
    mount::unmount(&ctx, &m).await?;

    vol.stop(&ctx).await?;
    snapshot::restore(&ctx, &server, &snap).await?;
    let left = snapshot::list(&ctx, &server, Some(&vol.name)).await?;
    ensure!(
        !left.contains(&snap),
        "{snap} still listed after restore: {left:?}"
    );
    vol.start_and_wait(&ctx).await?;

    let m = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &m.path, &kept).await?;
    let leaked = io::present(&ctx, &client, &m.path, &later).await?;
    ensure!(
        leaked.is_empty(),
        "{leaked:?} written after the snapshot exist(s) after restore"
    );
    // The restored volume takes writes.
    let after = io::write_files(&ctx, &client, &m.path, &io::files("after", 2, 10_000)).await?;
    io::verify(&ctx, &client, &m.path, &after).await?;
    Ok(())
}
