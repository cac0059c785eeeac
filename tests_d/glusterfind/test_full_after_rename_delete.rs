//! After files are renamed (in place and into another directory), deleted, and a directory is
//! removed with its contents, a new full find of the session lists exactly what the volume
//! holds: the new names, none of the old or deleted ones, every remaining file once. The session
//! is used through its cycle: pre, post, changes, pre again.
//!
//! The incremental records of these changes (RENAME, DELETE, MODIFY) come from glusterfind's
//! changelog crawler, which cannot run on these nodes (no Python `xattr` module; see
//! `gluster::glusterfind`): this scenario checks the full listing instead.
//!
//! The volume has its one brick on the server glusterfind runs on (no sshd on the nodes).
//!
//! Ported from glusto-tests `tests/functional/glusterfind/test_gfind_rename.py` and
//! `test_gfind_delete_file.py` (files renamed or deleted after a pre/post cycle), with a full
//! find in place of the incremental one.
use crate::prelude::*;
use glusterfind::{Change, Find, Record};

pub const CASE: Case = Case::new(893, "full_after_rename_delete", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(1, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distribute(1)).await?;
    let client = m.node.clone();
    let mut files: Vec<(String, u64)> = (1..=6).map(|i| (format!("f{i}"), 4096)).collect();
    files.extend((1..=3).map(|i| (format!("gone/g{i}"), 100)));
    files.push(("keep/k".into(), 100));
    io::write_files(&ctx, &client, &m.path, &files).await?;

    let s = glusterfind::create(&ctx, &vol, "gfs").await?;
    let first = s.pre(&ctx, Find::FULL).await?;
    ensure_eq!(first.len(), files.len() + 2, "records of the first full find: {first:?}");
    s.post(&ctx).await?;

    ctx.step("rename f1 and f2, move f3 into keep/, delete f4, remove gone/");
    let p = |rel: &str| format!("{}/{rel}", m.path);
    fileops::rename(&ctx, &client, &p("f1"), &p("f1-renamed")).await?;
    fileops::rename(&ctx, &client, &p("f2"), &p("f2-renamed")).await?;
    fileops::rename(&ctx, &client, &p("f3"), &p("keep/f3")).await?;
    ctx.sh(&client, format!("rm {} && rm -rf {}", p("f4"), p("gone")))
        .await?;

    let mut want: Vec<Record> = ["f1-renamed", "f2-renamed", "keep", "keep/f3", "keep/k", "f5", "f6"]
        .iter()
        .map(|n| Record::new(Change::New, n))
        .collect();
    want.sort();
    let got = s.pre(&ctx, Find::FULL).await?;
    ensure_eq!(got, want, "records of the full find after the renames and deletes");
    let stale: Vec<&Record> = got
        .iter()
        .filter(|r| ["f1", "f2", "f3", "f4", "gone"].iter().any(|o| r.path == *o || r.path.starts_with("gone/")))
        .collect();
    ensure!(stale.is_empty(), "old or deleted names listed: {stale:?}");
    s.post(&ctx).await?;
    Ok(())
}
