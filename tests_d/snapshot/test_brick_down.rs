//! Snapshot create is refused while a brick of the volume is down, names the reason, and leaves no
//! snapshot behind; once the brick is back, create succeeds (GlusterFS bug-1112559-style,
//! glusto `test_snap_create_brickdown`).
use crate::prelude::*;

pub const CASE: Case = Case::new(212, "snapshot_create_refused_brick_down", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0).with(&[Capability::ThinLvm]))
.timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let server = ctx.server(0)?;
    brick::kill(&ctx, &vol, 1).await?;

    let name = ctx.unique("down");
    let out = ctx
        .exec(
            &server,
            Command::new("gluster").args([
                "--mode=script",
                "snapshot",
                "create",
                &name,
                &vol.name,
                "no-timestamp",
            ]),
        )
        .await?;
    let text = format!("{}{}", out.stdout_str(), out.stderr_str());
    ensure!(
        !out.success(),
        "snapshot create with a brick down succeeded: {text}"
    );
    ensure!(
        text.contains("not running") || text.contains("down") || text.contains("quorum"),
        "create failed for another reason: {text}"
    );
    ensure!(
        !snapshot::list(&ctx, &server, None).await?.contains(&name),
        "refused snapshot {name} is listed"
    );

    brick::bring_back(&ctx, &vol).await?;
    vol.wait_online(&ctx, Duration::from_secs(120)).await?;
    let snap = snapshot::create(&ctx, &vol, None).await?;
    ensure!(
        snapshot::list(&ctx, &server, Some(&vol.name))
            .await?
            .contains(&snap),
        "{snap} missing after the brick came back"
    );
    Ok(())
}
