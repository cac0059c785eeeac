//! Times set through one mount are what every client sees: with `features.ctime` on, `touch -m
//! -d` on a file from the first client sets its mtime, and `touch -a -d` its atime, to the given
//! instant as both clients see it (the second once its attribute caches expire, within
//! seconds); each change moves the ctime forward (the same for both
//! clients), and every brick of the replica set keeps exactly those times in
//! `trusted.glusterfs.mdata`.
//!
//! Ported from glusto-tests
//! `tests/functional/ctime_feature/test_ctime_updated_if_mtime_is_updated.py` (an mtime set with
//! touch changes mtime and ctime), with the atime and a second client added.
use crate::prelude::*;

pub const CASE: Case = Case::new(863, "set_times_seen_by_all", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

/// 2020-01-01 12:00:00 UTC and 2021-06-15 08:30:00.25 UTC.
const MTIME: (&str, i64, u32) = ("2020-01-01 12:00:00 UTC", 1_577_880_000, 0);
const ATIME: (&str, i64, u32) = ("2021-06-15 08:30:00.25 UTC", 1_623_745_800, 250_000_000);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.set(&ctx, "features.ctime", "on").await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let m1 = mount::mount(&ctx, &c1, &vol).await?;
    let m2 = mount::mount(&ctx, &c2, &vol).await?;
    let rel = "file_zyx1";
    let p1 = format!("{}/{rel}", m1.path);
    let p2 = format!("{}/{rel}", m2.path);
    let q1 = gflab_agent::shell::quote(&p1);

    ctx.sh(&c1, format!("touch {q1}")).await?;
    let before = ctime::times(&ctx, &c1, &p1).await?;
    ensure_eq!(
        ctime::times(&ctx, &c2, &p2).await?,
        before,
        "the new file's times seen by {} and {}",
        c2.name(),
        c1.name()
    );

    ctx.sh(&c1, format!("touch -m -d '{}' {q1}", MTIME.0)).await?;
    let want_m = ctime::Timespec {
        sec: MTIME.1,
        nsec: MTIME.2,
    };
    let after_m = ctime::times(&ctx, &c1, &p1).await?;
    ensure_eq!(after_m.mtime, want_m, "mtime after touch -m -d '{}'", MTIME.0);
    ensure!(
        after_m.ctime > before.ctime,
        "ctime did not move forward with the mtime change: {} before, {} after",
        before.ctime,
        after_m.ctime
    );
    ensure_eq!(after_m.atime, before.atime, "atime after touch -m");
    // The other client's attribute caches may show the old times for a moment.
    ctime::wait_times(&ctx, &c2, &p2, after_m, Duration::from_secs(15)).await?;
    ensure_eq!(
        ctime::ensure_consistent_file(&ctx, &vol, rel).await?,
        after_m,
        "times kept on the bricks after touch -m"
    );

    ctx.sh(&c1, format!("touch -a -d '{}' {q1}", ATIME.0)).await?;
    let want_a = ctime::Timespec {
        sec: ATIME.1,
        nsec: ATIME.2,
    };
    let after_a = ctime::times(&ctx, &c1, &p1).await?;
    ensure_eq!(after_a.atime, want_a, "atime after touch -a -d '{}'", ATIME.0);
    ensure_eq!(after_a.mtime, want_m, "mtime after touch -a");
    ensure!(
        after_a.ctime > after_m.ctime,
        "ctime did not move forward with the atime change: {} before, {} after",
        after_m.ctime,
        after_a.ctime
    );
    // The other client's attribute caches may show the old times for a moment.
    ctime::wait_times(&ctx, &c2, &p2, after_a, Duration::from_secs(15)).await?;
    ensure_eq!(
        ctime::ensure_consistent_file(&ctx, &vol, rel).await?,
        after_a,
        "times kept on the bricks after touch -a"
    );
    Ok(())
}
