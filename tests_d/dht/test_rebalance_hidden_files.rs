//! Rebalance migrates hidden files (names starting with a dot) like any other: after `add-brick`
//! and a rebalance that completes without failures, hidden files at the root, in a hidden
//! directory and in a plain one are spread over the added brick too, each is on exactly one
//! brick, every one reads back with its checksum and the mount shows the same tree as before
//! (hidden directories included, with a complete layout over the three bricks).
//!
//! Ported from glusto-tests `tests/functional/dht/test_rebalance_with_hidden_files.py` (hidden
//! files on the mount, add-brick, rebalance to completion, the checksum unchanged), checked on the
//! bricks.
use crate::prelude::*;

pub const CASE: Case = Case::new(721, "rebalance_hidden_files", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {p}/.hdir {p}/dir", p = m.path)).await?;
    let mut files = io::files(".top", 20, 32 << 10);
    files.extend(io::files(".hdir/.f", 20, 16 << 10));
    files.extend(io::files("dir/.f", 20, 16 << 10));
    let sums = io::write_files(&ctx, &client, &m.path, &files).await?;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let p = dht::rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure!(dht::total_files(&p) > 0, "rebalance migrated no file: {p:?}");

    let mut all = Vec::new();
    for b in &vol.bricks {
        all.extend(io::brick_files(&ctx, &b.node, &b.path).await?);
    }
    let new = &vol.bricks[2];
    let on_new = io::brick_files(&ctx, &new.node, &new.path).await?;
    for dir in ["", ".hdir/", "dir/"] {
        let hidden = |n: &String| n.strip_prefix(dir).is_some_and(|r| r.starts_with('.') && !r.contains('/'));
        ensure!(on_new.iter().any(hidden), "no hidden file of /{dir} was migrated to the added brick: {on_new:?}");
    }
    all.sort();
    let mut want: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    want.sort();
    ensure_eq!(all, want, "data files over all bricks (each hidden file exactly once)");
    for dir in [".hdir", "dir"] {
        let r = dht::ensure_layout_complete(&ctx, &vol, dir).await?;
        ensure_eq!(r.len(), 3, "subvolumes with a range on {dir}");
    }
    io::verify(&ctx, &client, &m.path, &sums).await?;
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;
    Ok(())
}
