//! Each volume type is created, started, stopped and deleted, and `volume info` agrees at every step.
use crate::prelude::*;

pub const CASE: Case = Case::new(102, "volume_types_lifecycle", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .after(&[101])
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let specs = [
        VolumeSpec::distribute(2),
        VolumeSpec::replicate(2),
        VolumeSpec::distributed_replicate(2, 2),
        VolumeSpec::disperse(3, 1),
        VolumeSpec::arbiter(1),
    ];
    for spec in specs {
        let layout = spec.layout;
        let vol = volume::create(&ctx, spec).await?;
        let info = vol.info(&ctx).await?;
        ensure_eq!(
            info.type_str.as_str(),
            layout.type_str(),
            "type of {}",
            vol.name
        );
        ensure_eq!(
            info.brick_count,
            layout.brick_count(),
            "bricks of {}",
            vol.name
        );
        ensure_eq!(
            info.status.as_str(),
            "Created",
            "status of new {}",
            vol.name
        );
        match layout {
            Layout::Disperse { bricks, redundancy }
            | Layout::DistributedDisperse {
                bricks, redundancy, ..
            } => {
                ensure_eq!(info.disperse_count, bricks, "disperse count");
                ensure_eq!(info.redundancy_count, redundancy, "redundancy count");
            }
            Layout::Arbiter { .. } => {
                ensure_eq!(info.replica_count, 3, "replica count");
                ensure_eq!(info.arbiter_count, 1, "arbiter count");
            }
            Layout::Replicate { replica } | Layout::DistributedReplicate { replica, .. } => {
                ensure_eq!(info.replica_count, replica, "replica count");
            }
            Layout::Distribute { .. } => {}
        }

        vol.start_and_wait(&ctx).await?;
        ensure_eq!(
            vol.info(&ctx).await?.status.as_str(),
            "Started",
            "status after start"
        );
        ensure!(
            volume::list(&ctx, &vol.server).await?.contains(&vol.name),
            "volume list lacks {}",
            vol.name
        );

        vol.stop(&ctx).await?;
        ensure_eq!(
            vol.info(&ctx).await?.status.as_str(),
            "Stopped",
            "status after stop"
        );
        ensure!(
            vol.status(&ctx).await.is_err() || vol.status(&ctx).await?.iter().all(|b| !b.online),
            "bricks of stopped {} still online",
            vol.name
        );

        vol.delete(&ctx).await?;
        ensure!(
            !volume::list(&ctx, &vol.server).await?.contains(&vol.name),
            "volume list still has {} after delete",
            vol.name
        );
    }
    Ok(())
}
