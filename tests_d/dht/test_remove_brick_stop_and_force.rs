//! The other remove-brick paths: `start` on a brick that is down is refused; `status`/`stop` name
//! only bricks of the volume; `stop` ends the migration and keeps the brick (three bricks, every
//! file readable); `force` removes a brick at once without migrating, so its files disappear from
//! the mount while still sitting in the brick directory, and the others stay readable.
//!
//! Ported from GlusterFS `tests/bugs/glusterd/remove-brick-testcases.t` (bug-1225716: start on a
//! down brick fails; bug-1121584: status/stop with a brick not in the volume fail, with a brick of
//! it succeed; bug-878004: force drops the brick count).
use crate::prelude::*;

pub const CASE: Case = Case::new(712, "remove_brick_stop_and_force", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 40, 16 << 10)).await?;

    brick::kill(&ctx, &vol, 0).await?;
    ensure!(dht::remove_brick_start(&ctx, &vol, &[0]).await.is_err(), "remove-brick start of a down brick was accepted");
    brick::bring_back(&ctx, &vol).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;

    dht::remove_brick_start(&ctx, &vol, &[1]).await?;
    let bogus = format!("{}:{}/{}/ABCD", vol.bricks[1].node.host(), vol.bricks[1].node.brick_root(), vol.name);
    for action in ["status", "stop"] {
        let r = gluster(&ctx, &vol.server, ["volume", "remove-brick", vol.name.as_str(), bogus.as_str(), action]).await;
        ensure!(r.is_err(), "remove-brick {action} with a brick not in the volume was accepted");
    }
    let p = dht::remove_brick_status(&ctx, &vol, &[1]).await?;
    ensure!(!p.is_empty(), "remove-brick status lists no node");
    dht::remove_brick_stop(&ctx, &vol, &[1]).await?;
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 3, "bricks after remove-brick stop");
    io::verify(&ctx, &client, &m.path, &sums).await?;

    let b2 = vol.bricks[2].clone();
    let on2 = io::brick_files(&ctx, &b2.node, &b2.path).await?;
    ensure!(!on2.is_empty(), "no file on brick #2 to lose");
    let vol = dht::remove_brick_force(&ctx, &vol, &[2]).await?;
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 2, "bricks after remove-brick force");
    let (gone, kept): (Vec<_>, Vec<_>) = sums.iter().cloned().partition(|s| on2.contains(&s.name));
    let names: Vec<io::FileSum> = gone.clone();
    let present = io::present(&ctx, &client, &m.path, &names).await?;
    ensure!(present.is_empty(), "files of the force-removed brick still show on the mount: {present:?}");
    ensure_eq!(io::brick_files(&ctx, &b2.node, &b2.path).await?, on2, "files left in the removed brick's directory");
    io::verify(&ctx, &client, &m.path, &kept).await?;
    Ok(())
}
