//! Detaching a peer that hosts bricks is refused with the reason, detaching the server itself or
//! an unknown host is refused; once the volume is deleted the detach goes through and the peer
//! leaves the pool of every server; probed again it rejoins.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_peer_detach.py` (detach of a node
//! hosting bricks fails, of a non-existent node fails, of localhost fails, then a free node
//! detaches and is probed back) and `test_peer_detach_check_warning_message.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(751, "detach_brick_host_refused", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(600)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s3) = (ctx.server(0)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    ensure!(
        vol.bricks.iter().any(|b| b.node.name() == s3.name()),
        "the volume has no brick on {}",
        s3.name()
    );
    mgmt::reprobe_at_cleanup(&ctx, &s1, s3.host());

    let a = mgmt::detach_attempt(&ctx, &s1, s3.host(), false).await?;
    ensure!(
        !a.ok,
        "detach of {} (hosting a brick of {}) was accepted: {}",
        s3.host(),
        vol.name,
        a.message
    );
    ensure!(
        a.says("hosts one or more bricks"),
        "detach of a brick host refused without saying it hosts bricks: {:?}",
        a.message
    );

    let a = mgmt::detach_attempt(&ctx, &s1, s1.host(), false).await?;
    ensure!(
        !a.ok && a.says("is localhost"),
        "detach of the server itself answered {:?}",
        a.message
    );
    let a = mgmt::detach_attempt(&ctx, &s1, "gflab-no-such-host.invalid", false).await?;
    ensure!(!a.ok, "detach of an unknown host was accepted: {}", a.message);

    ensure!(
        peer::pool_list(&ctx, &s1)
            .await?
            .iter()
            .any(|p| p.is(s3.host())),
        "{} left the pool after a refused detach",
        s3.host()
    );

    ctx.step("delete the volume, then the detach must succeed");
    vol.stop(&ctx).await?;
    vol.delete(&ctx).await?;
    let a = mgmt::detach_attempt(&ctx, &s1, s3.host(), false).await?;
    ensure!(
        a.ok && a.says("success"),
        "detach of {} without bricks failed: {}",
        s3.host(),
        a.message
    );
    for s in [ctx.server(0)?, ctx.server(1)?] {
        let pool = peer::pool_list(&ctx, &s).await?;
        ensure!(
            !pool.iter().any(|p| p.is(s3.host())),
            "{} still lists {} after the detach: {pool:?}",
            s.name(),
            s3.host()
        );
    }
    ensure_eq!(
        peer::status(&ctx, &s3).await?.len(),
        0,
        "the detached server still has peers"
    );

    ctx.step("probe it back");
    peer::probe(&ctx, &s1, s3.host()).await?;
    peer::ensure_pool(&ctx, Duration::from_secs(120)).await?;
    Ok(())
}
