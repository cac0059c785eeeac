//! Conservative merge of a directory: on replica 2 with quorum and every heal off, each brick in
//! turn misses files created in the same directory, so both copies of the directory blame each
//! other for entries. That is not a split-brain: heal merges the two sets of names, and both
//! bricks end up with every file, with its contents, and nothing blamed.
//!
//! Ported from GlusterFS `tests/basic/afr/granular-esh/conservative-merge.t` and glusto-tests
//! `tests/functional/afr/test_conservative_merge_of_files_heal_command.py` (files created on each
//! brick while the other is down, heal, no split-brain, the union on both bricks).
use crate::prelude::*;

pub const CASE: Case = Case::new(430, "conservative_merge", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = heal::unguarded_volume(&ctx, VolumeSpec::replicate(2)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {}/dir", m.path)).await?;

    let mut all = Vec::new();
    for (down, prefix) in [(0, "dir/on-b1"), (1, "dir/on-b0")] {
        brick::kill(&ctx, &vol, down).await?;
        all.extend(io::write_files(&ctx, &client, &m.path, &io::files(prefix, 5, 10000)).await?);
        brick::bring_back(&ctx, &vol).await?;
        brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    }
    let (b0, b1) = (&vol.bricks[0], &vol.bricks[1]);
    let p0 = xattr::on_brick(&ctx, b0, "dir").await?.afr(&vol.name, 1).unwrap_or_default();
    let p1 = xattr::on_brick(&ctx, b1, "dir").await?.afr(&vol.name, 0).unwrap_or_default();
    ensure!(p0.entry > 0 && p1.entry > 0, "dir should blame the other brick for entries on both: b0 {p0:?}, b1 {p1:?}");
    for (b, has) in [(b0, "dir/on-b0"), (b1, "dir/on-b1")] {
        let files = io::brick_files(&ctx, &b.node, &b.path).await?;
        ensure!(files.iter().all(|f| f.starts_with(has)), "{} should hold only {has}-*: {files:?}", b.spec());
    }

    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    for b in [b0, b1] {
        io::verify(&ctx, &b.node, &b.path, &all).await?;
        let x = xattr::on_brick(&ctx, b, "dir").await?;
        ensure!(x.afr_clean(&vol.name), "dir on {} still blames after the merge: {:?}", b.spec(), x.afr_all(&vol.name));
    }
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
