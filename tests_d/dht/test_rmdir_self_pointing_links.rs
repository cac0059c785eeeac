//! A directory tree whose stale DHT link files point at the very subvolume they sit on can still be
//! removed: after renames (link files), a `remove-brick start` that completes and a `stop`, every
//! link file left on the brick is made to name its own subvolume in
//! `trusted.glusterfs.dht.linkto`; the mount still lists all 200 files, and `rm -rf` of the tree
//! through the mount then succeeds and leaves nothing of it on the mount or on any brick.
//!
//! Ported from glusto-tests
//! `tests/functional/dht/test_delete_dir_with_self_pointing_linkto_files.py` (files renamed in
//! dir0/dir1/dir2, remove-brick start, completed, stop, the brick's link files set to point to
//! themselves, `rm -rf` from the mount succeeds).
use crate::prelude::*;

pub const CASE: Case = Case::new(737, "rmdir_self_pointing_links", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir -p {0}/dir0/dir1/dir2 && cd {0}/dir0/dir1/dir2 && for i in $(seq 1 200); do echo \"Test file $i\" > tfile-$i; done && for i in $(seq 1 200); do mv tfile-$i ntfile-$i; done", m.path)).await?;

    dht::remove_brick_start(&ctx, &vol, &[1]).await?;
    let p = dht::wait_remove_brick(&ctx, &vol, &[1], Duration::from_secs(240)).await?;
    ensure!(p.iter().all(|n| n.status == "completed"), "remove-brick status before the stop: {p:?}");
    dht::remove_brick_stop(&ctx, &vol, &[1]).await?;
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 2, "bricks after remove-brick stop");

    let b = &vol.bricks[1];
    let dir = format!("{}/dir0/dir1/dir2", b.path);
    let links = dht::link_files(&ctx, &b.node, &dir).await?;
    ensure!(!links.is_empty(), "no link file left on brick {} to point at itself", b.spec());
    let own = format!("{}-client-1", vol.name);
    ctx.sh(&b.node, format!("cd {dir} && for f in {}; do setfattr -n trusted.glusterfs.dht.linkto -v {own} \"$f\"; done", links.join(" "))).await?;
    let after = dht::link_files(&ctx, &b.node, &dir).await?;
    ensure_eq!(after.len(), links.len(), "link files on brick #1 after setting linkto");
    let sample = &links[0];
    let v = ctx.sh(&b.node, format!("getfattr --only-values -n trusted.glusterfs.dht.linkto {dir}/{sample} | tr -d '\\000'")).await?;
    ensure_eq!(v.trim(), own.as_str(), "linkto of {sample} on brick #1");
    ctx.step(format!("{} link files on brick #1 now point at {own}", links.len()));

    let listed = ctx.sh(&client, format!("ls {}/dir0/dir1/dir2 | grep -c '^ntfile-'", m.path)).await?;
    ensure_eq!(listed.trim(), "200", "renamed files listed through the mount before rm -rf");
    let rm = ctx.exec(&client, Command::shell(format!("rm -rf {}/dir0", m.path))).await?;
    ensure!(rm.success(), "rm -rf of the tree with self-pointing link files failed: {}", rm.stderr_str());
    let left = ctx.sh(&client, format!("ls -A {}", m.path)).await?;
    ensure!(left.trim().is_empty(), "entries left on the mount after rm -rf: {left}");
    for b in &vol.bricks {
        let there = ctx.exec(&b.node, Command::shell(format!("test -e {}/dir0", b.path))).await?.success();
        ensure!(!there, "dir0 is still on brick {} after rm -rf", b.spec());
    }
    Ok(())
}
