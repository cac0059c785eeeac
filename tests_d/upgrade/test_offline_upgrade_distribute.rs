//! Offline upgrade of a distribute volume: the volume is stopped, every node (servers and the
//! client) upgraded, the volume started again; every file written before reads back intact from
//! the upgraded client, on the brick the layout put it on.
//!
//! GlusterFS's upgrade guide (glusterdocs `docs/Upgrade-Guide/generic-upgrade-procedure.md`,
//! "Offline upgrade procedure": stop all volumes, upgrade every server and client, start the
//! volumes, remount) — the path it prescribes for volumes without redundancy.
use crate::prelude::*;

pub const CASE: Case = Case::new(602, "offline_upgrade_distribute_keeps_data", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 1).gluster_below(11, 0))
.disruptive()
.timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distribute(4)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 16, 64_000)).await?;
    // Where each file lives before: the layout must not move anything.
    let mut placed = Vec::new();
    for b in &vol.bricks {
        placed.push(io::brick_files(&ctx, &b.node, &b.path).await?);
    }
    mount::unmount(&ctx, &m).await?;
    vol.stop(&ctx).await?;

    for n in ctx.nodes() {
        upgrade::node(&ctx, n, upgrade::NEXT_RELEASE).await?;
    }
    peer::wait_connected(&ctx, Duration::from_secs(180)).await?;
    vol.start_and_wait(&ctx).await?;
    for n in ctx.nodes() {
        let v = upgrade::version(&ctx, n).await?;
        ensure!(v.major >= 11, "{} runs GlusterFS {v} after the upgrade", n.name());
    }
    for (b, before) in vol.bricks.iter().zip(&placed) {
        let now = io::brick_files(&ctx, &b.node, &b.path).await?;
        ensure_eq!(&now, before, "files on brick {}", b.spec());
    }
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
