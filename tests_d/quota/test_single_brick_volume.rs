//! Quota on a one-brick volume: with a 1 GB limit on `/` and 5 MB on a directory, files written
//! over several directories are all accounted on `/` (used is the sum of what was written), the
//! directory's own row shows its share, and the directory's limit refuses a write with EDQUOT
//! while `/` still has room.
//!
//! Ported from glusto-tests `tests/functional/quota/test_quota_single_brick_volume.py` (a 1x1
//! volume, a 1 GB limit on `/`, directories and files, `quota list`).
use crate::prelude::*;

pub const CASE: Case = Case::new(817, "quota_single_brick_volume", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(1, 1))
    .timeout_secs(300);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distribute(1)).await?;
    ensure_eq!(vol.info(&ctx).await?.brick_count, 1, "bricks of the volume");
    quota::setup(&ctx, &vol, &m, &["d1", "d2", "d3"]).await?;
    quota::limit_usage(&ctx, &vol, "/", "1GB", None).await?;
    quota::limit_usage(&ctx, &vol, "/d2", "5MB", None).await?;
    let mut total = 0;
    for (i, d) in ["d1", "d2", "d3"].iter().enumerate() {
        for k in 0..=i {
            total += quota::fill_ok(&ctx, &m, &format!("{d}/f{k}"), 1).await?;
        }
    }
    ensure_eq!(total, 6 * MIB, "bytes written");
    quota::wait_usage(&ctx, &vol, "/", "everything written", Duration::from_secs(60), |l| {
        l.used == total && l.hard_limit == 1 << 30
    })
    .await?;
    quota::wait_usage(&ctx, &vol, "/d2", "its 2 MiB", Duration::from_secs(60), |l| {
        l.used == 2 * MIB
    })
    .await?;
    let f = quota::fill(&ctx, &m, "d2/big", 6).await?;
    ensure!(
        f.over_quota(),
        "6 MiB more in /d2 (5 MB limit, 2 MiB used) should be refused: ok={}, {}",
        f.ok,
        f.error
    );
    let root = quota::limit(&ctx, &vol, "/").await?;
    ensure!(
        root.as_ref().is_some_and(|l| !l.hard_exceeded),
        "/ is far from its 1 GB limit: {root:?}"
    );
    quota::fill_ok(&ctx, &m, "d3/more", 2).await?;
    Ok(())
}
