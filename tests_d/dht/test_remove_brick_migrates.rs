//! `remove-brick start` migrates a brick's files to the others: `remove-brick status` (XML) ends
//! `completed` on the brick's node with as many files moved as the brick held and no failure;
//! after `commit` the volume has two bricks, the removed brick holds no data file, the remaining
//! layout covers the hash space, and every file reads back with its checksum.
//!
//! A `commit` before any `start` is refused ("not decommissioned") and changes nothing.
//!
//! Ported from GlusterFS `tests/bugs/glusterd/bug-857330/normal.t` (remove-brick start, status
//! until completed, commit) and `tests/bugs/glusterd/remove-brick-testcases.t` (commit without
//! start is refused as not decommissioned), checking the data as glusto-tests' dht suite does.
use crate::prelude::*;

pub const CASE: Case = Case::new(701, "remove_brick_migrates", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let mut files = io::files("f", 30, 48 << 10);
    files.extend(io::files("d/g", 15, 16 << 10));
    let sums = io::write_files(&ctx, &client, &m.path, &files).await?;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;
    let gone = &vol.bricks[2];
    let held = io::brick_files(&ctx, &gone.node, &gone.path).await?;
    ensure!(!held.is_empty(), "brick #2 holds no file to migrate; choose more files");

    let early = gluster(&ctx, &vol.server, ["volume", "remove-brick", vol.name.as_str(), &gone.spec(), "commit"]).await;
    match early {
        Ok(out) => return Err(TestError::Check(format!("remove-brick commit without start was accepted: {out}"))),
        Err(e) => ensure!(e.to_string().contains("decommissioned"), "commit without start refused for another reason: {e}"),
    }
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 3, "bricks after the refused commit");

    dht::remove_brick_start(&ctx, &vol, &[2]).await?;
    let p = dht::wait_remove_brick(&ctx, &vol, &[2], Duration::from_secs(240)).await?;
    ensure_eq!(dht::total_failures(&p), 0, "migration failures");
    ensure!(p.iter().all(|n| n.status == "completed"), "remove-brick status: {p:?}");
    ensure_eq!(dht::total_files(&p), held.len() as u64, "files migrated off brick #2");
    let left_before_commit = io::brick_files(&ctx, &gone.node, &gone.path).await?;
    ensure!(left_before_commit.is_empty(), "data still on the brick being removed: {left_before_commit:?}");

    let vol = dht::remove_brick_commit(&ctx, &vol, &[2]).await?;
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 2, "bricks after commit");
    let mut total = 0;
    for b in &vol.bricks {
        total += io::brick_files(&ctx, &b.node, &b.path).await?.len();
    }
    ensure_eq!(total, files.len(), "data files on the remaining bricks");
    dht::ensure_layout_complete(&ctx, &vol, "d").await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;
    Ok(())
}
