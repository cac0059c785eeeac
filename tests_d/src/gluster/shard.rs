//! Sharding (`features.shard`): turning it on with a block size, and what it leaves on the
//! bricks. A sharded file is its base file (the first block, under its own name, carrying
//! `trusted.glusterfs.shard.block-size` and `trusted.glusterfs.shard.file-size`) plus one file
//! per further block in the hidden `/.shard` directory of the volume, named `<gfid>.<N>` and
//! placed by DHT like any other name. An unlinked file's shards are deleted in the background:
//! a marker named by its gfid sits in `/.shard/.remove_me` until they are gone.
//!
//! The options go with the volume (the test created it, it is deleted at the end); sharding is
//! never turned off on a volume holding sharded files (their data would be cut at one block).
use std::collections::BTreeMap;
use std::time::Duration;

use gflab_agent::shell;

use super::mgmt::{self, Attempt};
use super::volume::Volume;
use super::xattr;
use super::{brick, wait_for, Poll};
use crate::ctx::Node;
use crate::{Ctx, TestError};

/// The smallest `features.shard-block-size` gluster accepts (4 MiB).
pub const MIN_BLOCK: u64 = 4 << 20;

/// Parses a gluster size (`4MB`, `64MB`, `4194304`, `1TB`; units are powers of 1024).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "K" => 1 << 10,
        "MB" | "M" => 1 << 20,
        "GB" | "G" => 1 << 30,
        "TB" | "T" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Turns sharding on for `vol` with `block` as `features.shard-block-size` (a gluster size such
/// as `"4MB"`), checks with `volume get` that both took effect, and returns the block size in
/// bytes. Sizes gluster would refuse are refused here before anything is set.
pub async fn enable(ctx: &Ctx, vol: &Volume, block: &str) -> Result<u64, TestError> {
    let want = parse_size(block)
        .filter(|b| *b >= MIN_BLOCK)
        .ok_or_else(|| {
            TestError::Check(format!(
                "shard block size {block:?} is not a size of at least 4MB"
            ))
        })?;
    ctx.step(format!(
        "sharding on for {} with blocks of {block}",
        vol.name
    ));
    vol.set(ctx, "features.shard", "on").await?;
    vol.set(ctx, "features.shard-block-size", block).await?;
    let on = vol.get(ctx, "features.shard").await?;
    let got = vol.get(ctx, "features.shard-block-size").await?;
    if on != "on" || parse_size(&got) != Some(want) {
        return Err(TestError::Check(format!(
            "after enabling sharding on {}: features.shard is {on:?}, shard-block-size {got:?} \
             (wanted on and {block})",
            vol.name
        )));
    }
    Ok(want)
}

/// The usual start of a shard scenario: creates `spec` (with `cluster.min-free-disk` at 1%, see
/// below), turns sharding on with blocks of `block` before the volume starts (so every file is sharded from its creation), starts it, waits for
/// its bricks and mounts it on the first client. Returns the block size in bytes with them.
pub async fn sharded_volume(
    ctx: &Ctx,
    spec: super::volume::VolumeSpec,
    block: &str,
) -> Result<(Volume, super::mount::Mount, u64), TestError> {
    let vol = super::volume::create(ctx, spec).await?;
    // The bricks share the node's disk with everything else: below `cluster.min-free-disk`
    // (10% by default) DHT puts new files (shards too) on another subvolume behind a link
    // file, and sharded I/O through such shards fails with ESTALE on 10.3. That is not what a
    // shard scenario checks, so the threshold is taken out of play.
    vol.set(ctx, "cluster.min-free-disk", "1%").await?;
    let bytes = enable(ctx, &vol, block).await?;
    vol.start_and_wait(ctx).await?;
    let m = super::mount::mount(ctx, &ctx.client(0)?, &vol).await?;
    Ok((vol, m, bytes))
}

/// `volume set VOL features.shard-block-size VALUE`, whatever gluster answers.
pub async fn block_size_attempt(
    ctx: &Ctx,
    vol: &Volume,
    value: &str,
) -> Result<Attempt, TestError> {
    mgmt::set_attempt(
        ctx,
        &vol.server,
        &vol.name,
        "features.shard-block-size",
        value,
    )
    .await
}

/// `trusted.glusterfs.shard.file-size` decoded: the file's size and its 512-byte blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSize {
    /// Logical size in bytes.
    pub size: u64,
    /// Allocated 512-byte blocks over every shard.
    pub blocks: u64,
}

