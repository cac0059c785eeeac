//! Deleting through the mount empties every brick: files are created and renamed (the old names
//! gone from every brick, the new ones on the data bricks and, empty, on the arbiter), then
//! deleted. Afterwards no brick, arbiter included, holds a name, and each brick's
//! `.glusterfs/indices/xattrop` has no entry left but its base file, so no heal is pending.
//!
//! Ported from glusto-tests `tests/functional/arbiter/test_data_delete.py` (files created and
//! renamed, old names absent on the bricks, files deleted from the mount, the xattrop index and
//! the brick paths empty). Runs on 1 x (2 + 1) and 2 x (2 + 1).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(518, "delete_leaves_bricks_empty", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::ARBITER)
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = arbiter::mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("file", 10, 8192)).await?;
    for s in &sums {
        let p = format!("{}/{}", m.path, s.name);
        fileops::rename(&ctx, &client, &p, &format!("{p}.renamed")).await?;
    }
    let mut held = Vec::new();
    for b in &vol.bricks {
        held.extend(io::brick_files(&ctx, &b.node, &b.path).await?);
    }
    ensure!(
        held.iter().all(|f| f.ends_with(".renamed")),
        "old names are still on the bricks: {held:?}"
    );
    ensure_eq!(held.len(), 3 * sums.len(), "renamed copies over all bricks");
    ensure_eq!(arbiter::ensure_no_data(&ctx, &vol).await?, sums.len(), "names on the arbiters");

    ctx.sh(&client, format!("rm -f {}/file-*.renamed", m.path)).await?;
    for b in &vol.bricks {
        let left = io::brick_files(&ctx, &b.node, &b.path).await?;
        ensure!(left.is_empty(), "{} still holds {left:?} after the delete", b.spec());
        let index = ctx
            .sh(&b.node, format!("ls {}/.glusterfs/indices/xattrop", b.path))
            .await?;
        let entries: Vec<&str> = index.lines().filter(|l| !l.starts_with("xattrop-")).collect();
        ensure!(entries.is_empty(), "{} has xattrop index entries {entries:?}", b.spec());
    }
    ensure_eq!(heal::pending_count(&ctx, &vol).await?, 0, "entries pending heal");
    Ok(())
}
