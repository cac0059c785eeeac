//! A limit follows its directory through a rename: after `mv foo bar` `quota list` shows the limit
//! and the usage on /bar and no longer on /foo, and writing into /bar past the limit is refused.
//! Renames inside a directory with an object limit keep its counts (5 files and 7 directories
//! after a subdirectory holding 5 directories and 4 files is renamed). Moving a directory whose
//! data would not fit under another directory's limit is refused with EDQUOT.
//!
//! Ported from glusto-tests `tests/functional/quota/test_quota_renamed_dir.py` (limit on foo, rename
//! to bar, `quota list` shows it on bar), GlusterFS `tests/basic/quota-rename.t` (object counts
//! after a rename) and `tests/basic/quota.t` (a directory with data cannot be moved into one
//! over its limit).
use crate::prelude::*;

pub const CASE: Case = Case::new(806, "quota_renamed_dir", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    quota::setup(&ctx, &vol, &m, &["foo/sub", "small", "big"]).await?;
    let p = &m.path;
    quota::limit_usage(&ctx, &vol, "/foo", "8MB", None).await?;
    quota::limit_objects(&ctx, &vol, "/foo", 50, None).await?;
    quota::fill_ok(&ctx, &m, "foo/a", 2).await?;
    ctx.sh(
        &m.node,
        format!("mkdir {p}/foo/sub/d1 {p}/foo/sub/d2 {p}/foo/sub/d3 {p}/foo/sub/d4 {p}/foo/sub/d5 && touch {p}/foo/sub/f1 {p}/foo/sub/f2 {p}/foo/sub/f3 {p}/foo/sub/f4"),
    )
    .await?;
    fileops::rename(&ctx, &m.node, &format!("{p}/foo/sub"), &format!("{p}/foo/sub2")).await?;
    quota::wait_objects(
        &ctx,
        &vol,
        "/foo",
        "5 files and 7 directories after renaming sub",
        Duration::from_secs(60),
        |o| o.files == 5 && o.dirs == 7,
    )
    .await?;

    fileops::rename(&ctx, &m.node, &format!("{p}/foo"), &format!("{p}/bar")).await?;
    let l = quota::wait_usage(
        &ctx,
        &vol,
        "/bar",
        "the limit and usage of /foo on /bar",
        Duration::from_secs(60),
        |l| l.used == 2 * MIB,
    )
    .await?;
    ensure_eq!(l.hard_limit, 8 * MIB, "hard limit on /bar after the rename");
    let rows = quota::list(&ctx, &vol).await?;
    ensure!(
        !rows.iter().any(|r| r.path == "/foo"),
        "quota list still shows /foo after its rename: {rows:?}"
    );
    let o = quota::object_limit(&ctx, &vol, "/bar").await?;
    ensure!(
        o.as_ref()
            .is_some_and(|o| o.hard_limit == 50 && o.files == 5 && o.dirs == 7),
        "the object limit and counts of /foo should be on /bar: {o:?}"
    );
    let f = quota::fill(&ctx, &m, "bar/big", 10).await?;
    ensure!(
        f.over_quota(),
        "10 MiB into /bar (renamed /foo, 8 MB limit, 2 MiB used) should be refused: ok={}, {}",
        f.ok,
        f.error
    );

    // A directory at its limit takes no directory with more data than it has room for.
    quota::limit_usage(&ctx, &vol, "/small", "2MB", None).await?;
    quota::fill_ok(&ctx, &m, "big/data", 4).await?;
    quota::wait_usage(
        &ctx,
        &vol,
        "/small",
        "the limit listed",
        Duration::from_secs(30),
        |l| l.used == 0,
    )
    .await?;
    mount::ensure_fails(&ctx, &m, "mv \"$M/big\" \"$M/small/big\"", &[quota::EDQUOT]).await?;
    let present = ctx.sh(&m.node, format!("ls {p}/big")).await?;
    ensure!(
        present.contains("data"),
        "the refused move should leave /big in place: ls shows {present:?}"
    );
    Ok(())
}
