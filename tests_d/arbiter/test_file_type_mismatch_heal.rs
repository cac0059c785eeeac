//! Heal of names whose type changed: with a data brick of each set down, files are deleted and
//! directories made under the same names. The returned brick still holds regular files there;
//! heal replaces them with directories on it (and on nothing else), so that afterwards every
//! brick of each set, arbiter included, agrees with the mount, the names are directories on the
//! brick that was down, and nothing is pending.
//!
//! Ported from glusto-tests `tests/functional/arbiter/test_self_heal_differing_in_file_type.py`
//! (files in a two-level tree, bricks of a set down, arequal unchanged, `rm -f` and `mkdir` of the
//! same names, bricks back, heal, no split-brain, arequal equal). Runs on 1 x (2 + 1) and
//! 2 x (2 + 1).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(508, "file_type_mismatch_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::ARBITER)
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = arbiter::mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let names: Vec<String> = (1..=2)
        .flat_map(|i| (1..=2).flat_map(move |j| (1..=3).map(move |k| format!("l1_{i}/l2_{j}/test.{k}"))))
        .collect();
    let specs: Vec<(String, u64)> = names.iter().map(|n| (n.clone(), 2048)).collect();
    io::write_files(&ctx, &client, &m.path, &specs).await?;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;
    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;

    let p = &m.path;
    ctx.sh(
        &client,
        format!("cd {p} && for n in {}; do rm -f $n && mkdir $n; done", names.join(" ")),
    )
    .await?;
    let changed = tree::of_mount(&ctx, &m, Scope::FULL).await?;
    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    tree::ensure_same(&changed, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;
    arbiter::ensure_healed(&ctx, &vol, &m).await?;
    for &d in &down {
        let b = &vol.bricks[d];
        let files = io::brick_files(&ctx, &b.node, &b.path).await?;
        ensure!(files.is_empty(), "{} still holds regular files after heal: {files:?}", b.spec());
        let dirs = ctx
            .sh(&b.node, format!("cd {} && ls -d l1_*/l2_*/test.* | wc -l", b.path))
            .await?;
        ensure_eq!(dirs.trim(), names.len().to_string(), "test.* directories on {}", b.spec());
    }
    Ok(())
}
