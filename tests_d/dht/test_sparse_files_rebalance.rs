//! Sparse files keep their holes when rebalance migrates them: after add-brick and `rebalance
//! start force`, the files that moved to the new brick have the same contents and apparent size
//! while taking only a few blocks on it, and every file reads back with its checksum.
//!
//! Ported from GlusterFS `tests/basic/distribute/sparse_file_rebalance.t` (sparse files with
//! 10 KiB of data far into them, add-brick, `rebalance start force`, the migrated copy is the same)
//! and glusto-tests `tests/functional/dht/test_rebalance_files_with_holes.py` (files with holes,
//! add-brick, rebalance completes).
use crate::prelude::*;

pub const CASE: Case = Case::new(707, "sparse_files_rebalance", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

const APPARENT: u64 = 4 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let names: Vec<String> = (0..8).map(|i| format!("sparse-{i}")).collect();
    // 10 KiB of data near the start and near the end of each file, the rest a hole.
    let mut line = format!("set -e; cd {}", m.path);
    for n in &names {
        line.push_str(&format!(
            "; truncate -s {APPARENT} {n}; dd if=/dev/urandom of={n} bs=10240 count=1 seek=4096 oflag=seek_bytes conv=notrunc status=none\
             ; dd if=/dev/urandom of={n} bs=10240 count=1 seek={} oflag=seek_bytes conv=notrunc status=none",
            APPARENT - 20480
        ));
    }
    ctx.sh(&client, line).await?;
    let sums = io::checksums(&ctx, &client, &m.path, &names).await?;

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    dht::rebalance_start(&ctx, &vol, dht::Rebalance::Force).await?;
    let p = dht::wait_rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure!(p.iter().all(|n| n.status == "completed") && dht::total_failures(&p) == 0, "rebalance force: {p:?}");

    let new = &vol.bricks[2];
    let moved = io::brick_files(&ctx, &new.node, &new.path).await?;
    ensure!(!moved.is_empty(), "no sparse file was migrated to the new brick");
    for f in &moved {
        let path = format!("{}/{f}", new.path);
        let size: u64 = fileops::stat(&ctx, &new.node, &path, "%s").await?.trim().parse().unwrap_or(0);
        ensure_eq!(size, APPARENT, "apparent size of migrated {f}");
        let used = fileops::allocated(&ctx, &new.node, &path).await?;
        ensure!(used < 256 << 10, "migrated {f} takes {used} bytes on the new brick: its holes were filled");
    }
    let after = io::checksums(&ctx, &client, &m.path, &names).await?;
    ensure_eq!(after, sums, "checksums of the sparse files after rebalance");
    Ok(())
}
