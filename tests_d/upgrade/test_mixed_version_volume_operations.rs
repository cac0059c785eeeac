//! Volume operations in a mixed-version cluster: with one server on GlusterFS 11.1 and the others
//! on 10.3, the cluster stays at the old op-version, and creating, setting, starting, stopping and
//! deleting a volume (from an old and from a new server) all work and agree on every server.
//!
//! GlusterFS's upgrade guide (glusterdocs `docs/Upgrade-Guide/op-version.md` and
//! `generic-upgrade-procedure.md`): until every server is upgraded and the op-version bumped, the
//! cluster works at the old op-version, and the operations of that op-version keep working.
use crate::prelude::*;

pub const CASE: Case = Case::new(603, "mixed_version_volume_operations", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 0).gluster_below(11, 0))
.disruptive()
.timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (old, new) = (ctx.server(0)?, ctx.server(2)?);
    let op_before = upgrade::op_version(&ctx, &old).await?;
    upgrade::node(&ctx, &new, upgrade::NEXT_RELEASE).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    ensure!(
        upgrade::version(&ctx, &new).await?.major >= 11
            && upgrade::version(&ctx, &old).await?.major < 11,
        "the cluster is not mixed"
    );
    ensure_eq!(
        upgrade::op_version(&ctx, &new).await?,
        op_before,
        "op-version seen by the upgraded server"
    );
    // The highest op-version every peer supports is still the old one.
    ensure_eq!(
        upgrade::max_op_version(&ctx, &new).await?,
        op_before,
        "max op-version of the mixed cluster"
    );

    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.set(&ctx, "performance.readdir-ahead", "off").await?;
    vol.start_and_wait(&ctx).await?;
    for s in ctx.servers() {
        let info = volume::info(&ctx, &s, &vol.name).await?;
        ensure_eq!(info.status.as_str(), "Started", "{} as {} sees it", vol.name, s.name());
        ensure_eq!(
            info.options.get("performance.readdir-ahead").map(String::as_str),
            Some("off"),
            "the option set from an old server, as {} sees it",
            s.name()
        );
    }
    // The same operations from the upgraded server.
    gluster(&ctx, &new, ["volume", "set", vol.name.as_str(), "performance.readdir-ahead", "on"])
        .await?;
    gluster(&ctx, &new, ["volume", "stop", vol.name.as_str()]).await?;
    for s in ctx.servers() {
        let info = volume::info(&ctx, &s, &vol.name).await?;
        ensure_eq!(info.status.as_str(), "Stopped", "{} as {} sees it", vol.name, s.name());
        ensure_eq!(
            info.options.get("performance.readdir-ahead").map(String::as_str),
            Some("on"),
            "the option set from the upgraded server, as {} sees it",
            s.name()
        );
    }
    vol.delete(&ctx).await?;
    ensure!(
        !volume::list(&ctx, &old).await?.contains(&vol.name),
        "{} still listed after its deletion from a mixed cluster",
        vol.name
    );
    Ok(())
}
