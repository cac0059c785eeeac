//! Restore while the volume is started is refused, and nothing changes: the snapshot stays, the
//! volume stays started and keeps its data (GlusterFS `volume-snapshot.t`: restore needs a stopped
//! volume).
use crate::prelude::*;

pub const CASE: Case = Case::new(208, "snapshot_restore_started_volume_refused", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 1).with(&[Capability::ThinLvm]))
.timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let server = ctx.server(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let snap = snapshot::create(&ctx, &vol, None).await?;
    let newer = io::write_files(&ctx, &client, &m.path, &io::files("newer", 3, 20_000)).await?;

    let out = ctx
        .exec(
            &server,
            Command::new("gluster").args(["--mode=script", "snapshot", "restore", &snap]),
        )
        .await?;
    let text = format!("{}{}", out.stdout_str(), out.stderr_str());
    ensure!(
        !out.success(),
        "restore of a started volume succeeded: {text}"
    );
    ensure!(
        text.contains("started") || text.contains("stop"),
        "restore failed for another reason: {text}"
    );

    ensure!(
        snapshot::list(&ctx, &server, None).await?.contains(&snap),
        "{snap} gone after a refused restore"
    );
    ensure_eq!(
        vol.info(&ctx).await?.status,
        "Started",
        "volume status after a refused restore"
    );
    io::verify(&ctx, &client, &m.path, &newer).await?;
    Ok(())
}
