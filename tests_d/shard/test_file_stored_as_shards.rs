//! A file larger than the shard block size is stored as its base file (the first block, with the
//! `trusted.glusterfs.shard.block-size` and `file-size` xattrs) plus one shard per further block
//! in `/.shard/<gfid>.N`, each on every brick of one replica set, with the right count and
//! lengths; a file of one block or less has no shard. Read back through a fresh mount the files
//! give the checksums they were written with, and the mount shows their full size. The shard
//! xattrs are the bricks' business: the mount neither lists them nor lets them be changed.
//!
//! Ported from GlusterFS `tests/bugs/shard/bug-1468483.t` (a 100 MB file with 16 MB blocks is
//! the base file plus shards `.1`–`.6` on the brick), `tests/bugs/shard/bug-1248887.t` (the
//! block-size and file-size xattrs of the base file) and `tests/bugs/shard/bug-1260637.t` (the
//! shard xattrs are neither visible nor settable from the mount).
use crate::prelude::*;

pub const CASE: Case = Case::new(880, "file_stored_as_shards", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m, block) =
        shard::sharded_volume(&ctx, VolumeSpec::distributed_replicate(3, 2), "4MB").await?;
    let client = m.node.clone();
    let files = vec![
        ("big".to_string(), 22 * MIB + 12345),
        ("two-blocks".to_string(), 2 * block),
        ("dir/small".to_string(), 1000),
        ("dir/one-block".to_string(), block),
    ];
    let sums = io::write_files(&ctx, &client, &m.path, &files).await?;

    for (name, size) in &files {
        let l = shard::ensure_layout(&ctx, &vol, &m, name, *size, block).await?;
        let want = size.div_ceil(block).saturating_sub(1);
        ensure_eq!(
            l.shards.by_index.len() as u64,
            want,
            "shards of {name} ({size} bytes, blocks of {block})"
        );
    }

    ctx.step("read the files back through a fresh mount");
    mount::unmount(&ctx, &m).await?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    for (name, size) in &files {
        let got = fileops::stat(&ctx, &client, &format!("{}/{name}", m.path), "%s").await?;
        ensure_eq!(got, size.to_string(), "size of {name} on the mount");
    }

    ctx.step("the shard xattrs are hidden from the mount and cannot be set through it");
    let listed = mount::attempt(
        &ctx,
        &client,
        &m.path,
        "getfattr -d -m . -e hex \"$M/big\" 2>&1",
        Duration::from_secs(30),
    )
    .await?;
    ensure!(
        !listed.stdout_str().contains("shard"),
        "the mount lists shard xattrs of big: {}",
        listed.stdout_str()
    );
    for key in ["block-size", "file-size"] {
        let line = format!("setfattr -n trusted.glusterfs.shard.{key} -v 123 \"$M/big\"");
        let out = mount::attempt(&ctx, &client, &m.path, &line, Duration::from_secs(30)).await?;
        ensure!(
            !out.success() && out.stderr_str().contains("Operation not permitted"),
            "setting trusted.glusterfs.shard.{key} through the mount should fail with EPERM: \
             exit {:?}, {}",
            out.status,
            out.stderr_str().trim()
        );
    }
    shard::ensure_layout(&ctx, &vol, &m, "big", 22 * MIB + 12345, block).await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
