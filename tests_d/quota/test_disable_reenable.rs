//! Disabling quota drops its configuration and enforcement; enabling it again starts from nothing
//! but recounts what is there. With a 4 MB limit (3 MiB used) and timeouts set, `quota disable`
//! turns `features.quota` and `features.inode-quota` off, `quota list` is refused ("Quota is
//! disabled"), and a write past the old limit succeeds. After `quota enable` the list is empty and
//! the timeouts are back to their defaults; a new limit on the directory shows the 8 MiB already
//! in it as used once the marker has crawled it, and is enforced.
//!
//! Ported from GlusterFS `tests/bugs/quota/bug-1293601.t` (usage counted again after disable and
//! enable) and `tests/basic/quota.t` (quota disable), with glusto-tests'
//! `tests/functional/quota/test_quota_file_larger_than_limit.py` `quota list` field checks.
use crate::prelude::*;

pub const CASE: Case = Case::new(812, "quota_disable_reenable", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    let soft_default = vol.get(&ctx, "features.soft-timeout").await?;
    quota::setup(&ctx, &vol, &m, &["dir"]).await?;
    quota::limit_usage(&ctx, &vol, "/dir", "4MB", None).await?;
    quota::fill_ok(&ctx, &m, "dir/a", 3).await?;
    quota::wait_usage(&ctx, &vol, "/dir", "3 MiB used", Duration::from_secs(60), |l| {
        l.used == 3 * MIB
    })
    .await?;
    ensure!(quota::enabled(&ctx, &vol).await?, "features.quota is not on after enable");

    quota::disable(&ctx, &vol).await?;
    ensure_eq!(
        (
            vol.get(&ctx, "features.quota").await?,
            vol.get(&ctx, "features.inode-quota").await?
        ),
        ("off".to_string(), "off".to_string()),
        "features.quota and features.inode-quota after disable"
    );
    let l = quota::attempt(&ctx, &vol, &["list"]).await?;
    ensure!(
        !l.ok && l.says("Quota is disabled"),
        "quota list with quota disabled should be refused: ok={}, {}",
        l.ok,
        l.message
    );
    quota::fill_ok(&ctx, &m, "dir/b", 5).await?;

    quota::enable(&ctx, &vol).await?;
    let rows = quota::list(&ctx, &vol).await?;
    ensure!(rows.is_empty(), "limits survived disable and enable: {rows:?}");
    ensure_eq!(
        vol.get(&ctx, "features.soft-timeout").await?,
        soft_default,
        "features.soft-timeout after disable and enable (back to its default)"
    );
    quota::enforce_immediately(&ctx, &vol).await?;
    quota::limit_usage(&ctx, &vol, "/dir", "10MB", None).await?;
    let l = quota::wait_usage(
        &ctx,
        &vol,
        "/dir",
        "the 8 MiB already there counted again",
        Duration::from_secs(120),
        |l| l.used == 8 * MIB,
    )
    .await?;
    ensure!(!l.hard_exceeded, "8 MiB under 10 MB: {l:?}");
    let f = quota::fill(&ctx, &m, "dir/c", 4).await?;
    ensure!(
        f.over_quota(),
        "4 MiB more (8 of 10 MB used) after re-enabling should be refused: ok={}, {}",
        f.ok,
        f.error
    );
    Ok(())
}
