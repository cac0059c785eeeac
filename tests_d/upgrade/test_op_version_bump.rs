//! The op-version bump: while any server runs the old release, raising the cluster's op-version to
//! GlusterFS 11's is refused and an option that needs it cannot be set; once every server is
//! upgraded, `cluster.max-op-version` is 11's, the bump succeeds, every server reports the new
//! op-version, and the option can be set.
//!
//! GlusterFS's upgrade guide (glusterdocs `docs/Upgrade-Guide/op-version.md`: "after all the
//! servers are upgraded, bump the op-version to the maximum the cluster supports"; the new
//! features of a release are usable only at its op-version).
use crate::prelude::*;

pub const CASE: Case = Case::new(604, "op_version_bump_after_every_server", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 0).gluster_below(11, 0))
.disruptive()
.timeout_secs(900);

/// An option GlusterFS 11 added (not in 10's `volume set help`).
const NEW_OPTION: &str = "cluster.rmdir-optimize";

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    let servers = ctx.servers();
    let old_op = upgrade::op_version(&ctx, &servers[0]).await?;
    ensure!(old_op < upgrade::OP_VERSION_11, "op-version {old_op} before the upgrade");

    // Every server but the last upgraded: still mixed.
    for s in &servers[..servers.len() - 1] {
        upgrade::node(&ctx, s, upgrade::NEXT_RELEASE).await?;
    }
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    let first = &servers[0];
    let bump = gluster(
        &ctx,
        first,
        ["volume", "set", "all", "cluster.op-version", &upgrade::OP_VERSION_11.to_string()],
    )
    .await;
    ensure!(
        bump.is_err(),
        "raising the op-version to {} was accepted while {} runs the old release",
        upgrade::OP_VERSION_11,
        servers[servers.len() - 1].name()
    );
    let early = gluster(&ctx, first, ["volume", "set", vol.name.as_str(), NEW_OPTION, "off"]).await;
    ensure!(
        early.is_err(),
        "{NEW_OPTION} (GlusterFS 11) was set at op-version {old_op}"
    );

    upgrade::node(&ctx, &servers[servers.len() - 1], upgrade::NEXT_RELEASE).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    ensure_eq!(
        upgrade::op_version(&ctx, first).await?,
        old_op,
        "the op-version stays until it is bumped"
    );
    let max = upgrade::max_op_version(&ctx, first).await?;
    ensure!(
        max >= upgrade::OP_VERSION_11,
        "max op-version {max} after every server runs GlusterFS 11"
    );
    upgrade::bump_op_version(&ctx, first, max).await?;
    for s in &servers {
        ensure_eq!(
            upgrade::op_version(&ctx, s).await?,
            max,
            "op-version as {} sees it after the bump",
            s.name()
        );
    }
    vol.set(&ctx, NEW_OPTION, "off").await?;
    ensure_eq!(
        vol.get(&ctx, NEW_OPTION).await?.as_str(),
        "off",
        "{NEW_OPTION} after the bump"
    );
    Ok(())
}
