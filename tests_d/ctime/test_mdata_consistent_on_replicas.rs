//! With `features.ctime` on, every entry's times are kept in `trusted.glusterfs.mdata` and are
//! the same on every brick of its replica set: after creating directories and files with
//! renames, chmod, chown, truncate, hard links, symlinks and xattrs on a 2 x 3 volume, each entry
//! has the xattr on every brick of the replica set holding it, with equal times (a directory is
//! on both sets, each keeping the times of what it saw); two clients see exactly a file's kept
//! times (to the nanosecond), both see the same times for every entry, again on a second lookup
//! a moment later, and the lookups change nothing on the bricks.
//!
//! Ported from glusto-tests `tests/functional/ctime_feature/test_consistent_timestamps_feature.py`
//! (the `features.ctime on` half: mdata set and equal across the replica set), with the view of
//! a second client added.
use crate::prelude::*;

pub const CASE: Case = Case::new(860, "mdata_consistent_on_replicas", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    vol.set(&ctx, "features.ctime", "on").await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let m1 = mount::mount(&ctx, &c1, &vol).await?;
    let m2 = mount::mount(&ctx, &c2, &vol).await?;

    ctime::make_entries(&ctx, &c1, &format!("{}/ctime-on", m1.path), 3, 4).await?;

    // Every entry, whichever set holds it.
    let mut entries = std::collections::BTreeSet::new();
    for b in &vol.bricks {
        entries.extend(ctime::entries_on_brick(&ctx, b, "ctime-on").await?);
    }
    // 3 directories, each with 4 files, 4 hard links, 4 symlinks.
    ensure_eq!(entries.len(), 3 * 13, "entries under ctime-on on the bricks: {entries:?}");

    let mut kept = Vec::new();
    for e in &entries {
        let per_set = ctime::ensure_consistent(&ctx, &vol, e).await?;
        kept.push((e.clone(), per_set));
    }

    let mut first_round = Vec::new();
    for round in 1..=2 {
        for (i, (e, per_set)) in kept.iter().enumerate() {
            let t1 = ctime::times(&ctx, &m1.node, &format!("{}/{e}", m1.path)).await?;
            let t2 = ctime::times(&ctx, &m2.node, &format!("{}/{e}", m2.path)).await?;
            ensure_eq!(
                t2,
                t1,
                "{e}'s times seen by {} and {} (lookup round {round})",
                m2.node.name(),
                m1.node.name()
            );
            if let [t] = per_set[..] {
                ensure_eq!(
                    t1,
                    t,
                    "{e}'s times seen through the mounts vs kept in {} (round {round})",
                    ctime::MDATA
                );
            }
            if round == 1 {
                first_round.push(t1);
            } else {
                ensure_eq!(t1, first_round[i], "{e}'s times on the second lookup round");
            }
        }
        if round == 1 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
    }
    for (e, per_set) in &kept {
        let again = ctime::ensure_consistent(&ctx, &vol, e).await?;
        ensure_eq!(&again, per_set, "{e}'s mdata after lookups from two clients");
    }
    Ok(())
}