impl FileSize {
    /// Decodes the xattr: four big-endian 64-bit words, size first and blocks third.
    pub fn decode(bytes: &[u8]) -> Option<FileSize> {
        if bytes.len() < 24 {
            return None;
        }
        let word = |i: usize| u64::from_be_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
        Some(FileSize {
            size: word(0),
            blocks: word(2),
        })
    }
}

/// The base file of a sharded file on one brick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// Brick index in the volume.
    pub brick: usize,
    /// Its length on the brick (at most one block).
    pub len: u64,
    /// `trusted.glusterfs.shard.block-size`.
    pub block_size: Option<u64>,
    /// `trusted.glusterfs.shard.file-size`.
    pub file_size: Option<FileSize>,
    /// `trusted.gfid`.
    pub gfid: Option<String>,
}

/// The base file of `rel` on every brick that has it as a regular file (DHT link files, empty
/// with mode `---------T`, left out).
pub async fn bases(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<Base>, TestError> {
    let mut out = Vec::new();
    for (i, b) in vol.bricks.iter().enumerate() {
        let p = shell::quote(&xattr::brick_path(b, rel));
        let o = ctx
            .exec(
                &b.node,
                gflab_agent::Command::shell(format!(
                    "test -f {p} && [ \"$(stat -c %A {p})\" != '---------T' ] && stat -c %s {p}"
                )),
            )
            .await?;
        if !o.success() {
            continue;
        }
        let len = parse_u64(&o.stdout_str(), &b.node, "stat -c %s")?;
        let x = xattr::on_brick(ctx, b, rel).await?;
        out.push(Base {
            brick: i,
            len,
            block_size: x
                .get("trusted.glusterfs.shard.block-size")
                .and_then(|v| <[u8; 8]>::try_from(v).ok())
                .map(u64::from_be_bytes),
            file_size: x
                .get("trusted.glusterfs.shard.file-size")
                .and_then(FileSize::decode),
            gfid: x.gfid(),
        });
    }
    Ok(out)
}

fn parse_u64(text: &str, node: &Node, command: &str) -> Result<u64, TestError> {
    text.trim().parse().map_err(|_| TestError::Parse {
        node: node.name().to_string(),
        command: command.to_string(),
        message: format!("not a number: {text:?}"),
    })
}

/// One copy of a shard on a brick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// Brick index in the volume.
    pub brick: usize,
    /// Its length.
    pub len: u64,
    /// sha256 of its contents.
    pub sha256: String,
}

/// A file's shards (`/.shard/<gfid>.N` on the bricks): N → its copies, by brick.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shards {
    /// Shard number → copies.
    pub by_index: BTreeMap<u64, Vec<Copy>>,
}

impl Shards {
    /// The shard numbers present on some brick, ascending.
    pub fn indices(&self) -> Vec<u64> {
        self.by_index.keys().copied().collect()
    }
    /// Whether no brick holds a shard of the file.
    pub fn is_empty(&self) -> bool {
        self.by_index.is_empty()
    }
    /// Shard number → length, when every copy of each shard has the same length and contents;
    /// otherwise the error says which shard differs where.
    pub fn agreed(&self) -> Result<BTreeMap<u64, u64>, TestError> {
        let mut out = BTreeMap::new();
        for (n, copies) in &self.by_index {
            let first = &copies[0];
            if let Some(c) = copies
                .iter()
                .find(|c| c.len != first.len || c.sha256 != first.sha256)
            {
                return Err(TestError::Check(format!(
                    "the copies of shard {n} differ: brick {} has {} bytes ({}), brick {} has {} \
                     bytes ({})",
                    first.brick, first.len, first.sha256, c.brick, c.len, c.sha256
                )));
            }
            out.insert(*n, first.len);
        }
        Ok(out)
    }
}

