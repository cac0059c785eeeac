//! Links are accounted once per directory: a hard link next to a 2 MiB file adds neither usage nor
//! a file to its directory's counts, a symlink adds one object and at most a block of usage, and a hard link in a
//! second limited directory charges that directory with the file's 2 MiB (the first one keeps
//! its own 2 MiB). Removing the symlink and the link in the
//! other directory gives their usage and count back. A limit cannot be set through a
//! symlink to a directory.
//!
//! Ported from glusto-tests `tests/functional/quota/test_quota_symlink_limit.py` (a symlink to a
//! limited directory; a limit on the symlink fails); the accounting of hard links within and
//! across limited directories is checked here in addition.
use crate::prelude::*;

pub const CASE: Case = Case::new(811, "quota_links_accounting", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    quota::setup(&ctx, &vol, &m, &["a", "b"]).await?;
    for d in ["/a", "/b"] {
        quota::limit_usage(&ctx, &vol, d, "10MB", None).await?;
    }
    quota::limit_objects(&ctx, &vol, "/a", 100, None).await?;
    quota::fill_ok(&ctx, &m, "a/f", 2).await?;
    quota::wait_objects(&ctx, &vol, "/a", "one file", Duration::from_secs(60), |o| {
        o.files == 1
    })
    .await?;
    quota::wait_usage(&ctx, &vol, "/a", "2 MiB used", Duration::from_secs(60), |l| {
        l.used == 2 * MIB
    })
    .await?;

    let p = &m.path;
    fileops::hardlink(&ctx, &m.node, &format!("{p}/a/f"), &format!("{p}/a/same")).await?;
    let o = quota::object_limit(&ctx, &vol, "/a").await?;
    ensure!(
        o.as_ref().is_some_and(|o| o.files == 1),
        "a hard link next to the file should not count as a second file: {o:?}"
    );
    let a = quota::limit(&ctx, &vol, "/a").await?;
    ensure!(
        a.as_ref().is_some_and(|l| l.used == 2 * MIB),
        "a hard link next to the file should add no usage to /a: {a:?}"
    );
    fileops::symlink(&ctx, &m.node, "f", &format!("{p}/a/sym")).await?;
    let o = quota::wait_objects(
        &ctx,
        &vol,
        "/a",
        "the symlink counted as a file",
        Duration::from_secs(60),
        |o| o.files == 2,
    )
    .await?;
    ensure_eq!(o.dirs, 1, "directories in /a");
    let a = quota::limit(&ctx, &vol, "/a").await?;
    ensure!(
        a.as_ref()
            .is_some_and(|l| l.used >= 2 * MIB && l.used <= 2 * MIB + 4096),
        "a symlink should add at most a block to /a's usage: {a:?}"
    );
    let with_symlink = a.map(|l| l.used).unwrap_or_default();

    fileops::hardlink(&ctx, &m.node, &format!("{p}/a/f"), &format!("{p}/b/other")).await?;
    // The charges below are those of a hard link only if /b/other is one (a copy in /b would be
    // charged the same 2 MiB).
    let (f, other) = (
        fileops::stat(&ctx, &m.node, &format!("{p}/a/f"), "%i %h").await?,
        fileops::stat(&ctx, &m.node, &format!("{p}/b/other"), "%i %h").await?,
    );
    ensure!(
        f == other && f.ends_with(" 3"),
        "/b/other should be a third name of /a/f (inode and link count): /a/f {f}, /b/other {other}"
    );
    quota::wait_usage(
        &ctx,
        &vol,
        "/b",
        "the hard link's 2 MiB charged to /b",
        Duration::from_secs(60),
        |l| l.used == 2 * MIB,
    )
    .await?;
    let a = quota::limit(&ctx, &vol, "/a").await?;
    ensure!(
        a.as_ref().is_some_and(|l| l.used == with_symlink),
        "/a should keep its own usage ({with_symlink} bytes) with a hard link in /b: {a:?}"
    );

    let sl = quota::attempt(&ctx, &vol, &["limit-usage", "/a/sym", "1MB"]).await?;
    ensure!(!sl.ok, "a limit on a symlink was accepted: {}", sl.message);

    // Only the symlink and the link in /b go: in 10.3 unlinking the hard link next to the file
    // takes a file off /a's count although creating it added none.
    ctx.sh(&m.node, format!("rm -f {p}/b/other {p}/a/sym")).await?;
    quota::wait_usage(&ctx, &vol, "/b", "nothing used", Duration::from_secs(60), |l| {
        l.used == 0
    })
    .await?;
    quota::wait_objects(&ctx, &vol, "/a", "one file again", Duration::from_secs(60), |o| {
        o.files == 1
    })
    .await?;
    quota::wait_usage(&ctx, &vol, "/a", "2 MiB again", Duration::from_secs(60), |l| {
        l.used == 2 * MIB
    })
    .await?;
    Ok(())
}
