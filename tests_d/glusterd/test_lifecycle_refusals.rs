//! Volume lifecycle refusals: starting a started volume, deleting a started one, stopping a
//! stopped one, and deleting or starting a volume that no longer exists are refused with the
//! reason, and each refusal leaves the volume in the state it was (`volume info` status).
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_volume_delete.py` (delete of a
//! started volume fails) and `test_glusterd_start_stop_output.py` (start of a started volume,
//! stop of a stopped volume fail with their messages).
use crate::prelude::*;

pub const CASE: Case = Case::new(763, "volume_lifecycle_refusals", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .timeout_secs(300);

async fn status(ctx: &Ctx, vol: &Volume) -> Result<String, TestError> {
    Ok(vol.info(ctx).await?.status)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    let n = vol.name.as_str();
    vol.start_and_wait(&ctx).await?;

    let a = mgmt::attempt(&ctx, &s1, ["volume", "start", n]).await?;
    ensure!(
        !a.ok && a.says("already started"),
        "start of a started volume answered {:?}",
        a.message
    );
    let a = mgmt::attempt(&ctx, &s1, ["volume", "delete", n]).await?;
    ensure!(
        !a.ok && a.says("needs to be stopped before deletion"),
        "delete of a started volume answered {:?}",
        a.message
    );
    ensure_eq!(status(&ctx, &vol).await?.as_str(), "Started", "status after the refusals");
    vol.wait_online(&ctx, Duration::from_secs(30)).await?;

    vol.stop(&ctx).await?;
    let a = mgmt::attempt(&ctx, &s1, ["volume", "stop", n]).await?;
    ensure!(
        !a.ok && a.says("is not in the started state"),
        "stop of a stopped volume answered {:?}",
        a.message
    );
    ensure_eq!(status(&ctx, &vol).await?.as_str(), "Stopped", "status after the refused stop");
    ensure!(
        vol.status(&ctx).await.map(|b| b.iter().all(|b| !b.online)).unwrap_or(true),
        "a brick of the stopped volume is online"
    );

    vol.delete(&ctx).await?;
    ensure!(
        !volume::list(&ctx, &s1).await?.iter().any(|v| v == n),
        "{n} still listed after delete"
    );
    for verb in ["delete", "start"] {
        let a = mgmt::attempt(&ctx, &s1, ["volume", verb, n]).await?;
        ensure!(
            !a.ok && a.says("does not exist"),
            "{verb} of a deleted volume answered {:?}",
            a.message
        );
    }
    Ok(())
}
