//! Snapshots survive a glusterd restart on every server: still listed, still activated, their
//! bricks running again, and deactivated ones still deactivated (GlusterFS bug-1040934-style,
//! `volume-snapshot.t` glusterd restart steps).
use crate::prelude::*;

pub const CASE: Case = Case::new(213, "snapshot_survives_glusterd_restart", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0).with(&[Capability::ThinLvm]))
.timeout_secs(900)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let server = ctx.server(0)?;
    let on = snapshot::create(&ctx, &vol, None).await?;
    let off = snapshot::create(&ctx, &vol, None).await?;
    snapshot::activate(&ctx, &server, &on).await?;

    for s in ctx.servers() {
        glusterd::restart(&ctx, &s).await?;
    }
    for s in ctx.servers() {
        glusterd::wait(&ctx, &s, Duration::from_secs(120)).await?;
    }
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;

    for s in ctx.servers() {
        let listed = snapshot::list(&ctx, &s, Some(&vol.name)).await?;
        ensure!(
            listed.contains(&on) && listed.contains(&off),
            "snapshots on {} after restart: {listed:?}",
            s.name()
        );
    }
    ensure!(
        snapshot::info(&ctx, &server, &on).await?.active(),
        "{on} not Started after the restart"
    );
    ensure!(
        !snapshot::info(&ctx, &server, &off).await?.active(),
        "{off} Started after the restart"
    );
    let running = wait_for(
        &ctx,
        "snapshot bricks to run",
        Duration::from_secs(120),
        Duration::from_secs(3),
        || async {
            let st = snapshot::status(&ctx, &server, &on).await?;
            Ok(if !st.is_empty() && st.iter().all(|b| b.running) {
                Poll::Ready(st)
            } else {
                Poll::Pending(format!("{st:?}"))
            })
        },
    )
    .await?;
    ensure_eq!(running.len(), vol.bricks.len(), "snapshot bricks of {on}");
    Ok(())
}
