//! User-serviceable snapshots: with `features.uss` on, a client's `.snaps` lists the activated
//! snapshots only, serves their data, and is read-only (GlusterFS bug-1164613, uss tests).
use crate::prelude::*;

pub const CASE: Case = Case::new(210, "snapshot_uss_lists_activated_read_only", |ctx| {
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
    let data = io::write_files(&ctx, &client, &m.path, &io::files("u", 3, 30_000)).await?;
    let active = snapshot::create(&ctx, &vol, None).await?;
    let inactive = snapshot::create(&ctx, &vol, None).await?;
    snapshot::activate(&ctx, &server, &active).await?;
    vol.set(&ctx, "features.uss", "enable").await?;

    let snaps_dir = format!("{}/.snaps", m.path);
    let listing = wait_for(
        &ctx,
        ".snaps to list the activated snapshot",
        Duration::from_secs(120),
        Duration::from_secs(3),
        || async {
            let out = ctx
                .exec(&client, Command::new("ls").arg(&snaps_dir))
                .await?;
            let names: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
            Ok(if names.contains(&active) {
                Poll::Ready(names)
            } else {
                Poll::Pending(format!("ls .snaps: {names:?} {}", out.stderr_str().trim()))
            })
        },
    )
    .await?;
    ensure!(
        !listing.contains(&inactive),
        ".snaps lists the deactivated snapshot {inactive}: {listing:?}"
    );

    let in_snap = format!("{snaps_dir}/{active}");
    io::verify(&ctx, &client, &in_snap, &data).await?;
    let write = ctx
        .exec(
            &client,
            Command::shell(format!("echo x > '{in_snap}/new-file'")),
        )
        .await?;
    ensure!(!write.success(), "a write into {in_snap} succeeded");
    let rm = ctx
        .exec(
            &client,
            Command::new("rm").arg(format!("{in_snap}/{}", data[0].name)),
        )
        .await?;
    ensure!(!rm.success(), "a delete inside {in_snap} succeeded");
    io::verify(&ctx, &client, &in_snap, &data).await?;
    Ok(())
}
