//! Distribute (DHT): growing and shrinking a volume (`add-brick`, `remove-brick start/status/stop/
//! commit/force`), rebalance (`start`, `fix-layout start`, `start force`, `status`, `stop`, waits),
//! and what DHT leaves on the bricks: each directory's hash range per brick
//! (`trusted.glusterfs.dht`), which brick holds a file's data, and link files (mode `---------T`,
//! empty, `trusted.glusterfs.dht.linkto` naming the subvolume that holds the data).
//!
//! Bricks added here go under the volume's own directory and are removed with the volume.
use std::time::Duration;

use gflab_agent::shell;

use super::arbiter;
use super::volume::{Layout, Volume};
use super::xattr::DhtRange;
use super::{gluster, gluster_xml, wait_for, Poll};
use crate::ctx::{Cleanup, Node};
use crate::xml::Element;
use crate::{Ctx, TestError};

/// The layout after adding `n` bricks (as new distribute subvolumes) to `from`.
pub fn grown(from: &Layout, n: usize) -> Result<Layout, TestError> {
    let set = from.set_size();
    if n == 0 || !n.is_multiple_of(set) {
        return Err(TestError::Check(format!(
            "{n} new brick(s) do not make whole sets of {set}"
        )));
    }
    Ok(match *from {
        Layout::Distribute { bricks } => Layout::Distribute { bricks: bricks + n },
        Layout::Replicate { replica } | Layout::DistributedReplicate { replica, .. } => {
            Layout::DistributedReplicate {
                replica,
                sets: from.brick_count() / replica + n / replica,
            }
        }
        ref other => {
            return Err(TestError::Check(format!(
                "growing a {} volume is not supported here",
                other.type_str()
            )))
        }
    })
}

/// The layout after removing `n` bricks (whole subvolumes) from `from`.
pub fn shrunk(from: &Layout, n: usize) -> Result<Layout, TestError> {
    let set = from.set_size();
    let left = from.brick_count().saturating_sub(n);
    if !n.is_multiple_of(set) || left == 0 {
        return Err(TestError::Check(format!(
            "removing {n} brick(s) from {} leaves no whole sets",
            from.brick_count()
        )));
    }
    Ok(match *from {
        Layout::Distribute { .. } => Layout::Distribute { bricks: left },
        Layout::DistributedReplicate { replica, .. } if left == replica => {
            Layout::Replicate { replica }
        }
        Layout::DistributedReplicate { replica, .. } => Layout::DistributedReplicate {
            replica,
            sets: left / replica,
        },
        ref other => {
            return Err(TestError::Check(format!(
                "shrinking a {} volume is not supported here",
                other.type_str()
            )))
        }
    })
}

/// `volume add-brick VOL [replica N] BRICKS force`: one new empty brick per node of `on`, forming
/// new distribute subvolumes. Returns the volume with its new bricks and layout; the new
/// directories go with the volume. `mounts` (the volume's mounts) are unmounted at cleanup before
/// the volume is deleted (a FUSE mount outliving its volume is left dangling).
pub async fn add_bricks(
    ctx: &Ctx,
    vol: &Volume,
    on: &[Node],
    mounts: &[&super::mount::Mount],
) -> Result<Volume, TestError> {
    let to = grown(&vol.layout, on.len())?;
    let grown = arbiter::add_bricks(ctx, vol, to, on).await?;
    for m in mounts {
        ctx.defer(Cleanup::Unmount {
            node: m.node.clone(),
            path: m.path.clone(),
        });
    }
    Ok(grown)
}

/// An `add-brick` that gluster may refuse: `words` go between the volume name and the end
/// (`replica 3 host:/dir ...`). Returns `Ok(None)` when accepted, `Ok(Some(message))` when refused.
pub async fn attempt_add_brick(
    ctx: &Ctx,
    vol: &Volume,
    words: &[String],
) -> Result<Option<String>, TestError> {
    let mut args: Vec<String> = vec!["volume".into(), "add-brick".into(), vol.name.clone()];
    args.extend(words.iter().cloned());
    ctx.step(format!("attempt add-brick {}", words.join(" ")));
    let out = ctx.exec(&vol.server, super::gluster_cmd(args)).await?;
    if out.success() {
        Ok(None)
    } else {
        Ok(Some(format!("{}{}", out.stdout_str(), out.stderr_str())))
    }
}

/// One node's line of `rebalance status` / `remove-brick status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeProgress {
    /// The node as gluster names it (`localhost` for the node asked).
    pub node: String,
    /// Files migrated.
    pub files: u64,
    /// Bytes migrated.
    pub size: u64,
    /// Files looked at.
    pub scanned: u64,
    /// Migrations that failed.
    pub failures: u64,
    /// Files skipped.
    pub skipped: u64,
    /// `statusStr`: `not started`, `in progress`, `completed`, `stopped`, `failed`,
    /// `fix-layout completed`, ...
    pub status: String,
}

