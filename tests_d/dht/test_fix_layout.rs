//! `rebalance fix-layout` gives an added brick a share of every directory's hash range without
//! moving data: it completes, each directory's layout covers the hash space over the three bricks
//! with a non-empty range on the new one, every file stays on the brick it was on, the new brick
//! holds no data, and new files created afterwards do land on it.
//!
//! Ported from glusto-tests `tests/functional/dht/test_add_brick_replace_brick_fix_layout.py`
//! (add bricks, fix-layout, every brick has its own `trusted.glusterfs.dht` range) and
//! `test_exericse_rebalance_command.py::test_fix_layout_start` (fix-layout completes, no file is
//! migrated, the data is unchanged).
use crate::prelude::*;

pub const CASE: Case = Case::new(702, "fix_layout_moves_no_data", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let mut files = io::files("a/f", 20, 8 << 10);
    files.extend(io::files("a/b/g", 10, 8 << 10));
    let sums = io::write_files(&ctx, &client, &m.path, &files).await?;
    let mut placed = Vec::new();
    for b in &vol.bricks {
        placed.push(io::brick_files(&ctx, &b.node, &b.path).await?);
    }

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    dht::rebalance_start(&ctx, &vol, dht::Rebalance::FixLayout).await?;
    let p = dht::wait_rebalance(&ctx, &vol, Duration::from_secs(240)).await?;
    ensure!(p.iter().all(|n| n.status.contains("completed")), "fix-layout status: {p:?}");
    ensure_eq!(dht::total_files(&p), 0, "files moved by fix-layout");

    for dir in ["/", "a", "a/b"] {
        let r = dht::ensure_layout_complete(&ctx, &vol, dir).await?;
        ensure!(r.len() == 3 && r[2].stop > r[2].start, "the new brick has no range on {dir}: {r:?}");
    }
    for (i, want) in placed.iter().enumerate() {
        let b = &vol.bricks[i];
        ensure_eq!(&io::brick_files(&ctx, &b.node, &b.path).await?, want, "files on brick #{i} after fix-layout");
    }
    let new = &vol.bricks[2];
    ensure!(io::brick_files(&ctx, &new.node, &new.path).await?.is_empty(), "fix-layout moved data onto the new brick");
    io::verify(&ctx, &client, &m.path, &sums).await?;
    // New names hash over all three subvolumes now.
    let by = dht::names_by_subvol(&ctx, &vol, &m, "a", "new", 30).await?;
    ensure!(!by[2].is_empty(), "no new file of 30 was created on the added brick: {by:?}");
    Ok(())
}
