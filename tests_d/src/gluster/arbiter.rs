//! Arbiter volumes: what an arbiter brick must hold (names and metadata, no data), and changing a
//! volume's replica count in place (`add-brick` / `remove-brick` with `replica N [arbiter 1]`), the
//! way replica 2 becomes an arbiter volume and back, or an arbiter volume becomes replica 3.
//!
//! Bricks added here go under the volume's own directory (`<brick_root>/<volume>/<unique>`) and are
//! removed with the volume when the test ends.
use gflab_agent::shell;

use super::brick;
use super::gluster;
use super::heal;
use super::mount;
use super::mount::Mount;
use super::tree::{self, Scope};
use super::volume::{self, Brick, Layout, Volume, VolumeSpec};
use crate::ctx::{Cleanup, Node};
use crate::{Ctx, TestError};

/// The start most scenarios share: creates a volume of `spec`, starts it, waits until its
/// bricks are online and mounts it on the first client (`m.node`).
pub async fn mounted(ctx: &Ctx, spec: VolumeSpec) -> Result<(Volume, Mount), TestError> {
    let vol = volume::create(ctx, spec).await?;
    vol.start_and_wait(ctx).await?;
    let m = mount::mount(ctx, &ctx.client(0)?, &vol).await?;
    Ok((vol, m))
}

/// One regular file on an arbiter brick: its path under the brick and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArbiterFile {
    /// The arbiter brick's index in `vol.bricks`.
    pub brick: usize,
    /// Path relative to the brick root.
    pub path: String,
    /// Size in bytes (0 on a healthy arbiter).
    pub size: u64,
}

/// Parses `find -printf '%s %P\n'` lines.
pub fn parse_sizes(brick: usize, out: &str) -> Vec<ArbiterFile> {
    out.lines()
        .filter_map(|l| {
            let (size, path) = l.split_once(' ')?;
            Some(ArbiterFile {
                brick,
                path: path.to_string(),
                size: size.parse().ok()?,
            })
        })
        .collect()
}

/// The regular data files on every arbiter brick of `vol` (`.glusterfs` and DHT link files left
/// out), with their sizes.
pub async fn files(ctx: &Ctx, vol: &Volume) -> Result<Vec<ArbiterFile>, TestError> {
    let mut all = Vec::new();
    for i in brick::select(vol, brick::Select::Arbiter)? {
        let b = &vol.bricks[i];
        let out = ctx
            .sh(
                &b.node,
                format!(
                    "cd {} && find . -path ./.glusterfs -prune -o -type f ! -perm -1000 -printf '%s %P\\n' | sort -k2",
                    shell::quote(&b.path)
                ),
            )
            .await?;
        all.extend(parse_sizes(i, &out));
    }
    Ok(all)
}

/// Checks that no arbiter brick of `vol` holds data: every regular file there is empty. Returns
/// how many files the arbiter bricks hold, for the caller to compare with what was written.
pub async fn ensure_no_data(ctx: &Ctx, vol: &Volume) -> Result<usize, TestError> {
    let all = files(ctx, vol).await?;
    let with_data: Vec<String> = all
        .iter()
        .filter(|f| f.size > 0)
        .map(|f| {
            format!(
                "{} ({} bytes on {})",
                f.path,
                f.size,
                vol.bricks[f.brick].spec()
            )
        })
        .collect();
    if !with_data.is_empty() {
        return Err(TestError::Check(format!(
            "arbiter bricks of {} hold data: {}",
            vol.name,
            with_data.join(", ")
        )));
    }
    Ok(all.len())
}

/// Parses `getfattr -d -m trusted.afr -e hex` output over many files: the `(file, xattr)` pairs
/// whose value is not all zeros (`trusted.afr.<vol>-client-N` or `trusted.afr.dirty`).
pub fn parse_afr_pending(out: &str) -> Vec<(String, String)> {
    let mut file = String::new();
    let mut dirty = Vec::new();
    for line in out.lines() {
        if let Some(f) = line.strip_prefix("# file: ") {
            file = f.to_string();
        } else if let Some((name, value)) = line.split_once('=') {
            let hex = value.trim_start_matches("0x");
            if name.starts_with("trusted.afr.") && hex.chars().any(|c| c != '0') {
                dirty.push((file.clone(), format!("{name}={value}")));
            }
        }
    }
    dirty
}

/// Checks what a healed arbiter (or replicated) volume must show: no entry in split-brain, no
/// file or directory on any brick still blamed by a `trusted.afr.*` counter, every brick of a set
/// agreeing with the mount ([`tree::ensure_volume_matches`], data bricks on contents too), and no
/// data on an arbiter brick. Returns how many files the arbiter bricks hold (0 without arbiter).
pub async fn ensure_healed(ctx: &Ctx, vol: &Volume, m: &Mount) -> Result<usize, TestError> {
    heal::ensure_no_split_brain(ctx, vol).await?;
    let mut blamed = Vec::new();
    for b in &vol.bricks {
        let out = ctx
            .sh(
                &b.node,
                format!(
                    "cd {} && find . -path ./.glusterfs -prune -o -print0 | \
                     xargs -0 getfattr --absolute-names -d -m '^trusted.afr' -e hex 2>/dev/null; true",
                    shell::quote(&b.path)
                ),
            )
            .await?;
        blamed.extend(
            parse_afr_pending(&out)
                .into_iter()
                .map(|(f, x)| format!("{}:{f} {x}", b.spec())),
        );
    }
    if !blamed.is_empty() {
        return Err(TestError::Check(format!(
            "after heal, {} still has AFR pending counters: {}",
            vol.name,
            blamed.join("; ")
        )));
    }
    tree::ensure_volume_matches(ctx, vol, m, Scope::FULL).await?;
    if matches!(vol.layout, Layout::Arbiter { .. }) {
        ensure_no_data(ctx, vol).await
    } else {
        Ok(0)
    }
}

