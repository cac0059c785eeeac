//! Two volumes expanded and rebalanced at the same time do not disturb each other: both
//! rebalances complete on every node without failures, each added brick gets data of its own volume
//! only, every file is on exactly one brick of its volume, and each mount shows the same tree with
//! the same contents as before.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rebalance_two_volumes.py` (two volumes with
//! data, both expanded, rebalance started on both, both complete, the mounts' checksums
//! unchanged), with the placement checked on the bricks.
use crate::prelude::*;

pub const CASE: Case = Case::new(738, "rebalance_two_volumes", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (va, ma) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let (vb, mb) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = ma.node.clone();
    let sa = io::write_files(&ctx, &client, &ma.path, &io::files("a/fa", 60, 16 << 10)).await?;
    let sb = io::write_files(&ctx, &client, &mb.path, &io::files("b/fb", 60, 16 << 10)).await?;
    let ta = tree::of_mount(&ctx, &ma, Scope::FULL).await?;
    let tb = tree::of_mount(&ctx, &mb, Scope::FULL).await?;

    let s2 = ctx.server(2)?;
    let va = dht::add_bricks(&ctx, &va, std::slice::from_ref(&s2), &[&ma]).await?;
    let vb = dht::add_bricks(&ctx, &vb, &[s2], &[&mb]).await?;
    dht::rebalance_start(&ctx, &va, dht::Rebalance::Full).await?;
    dht::rebalance_start(&ctx, &vb, dht::Rebalance::Full).await?;
    for v in [&va, &vb] {
        let p = dht::wait_rebalance(&ctx, v, Duration::from_secs(300)).await?;
        ensure_eq!(dht::total_failures(&p), 0, "rebalance failures of {}: {p:?}", v.name);
        ensure!(p.iter().all(|n| n.status == "completed"), "rebalance of {} did not complete: {p:?}", v.name);
        ensure!(dht::total_files(&p) > 0, "the rebalance of {} moved no file", v.name);
    }

    for (v, sums, prefix) in [(&va, &sa, "a/fa"), (&vb, &sb, "b/fb")] {
        let mut on = Vec::new();
        for (i, b) in v.bricks.iter().enumerate() {
            let files = io::brick_files(&ctx, &b.node, &b.path).await?;
            ensure!(files.iter().all(|f| f.starts_with(prefix)), "brick #{i} of {} holds another volume's files: {files:?}", v.name);
            if i == 2 {
                ensure!(!files.is_empty(), "the brick added to {} got no data", v.name);
            }
            on.extend(files);
        }
        on.sort();
        let mut want: Vec<String> = sums.iter().map(|f| f.name.clone()).collect();
        want.sort();
        ensure_eq!(on, want, "data files over the bricks of {} (each exactly once)", v.name);
    }
    dht::wait_client_up(&ctx, &ma, &va, Duration::from_secs(60)).await?;
    dht::wait_client_up(&ctx, &mb, &vb, Duration::from_secs(60)).await?;
    io::verify(&ctx, &client, &ma.path, &sa).await?;
    io::verify(&ctx, &client, &mb.path, &sb).await?;
    tree::ensure_same(&ta, &tree::of_mount(&ctx, &ma, Scope::FULL).await?)?;
    tree::ensure_same(&tb, &tree::of_mount(&ctx, &mb, Scope::FULL).await?)?;
    Ok(())
}
