//! An option set with `volume set` shows in `volume info`; `volume reset` removes it.
use crate::prelude::*;

pub const CASE: Case = Case::new(107, "volume_set_shows_in_info", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(1, 0))
    .timeout_secs(120);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distribute(1)).await?;
    let options = [
        ("performance.cache-size", "64MB"),
        ("diagnostics.brick-log-level", "WARNING"),
        ("cluster.min-free-disk", "15%"),
    ];
    for (k, v) in options {
        vol.set(&ctx, k, v).await?;
    }
    let info = vol.info(&ctx).await?;
    for (k, v) in options {
        ensure_eq!(
            info.options.get(k).map(String::as_str),
            Some(v),
            "option {k} in volume info"
        );
    }
    vol.reset(&ctx, "performance.cache-size").await?;
    let info = vol.info(&ctx).await?;
    ensure!(
        !info.options.contains_key("performance.cache-size"),
        "performance.cache-size still set after reset: {:?}",
        info.options
    );
    ensure_eq!(
        info.options
            .get("cluster.min-free-disk")
            .map(String::as_str),
        Some("15%"),
        "other options survive a single reset"
    );
    // A bad value is refused and names the option.
    let out = ctx
        .exec(
            &vol.server,
            volume_set_cmd(&vol.name, "performance.cache-size", "lots"),
        )
        .await?;
    ensure!(
        !out.success(),
        "gluster accepted performance.cache-size=lots"
    );
    Ok(())
}

fn volume_set_cmd(vol: &str, k: &str, v: &str) -> Command {
    crate::gluster::gluster_cmd(["volume", "set", vol, k, v])
}
