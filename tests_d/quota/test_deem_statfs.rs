//! With `features.quota-deem-statfs` (on when quota is enabled), `df` on the mount reports a limit
//! on `/` as the volume's size and the quota usage as used: 100 MB total, then 3 MiB used after a
//! 3 MiB write. Turned off, `df` shows the bricks' filesystems again; on again, the limit; and once
//! the limit on `/` is removed, the bricks' size whatever the option.
//!
//! Ported from glusto-tests `tests/functional/quota/test_deem_statfs.py` (statvfs honours the limit
//! on `/` and goes back when it is removed) and GlusterFS
//! `tests/bugs/quota/bug-1250582-volume-reset-should-not-remove-quota-quota-deem-statfs.t`
//! (the option turned off and on while quota is enabled).
use crate::prelude::*;

pub const CASE: Case = Case::new(808, "quota_deem_statfs", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const MIB: u64 = 1 << 20;
const LIMIT: u64 = 100 * MIB;

async fn wait_df<F>(ctx: &Ctx, m: &mount::Mount, what: &str, cond: F) -> Result<quota::Statfs, TestError>
where
    F: Fn(&quota::Statfs) -> bool,
{
    wait_for(ctx, &format!("df on the mount: {what}"), Duration::from_secs(60), Duration::from_secs(1), || async {
        let s = quota::statfs(ctx, m).await?;
        Ok(if cond(&s) { Poll::Ready(s) } else { Poll::Pending(format!("{s:?}")) })
    })
    .await
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let backend = quota::statfs(&ctx, &m).await?;
    ensure!(
        backend.total > 10 * LIMIT,
        "the bricks' filesystems should be far bigger than the 100 MB limit: {backend:?}"
    );
    quota::setup(&ctx, &vol, &m, &["data"]).await?;
    ensure_eq!(
        vol.get(&ctx, "features.quota-deem-statfs").await?,
        "on",
        "features.quota-deem-statfs once quota is enabled"
    );
    quota::limit_usage(&ctx, &vol, "/", "100MB", None).await?;
    wait_df(&ctx, &m, "the 100 MB limit as total", |s| s.total == LIMIT).await?;

    quota::fill_ok(&ctx, &m, "data/f", 3).await?;
    quota::wait_usage(&ctx, &vol, "/", "3 MiB used", Duration::from_secs(60), |l| {
        l.used == 3 * MIB
    })
    .await?;
    let s = wait_df(&ctx, &m, "3 MiB used of 100 MB", |s| {
        s.total == LIMIT && s.used == 3 * MIB
    })
    .await?;
    ensure_eq!(s.available, LIMIT - 3 * MIB, "df available under the limit");

    vol.set(&ctx, "features.quota-deem-statfs", "off").await?;
    wait_df(&ctx, &m, "the bricks' size with deem-statfs off", |s| {
        s.total == backend.total
    })
    .await?;
    vol.set(&ctx, "features.quota-deem-statfs", "on").await?;
    wait_df(&ctx, &m, "the limit again with deem-statfs on", |s| s.total == LIMIT).await?;

    quota::remove(&ctx, &vol, "/").await?;
    wait_df(&ctx, &m, "the bricks' size once the limit on / is removed", |s| {
        s.total == backend.total
    })
    .await?;
    Ok(())
}
