//! Renaming a sharded file, within its directory and into another one, keeps its gfid and so
//! its shards: the same shard files, byte for byte, and the same contents through the mount.
//! Renaming a sharded file over another sharded file replaces it: the destination's old shards
//! are deleted in the background, the renamed file's shards stay.
//!
//! Ported from GlusterFS `tests/bugs/shard/unlinks-and-renames.t` (renames of sharded files,
//! with and without an existing destination: the overwritten file's shards are removed through
//! `.remove_me`) and `tests/bugs/shard/bug-1258334.t` (`mv -f` over a sharded file).
use crate::prelude::*;

pub const CASE: Case = Case::new(883, "rename_keeps_shards", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m, block) =
        shard::sharded_volume(&ctx, VolumeSpec::distributed_replicate(3, 2), "4MB").await?;
    let client = m.node.clone();
    let files = vec![
        ("src".to_string(), 11 * MIB + 3),
        ("over".to_string(), 9 * MIB),
        ("target".to_string(), 13 * MIB),
    ];
    let sums = io::write_files(&ctx, &client, &m.path, &files).await?;
    let mut layouts = Vec::new();
    for (name, size) in &files {
        layouts.push(shard::ensure_layout(&ctx, &vol, &m, name, *size, block).await?);
    }
    ctx.sh(&client, format!("mkdir {}/sub", m.path)).await?;

    ctx.step("rename src to renamed, then into sub/");
    let p = |rel: &str| format!("{}/{rel}", m.path);
    fileops::rename(&ctx, &client, &p("src"), &p("renamed")).await?;
    fileops::rename(&ctx, &client, &p("renamed"), &p("sub/moved")).await?;
    let l = shard::ensure_layout(&ctx, &vol, &m, "sub/moved", files[0].1, block).await?;
    ensure_eq!(l.gfid, layouts[0].gfid, "gfid of src after two renames");
    ensure_eq!(l.shards, layouts[0].shards, "shards of src after two renames");
    let old = dht::entries(&ctx, &vol, "src").await?;
    ensure!(
        old.iter().all(|e| *e == dht::Entry::Absent),
        "the old name src is still on a brick: {old:?}"
    );
    let mut moved = sums[0].clone();
    moved.name = "sub/moved".into();
    io::verify(&ctx, &client, &m.path, &[moved]).await?;

    ctx.step("rename over over target: target's own shards go, over's stay");
    ctx.sh(&client, format!("mv -f {} {}", p("over"), p("target")))
        .await?;
    shard::wait_deleted(&ctx, &vol, &layouts[2].gfid, Duration::from_secs(60)).await?;
    let l = shard::ensure_layout(&ctx, &vol, &m, "target", files[1].1, block).await?;
    ensure_eq!(l.gfid, layouts[1].gfid, "gfid of target after the rename over it");
    ensure_eq!(l.shards, layouts[1].shards, "shards of over, renamed to target");
    let mut target = sums[1].clone();
    target.name = "target".into();
    io::verify(&ctx, &client, &m.path, &[target]).await?;
    Ok(())
}
