//! snap-max-hard-limit refuses the snapshot past the limit; with auto-delete on and the soft limit
//! passed, creating one deletes the oldest (GlusterFS `snapshot config` tests, bug-1087203 and
//! glusto `test_snap_auto_delete`).
use crate::prelude::*;

pub const CASE: Case = Case::new(211, "snapshot_hard_soft_limit_auto_delete", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0).with(&[Capability::ThinLvm]))
.timeout_secs(900)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let server = ctx.server(0)?;
    // System-wide settings are put back whatever happens.
    for (key, value) in [("auto-delete", "disable"), ("snap-max-soft-limit", "90")] {
        ctx.defer(Cleanup::Command {
            node: server.clone(),
            command: Command::new("gluster").args([
                "--mode=script",
                "snapshot",
                "config",
                key,
                value,
            ]),
        });
    }
    snapshot::config_set(&ctx, &server, Some(&vol.name), "snap-max-hard-limit", "2").await?;
    let cfg = snapshot::config(&ctx, &server, Some(&vol.name)).await?;
    ensure!(
        cfg.iter()
            .any(|(k, v)| k.contains(&vol.name) && k.ends_with("hardLimit") && v == "2"),
        "volume hard limit not 2 in `snapshot config {}`: {cfg:?}",
        vol.name
    );

    let first = snapshot::create(&ctx, &vol, None).await?;
    let second = snapshot::create(&ctx, &vol, None).await?;
    let over = ctx
        .exec(
            &server,
            Command::new("gluster").args([
                "--mode=script",
                "snapshot",
                "create",
                &ctx.unique("over"),
                &vol.name,
                "no-timestamp",
            ]),
        )
        .await?;
    ensure!(
        !over.success(),
        "a third snapshot past snap-max-hard-limit 2 was created"
    );
    ensure_eq!(
        snapshot::list(&ctx, &server, Some(&vol.name)).await?.len(),
        2,
        "snapshots after the refused create"
    );

    // Hard limit 3, soft limit 50% of it = 1: with auto-delete on, a create that takes the count
    // past the soft limit deletes the oldest snapshot.
    snapshot::config_set(&ctx, &server, Some(&vol.name), "snap-max-hard-limit", "3").await?;
    snapshot::config_set(&ctx, &server, None, "snap-max-soft-limit", "50").await?;
    snapshot::config_set(&ctx, &server, None, "auto-delete", "enable").await?;
    let third = snapshot::create(&ctx, &vol, None).await?;
    let mut left = snapshot::list(&ctx, &server, Some(&vol.name)).await?;
    left.sort();
    let mut want = vec![second, third];
    want.sort();
    ensure_eq!(
        left,
        want,
        "snapshots after a create with auto-delete (oldest {first} gone)"
    );
    Ok(())
}