/// The `replica N [arbiter 1]` words `add-brick`/`remove-brick` take to reach `to`.
pub fn count_args(to: &Layout) -> Vec<String> {
    match *to {
        Layout::Replicate { replica } | Layout::DistributedReplicate { replica, .. } => {
            vec!["replica".into(), replica.to_string()]
        }
        Layout::Arbiter { .. } => vec!["replica".into(), "3".into(), "arbiter".into(), "1".into()],
        _ => vec![],
    }
}

/// The brick list after adding `new` to `old` bricks: when the set size grows, each set gets its
/// share of the new bricks at its end (as gluster inserts them); otherwise they form new sets at
/// the end.
pub fn merge_bricks<T: Clone>(old: &[T], old_set: usize, new: &[T], new_set: usize) -> Vec<T> {
    if new_set <= old_set || old_set == 0 {
        return old.iter().chain(new).cloned().collect();
    }
    let per_set = new_set - old_set;
    old.chunks(old_set)
        .zip(new.chunks(per_set))
        .flat_map(|(o, n)| o.iter().chain(n).cloned())
        .collect()
}

/// `volume add-brick VOL <replica N [arbiter 1]> BRICKS force`: one new empty brick on each node
/// of `on` (in order), so that the volume becomes `to`. Returns the volume with its new brick list
/// and layout. Gluster's refusal is returned as the command's error.
pub async fn add_bricks(
    ctx: &Ctx,
    vol: &Volume,
    to: Layout,
    on: &[Node],
) -> Result<Volume, TestError> {
    let new: Vec<Brick> = on
        .iter()
        .map(|node| Brick {
            node: node.clone(),
            path: format!("{}/{}/{}", node.brick_root(), vol.name, ctx.unique("add")),
        })
        .collect();
    ctx.defer(Cleanup::Volume {
        server: vol.server.clone(),
        name: vol.name.clone(),
        dirs: new
            .iter()
            .map(|b| (b.node.clone(), b.path.clone()))
            .collect(),
        unmount: Vec::new(),
    });
    for b in &new {
        ctx.sh(&b.node, format!("mkdir -p {}", shell::quote(&b.path)))
            .await?;
    }
    let mut args: Vec<String> = vec!["volume".into(), "add-brick".into(), vol.name.clone()];
    args.extend(count_args(&to));
    args.extend(new.iter().map(Brick::spec));
    args.push("force".into());
    ctx.step(format!("add-brick {}", args[3..].join(" ")));
    gluster(ctx, &vol.server, args).await?;
    Ok(Volume {
        bricks: merge_bricks(&vol.bricks, vol.layout.set_size(), &new, to.set_size()),
        layout: to,
        ..vol.clone()
    })
}

/// `volume remove-brick VOL <replica N> BRICKS force` for the bricks at `indices`, so that the
/// volume becomes `to` (data on removed bricks is not migrated). Returns the volume as it is now.
pub async fn remove_bricks(
    ctx: &Ctx,
    vol: &Volume,
    indices: &[usize],
    to: Layout,
) -> Result<Volume, TestError> {
    let mut args: Vec<String> = vec!["volume".into(), "remove-brick".into(), vol.name.clone()];
    args.extend(count_args(&to));
    for &i in indices {
        let b = vol
            .bricks
            .get(i)
            .ok_or_else(|| TestError::Check(format!("volume {} has no brick #{i}", vol.name)))?;
        args.push(b.spec());
    }
    args.push("force".into());
    ctx.step(format!("remove-brick {}", args[3..].join(" ")));
    gluster(ctx, &vol.server, args).await?;
    Ok(vol.without_bricks(indices, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_bricks_join_each_set_when_the_replica_count_grows() {
        assert_eq!(
            merge_bricks(&[0, 1, 3, 4], 2, &[2, 5], 3),
            vec![0, 1, 2, 3, 4, 5]
        );
        assert_eq!(
            merge_bricks(&[0, 1, 2], 3, &[3, 4, 5], 3),
            vec![0, 1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn count_words_for_each_target() {
        assert_eq!(
            count_args(&Layout::Arbiter { sets: 1 }).join(" "),
            "replica 3 arbiter 1"
        );
        assert_eq!(
            count_args(&Layout::Replicate { replica: 2 }).join(" "),
            "replica 2"
        );
        assert!(count_args(&Layout::Distribute { bricks: 2 }).is_empty());
    }

    #[test]
    fn finds_nonzero_afr_counters() {
        let out = "# file: ./a\ntrusted.afr.v-client-0=0x000000000000000000000000\n\n\
                   # file: ./b\ntrusted.afr.dirty=0x000000010000000000000000\n";
        assert_eq!(
            parse_afr_pending(out),
            vec![(
                "./b".to_string(),
                "trusted.afr.dirty=0x000000010000000000000000".to_string()
            )]
        );
    }

    #[test]
    fn parses_sizes_and_paths() {
        let f = parse_sizes(2, "0 dir/a\n12 b c\n");
        assert_eq!(f[1].path, "b c");
        assert_eq!((f[0].size, f[1].size, f[0].brick), (0, 12, 2));
    }
}
