//! The quota daemon runs on a server only while a volume has quota enabled: none before, one on
//! every server after `quota enable` (with `features.quota-deem-statfs` on), none again after
//! `quota disable` (with quota, inode quota and deem-statfs off). Disruptive: the daemon serves
//! every volume of the pool, so no other test may enable quota meanwhile.
//!
//! Ported from glusto-tests `tests/functional/quota/test_deem_statfs_quotad.py` (quotad and
//! deem-statfs with quota disabled, enabled, disabled).
use crate::prelude::*;

pub const CASE: Case = Case::new(818, "quotad_follows_quota", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300)
    .disruptive();

async fn daemons(ctx: &Ctx) -> Result<Vec<(String, Option<u32>)>, TestError> {
    let mut out = Vec::new();
    for s in ctx.servers() {
        out.push((s.name().to_string(), quota::quotad_pid(ctx, &s).await?));
    }
    Ok(out)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, _m) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    let before = daemons(&ctx).await?;
    ensure!(
        before.iter().all(|(_, p)| p.is_none()),
        "a quota daemon runs although no volume has quota enabled: {before:?}"
    );

    quota::enable(&ctx, &vol).await?;
    ensure_eq!(
        vol.get(&ctx, "features.quota-deem-statfs").await?,
        "on",
        "features.quota-deem-statfs with quota enabled"
    );
    for s in ctx.servers() {
        quota::wait_quotad(&ctx, &s, Duration::from_secs(60)).await?;
    }

    quota::disable(&ctx, &vol).await?;
    for key in ["features.quota", "features.inode-quota", "features.quota-deem-statfs"] {
        ensure_eq!(vol.get(&ctx, key).await?, "off", "{key} after quota disable");
    }
    wait_for(
        &ctx,
        "no quota daemon on any server after quota disable",
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            let d = daemons(&ctx).await?;
            Ok(if d.iter().all(|(_, p)| p.is_none()) {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("{d:?}"))
            })
        },
    )
    .await?;
    Ok(())
}