/// Every shard of the file with `gfid` on every brick (one shell loop per brick), with lengths
/// and checksums. DHT link files (empty, mode `---------T`: DHT puts one on a shard's hashed
/// subvolume when the data went elsewhere, e.g. with the hashed brick under
/// `cluster.min-free-disk`) are left out.
pub async fn shards(ctx: &Ctx, vol: &Volume, gfid: &str) -> Result<Shards, TestError> {
    let mut s = Shards::default();
    for (i, b) in vol.bricks.iter().enumerate() {
        let dir = shell::quote(&format!("{}/.shard", b.path));
        let out = ctx
            .sh(
                &b.node,
                format!(
                    "[ -d {dir} ] || exit 0; cd {dir} && for f in {gfid}.*; do \
                     [ -f \"$f\" ] || continue; \
                     if [ ! -s \"$f\" ] && [ \"$(stat -c %A \"$f\")\" = ---------T ]; then continue; fi; \
                     echo \"$f $(stat -c %s \"$f\") $(sha256sum < \"$f\" | cut -d' ' -f1)\"; done"
                ),
            )
            .await?;
        for line in out.lines() {
            let mut w = line.split_whitespace();
            let (Some(name), Some(len), Some(sum)) = (w.next(), w.next(), w.next()) else {
                continue;
            };
            let n = name
                .rsplit_once('.')
                .and_then(|(_, n)| n.parse::<u64>().ok());
            let (Some(n), Ok(len)) = (n, len.parse::<u64>()) else {
                return Err(TestError::Parse {
                    node: b.node.name().to_string(),
                    command: format!("ls {}/.shard", b.path),
                    message: format!("not a shard line: {line:?}"),
                });
            };
            s.by_index.entry(n).or_default().push(Copy {
                brick: i,
                len,
                sha256: sum.to_string(),
            });
        }
    }
    Ok(s)
}

/// What a file of `size` bytes written from start to end is made of with blocks of `block`
/// bytes: the base file's length and shard number → length for every further block.
pub fn expected(size: u64, block: u64) -> (u64, BTreeMap<u64, u64>) {
    let base = size.min(block);
    let count = size.div_ceil(block);
    let shards = (1..count)
        .map(|n| (n, (size - n * block).min(block)))
        .collect();
    (base, shards)
}

/// A sharded file as the bricks hold it.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The gfid (from the mount).
    pub gfid: String,
    /// The base file on each brick holding it.
    pub bases: Vec<Base>,
    /// Its shards.
    pub shards: Shards,
}

/// Checks that `rel` (a path from the volume root, a file of `size` bytes written densely)
/// is stored as blocks of `block` bytes: its base file on one replica set's data bricks with
/// the first block and the shard xattrs (block size, file size), and shards 1.. N-1 each on
/// every data brick of one set, with the right lengths and the same contents on every copy.
/// `m` is a mount of the volume (for the gfid).
pub async fn ensure_layout(
    ctx: &Ctx,
    vol: &Volume,
    m: &super::mount::Mount,
    rel: &str,
    size: u64,
    block: u64,
) -> Result<Layout, TestError> {
    let gfid = xattr::gfid_on_mount(ctx, &m.node, &format!("{}/{rel}", m.path)).await?;
    let data_bricks = brick::sets(vol)
        .first()
        .map(|s| s.iter().filter(|i| brick::holds_data(vol, **i)).count())
        .unwrap_or(1);
    let (want_base, want_shards) = expected(size, block);

    let bases = bases(ctx, vol, rel).await?;
    let data_bases: Vec<&Base> = bases.iter().filter(|b| b.len > 0 || size == 0).collect();
    if data_bases.len() != data_bricks {
        return Err(TestError::Check(format!(
            "{rel}: base file with data on {} brick(s), wanted {data_bricks} (one set): {bases:?}",
            data_bases.len()
        )));
    }
    for b in &data_bases {
        let what = format!(
            "{rel} on brick {} ({})",
            b.brick,
            vol.bricks[b.brick].spec()
        );
        if b.len != want_base {
            return Err(TestError::Check(format!(
                "{what}: base file holds {} bytes, wanted the first block of {want_base}",
                b.len
            )));
        }
        if b.block_size != Some(block) {
            return Err(TestError::Check(format!(
                "{what}: trusted.glusterfs.shard.block-size is {:?}, wanted {block}",
                b.block_size
            )));
        }
        if b.file_size.map(|f| f.size) != Some(size) {
            return Err(TestError::Check(format!(
                "{what}: trusted.glusterfs.shard.file-size gives size {:?}, wanted {size}",
                b.file_size
            )));
        }
        if b.gfid.as_deref() != Some(gfid.as_str()) {
            return Err(TestError::Check(format!(
                "{what}: trusted.gfid {:?}, the mount says {gfid}",
                b.gfid
            )));
        }
    }

    let shards = shards(ctx, vol, &gfid).await?;
    let got = shards.agreed()?;
    if got != want_shards {
        return Err(TestError::Check(format!(
            "{rel} ({size} bytes, blocks of {block}): shards (number → length) {got:?}, wanted \
             {want_shards:?}"
        )));
    }
    let sets = brick::sets(vol);
    for (n, copies) in &shards.by_index {
        let on: Vec<usize> = copies.iter().map(|c| c.brick).collect();
        let in_one_set = sets.iter().any(|s| on.iter().all(|b| s.contains(b)));
        if on.len() != data_bricks || !in_one_set {
            return Err(TestError::Check(format!(
                "shard {n} of {rel} is on bricks {on:?}; wanted {data_bricks} data brick(s) of one \
                 set (sets {sets:?})"
            )));
        }
    }
    ctx.step(format!(
        "{rel}: base file of {want_base} bytes and {} shard(s), as blocks of {block} make it",
        shards.by_index.len()
    ));
    Ok(Layout {
        gfid,
        bases,
        shards,
    })
}

