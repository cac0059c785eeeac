//! Usage goes down when data goes: 8 MiB in eight files under a 10 MB limit are accounted, a 4 MiB
//! write is refused with EDQUOT; after six files are removed and one truncated to half, `quota
//! list` falls to the bytes left (the refused write's remains included) and the hard limit is no
//! longer exceeded, and the same 4 MiB write now succeeds.
//!
//! Ported from glusto-tests `tests/functional/quota/test_alert_time_out.py` (files removed so that
//! usage falls back under the limits) and GlusterFS `tests/basic/quota.t` (a refused write, the
//! file removed, the next write allowed).
use crate::prelude::*;

pub const CASE: Case = Case::new(810, "quota_usage_after_delete", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    quota::setup(&ctx, &vol, &m, &["dir"]).await?;
    quota::limit_usage(&ctx, &vol, "/dir", "10MB", None).await?;
    for i in 0..8 {
        quota::fill_ok(&ctx, &m, &format!("dir/f{i}"), 1).await?;
    }
    quota::wait_usage(&ctx, &vol, "/dir", "8 MiB used", Duration::from_secs(60), |l| {
        l.used == 8 * MIB
    })
    .await?;
    let f = quota::fill(&ctx, &m, "dir/big", 4).await?;
    ensure!(
        f.over_quota(),
        "4 MiB more with 8 MiB of 10 MB used should be refused: ok={}, {}",
        f.ok,
        f.error
    );
    quota::wait_usage(&ctx, &vol, "/dir", "hard limit exceeded", Duration::from_secs(60), |l| {
        l.hard_exceeded
    })
    .await?;

    let p = &m.path;
    ctx.sh(
        &m.node,
        format!("rm -f {p}/dir/f0 {p}/dir/f1 {p}/dir/f2 {p}/dir/f3 {p}/dir/f4 {p}/dir/f5 {p}/dir/big"),
    )
    .await?;
    fileops::truncate(&ctx, &m.node, &format!("{p}/dir/f6"), MIB / 2).await?;
    let l = quota::wait_usage(
        &ctx,
        &vol,
        "/dir",
        "1.5 MiB used after the removals and the truncate",
        Duration::from_secs(60),
        |l| l.used == MIB + MIB / 2,
    )
    .await?;
    ensure!(
        !l.hard_exceeded && !l.soft_exceeded && l.available == 10 * MIB - l.used,
        "after freeing space the directory should be under both limits: {l:?}"
    );
    let size = quota::fill_ok(&ctx, &m, "dir/big", 4).await?;
    ensure_eq!(size, 4 * MIB, "the 4 MiB write after the removals");
    Ok(())
}
