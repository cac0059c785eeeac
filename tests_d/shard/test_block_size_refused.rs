//! `features.shard-block-size` accepts sizes from 4 MB to 4 TB and refuses the rest with the
//! reason: below the minimum and above the maximum as out of range, words and negative numbers
//! as an invalid number format. A refused value leaves the previous one in place, and a new
//! accepted size applies to files created afterwards while files already written keep the block
//! size they were created with (it is recorded in their base file).
//!
//! Ported from GlusterFS `tests/bugs/shard/bug-1261773.t` (the shard options are known to
//! glusterd) and the option table of `xlators/features/shard` (block size bounds 4 MB–4 TB),
//! with the recorded block size of `tests/bugs/shard/bug-1248887.t`.
use crate::prelude::*;

pub const CASE: Case = Case::new(885, "block_size_refused", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m, block) = shard::sharded_volume(&ctx, VolumeSpec::replicate(3), "4MB").await?;
    let refused = [
        ("1MB", "out of range"),
        ("3MB", "out of range"),
        ("0", "out of range"),
        ("5TB", "out of range"),
        ("abc", "invalid number format"),
        ("-4MB", "invalid number format"),
    ];
    for (value, why) in refused {
        let a = shard::block_size_attempt(&ctx, &vol, value).await?;
        ensure!(
            !a.ok && a.says(why),
            "features.shard-block-size {value} should be refused as {why:?}: ok={}, {}",
            a.ok,
            a.message
        );
        let now = vol.get(&ctx, "features.shard-block-size").await?;
        ensure_eq!(
            shard::parse_size(&now),
            Some(block),
            "shard-block-size after the refused {value} ({now:?})"
        );
    }
    for value in ["4TB", "4194304"] {
        let a = shard::block_size_attempt(&ctx, &vol, value).await?;
        ensure!(a.ok, "features.shard-block-size {value} refused: {}", a.message);
    }

    ctx.step("files keep the block size they were created with");
    let client = m.node.clone();
    io::write_files(&ctx, &client, &m.path, &[("old".to_string(), 10 * MIB)]).await?;
    let new_block = shard::enable(&ctx, &vol, "8MB").await?;
    io::write_files(&ctx, &client, &m.path, &[("new".to_string(), 10 * MIB)]).await?;
    let old = shard::ensure_layout(&ctx, &vol, &m, "old", 10 * MIB, block).await?;
    ensure_eq!(old.shards.indices(), vec![1, 2], "shards of old (4 MiB blocks)");
    let new = shard::ensure_layout(&ctx, &vol, &m, "new", 10 * MIB, new_block).await?;
    ensure_eq!(new.shards.indices(), vec![1], "shards of new (8 MiB blocks)");
    ctx.step("appending to old still uses its 4 MiB blocks");
    fileops::append(&ctx, &client, &format!("{}/old", m.path), 3 * MIB).await?;
    let old = shard::ensure_layout(&ctx, &vol, &m, "old", 13 * MIB, block).await?;
    ensure_eq!(old.shards.indices(), vec![1, 2, 3], "shards of old after the append");
    Ok(())
}
