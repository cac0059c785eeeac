//! Incremental finds list what changed since the session time as typed records: after
//! creating files and a directory, `pre` lists each as NEW; after `post`, a modification, a
//! rename, a deletion and a new file in a subdirectory are listed as MODIFY, RENAME (old and new
//! path), DELETE and NEW, and nothing else. The records come from the bricks' changelogs, once
//! they roll over (`changelog.rollover-time`, set to 2 s here), so each `pre` is polled (with
//! `--regenerate-outfile`) until the records are complete, within a bound.
//!
//! Needs glusterfind's changelog crawler, which imports the Python module `xattr` with the API
//! of pyxattr (Debian `python3-pyxattr`, in the lab images): where a server lacks it (a real host)
//! the scenario is SKIPPED with the reason. The volume has its one brick on the server
//! glusterfind runs on (no sshd on the nodes; see `gluster::glusterfind`).
//!
//! Ported from glusto-tests `tests/functional/glusterfind/test_gfind_modify_files.py`,
//! `test_gfind_rename.py` and `test_gfind_delete_file.py`.
use crate::prelude::*;
use glusterfind::{Change, Find, Record};

pub const CASE: Case = Case::new(895, "incremental_changes", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(1, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    if let Some(why) = glusterfind::changelog_crawler_missing(&ctx, &ctx.server(0)?).await? {
        return Err(TestError::Skip(why));
    }
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distribute(1)).await?;
    vol.set(&ctx, "changelog.rollover-time", "2").await?;
    let s = glusterfind::create(&ctx, &vol, "gfs").await?;
    let start = s.time(&ctx).await?;
    wait_for(&ctx, "the node's clock past the session time", Duration::from_secs(60), Duration::from_secs(1), || async {
        let now: u64 = ctx.sh(&s.node, "date +%s").await?.trim().parse().unwrap_or(0);
        Ok(if now > start + 1 { Poll::Ready(()) } else { Poll::Pending(format!("now {now}, session time {start}")) })
    })
    .await?;

    let client = m.node.clone();
    let files: Vec<(String, u64)> = (1..=4).map(|i| (format!("f{i}"), 1000)).collect();
    io::write_files(&ctx, &client, &m.path, &files).await?;
    ctx.sh(&client, format!("mkdir {}/d", m.path)).await?;
    let mut want: Vec<Record> = ["f1", "f2", "f3", "f4", "d"].iter().map(|n| Record::new(Change::New, n)).collect();
    want.sort();
    let got = changes_until(&ctx, &s, &want).await?;
    ensure_eq!(got, want, "records of the first incremental pre");
    s.post(&ctx).await?;

    ctx.step("modify f1, rename f2, delete f3, create d/new");
    let p = |rel: &str| format!("{}/{rel}", m.path);
    fileops::append(&ctx, &client, &p("f1"), 100).await?;
    fileops::rename(&ctx, &client, &p("f2"), &p("f2-new")).await?;
    ctx.sh(&client, format!("rm {} && echo n > {}", p("f3"), p("d/new"))).await?;
    let mut want = vec![
        Record::new(Change::Modify, "f1"),
        Record { change: Change::Rename, path: "f2".into(), new_path: Some("f2-new".into()) },
        Record::new(Change::Delete, "f3"),
        Record::new(Change::New, "d/new"),
    ];
    want.sort();
    let got = changes_until(&ctx, &s, &want).await?;
    ensure_eq!(got, want, "records of the incremental pre after the changes");
    s.post(&ctx).await?;
    Ok(())
}

/// Runs `pre --regenerate-outfile` until its records are `want`, at most two minutes: the
/// changes reach the records once their changelog rolled over. Returns the last records.
async fn changes_until(
    ctx: &Ctx,
    s: &glusterfind::Session,
    want: &[Record],
) -> Result<Vec<Record>, TestError> {
    let what = format!("glusterfind pre to list {} change(s)", want.len());
    let got = wait_for(ctx, &what, Duration::from_secs(120), Duration::from_secs(3), || async {
        let got = s.pre(ctx, Find::CHANGES.regenerate()).await?;
        Ok(if got == want { Poll::Ready(got) } else { Poll::Pending(format!("{got:?}")) })
    })
    .await;
    match got {
        Ok(r) => Ok(r),
        Err(TestError::Wait { last, .. }) => Err(TestError::Check(format!(
            "incremental pre never listed {want:?}; last: {last}"
        ))),
        Err(e) => Err(e),
    }
}
