//! gluster refuses quota limits it cannot honour and keeps none of them: a limit on a path that
//! does not exist ("No such file or directory") or on a symlink, negative, zero or non-numeric
//! sizes and object counts, a soft limit over 100%, soft and hard timeouts out of their ranges
//! (`[0 - 1800]`, `[0 - 60]`), and a limit while quota is disabled. Afterwards `quota list` and
//! `list-objects` hold only the one valid limit set at the end, and the timeouts are unchanged.
//!
//! Ported from glusto-tests `tests/functional/quota/test_non_existent_dir.py` (a limit on a
//! missing directory), `test_negative_quota.py` (typos, missing words, timeouts out of range)
//! and `test_quota_symlink_limit.py` (a limit on a symlink fails).
use crate::prelude::*;

pub const CASE: Case = Case::new(809, "quota_limit_refusals", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn refused(ctx: &Ctx, vol: &Volume, args: &[&str], says: &str) -> Result<(), TestError> {
    let a = quota::attempt(ctx, vol, args).await?;
    ensure!(
        !a.ok && a.says(says),
        "`volume quota {} {}` should be refused with \"{says}\"; ok={}: {}",
        vol.name,
        args.join(" "),
        a.ok,
        a.message
    );
    Ok(())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    quota::mkdirs(&ctx, &m, &["dir"]).await?;
    refused(&ctx, &vol, &["limit-usage", "/dir", "10MB"], "Quota is disabled").await?;
    refused(&ctx, &vol, &["list"], "Quota is disabled").await?;

    quota::enable(&ctx, &vol).await?;
    let again = quota::attempt(&ctx, &vol, &["enable"]).await?;
    ensure!(
        !again.ok && again.says("already enabled"),
        "a second `quota enable` should say it is already enabled: {}",
        again.message
    );
    fileops::symlink(&ctx, &m.node, "dir", &format!("{}/link", m.path)).await?;
    refused(&ctx, &vol, &["limit-usage", "/nope", "1GB"], "No such file or directory").await?;
    refused(&ctx, &vol, &["limit-usage", "/link", "10MB"], "No such file or directory").await?;
    for bad in ["-5MB", "0", "abc", "10XB"] {
        refused(&ctx, &vol, &["limit-usage", "/dir", bad], "range").await?;
    }
    refused(&ctx, &vol, &["limit-usage", "/dir", "10MB", "150%"], "0 to 100").await?;
    for bad in ["-3", "0", "ten"] {
        refused(&ctx, &vol, &["limit-objects", "/dir", bad], "range").await?;
    }
    let soft_before = vol.get(&ctx, "features.soft-timeout").await?;
    let hard_before = vol.get(&ctx, "features.hard-timeout").await?;
    refused(&ctx, &vol, &["soft-timeout", "360000"], "out of range [0 - 1800]").await?;
    refused(&ctx, &vol, &["hard-timeout", "360000"], "out of range [0 - 60]").await?;
    ensure_eq!(
        (
            vol.get(&ctx, "features.soft-timeout").await?,
            vol.get(&ctx, "features.hard-timeout").await?
        ),
        (soft_before, hard_before),
        "soft and hard timeouts after the refused values"
    );
    let missing = mgmt::attempt(
        &ctx,
        &vol.server,
        ["volume", "quota", "t809-no-such-volume", "enable"],
    )
    .await?;
    ensure!(
        !missing.ok && missing.says("does not exist"),
        "quota on a missing volume should say it does not exist: {}",
        missing.message
    );

    let rows = quota::list(&ctx, &vol).await?;
    ensure!(rows.is_empty(), "refused limits were kept: {rows:?}");
    let objs = quota::list_objects(&ctx, &vol).await?;
    ensure!(objs.is_empty(), "refused object limits were kept: {objs:?}");

    quota::limit_usage(&ctx, &vol, "/dir", "10MB", Some(70)).await?;
    let rows = quota::list(&ctx, &vol).await?;
    ensure!(
        rows.len() == 1
            && rows[0].path == "/dir"
            && rows[0].hard_limit == 10 << 20
            && rows[0].soft_limit_percent == 70.0,
        "quota list should hold only the valid limit on /dir (10 MiB, 70%): {rows:?}"
    );
    Ok(())
}
