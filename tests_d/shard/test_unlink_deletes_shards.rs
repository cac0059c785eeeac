//! Unlinking a sharded file removes its base file at once and its shards in the background:
//! `/.shard/.remove_me` exists on the bricks, and within a bounded wait no brick holds a shard
//! of the file nor its marker there. Removing a directory of sharded files does the same for
//! each of them, and the shards of the files left alone are untouched and still read back.
//!
//! Ported from GlusterFS `tests/bugs/shard/unlinks-and-renames.t` (unlink: the `.remove_me`
//! directory appears and the shards and marker are gone within a few seconds) and
//! `tests/bugs/shard/bug-1258334.t` (unlinks of files with shards written past a hole).
use crate::prelude::*;

pub const CASE: Case = Case::new(882, "unlink_deletes_shards", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m, block) =
        shard::sharded_volume(&ctx, VolumeSpec::distributed_replicate(3, 2), "4MB").await?;
    let client = m.node.clone();
    let files = vec![
        ("gone".to_string(), 10 * MIB),
        ("kept".to_string(), 9 * MIB + 5),
        ("dir/a".to_string(), 12 * MIB),
        ("dir/b".to_string(), 5 * MIB),
    ];
    let sums = io::write_files(&ctx, &client, &m.path, &files).await?;
    let mut gfids = Vec::new();
    for (name, size) in &files {
        let l = shard::ensure_layout(&ctx, &vol, &m, name, *size, block).await?;
        ensure!(!l.shards.is_empty(), "{name} ({size} bytes) has no shard");
        gfids.push(l.gfid);
    }
    let kept_before = shard::shards(&ctx, &vol, &gfids[1]).await?;

    ctx.step("unlink gone");
    ctx.sh(&client, format!("rm {}/gone", m.path)).await?;
    let entries = dht::entries(&ctx, &vol, "gone").await?;
    ensure!(
        entries.iter().all(|e| *e == dht::Entry::Absent),
        "the base file of gone is still on a brick after the unlink: {entries:?}"
    );
    for b in &vol.bricks {
        let dir = format!("{}/.shard/.remove_me", b.path);
        let out = ctx
            .exec(&b.node, Command::new("test").args(["-d", dir.as_str()]))
            .await?;
        ensure!(
            out.success(),
            "{}:{dir} does not exist after unlinking a sharded file",
            b.node.name()
        );
    }
    shard::wait_deleted(&ctx, &vol, &gfids[0], Duration::from_secs(60)).await?;
    mount::ensure_fails(&ctx, &m, "stat \"$M/gone\"", &["No such file or directory"]).await?;

    ctx.step("remove the directory holding two sharded files");
    ctx.sh(&client, format!("rm -rf {}/dir", m.path)).await?;
    for g in &gfids[2..] {
        shard::wait_deleted(&ctx, &vol, g, Duration::from_secs(60)).await?;
    }

    ctx.step("the file left alone keeps its shards and its data");
    let kept_after = shard::shards(&ctx, &vol, &gfids[1]).await?;
    ensure_eq!(kept_after, kept_before, "shards of kept after the other unlinks");
    io::verify(&ctx, &client, &m.path, &sums[1..2]).await?;
    Ok(())
}
