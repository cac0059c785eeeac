//! Upgrading a client: files written through a GlusterFS 10.3 client are read back, byte for byte,
//! through the same client after its upgrade to 11.1 and its remount, and the upgraded client's
//! own writes reach every replica.
//!
//! GlusterFS's upgrade guide (glusterdocs `docs/Upgrade-Guide/generic-upgrade-procedure.md`,
//! "Upgrade procedure for clients": unmount, upgrade, mount again; servers first).
use crate::prelude::*;

pub const CASE: Case = Case::new(605, "client_upgrade_reads_what_it_wrote", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1).gluster_below(11, 0))
.disruptive()
.timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let old = io::write_files(&ctx, &client, &m.path, &io::files("old", 8, 200_000)).await?;
    fileops::deep_tree(&ctx, &client, &format!("{}/tree", m.path), 3, 2, 2, 4096).await?;
    let tree_before = tree::of_mount(&ctx, &m, tree::Scope::FULL).await?;
    mount::unmount(&ctx, &m).await?;

    upgrade::servers_rolling(&ctx, &vol, upgrade::NEXT_RELEASE, Duration::from_secs(300)).await?;
    upgrade::node(&ctx, &client, upgrade::NEXT_RELEASE).await?;
    let v = upgrade::version(&ctx, &client).await?;
    ensure!(v.major >= 11, "the client runs GlusterFS {v} after its upgrade");

    let m = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &m.path, &old).await?;
    let tree_after = tree::of_mount(&ctx, &m, tree::Scope::FULL).await?;
    tree::ensure_same(&tree_before, &tree_after)?;
    let new = io::write_files(&ctx, &client, &m.path, &io::files("new", 4, 100_000)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &new).await?;
    }
    Ok(())
}
