//! Quota accounting survives add-brick and rebalance: with 12 MiB under a 20 MB limit on a
//! directory of a two-brick distribute volume, adding a third brick and rebalancing (files
//! migrated) leaves `quota list` at the same usage, the new brick carries the directory's limit
//! xattr, and the limit is still enforced: a write that would cross it is refused with EDQUOT.
//!
//! Ported from glusto-tests `tests/functional/quota/test_quota_add_brick.py` (quota honoured
//! after add-brick) and `test_quota_rebalance.py` (usage in `quota list` unchanged by a
//! rebalance), and GlusterFS `tests/basic/quota.t` (the limit xattr on the added bricks).
use crate::prelude::*;

pub const CASE: Case = Case::new(807, "quota_add_brick_rebalance", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    quota::setup(&ctx, &vol, &m, &["dir"]).await?;
    quota::limit_usage(&ctx, &vol, "/dir", "20MB", None).await?;
    for i in 0..12 {
        quota::fill_ok(&ctx, &m, &format!("dir/f{i}"), 1).await?;
    }
    quota::wait_usage(
        &ctx,
        &vol,
        "/dir",
        "12 MiB used",
        Duration::from_secs(60),
        |l| l.used == 12 * MIB,
    )
    .await?;

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let p = dht::rebalance(&ctx, &vol, Duration::from_secs(240)).await?;
    ensure!(dht::total_files(&p) > 0, "rebalance migrated no file: {p:?}");
    let new = &vol.bricks[2];
    let moved = io::brick_files(&ctx, &new.node, &new.path).await?;
    ensure!(
        !moved.is_empty(),
        "the added brick {} holds no file after rebalance",
        new.spec()
    );
    let x = xattr::on_brick(&ctx, new, "dir").await?;
    let set = quota::limit_xattr(&x);
    ensure!(
        set.is_some_and(|(hard, _)| hard == 20 * MIB),
        "the added brick's /dir should carry the 20 MiB limit xattr, it has {set:?}"
    );

    let l = quota::wait_usage(
        &ctx,
        &vol,
        "/dir",
        "12 MiB used after the rebalance",
        Duration::from_secs(90),
        |l| l.used == 12 * MIB,
    )
    .await?;
    ensure!(!l.hard_exceeded, "not over the limit yet: {l:?}");
    let f = quota::fill(&ctx, &m, "dir/big", 12).await?;
    ensure!(
        f.over_quota(),
        "12 MiB more (20 MB limit, 12 MiB used) after the rebalance should be refused: ok={}, {}",
        f.ok,
        f.error
    );
    quota::wait_usage(
        &ctx,
        &vol,
        "/dir",
        "hard limit exceeded",
        Duration::from_secs(60),
        |l| l.hard_exceeded && l.used <= 22 * MIB,
    )
    .await?;
    Ok(())
}
