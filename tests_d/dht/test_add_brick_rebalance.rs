//! Adding a brick to a distribute volume and rebalancing moves files onto it: the rebalance
//! completes on every node with files migrated and none failed, the new brick holds data, every
//! file is on exactly one brick, the root and a subdirectory have a complete layout over the three
//! bricks, and the mount shows the same tree with the same contents as before.
//!
//! Ported from glusto-tests `tests/functional/dht/test_exericse_rebalance_command.py` (data on the
//! mount, add bricks, `rebalance start`, status until completed, the mount's checksum unchanged),
//! checking on the bricks where the files went.
use crate::prelude::*;

pub const CASE: Case = Case::new(700, "add_brick_rebalance", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let mut files = io::files("top", 20, 64 << 10);
    files.extend(io::files("dir1/f", 20, 32 << 10));
    let sums = io::write_files(&ctx, &client, &m.path, &files).await?;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 3, "bricks after add-brick");
    let p = dht::rebalance(&ctx, &vol, Duration::from_secs(240)).await?;
    ensure!(dht::total_files(&p) > 0, "rebalance migrated no file: {p:?}");

    let new = &vol.bricks[2];
    let on_new = io::brick_files(&ctx, &new.node, &new.path).await?;
    ensure!(!on_new.is_empty(), "the added brick {} holds no data after rebalance", new.spec());
    let mut total = 0;
    for b in &vol.bricks {
        total += io::brick_files(&ctx, &b.node, &b.path).await?.len();
    }
    ensure_eq!(total, files.len(), "data files over all bricks (each file exactly once)");
    for dir in ["/", "dir1"] {
        let r = dht::ensure_layout_complete(&ctx, &vol, dir).await?;
        ensure_eq!(r.len(), 3, "subvolumes with a range on {dir}");
    }
    io::verify(&ctx, &client, &m.path, &sums).await?;
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;
    Ok(())
}
