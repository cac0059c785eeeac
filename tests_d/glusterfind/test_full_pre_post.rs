//! `glusterfind pre --full` lists every file and directory of the volume as a NEW record with
//! its path from the volume root (names with spaces and `%` encoded, decoded back here), and
//! nothing else; `post` then moves the session time to when that `pre` ran less the changelog
//! rollover time (`changelog.rollover-time`, so that the next incremental find starts from a
//! changelog that is complete). Without a `post` in
//! between, a second `pre` is refused unless `--regenerate-outfile`; `post` without a `pre` is
//! refused.
//!
//! The volume has its one brick on the server glusterfind runs on (no sshd on the nodes; see
//! `gluster::glusterfind`).
//!
//! Ported from glusto-tests `tests/functional/glusterfind/test_gfind_pre_cli.py` (pre --full
//! lists the files written on the mount) and `test_gfind_post_cli.py` (post after pre, post
//! refusals).
use crate::prelude::*;
use glusterfind::{Change, Find, Record};

pub const CASE: Case = Case::new(891, "full_pre_post", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(1, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distribute(1)).await?;
    let s = glusterfind::create(&ctx, &vol, "gfs").await?;
    let a = s.post_attempt(&ctx).await?;
    ensure!(!a.ok && a.says("Pre script is not run"), "post before any pre: ok={}, {}", a.ok, a.message);

    let client = m.node.clone();
    let mut want: Vec<Record> = Vec::new();
    let mut files: Vec<(String, u64)> = (1..=10).map(|i| (format!("file{i}"), 1024 * i)).collect();
    files.push(("dir1/sub/deep".into(), 10));
    io::write_files(&ctx, &client, &m.path, &files).await?;
    ctx.sh(&client, format!("cd {} && mkdir empty && echo x > 'with space' && echo y > 'per%cent'", m.path))
        .await?;
    for p in files.iter().map(|(n, _)| n.as_str()).chain(["dir1", "dir1/sub", "empty", "with space", "per%cent"]) {
        want.push(Record::new(Change::New, p));
    }
    want.sort();

    let got = s.pre(&ctx, Find::FULL).await?;
    ensure_eq!(got, want, "records of pre --full");

    let a = s.pre_attempt(&ctx, Find::FULL).await?;
    ensure!(
        !a.ok && a.says("--regenerate-outfile"),
        "a second pre without post should be refused pointing at --regenerate-outfile: ok={}, {}",
        a.ok,
        a.message
    );
    ctx.sh(&client, format!("echo z > {}/later", m.path)).await?;
    let t1 = node_time(&ctx, &s.node).await?;
    let again = s.pre(&ctx, Find::FULL.regenerate()).await?;
    let mut want2 = want.clone();
    want2.push(Record::new(Change::New, "later"));
    want2.sort();
    ensure_eq!(again, want2, "records of pre --full --regenerate-outfile after writing later");

    ctx.step("post: the session time becomes the time of the last pre less the rollover time");
    let rollover: u64 = vol
        .get(&ctx, "changelog.rollover-time")
        .await?
        .parse()
        .map_err(|e| TestError::Check(format!("changelog.rollover-time: {e}")))?;
    let before = s.time(&ctx).await?;
    s.post(&ctx).await?;
    let after = s.time(&ctx).await?;
    let t2 = node_time(&ctx, &s.node).await?;
    ensure!(
        after != before && after + rollover + 1 >= t1 && after + rollover <= t2 + 1,
        "session time after post is {after} (before {before}); the last pre ran between {t1} and \
         {t2}, less the rollover time of {rollover}s"
    );
    let shown = ctx.sh(&s.node, format!("date -d @{after} '+%Y-%m-%d %H:%M:%S'")).await?;
    let row = s.listed(&ctx).await?;
    ensure_eq!(
        row.map(|r| r.time),
        Some(shown.trim().to_string()),
        "session time listed after post"
    );
    let a = s.post_attempt(&ctx).await?;
    ensure!(!a.ok && a.says("Pre script is not run"), "a second post: ok={}, {}", a.ok, a.message);
    Ok(())
}

/// Seconds since the epoch on `node`.
async fn node_time(ctx: &Ctx, node: &Node) -> Result<u64, TestError> {
    let out = ctx.sh(node, "date +%s").await?;
    out.trim()
        .parse()
        .map_err(|_| TestError::Check(format!("date +%s on {} printed {out:?}", node.name())))
}
