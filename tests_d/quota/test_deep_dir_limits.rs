//! Limits on every level of a deep directory chain all account what is written below them: with
//! a limit on each of d1/d2/.../d6, 1 MiB written at each level shows as used the data of that
//! level and every deeper one (6 MiB on d1 down to 1 MiB on d6). A write at the deepest level is
//! refused with EDQUOT when an ancestor's small limit is reached, although the deepest directory's
//! own limit is far away; removing that ancestor's limit lets the write through.
//!
//! Ported from glusto-tests `tests/functional/quota/test_limit_usage_deep_dir.py` (nested
//! directories each with a limit, data in each, `quota list` of all of them).
use crate::prelude::*;

pub const CASE: Case = Case::new(804, "quota_deep_dir_limits", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const MIB: u64 = 1 << 20;
const DEPTH: usize = 6;

fn level(i: usize) -> String {
    (1..=i)
        .map(|k| format!("d{k}"))
        .collect::<Vec<_>>()
        .join("/")
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    let deepest = level(DEPTH);
    quota::setup(&ctx, &vol, &m, &[&deepest]).await?;
    for i in 1..=DEPTH {
        quota::limit_usage(&ctx, &vol, &format!("/{}", level(i)), "100MB", None).await?;
    }
    let rows = quota::list(&ctx, &vol).await?;
    ensure_eq!(rows.len(), DEPTH, "limits in quota list: {rows:?}");

    for i in 1..=DEPTH {
        quota::fill_ok(&ctx, &m, &format!("{}/f", level(i)), 1).await?;
    }
    for i in 1..=DEPTH {
        let want = (DEPTH - i + 1) as u64 * MIB;
        quota::wait_usage(
            &ctx,
            &vol,
            &format!("/{}", level(i)),
            &format!("{want} bytes used (this level and the deeper ones)"),
            Duration::from_secs(60),
            |l| l.used == want,
        )
        .await?;
    }

    // d3 holds 4 MiB; a 6 MB limit on it leaves 2 MiB for the whole subtree.
    quota::limit_usage(&ctx, &vol, &format!("/{}", level(3)), "6MB", None).await?;
    let f = quota::fill(&ctx, &m, &format!("{deepest}/big"), 5).await?;
    ensure!(
        f.over_quota(),
        "a 5 MiB write in {deepest} (own limit 100 MB) should be refused by the 6 MB limit on \
         d3: ok={}, {}",
        f.ok,
        f.error
    );
    let d6 = quota::limit(&ctx, &vol, &format!("/{deepest}")).await?;
    ensure!(
        d6.as_ref().is_some_and(|l| !l.hard_exceeded),
        "the deepest directory's own limit should not be exceeded: {d6:?}"
    );
    quota::wait_usage(
        &ctx,
        &vol,
        &format!("/{}", level(3)),
        "hard limit exceeded",
        Duration::from_secs(60),
        |l| l.hard_exceeded,
    )
    .await?;

    quota::remove(&ctx, &vol, &format!("/{}", level(3))).await?;
    ctx.sh(&m.node, format!("rm -f {}/{deepest}/big", m.path))
        .await?;
    quota::fill_ok(&ctx, &m, &format!("{deepest}/big"), 5).await?;
    Ok(())
}
