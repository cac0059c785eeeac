//! Gfid heal: with a data brick of each set down, a directory tree is deleted through the mount
//! and made again with the same names (new gfids). The returned brick still has the old entries
//! under their old gfids; heal replaces them, after which every name has one gfid on every brick
//! of its set (arbiter included), the data bricks hold the new contents and nothing is pending.
//!
//! Ported from glusto-tests `tests/functional/arbiter/test_gfid_self_heal.py` (a deep tree
//! written, bricks down, the directory deleted and written again with the same names, bricks back,
//! heal, no split-brain, arequal of the mount equal before and after). Runs on 1 x (2 + 1) and
//! 2 x (2 + 1).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(507, "gfid_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::ARBITER)
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = arbiter::mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let root = format!("{}/test_compilation", m.path);
    fileops::deep_tree(&ctx, &client, &root, 2, 2, 2, 4096).await?;
    let old = xattr::gfid_on_mount(&ctx, &client, &format!("{root}/file0")).await?;

    brick::take_down(&ctx, &vol, Select::One).await?;
    ctx.sh(&client, format!("rm -rf {root}")).await?;
    fileops::deep_tree(&ctx, &client, &root, 2, 2, 2, 4096).await?;
    let new = xattr::gfid_on_mount(&ctx, &client, &format!("{root}/file0")).await?;
    ensure!(old != new, "file0 kept its gfid {old} through delete and create");
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;

    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;
    arbiter::ensure_healed(&ctx, &vol, &m).await?;
    let copies: Vec<String> = xattr::on_bricks(&ctx, &vol, "test_compilation/file0")
        .await?
        .iter()
        .filter(|x| x.get("trusted.glusterfs.dht.linkto").is_none())
        .filter_map(xattr::Xattrs::gfid)
        .collect();
    ensure_eq!(copies.len(), 3, "bricks holding test_compilation/file0 (DHT link files aside)");
    ensure!(
        copies.iter().all(|g| *g == new),
        "test_compilation/file0 has gfids {copies:?} on its bricks, want {new} everywhere"
    );
    Ok(())
}
