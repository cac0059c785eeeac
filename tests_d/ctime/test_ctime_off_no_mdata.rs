//! With `features.ctime` off GlusterFS keeps no times of its own: entries created then (the same
//! mix of directories, files, renames, chmod, chown, truncate, links and xattrs) carry no
//! `trusted.glusterfs.mdata` on any brick, while entries created on the same volume with the
//! feature on carry it, equal on every brick of their replica set.
//!
//! Ported from glusto-tests `tests/functional/ctime_feature/test_consistent_timestamps_feature.py`
//! (on: mdata set and equal; off: mdata absent).
use crate::prelude::*;

pub const CASE: Case = Case::new(861, "ctime_off_no_mdata", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

async fn entries(ctx: &Ctx, vol: &Volume, dir: &str) -> Result<Vec<String>, TestError> {
    let mut all = std::collections::BTreeSet::new();
    for b in &vol.bricks {
        all.extend(ctime::entries_on_brick(ctx, b, dir).await?);
    }
    // 2 directories, each with 3 files, 3 hard links, 3 symlinks.
    ensure_eq!(all.len(), 2 * 10, "entries under {dir} on the bricks: {all:?}");
    Ok(all.into_iter().collect())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let client = ctx.client(0)?;

    vol.set(&ctx, "features.ctime", "on").await?;
    ctime::make_entries(&ctx, &client, &format!("{}/ctime-on", m.path), 2, 3).await?;
    for e in entries(&ctx, &vol, "ctime-on").await? {
        ctime::ensure_consistent(&ctx, &vol, &e).await?;
    }

    vol.set(&ctx, "features.ctime", "off").await?;
    // A new mount: its graph is built without the time keeping.
    let m2 = mount::mount(&ctx, &client, &vol).await?;
    ctime::make_entries(&ctx, &client, &format!("{}/ctime-off", m2.path), 2, 3).await?;
    for e in entries(&ctx, &vol, "ctime-off").await? {
        for (b, md) in ctime::on_holders(&ctx, &vol, &e).await? {
            ensure!(
                md.is_none(),
                "{e} created with features.ctime off has {} on {}: {md:?}",
                ctime::MDATA,
                b.spec()
            );
        }
    }
    Ok(())
}