impl NodeProgress {
    /// The node's process ended (completed, stopped or failed).
    pub fn finished(&self) -> bool {
        ["completed", "stopped", "failed"]
            .iter()
            .any(|s| self.status.contains(s))
    }
}

/// Totals over the nodes of a status.
pub fn total_files(p: &[NodeProgress]) -> u64 {
    p.iter().map(|n| n.files).sum()
}

/// Failures summed over the nodes.
pub fn total_failures(p: &[NodeProgress]) -> u64 {
    p.iter().map(|n| n.failures).sum()
}

/// Parses the `<node>` entries of `rebalance status --xml` (`<volRebalance>`) or
/// `remove-brick status --xml` (`<volRemoveBrick>`).
pub fn parse_progress(root: &Element) -> Vec<NodeProgress> {
    let Some(task) = root
        .find("volRebalance")
        .or_else(|| root.find("volRemoveBrick"))
    else {
        return Vec::new();
    };
    let num = |n: &Element, k: &str| -> u64 {
        n.child_text(k)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    task.children("node")
        .map(|n| NodeProgress {
            node: n.child_text("nodeName").unwrap_or_default().to_string(),
            files: num(n, "files"),
            size: num(n, "size"),
            scanned: num(n, "lookups"),
            failures: num(n, "failures"),
            skipped: num(n, "skipped"),
            status: n.child_text("statusStr").unwrap_or_default().to_string(),
        })
        .collect()
}

fn summary(p: &[NodeProgress]) -> String {
    p.iter()
        .map(|n| {
            format!(
                "{}: {} ({} files, {} scanned, {} failed, {} skipped)",
                n.node, n.status, n.files, n.scanned, n.failures, n.skipped
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What `rebalance ... start` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebalance {
    /// `rebalance VOL start`: fix the layout and migrate files.
    Full,
    /// `rebalance VOL fix-layout start`: new ranges only, no data moved.
    FixLayout,
    /// `rebalance VOL start force`: migrate even to a fuller brick.
    Force,
}

/// Starts a rebalance of `vol`.
pub async fn rebalance_start(ctx: &Ctx, vol: &Volume, how: Rebalance) -> Result<(), TestError> {
    let v = vol.name.as_str();
    let args: Vec<&str> = match how {
        Rebalance::Full => vec!["volume", "rebalance", v, "start"],
        Rebalance::FixLayout => vec!["volume", "rebalance", v, "fix-layout", "start"],
        Rebalance::Force => vec!["volume", "rebalance", v, "start", "force"],
    };
    gluster(ctx, &vol.server, args).await.map(|_| ())
}

/// `rebalance VOL status --xml`, per node.
pub async fn rebalance_status(ctx: &Ctx, vol: &Volume) -> Result<Vec<NodeProgress>, TestError> {
    let root = gluster_xml(
        ctx,
        &vol.server,
        ["volume", "rebalance", vol.name.as_str(), "status"],
    )
    .await?;
    Ok(parse_progress(&root))
}

/// `rebalance VOL stop --xml`: the per-node table it prints (`stopped` where it was running).
/// Afterwards `rebalance status` answers "not started" until the next start.
pub async fn rebalance_stop(ctx: &Ctx, vol: &Volume) -> Result<Vec<NodeProgress>, TestError> {
    let root = gluster_xml(
        ctx,
        &vol.server,
        ["volume", "rebalance", vol.name.as_str(), "stop"],
    )
    .await?;
    Ok(parse_progress(&root))
}

async fn wait_finished<F, Fut>(
    ctx: &Ctx,
    what: &str,
    timeout: Duration,
    mut status: F,
) -> Result<Vec<NodeProgress>, TestError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<NodeProgress>, TestError>>,
{
    let p = wait_for(ctx, what, timeout, Duration::from_secs(2), || {
        let f = status();
        async move {
            let p = match f.await {
                Err(e) if status_race(&e) => return Ok(Poll::Pending(e.to_string())),
                r => r?,
            };
            if !p.is_empty() && p.iter().all(NodeProgress::finished) {
                Ok(Poll::Ready(p))
            } else {
                Ok(Poll::Pending(summary(&p)))
            }
        }
    })
    .await?;
    ctx.step(format!("{what}: {}", summary(&p)));
    if p.iter().any(|n| n.status.contains("failed")) {
        return Err(TestError::Check(format!("{what} failed: {}", summary(&p))));
    }
    Ok(p)
}

/// Waits until the rebalance of `vol` has finished on every node; one that failed is an error.
/// Returns the last status.
pub async fn wait_rebalance(
    ctx: &Ctx,
    vol: &Volume,
    timeout: Duration,
) -> Result<Vec<NodeProgress>, TestError> {
    wait_finished(ctx, &format!("rebalance of {}", vol.name), timeout, || {
        rebalance_status(ctx, vol)
    })
    .await
}

/// Starts a full rebalance and waits for it; every node must end `completed` with no failures.
pub async fn rebalance(
    ctx: &Ctx,
    vol: &Volume,
    timeout: Duration,
) -> Result<Vec<NodeProgress>, TestError> {
    rebalance_start(ctx, vol, Rebalance::Full).await?;
    let p = wait_rebalance(ctx, vol, timeout).await?;
    if total_failures(&p) > 0 || p.iter().any(|n| !n.status.contains("completed")) {
        return Err(TestError::Check(format!(
            "rebalance of {} did not complete cleanly: {}",
            vol.name,
            summary(&p)
        )));
    }
    Ok(p)
}

fn remove_args(vol: &Volume, indices: &[usize], action: &str) -> Result<Vec<String>, TestError> {
    let mut args: Vec<String> = vec!["volume".into(), "remove-brick".into(), vol.name.clone()];
    if let Layout::DistributedReplicate { replica, .. } = vol.layout {
        args.extend(["replica".to_string(), replica.to_string()]);
    }
    for &i in indices {
        let b = vol
            .bricks
            .get(i)
            .ok_or_else(|| TestError::Check(format!("volume {} has no brick #{i}", vol.name)))?;
        args.push(b.spec());
    }
    args.push(action.into());
    Ok(args)
}

/// `remove-brick VOL BRICKS start`: starts migrating the data off the bricks at `indices`.
pub async fn remove_brick_start(
    ctx: &Ctx,
    vol: &Volume,
    indices: &[usize],
) -> Result<(), TestError> {
    gluster(ctx, &vol.server, remove_args(vol, indices, "start")?)
        .await
        .map(|_| ())
}

/// `remove-brick VOL BRICKS status --xml`, per node.
pub async fn remove_brick_status(
    ctx: &Ctx,
    vol: &Volume,
    indices: &[usize],
) -> Result<Vec<NodeProgress>, TestError> {
    let root = gluster_xml(ctx, &vol.server, remove_args(vol, indices, "status")?).await?;
    Ok(parse_progress(&root))
}

/// `remove-brick VOL BRICKS stop`: the bricks stay in the volume. A stop that meets a node's
/// rebalance process as it exits (its migration done) fails the way a status query does (see
/// [`status_race`]) and changes nothing; it is asked again, for up to 30 s.
pub async fn remove_brick_stop(
    ctx: &Ctx,
    vol: &Volume,
    indices: &[usize],
) -> Result<(), TestError> {
    let args = remove_args(vol, indices, "stop")?;
    wait_for(
        ctx,
        &format!("remove-brick stop of {indices:?} on {}", vol.name),
        Duration::from_secs(30),
        Duration::from_secs(2),
        || {
            let args = args.clone();
            async move {
                match gluster(ctx, &vol.server, args).await {
                    Ok(_) => Ok(Poll::Ready(())),
                    Err(e) if status_race(&e) => Ok(Poll::Pending(e.to_string())),
                    Err(e) => Err(e),
                }
            }
        },
    )
    .await
}

/// Waits until the migration of a `remove-brick start` has finished on every node (a failed node
/// is an error); returns the last status.
pub async fn wait_remove_brick(
    ctx: &Ctx,
    vol: &Volume,
    indices: &[usize],
    timeout: Duration,
) -> Result<Vec<NodeProgress>, TestError> {
    wait_finished(
        ctx,
        &format!("remove-brick of {:?} from {}", indices, vol.name),
        timeout,
        || remove_brick_status(ctx, vol, indices),
    )
    .await
}

fn without(vol: &Volume, indices: &[usize]) -> Result<Volume, TestError> {
    Ok(vol.without_bricks(indices, shrunk(&vol.layout, indices.len())?))
}

/// `remove-brick VOL BRICKS commit` (after a completed `start`); returns the volume without them.
pub async fn remove_brick_commit(
    ctx: &Ctx,
    vol: &Volume,
    indices: &[usize],
) -> Result<Volume, TestError> {
    let next = without(vol, indices)?;
    gluster(ctx, &vol.server, remove_args(vol, indices, "commit")?).await?;
    Ok(next)
}

/// `remove-brick VOL BRICKS force`: removed at once, their data is not migrated.
pub async fn remove_brick_force(
    ctx: &Ctx,
    vol: &Volume,
    indices: &[usize],
) -> Result<Volume, TestError> {
    let next = without(vol, indices)?;
    gluster(ctx, &vol.server, remove_args(vol, indices, "force")?).await?;
    Ok(next)
}

/// Start, wait until migrated (no failures), commit: the safe way to shrink a volume.
pub async fn remove_bricks(
    ctx: &Ctx,
    vol: &Volume,
    indices: &[usize],
    timeout: Duration,
) -> Result<Volume, TestError> {
    remove_brick_start(ctx, vol, indices).await?;
    let p = wait_remove_brick(ctx, vol, indices, timeout).await?;
    if total_failures(&p) > 0 {
        return Err(TestError::Check(format!(
            "remove-brick migration of {} had failures: {}",
            vol.name,
            summary(&p)
        )));
    }
    remove_brick_commit(ctx, vol, indices).await
}

/// Parses a hex `trusted.glusterfs.dht` value (`0x` + 16 bytes): the last two 32-bit words are the
/// start and end of the range.
pub fn parse_range(hex: &str) -> Option<DhtRange> {
    let h = hex.trim().trim_start_matches("0x");
    if h.len() < 32 {
        return None;
    }
    let word = |i: usize| u32::from_str_radix(h.get(i..i + 8)?, 16).ok();
    Some(DhtRange {
        start: word(h.len() - 16)?,
        stop: word(h.len() - 8)?,
    })
}

/// The hash range of directory `rel` on every brick of `vol` (`None` where the directory or its
/// layout xattr is missing, or where the brick has no range: start = stop = 0).
pub async fn layout(
    ctx: &Ctx,
    vol: &Volume,
    rel: &str,
) -> Result<Vec<Option<DhtRange>>, TestError> {
    let mut all = Vec::new();
    for b in &vol.bricks {
        let p = super::xattr::brick_path(b, rel);
        let out = ctx
            .sh(
                &b.node,
                format!(
                    "getfattr --absolute-names -n trusted.glusterfs.dht -e hex {} 2>/dev/null; true",
                    shell::quote(&p)
                ),
            )
            .await?;
        let hex = out
            .lines()
            .find_map(|l| l.strip_prefix("trusted.glusterfs.dht="))
            .unwrap_or("")
            .trim();
        let r = if hex.is_empty() {
            None
        } else {
            parse_range(hex)
        };
        all.push(r.filter(|r| !(r.start == 0 && r.stop == 0)));
    }
    Ok(all)
}

/// Checks that the ranges (one per subvolume: the first brick of each set) cover the whole
/// 32-bit hash space with no gap and no overlap.
pub fn check_complete(ranges: &[DhtRange]) -> Result<(), String> {
    let mut r: Vec<DhtRange> = ranges.to_vec();
    r.sort_by_key(|x| x.start);
    let mut next: u64 = 0;
    for x in &r {
        if u64::from(x.start) != next {
            return Err(format!(
                "range {:08x}-{:08x} follows {next:08x}: gap or overlap",
                x.start, x.stop
            ));
        }
        if x.stop < x.start {
            return Err(format!("range {:08x}-{:08x} is reversed", x.start, x.stop));
        }
        next = u64::from(x.stop) + 1;
    }
    if next != 1 << 32 {
        return Err(format!("ranges end at {next:x}, not ffffffff"));
    }
    Ok(())
}

/// The layout of `rel` per subvolume (first brick of each set); fails unless every subvolume has a
/// range and together they cover the hash space exactly, and every brick of a set agrees.
pub async fn ensure_layout_complete(
    ctx: &Ctx,
    vol: &Volume,
    rel: &str,
) -> Result<Vec<DhtRange>, TestError> {
    let all = layout(ctx, vol, rel).await?;
    let set = vol.layout.set_size();
    let mut per_set = Vec::new();
    for (s, chunk) in all.chunks(set).enumerate() {
        let first = chunk[0].ok_or_else(|| {
            TestError::Check(format!(
                "{rel} has no layout range on {} (subvolume {s}): {all:?}",
                vol.bricks[s * set].spec()
            ))
        })?;
        if chunk.iter().any(|r| *r != Some(first)) {
            return Err(TestError::Check(format!(
                "bricks of subvolume {s} disagree on the layout of {rel}: {chunk:?}"
            )));
        }
        per_set.push(first);
    }
    check_complete(&per_set)
        .map_err(|e| TestError::Check(format!("layout of {rel} on {}: {e}", vol.name)))?;
    Ok(per_set)
}

/// What one brick has at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Nothing.
    Absent,
    /// A regular file with data (`size` bytes).
    Data {
        /// Size.
        size: u64,
    },
    /// A DHT link file pointing at subvolume `to` (`<vol>-client-N`, `<vol>-replicate-N`).
    Link {
        /// `trusted.glusterfs.dht.linkto`, without the trailing NUL.
        to: String,
    },
}

/// Parses `stat -c '%s %a %F'` plus the linkto value (possibly empty) printed after it.
pub fn parse_entry(out: &str) -> Entry {
    let mut lines = out.lines();
    let Some(first) = lines.next().filter(|l| !l.trim().is_empty()) else {
        return Entry::Absent;
    };
    let mut words = first.split_whitespace();
    let size: u64 = words.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let mode = u32::from_str_radix(words.next().unwrap_or("0"), 8).unwrap_or(0);
    let linkto: String = lines
        .collect::<Vec<_>>()
        .join("")
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string();
    if mode & 0o1000 != 0 && size == 0 && !linkto.is_empty() {
        Entry::Link { to: linkto }
    } else {
        Entry::Data { size }
    }
}

/// What every brick of `vol` has at `rel` (index = brick index).
pub async fn entries(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<Entry>, TestError> {
    let mut all = Vec::new();
    for b in &vol.bricks {
        let p = shell::quote(&super::xattr::brick_path(b, rel));
        let out = ctx
            .sh(
                &b.node,
                format!(
                    "if [ -e {p} ]; then stat -c '%s %a %F' {p}; \
                     getfattr --absolute-names -n trusted.glusterfs.dht.linkto --only-values {p} 2>/dev/null | tr -d '\\000'; echo; fi"
                ),
            )
            .await?;
        all.push(parse_entry(&out));
    }
    Ok(all)
}

/// The bricks holding `rel`'s data (for a replicated volume, every brick of its set).
pub async fn data_bricks(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<usize>, TestError> {
    Ok(entries(ctx, vol, rel)
        .await?
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Entry::Data { .. }))
        .map(|(i, _)| i)
        .collect())
}

/// The subvolume (set index) holding `rel`'s data; exactly one must.
pub async fn data_subvol(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<usize, TestError> {
    let set = vol.layout.set_size();
    let mut subs: Vec<usize> = data_bricks(ctx, vol, rel)
        .await?
        .into_iter()
        .map(|i| i / set)
        .collect();
    subs.dedup();
    match subs.as_slice() {
        [s] => Ok(*s),
        _ => Err(TestError::Check(format!(
            "{rel} should have its data on exactly one subvolume of {}, found {subs:?}",
            vol.name
        ))),
    }
}

/// The link files for `rel` on the bricks: (brick index, linkto).
pub async fn links(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<(usize, String)>, TestError> {
    Ok(entries(ctx, vol, rel)
        .await?
        .into_iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Entry::Link { to } => Some((i, to)),
            _ => None,
        })
        .collect())
}

/// Every DHT link file under a brick (relative paths, `.glusterfs` left out).
pub async fn link_files(ctx: &Ctx, node: &Node, brick: &str) -> Result<Vec<String>, TestError> {
    let out = ctx
        .sh(
            node,
            format!(
                "cd {} && find . -path ./.glusterfs -prune -o -type f -perm -1000 -size 0 -print | sed 's|^\\./||' | sort",
                shell::quote(brick)
            ),
        )
        .await?;
    Ok(out.lines().map(str::to_string).collect())
}

/// Which subvolume each name hashes to in directory `dir` (relative to the mount, `""` for the
/// root): creates `<prefix>0..<prefix>{count-1}` as empty files through the mount `m`, sees which
/// subvolume (set index) each landed on, and removes them. On a volume whose layout of `dir` is
/// settled a new file is created on its hashed subvolume, so the names can then be used for
/// directories or renames that must hash to a given subvolume.
pub async fn names_by_subvol(
    ctx: &Ctx,
    vol: &Volume,
    m: &super::mount::Mount,
    dir: &str,
    prefix: &str,
    count: usize,
) -> Result<Vec<Vec<String>>, TestError> {
    let d = if dir.is_empty() {
        m.path.clone()
    } else {
        format!("{}/{dir}", m.path)
    };
    let names: Vec<String> = (0..count).map(|i| format!("{prefix}{i}")).collect();
    ctx.sh(
        &m.node,
        format!("cd {} && touch {}", shell::quote(&d), names.join(" ")),
    )
    .await?;
    let set = vol.layout.set_size();
    let mut by: Vec<Vec<String>> = vec![Vec::new(); vol.bricks.len() / set];
    for (s, b) in vol.bricks.iter().enumerate().step_by(set) {
        let bdir = super::xattr::brick_path(b, dir);
        let on = super::io::brick_files(ctx, &b.node, &bdir).await?;
        by[s / set] = names.iter().filter(|n| on.contains(n)).cloned().collect();
    }
    ctx.sh(
        &m.node,
        format!("cd {} && rm -f {}", shell::quote(&d), names.join(" ")),
    )
    .await?;
    ctx.step(format!("names by hashed subvolume in /{dir}: {by:?}"));
    Ok(by)
}

/// Parses DHT's `.meta/.../<vol>-dht/private` dump: `subvolume_status[i] = 0|1` per subvolume.
pub fn parse_subvol_status(private: &str) -> Vec<bool> {
    private
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim()
                .starts_with("subvolume_status[")
                .then(|| v.trim() == "1")
        })
        .collect()
}

/// Waits until the DHT translator of `m`'s client sees every subvolume of `vol` up (read from the
/// mount's `.meta`), so that the next operation reaches a brick just brought back (the
/// distribute counterpart of `brick::wait_client_up`).
pub async fn wait_client_up(
    ctx: &Ctx,
    m: &super::mount::Mount,
    vol: &Volume,
    timeout: Duration,
) -> Result<(), TestError> {
    let file = format!("{}/.meta/graphs/active/{}-dht/private", m.path, vol.name);
    let want = vol.bricks.len() / vol.layout.set_size();
    let what = format!(
        "the client on {} to see all {want} subvolumes of {} up",
        m.node.name(),
        vol.name
    );
    wait_for(ctx, &what, timeout, Duration::from_secs(1), || async {
        let out = ctx
            .sh(&m.node, format!("cat {}", shell::quote(&file)))
            .await?;
        let up = parse_subvol_status(&out);
        Ok(if up.len() == want && up.iter().all(|u| *u) {
            Poll::Ready(())
        } else {
            Poll::Pending(format!("subvolume status {up:?}"))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_subvolume_status() {
        let d = "subvol_cnt = 2\nsubvolume_status[0] = 1\nsubvolume_status[1] = 0\n";
        assert_eq!(parse_subvol_status(d), vec![true, false]);
    }

    #[test]
    fn parses_a_range() {
        let r = parse_range("0x00000001000000000000000055555554").unwrap();
        assert_eq!((r.start, r.stop), (0, 0x5555_5554));
        assert!(parse_range("0x00").is_none());
    }

    #[test]
    fn complete_layouts() {
        let r = |start, stop| DhtRange { start, stop };
        assert!(check_complete(&[r(0x8000_0000, 0xffff_ffff), r(0, 0x7fff_ffff)]).is_ok());
        assert!(check_complete(&[r(0, 0x7fff_fffe), r(0x8000_0000, 0xffff_ffff)]).is_err());
        assert!(check_complete(&[r(0, 0x7fff_ffff)]).is_err());
    }

    #[test]
    fn entries_from_stat() {
        assert_eq!(
            parse_entry("0 1000 regular empty file\nv-client-1\n"),
            Entry::Link {
                to: "v-client-1".into()
            }
        );
        assert_eq!(
            parse_entry("12 644 regular file\n\n"),
            Entry::Data { size: 12 }
        );
        assert_eq!(parse_entry(""), Entry::Absent);
    }

    #[test]
    fn layouts_grow_and_shrink() {
        assert_eq!(
            grown(&Layout::Distribute { bricks: 2 }, 1).unwrap(),
            Layout::Distribute { bricks: 3 }
        );
        assert_eq!(
            grown(&Layout::Replicate { replica: 2 }, 2).unwrap(),
            Layout::DistributedReplicate {
                replica: 2,
                sets: 2
            }
        );
        assert!(grown(&Layout::Replicate { replica: 2 }, 1).is_err());
        assert_eq!(
            shrunk(
                &Layout::DistributedReplicate {
                    replica: 2,
                    sets: 2
                },
                2
            )
            .unwrap(),
            Layout::Replicate { replica: 2 }
        );
    }

    #[test]
    fn parses_rebalance_status() {
        let xml = "<cliOutput><opRet>0</opRet><volRebalance><node><nodeName>localhost</nodeName>\
                   <files>3</files><size>30</size><lookups>9</lookups><failures>0</failures>\
                   <skipped>1</skipped><status>3</status><statusStr>completed</statusStr></node>\
                   </volRebalance></cliOutput>";
        let p = parse_progress(&crate::xml::parse(xml).unwrap());
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].files, p[0].scanned, p[0].skipped), (3, 9, 1));
        assert!(p[0].finished());
    }
}

/// The migrations a rebalance or remove-brick process of `vol` gave up (each counted as a failure
/// in its status): `(path, reason)` from the `migrate-data failed for PATH [REASON]` lines of the
/// `<vol>-rebalance.log` on every server, one per refusal, in log order per server.
pub async fn failed_migrations(
    ctx: &Ctx,
    vol: &Volume,
) -> Result<Vec<(String, String)>, TestError> {
    let log = shell::quote(&format!("/var/log/glusterfs/{}-rebalance.log", vol.name));
    let mut all = Vec::new();
    for s in ctx.servers() {
        let out = ctx
            .sh(
                &s,
                format!("grep -h 'migrate-data failed for' {log} 2>/dev/null; true"),
            )
            .await?;
        all.extend(parse_failed(&out));
    }
    Ok(all)
}

/// The files whose migration was given up because the file was being written at that moment
/// ([`failed_migrations`] with `Device or resource busy`: GlusterFS refuses the copy of a range a
/// client has just written, counts the file as failed and leaves it on its brick).
pub async fn busy_migrations(ctx: &Ctx, vol: &Volume) -> Result<Vec<String>, TestError> {
    Ok(failed_migrations(ctx, vol)
        .await?
        .into_iter()
        .filter(|(_, why)| why == "Device or resource busy")
        .map(|(path, _)| path)
        .collect())
}

/// The `(path, reason)` of `migrate-data failed for PATH [REASON]` lines.
pub fn parse_failed(log: &str) -> Vec<(String, String)> {
    log.lines()
        .filter_map(|l| {
            let rest = l.split_once("migrate-data failed for ")?.1.trim_end();
            let (path, why) = rest.strip_suffix(']')?.rsplit_once(" [")?;
            Some((path.trim().to_string(), why.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod failed_migration_tests {
    #[test]
    fn reads_failed_migrations() {
        let log = "[2026-12-07 09:36:54.820792 +0000] E [MSGID: 109023] [dht-rebalance.c:2875:gf_defrag_migrate_single_file] 0-v-dht: migrate-data failed for /open/f0 [Device or resource busy]\n\
                   [2026-12-07 09:36:54.820792 +0000] E [MSGID: 109023] [dht-rebalance.c:1816:dht_migrate_file] 0-v-dht: Migrate file failed: /open/f0: failed to migrate data\n\
                   [2026-12-07 09:50:49.402028 +0000] E [MSGID: 109023] [dht-rebalance.c:2875:gf_defrag_migrate_single_file] 0-v-dht: migrate-data failed for /a b [No such file or directory]\n";
        assert_eq!(
            super::parse_failed(log),
            vec![
                (
                    "/open/f0".to_string(),
                    "Device or resource busy".to_string()
                ),
                ("/a b".to_string(), "No such file or directory".to_string())
            ]
        );
    }
}

/// A status query (or stop) that failed because a node's rebalance process was exiting as it was asked
/// (glusterd: "Glusterd Syncop Mgmt brick op 'Rebalance' failed", its connection to the process
/// torn down): the waits ask again.
fn status_race(e: &TestError) -> bool {
    e.to_string()
        .contains("Glusterd Syncop Mgmt brick op 'Rebalance' failed")
}

#[cfg(test)]
mod status_race_tests {
    use crate::TestError;

    #[test]
    fn recognises_the_status_race() {
        let raced = TestError::Check("<opErrstr>Brick ops failed on server3. Glusterd Syncop Mgmt brick op 'Rebalance' failed. Please check brick log file for details.</opErrstr>".into());
        assert!(super::status_race(&raced));
        assert!(!super::status_race(&TestError::Check(
            "Volume v does not exist".into()
        )));
    }
}

/// A rebalance (or remove-brick migration) of a volume kept in progress: one brick process of the
/// volume is frozen with SIGSTOP before the start, so the rebalance processes connect to glusterd
/// (which counts them as running and asks them for the status) but wait for that brick's handshake
/// before they crawl anything. For the refusals gluster gives while a migration runs, without
/// racing a migration that may end at any time. Thawed by [`HeldRebalance::release`], or at
/// cleanup. Release it within 40 s (the rebalance processes' ping timeout would take the brick
/// as down), and do not use the volume's mounts meanwhile (their calls to the brick wait too).
#[derive(Debug)]
pub struct HeldRebalance {
    node: Node,
    pid: u32,
    volume: String,
}

/// The `pgrep -f` pattern of `vol`'s rebalance processes (`glusterfs --volfile-id rebalance/VOL
/// ...`); the bracket keeps the pattern from matching the shell running it.
fn rebalance_pattern(vol: &str) -> String {
    shell::quote(&format!("[-]-volfile-id rebalance/{vol} "))
}

/// Runs `start` (a `rebalance start` or `remove-brick start` of `vol`) with brick `brick` of `vol`
/// frozen, then checks that a rebalance process of `vol` runs on every node of `nodes` (those that
/// start one: every node with a brick for a rebalance, the nodes of the removed bricks for a
/// remove-brick).
pub async fn start_held<F>(
    ctx: &Ctx,
    vol: &Volume,
    brick: usize,
    nodes: &[Node],
    start: F,
) -> Result<HeldRebalance, TestError>
where
    F: std::future::Future<Output = Result<(), TestError>>,
{
    let b = vol
        .bricks
        .get(brick)
        .ok_or_else(|| TestError::Check(format!("volume {} has no brick #{brick}", vol.name)))?;
    let st = vol.status(ctx).await?;
    let pid = st
        .iter()
        .find(|s| s.path == b.path && s.online)
        .and_then(|s| s.pid)
        .ok_or_else(|| {
            TestError::Check(format!(
                "brick {} is not online to be frozen: {st:?}",
                b.spec()
            ))
        })?;
    ctx.step(format!(
        "freeze brick {} (pid {pid}) so that the rebalance of {} waits for it",
        b.spec(),
        vol.name
    ));
    ctx.defer(Cleanup::Command {
        node: b.node.clone(),
        command: gflab_agent::Command::shell(format!("kill -CONT {pid} || true")),
    });
    ctx.sh(&b.node, format!("kill -STOP {pid}")).await?;
    let held = HeldRebalance {
        node: b.node.clone(),
        pid,
        volume: vol.name.clone(),
    };
    start.await?;
    let pat = rebalance_pattern(&vol.name);
    for n in nodes {
        let out = ctx.sh(n, format!("pgrep -f {pat} || true")).await?;
        ensure_running(&out).map_err(|e| {
            TestError::Check(format!(
                "the held rebalance of {} on {}: {e}",
                vol.name,
                n.name()
            ))
        })?;
    }
    Ok(held)
}

/// Parses `pgrep` output: at least one process.
pub fn ensure_running(pgrep: &str) -> Result<usize, String> {
    let n = pgrep.split_whitespace().count();
    if n == 0 {
        Err("no rebalance process is running".into())
    } else {
        Ok(n)
    }
}

impl HeldRebalance {
    /// Thaws the frozen brick: the migration goes on.
    pub async fn release(self, ctx: &Ctx) -> Result<(), TestError> {
        ctx.step(format!(
            "thaw the brick holding the rebalance of {}",
            self.volume
        ));
        ctx.sh(&self.node, format!("kill -CONT {}", self.pid))
            .await
            .map(|_| ())
    }
}

/// Every distinct node holding one of the bricks `indices` of `vol`, in brick order.
pub fn brick_nodes(vol: &Volume, indices: &[usize]) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    for &i in indices {
        let n = &vol.bricks[i].node;
        if !nodes.iter().any(|m| m.name() == n.name()) {
            nodes.push(n.clone());
        }
    }
    nodes
}

/// The rebalance processes of `vol` on each of `nodes` (PIDs; empty where none runs).
pub async fn rebalance_processes(
    ctx: &Ctx,
    vol: &Volume,
    nodes: &[Node],
) -> Result<Vec<(String, Vec<u32>)>, TestError> {
    let pat = rebalance_pattern(&vol.name);
    let mut all = Vec::new();
    for n in nodes {
        let out = ctx.sh(n, format!("pgrep -f {pat} || true")).await?;
        let pids = out
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        all.push((n.name().to_string(), pids));
    }
    Ok(all)
}

/// Waits until no rebalance process of `vol` runs on any of `nodes` (a stopped migration's
/// process exits on its own; glusterd refuses add-brick and rebalance until it has).
pub async fn wait_no_rebalance_process(
    ctx: &Ctx,
    vol: &Volume,
    nodes: &[Node],
    timeout: Duration,
) -> Result<(), TestError> {
    let what = format!("the rebalance processes of {} to exit", vol.name);
    wait_for(ctx, &what, timeout, Duration::from_secs(1), || async {
        let procs = rebalance_processes(ctx, vol, nodes).await?;
        Ok(if procs.iter().all(|(_, p)| p.is_empty()) {
            Poll::Ready(())
        } else {
            Poll::Pending(format!("{procs:?}"))
        })
    })
    .await
}

#[cfg(test)]
mod held_tests {
    use super::*;

    #[test]
    fn counts_rebalance_processes() {
        assert_eq!(ensure_running("1234\n5678\n"), Ok(2));
        assert!(ensure_running("\n").is_err());
    }
}