/// The entries of `/.shard/.remove_me` (gfids of unlinked files whose shards are still being
/// deleted) on each brick, in brick order.
pub async fn remove_me(ctx: &Ctx, vol: &Volume) -> Result<Vec<Vec<String>>, TestError> {
    let mut out = Vec::new();
    for b in &vol.bricks {
        let dir = shell::quote(&format!("{}/.shard/.remove_me", b.path));
        let list = ctx
            .sh(&b.node, format!("[ -d {dir} ] && ls -A {dir} || true"))
            .await?;
        out.push(list.lines().map(str::to_string).collect());
    }
    Ok(out)
}

/// Waits until no brick holds a shard of `gfid` nor its `.remove_me` marker (the background
/// deletion after an unlink, or after a rename over the file, finished).
pub async fn wait_deleted(
    ctx: &Ctx,
    vol: &Volume,
    gfid: &str,
    timeout: Duration,
) -> Result<(), TestError> {
    wait_for(
        ctx,
        &format!("the shards of {gfid} deleted from every brick"),
        timeout,
        Duration::from_secs(1),
        || async {
            let s = shards(ctx, vol, gfid).await?;
            let markers: Vec<usize> = remove_me(ctx, vol)
                .await?
                .iter()
                .enumerate()
                .filter(|(_, l)| l.iter().any(|g| g == gfid))
                .map(|(i, _)| i)
                .collect();
            if s.is_empty() && markers.is_empty() {
                Ok(Poll::Ready(()))
            } else {
                Ok(Poll::Pending(format!(
                    "shards left {:?}, .remove_me marker on bricks {markers:?}",
                    s.indices()
                )))
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4MB"), Some(4 << 20));
        assert_eq!(parse_size("4194304"), Some(4 << 20));
        assert_eq!(parse_size("4TB"), Some(4 << 40));
        assert_eq!(parse_size("abc"), None);
        assert_eq!(parse_size("-4MB"), None);
    }

    #[test]
    fn expected_blocks() {
        let b = 4 << 20;
        let (base, s) = expected(10 * (1 << 20) + 1, b);
        assert_eq!(base, b);
        assert_eq!(s, BTreeMap::from([(1, b), (2, (2 << 20) + 1)]));
        assert_eq!(expected(b, b), (b, BTreeMap::new()));
        assert_eq!(expected(100, b), (100, BTreeMap::new()));
    }

    #[test]
    fn file_size_xattr() {
        let v = [
            0, 0, 0, 0, 0, 0xa0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 1, 0, 0, 0,
            0, 0, 0, 0, 0,
        ];
        assert_eq!(
            FileSize::decode(&v),
            Some(FileSize {
                size: 10485761,
                blocks: 0x5001
            })
        );
    }
}
