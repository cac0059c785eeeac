//! A limit set while a brick is down reaches it: with one brick of a replica 3 volume killed,
//! `limit-usage` on a directory succeeds, and once the brick is back a lookup from the mount heals
//! the limit xattr onto it (the same value as on the other bricks); the limit is then enforced
//! with every brick up.
//!
//! Ported from GlusterFS `tests/bugs/quota/bug-1035576.t` (self-heal of the limit-set xattr onto
//! a brick that was down when the limit was set).
use crate::prelude::*;

pub const CASE: Case = Case::new(816, "quota_limit_heals_to_brick", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    quota::setup(&ctx, &vol, &m, &["a"]).await?;
    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    ensure_eq!(down.len(), 1, "bricks taken down");
    let i = down[0];
    quota::limit_usage(&ctx, &vol, "/a", "5MB", None).await?;
    let missing = quota::limit_xattr(&xattr::on_brick(&ctx, &vol.bricks[i], "a").await?);
    ensure!(
        missing.is_none(),
        "the killed brick {} got the limit while down: {missing:?}",
        vol.bricks[i].spec()
    );

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let b = vol.bricks[i].clone();
    let healed = wait_for(
        &ctx,
        &format!("the limit xattr of /a healed to {}", b.spec()),
        Duration::from_secs(90),
        Duration::from_secs(2),
        || async {
            ctx.sh(&m.node, format!("ls -la {}/a >/dev/null", m.path))
                .await?;
            let x = xattr::on_brick(&ctx, &b, "a").await?;
            Ok(match quota::limit_xattr(&x) {
                Some(v) => Poll::Ready(v),
                None => Poll::Pending("no limit-set xattr".into()),
            })
        },
    )
    .await?;
    ensure_eq!(healed.0, 5 * MIB, "healed hard limit on {}", b.spec());
    for o in vol.bricks.iter().filter(|o| o.path != b.path) {
        let v = quota::limit_xattr(&xattr::on_brick(&ctx, o, "a").await?);
        ensure_eq!(v, Some(healed), "limit xattr on {} and on the healed brick", o.spec());
    }
    let f = quota::fill(&ctx, &m, "a/big", 8).await?;
    ensure!(
        f.over_quota(),
        "8 MiB under the 5 MB limit set while a brick was down should be refused: ok={}, {}",
        f.ok,
        f.error
    );
    Ok(())
}
