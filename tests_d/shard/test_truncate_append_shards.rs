//! Truncating and appending change a sharded file's shard set to what its new size needs:
//! truncated inside the second block, the shards past it are deleted and the last one is cut;
//! appended past several blocks, new shards appear with the appended data; extended by
//! `truncate` (a hole), only the size xattr grows and no shard is written for the hole. After
//! each step the file reads back as a local reference copy that went through the same steps.
//!
//! Ported from GlusterFS `tests/bugs/shard/bug-1256580.t` (writes past and inside the size of a
//! sharded file give the right size), `tests/bugs/shard/unlinks-and-renames.t` (a truncated
//! file has no shard past its size) and `tests/bugs/shard/shard-append-test.t` (appends to a
//! sharded file land in new shards and read back).
use crate::prelude::*;

pub const CASE: Case = Case::new(881, "truncate_append_shards", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m, block) = shard::sharded_volume(&ctx, VolumeSpec::replicate(3), "4MB").await?;
    let client = m.node.clone();
    let f = format!("{}/f", m.path);
    let reference = format!("/tmp/{}", ctx.unique("shard-ref"));
    ctx.defer(Cleanup::Command {
        node: client.clone(),
        command: Command::new("rm").args(["-f", reference.as_str()]),
    });

    let size = 13 * MIB + 777;
    io::write_files(&ctx, &client, &m.path, &[("f".to_string(), size)]).await?;
    ctx.sh(&client, format!("cp {f} {reference}")).await?;
    let first = shard::ensure_layout(&ctx, &vol, &m, "f", size, block).await?;
    ensure_eq!(first.shards.indices(), vec![1, 2, 3], "shards of a 13 MiB file");
    same_as_reference(&ctx, &client, &f, &reference).await?;

    ctx.step("truncate to 5 MiB: shards 2 and 3 go, shard 1 keeps 1 MiB");
    let size = 5 * MIB;
    fileops::truncate(&ctx, &client, &f, size).await?;
    fileops::truncate(&ctx, &client, &reference, size).await?;
    let l = shard::ensure_layout(&ctx, &vol, &m, "f", size, block).await?;
    ensure_eq!(l.shards.indices(), vec![1], "shards after truncating to 5 MiB");
    ensure_eq!(l.gfid, first.gfid, "gfid after the truncate");
    same_as_reference(&ctx, &client, &f, &reference).await?;

    ctx.step("append 9 MiB: shard 1 fills up, shards 2 and 3 are new");
    let extra = format!("{reference}.extra");
    ctx.sh(
        &client,
        format!(
            "head -c {} /dev/urandom > {extra} && cat {extra} >> {f} && cat {extra} >> {reference} \
             && rm -f {extra}",
            9 * MIB
        ),
    )
    .await?;
    let size = 14 * MIB;
    let l = shard::ensure_layout(&ctx, &vol, &m, "f", size, block).await?;
    ensure_eq!(l.shards.indices(), vec![1, 2, 3], "shards after appending 9 MiB");
    same_as_reference(&ctx, &client, &f, &reference).await?;

    ctx.step("extend to 30 MiB with truncate: a hole, no new shard");
    let size = 30 * MIB;
    fileops::truncate(&ctx, &client, &f, size).await?;
    fileops::truncate(&ctx, &client, &reference, size).await?;
    let bases = shard::bases(&ctx, &vol, "f").await?;
    ensure!(
        !bases.is_empty()
            && bases
                .iter()
                .all(|b| b.file_size.map(|s| s.size) == Some(size)),
        "file-size xattr of the base files after extending to {size}: {bases:?}"
    );
    let s = shard::shards(&ctx, &vol, &l.gfid).await?;
    ensure_eq!(s.indices(), vec![1, 2, 3], "shards after extending with a hole");
    let got = fileops::stat(&ctx, &client, &f, "%s").await?;
    ensure_eq!(got, size.to_string(), "size of f on the mount after extending");
    same_as_reference(&ctx, &client, &f, &reference).await?;
    Ok(())
}

/// The file on the mount and the reference copy have the same contents.
async fn same_as_reference(
    ctx: &Ctx,
    client: &Node,
    f: &str,
    reference: &str,
) -> Result<(), TestError> {
    let out = ctx.sh(client, format!("sha256sum {f} {reference}")).await?;
    let sums: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    ensure!(
        sums.len() == 2 && sums[0] == sums[1],
        "{f} does not read back as its reference copy: {out}"
    );
    Ok(())
}
