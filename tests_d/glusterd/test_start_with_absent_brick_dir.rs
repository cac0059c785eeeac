//! A volume one of whose brick directories was removed before its first start cannot start:
//! `volume start` is refused naming the missing directory ("Failed to find brick directory"),
//! `volume status` then says the volume is not started, `volume info` still shows it `Created`
//! on every server, and no brick process of it runs anywhere.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_volume_status_with_absent_bricks.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(779, "start_with_absent_brick_dir", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    let gone = &vol.bricks[1];
    ctx.sh(&gone.node, format!("rm -rf {}", gone.path)).await?;

    let a = mgmt::attempt(&ctx, &vol.server, ["volume", "start", vol.name.as_str()]).await?;
    ensure!(
        !a.ok,
        "volume start succeeded with the directory of brick {} removed: {}",
        gone.spec(),
        a.message
    );
    ensure!(
        a.says("Failed to find brick directory") && a.says(&gone.path),
        "volume start refused without naming the missing brick directory {}: {}",
        gone.path,
        a.message
    );

    let not_started = format!("Volume {} is not started", vol.name);
    let st = mgmt::attempt(&ctx, &vol.server, ["volume", "status", vol.name.as_str()]).await?;
    ensure!(
        !st.ok && st.says(&not_started),
        "volume status after the refused start: want a refusal saying {not_started:?}, got ok={} {:?}",
        st.ok,
        st.message
    );
    for s in ctx.servers() {
        let info = volume::info(&ctx, &s, &vol.name).await?;
        ensure_eq!(info.status.as_str(), "Created", "volume status in volume info on {}", s.name());
        ensure_eq!(
            brick::processes_on(&ctx, &s, &vol).await?,
            0,
            "brick processes of {} on {} after the refused start",
            vol.name,
            s.name()
        );
    }
    Ok(())
}
