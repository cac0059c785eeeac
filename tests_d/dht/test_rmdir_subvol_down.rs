//! A directory cannot be removed while any DHT subvolume is down, whether the down one is the
//! directory's hashed subvolume or not: `rmdir` of an empty directory hashed to the down
//! subvolume, of one hashed to a live subvolume, and `rm -rf` of a parent whose child was made
//! while the brick was down all fail with "Transport endpoint is not connected", and every live
//! brick still has the directories. Once the brick is back the same removals succeed and no
//! brick keeps any of them.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rmdir_subvol_down.py` (rmdir of a parent
//! with a non-hashed subvolume down, of directories with their hashed or a non-hashed subvolume
//! down: ENOTCONN; removed once the subvolume is back), checked on the bricks.
use crate::prelude::*;

pub const CASE: Case = Case::new(729, "rmdir_subvol_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const DOWN: usize = 2;

/// The bricks (indices) that have directory `rel`.
async fn holders(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<usize>, TestError> {
    let mut on = Vec::new();
    for (i, b) in vol.bricks.iter().enumerate() {
        let p = xattr::brick_path(b, rel);
        if ctx.sh(&b.node, format!("[ -d {p} ] && echo yes; true")).await?.trim() == "yes" {
            on.push(i);
        }
    }
    Ok(on)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let by = dht::names_by_subvol(&ctx, &vol, &m, "", "dir", 40).await?;
    let pick = |s: usize| by[s].first().cloned().ok_or_else(|| TestError::Check(format!("no name of 40 hashes to subvolume {s}: {by:?}")));
    let (hashed_down, hashed_up) = (pick(DOWN)?, pick(0)?);
    ctx.sh(&client, format!("cd {} && mkdir {hashed_down} {hashed_up} parent", m.path)).await?;

    brick::kill(&ctx, &vol, DOWN).await?;
    ctx.sh(&client, format!("mkdir {}/parent/child", m.path)).await?;
    let live: Vec<usize> = (0..3).filter(|i| *i != DOWN).collect();
    for (what, line, dirs) in [
        ("rmdir of a directory hashed to the down subvolume", format!("rmdir \"$M/{hashed_down}\""), vec![hashed_down.clone()]),
        ("rmdir of a directory hashed to a live subvolume", format!("rmdir \"$M/{hashed_up}\""), vec![hashed_up.clone()]),
        ("rm -rf of parent (child made with the brick down)", "rm -rf \"$M/parent\"".to_string(), vec!["parent".to_string(), "parent/child".to_string()]),
    ] {
        let out = mount::attempt(&ctx, &client, &m.path, &line, Duration::from_secs(60)).await?;
        ensure!(!out.success(), "{what} succeeded with brick #{DOWN} down");
        ensure!(out.stderr_str().contains("Transport endpoint is not connected"), "{what} should fail with ENOTCONN: {}", out.stderr_str().trim());
        for d in &dirs {
            let on = holders(&ctx, &vol, d).await?;
            ensure!(live.iter().all(|i| on.contains(i)), "{d} should still be on the live bricks {live:?} after the failed {what}, found on {on:?}");
        }
    }

    brick::bring_back(&ctx, &vol).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    ctx.sh(&client, format!("cd {} && rmdir {hashed_down} {hashed_up} && rm -rf parent", m.path)).await?;
    for d in [hashed_down.as_str(), hashed_up.as_str(), "parent"] {
        ensure_eq!(holders(&ctx, &vol, d).await?, Vec::<usize>::new(), "bricks still holding {d} after its removal");
    }
    ensure_eq!(ctx.sh(&client, format!("ls -A {}", m.path)).await?.trim(), "", "entries left on the mount");
    Ok(())
}
