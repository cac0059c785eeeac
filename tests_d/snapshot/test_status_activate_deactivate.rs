//! Activate and deactivate: a new snapshot is stopped and its bricks do not run; activate starts one
//! brick per origin brick in the volume group, a second activate is refused; deactivate stops them
//! (GlusterFS bug-1157991, `volume-snapshot.t`).
use crate::prelude::*;

pub const CASE: Case = Case::new(205, "snapshot_status_activate_deactivate", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0).with(&[Capability::ThinLvm]))
.timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let server = ctx.server(0)?;
    let snap = snapshot::create(&ctx, &vol, None).await?;

    let st = snapshot::status(&ctx, &server, &snap).await?;
    ensure_eq!(
        st.len(),
        vol.bricks.len(),
        "snapshot bricks in `snapshot status {snap}`"
    );
    ensure!(
        st.iter().all(|b| !b.running),
        "bricks of a deactivated snapshot run: {st:?}"
    );
    ensure!(
        st.iter().all(|b| !b.volume_group.is_empty()),
        "snapshot bricks without a volume group: {st:?}"
    );

    snapshot::activate(&ctx, &server, &snap).await?;
    ensure!(
        snapshot::info(&ctx, &server, &snap).await?.active(),
        "{snap} not Started after activate"
    );
    let st = snapshot::status(&ctx, &server, &snap).await?;
    ensure!(
        st.iter().all(|b| b.running),
        "bricks not running after activate: {st:?}"
    );
    let out = ctx
        .exec(
            &server,
            Command::new("gluster").args(["--mode=script", "snapshot", "activate", &snap]),
        )
        .await?;
    ensure!(!out.success(), "a second activate of {snap} succeeded");
    ensure!(
        format!("{}{}", out.stdout_str(), out.stderr_str()).contains("already activated"),
        "second activate failed for another reason: {}{}",
        out.stdout_str(),
        out.stderr_str()
    );

    snapshot::deactivate(&ctx, &ctx.server(1)?, &snap).await?;
    ensure!(
        !snapshot::info(&ctx, &server, &snap).await?.active(),
        "{snap} still Started after deactivate"
    );
    let st = snapshot::status(&ctx, &server, &snap).await?;
    ensure!(
        st.iter().all(|b| !b.running),
        "bricks still running after deactivate: {st:?}"
    );
    Ok(())
}
