//! `features.ctime` is on by default in GlusterFS 10, and a new entry's three times are one:
//! a directory made with mkdir, a file made with touch, and a file made with touch and stat-ed
//! twice at once each show atime = mtime = ctime to the nanosecond through the mount, the same
//! times that every brick holding it keeps in `trusted.glusterfs.mdata`.
//!
//! Ported from glusto-tests
//! `tests/functional/ctime_feature/test_consistent_timestamps_on_new_entries.py` (which expected
//! the feature off by default, as it was before GlusterFS 8; it is turned on here the same way).
use crate::prelude::*;

pub const CASE: Case = Case::new(862, "new_entries_equal_times", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let client = ctx.client(0)?;
    ensure_eq!(
        vol.get(&ctx, "features.ctime").await?,
        "on",
        "features.ctime of a new volume (GlusterFS 10 default)"
    );
    vol.set(&ctx, "features.ctime", "on").await?;

    let q = |rel: &str| gflab_agent::shell::quote(&format!("{}/{rel}", m.path));
    let made: &[(&str, String)] = &[
        ("dir1", format!("mkdir {}", q("dir1"))),
        ("file1", format!("touch {}", q("file1"))),
        (
            "file2",
            format!("touch {f}; stat {f} >/dev/null; stat {f} >/dev/null", f = q("file2")),
        ),
    ];
    for (rel, line) in made {
        ctx.sh(&client, line.clone()).await?;
        let t = ctime::times(&ctx, &client, &format!("{}/{rel}", m.path)).await?;
        ensure!(
            t.atime == t.mtime && t.mtime == t.ctime,
            "{rel} made by `{line}`: a, m and c times differ: {t}"
        );
        let kept = ctime::ensure_consistent_file(&ctx, &vol, rel).await?;
        ensure_eq!(kept, t, "{rel}'s times on the bricks vs through the mount");
    }
    Ok(())
}
