//! Limits on many sibling directories are accounted and enforced each on its own: with a limit on
//! `/` and a 4 MB limit on each of eight siblings, dir<i> holding (i mod 3) + 1 MiB shows exactly
//! that as used, `/` shows the sum; filling dir0 past its limit is refused with EDQUOT there only
//! (its row alone is over the limit) while the next sibling still takes a write.
//!
//! Ported from glusto-tests `tests/functional/quota/test_quota_limit_dir_breadth.py` (ten sibling
//! directories with limits, data in each, `quota list`) and `test_quota_volume_subdir_limits.py`
//! (a limit on `/` and on every subdirectory, filled to the limits).
use crate::prelude::*;

pub const CASE: Case = Case::new(805, "quota_sibling_dirs_breadth", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const MIB: u64 = 1 << 20;
const DIRS: usize = 8;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    let names: Vec<String> = (0..DIRS).map(|i| format!("dir{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    quota::setup(&ctx, &vol, &m, &refs).await?;
    quota::limit_usage(&ctx, &vol, "/", "1GB", None).await?;
    for n in &names {
        quota::limit_usage(&ctx, &vol, &format!("/{n}"), "4MB", None).await?;
    }
    let rows = quota::list(&ctx, &vol).await?;
    ensure_eq!(rows.len(), DIRS + 1, "limits in quota list: {rows:?}");
    ensure!(
        rows.iter()
            .filter(|r| r.path != "/")
            .all(|r| r.hard_limit == 4 * MIB),
        "every sibling should have a 4 MiB hard limit: {rows:?}"
    );

    let mut total = 0;
    for (i, n) in names.iter().enumerate() {
        let mib = (i % 3) as u64 + 1;
        quota::fill_ok(&ctx, &m, &format!("{n}/data"), mib).await?;
        total += mib * MIB;
    }
    for (i, n) in names.iter().enumerate() {
        let want = ((i % 3) as u64 + 1) * MIB;
        quota::wait_usage(
            &ctx,
            &vol,
            &format!("/{n}"),
            &format!("{want} bytes used"),
            Duration::from_secs(60),
            |l| l.used == want && !l.hard_exceeded,
        )
        .await?;
    }
    quota::wait_usage(
        &ctx,
        &vol,
        "/",
        "the sum of the siblings used",
        Duration::from_secs(60),
        |l| l.used == total,
    )
    .await?;

    let f = quota::fill(&ctx, &m, "dir0/more", 6).await?;
    ensure!(
        f.over_quota(),
        "6 MiB more in dir0 (1 MiB used of 4 MB) should be refused: ok={}, {}",
        f.ok,
        f.error
    );
    quota::wait_usage(
        &ctx,
        &vol,
        "/dir0",
        "hard limit exceeded",
        Duration::from_secs(60),
        |l| l.hard_exceeded,
    )
    .await?;
    let over: Vec<String> = quota::list(&ctx, &vol)
        .await?
        .into_iter()
        .filter(|r| r.hard_exceeded)
        .map(|r| r.path)
        .collect();
    ensure_eq!(over, vec!["/dir0".to_string()], "directories over their hard limit");
    quota::fill_ok(&ctx, &m, "dir1/more", 1).await?;
    Ok(())
}
