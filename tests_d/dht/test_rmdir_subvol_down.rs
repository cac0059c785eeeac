//! A directory cannot be removed while one of the volume's subvolumes is down, whether or not it
//! is the directory's hashed one: `rmdir` fails with "Transport endpoint is not connected" and the
//! directory stays on every live brick (one holding a subdirectory created meanwhile, two empty:
//! one hashed to a live subvolume, one to the down one). Once the brick is back, without
//! remounting, they are removed and gone from every brick.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rmdir_subvol_down.py` (case 1: a subvolume
//! that is not the child's hashed one down, parent/child created, `rmdir parent` fails; case 2:
//! dir1's hashed subvolume down, or another one, `rmdir` fails with ENOTCONN; the directories
//! removed once the volume is force-started).
use crate::prelude::*;

pub const CASE: Case = Case::new(740, "rmdir_subvol_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const ENOTCONN: &str = "Transport endpoint is not connected";

async fn ensure_on_live_bricks(ctx: &Ctx, vol: &Volume, down: usize, rel: &str) -> Result<(), TestError> {
    for (i, b) in vol.bricks.iter().enumerate().filter(|(i, _)| *i != down) {
        let kind = fileops::stat(ctx, &b.node, &format!("{}/{rel}", b.path), "%F").await?;
        ensure_eq!(kind.trim(), "directory", "{rel} on live brick #{i} after the refused rmdir");
    }
    Ok(())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let by_root = dht::names_by_subvol(&ctx, &vol, &m, "", "dir", 30).await?;
    // dir1: a name hashed to subvolume 0, dir2 to subvolume 2 (the one that goes down); parent:
    // any name; the child: a name hashed to 0 in parent.
    let dir1 = by_root[0].first().cloned().ok_or_else(|| TestError::Check(format!("no name of 30 hashes to subvolume 0: {by_root:?}")))?;
    let dir2 = by_root[2].first().cloned().ok_or_else(|| TestError::Check(format!("no name of 30 hashes to subvolume 2: {by_root:?}")))?;
    ctx.sh(&m.node, format!("mkdir {0}/parent {0}/{dir1} {0}/{dir2}", m.path)).await?;
    let by_parent = dht::names_by_subvol(&ctx, &vol, &m, "parent", "child", 30).await?;
    let child = by_parent[0].first().cloned().ok_or_else(|| TestError::Check(format!("no name of 30 hashes to subvolume 0 in parent: {by_parent:?}")))?;
    let down = 2;
    ctx.step(format!("{dir1} and parent/{child} hash to subvolume 0, {dir2} to {down}; subvolume {down} goes down"));

    brick::kill(&ctx, &vol, down).await?;
    ctx.sh(&m.node, format!("mkdir {}/parent/{child}", m.path)).await?;
    for dir in ["parent".to_string(), dir1.clone(), dir2.clone()] {
        let out = mount::attempt(&ctx, &m.node, &m.path, &format!("rmdir \"$M/{dir}\""), Duration::from_secs(60)).await?;
        ensure!(!out.success(), "rmdir {dir} with subvolume {down} down succeeded");
        ensure!(out.stderr_str().contains(ENOTCONN), "rmdir {dir} with subvolume {down} down failed with {:?}, expected \"{ENOTCONN}\"", out.stderr_str());
    }
    let kept = fileops::stat(&ctx, &m.node, &format!("{}/parent/{child}", m.path), "%F").await?;
    ensure_eq!(kept.trim(), "directory", "parent/{child} through the mount after the refused rmdir");
    ensure_on_live_bricks(&ctx, &vol, down, "parent").await?;
    ensure_on_live_bricks(&ctx, &vol, down, &dir1).await?;
    ensure_on_live_bricks(&ctx, &vol, down, &dir2).await?;

    brick::bring_back(&ctx, &vol).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    ctx.sh(&m.node, format!("rm -rf {0}/parent && rmdir {0}/{dir1} {0}/{dir2}", m.path)).await?;
    for b in &vol.bricks {
        let left = ctx.sh(&b.node, format!("ls -A {}", b.path)).await?;
        ensure!(left.split_whitespace().all(|e| e == ".glusterfs"), "left on brick {} after the removal: {left}", b.spec());
    }
    Ok(())
}
