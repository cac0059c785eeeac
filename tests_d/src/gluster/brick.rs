//! Brick processes: list, choose which to take down for a layout (per replica or disperse set),
//! kill one or several, bring them back (`volume start force`), wait until the bricks and the
//! clients see them online.
use std::time::Duration;

use super::volume::{BrickStatus, Layout, Volume};
use super::{wait_for, Poll};
use crate::ctx::Node;
use crate::{Ctx, TestError};

/// How many brick processes of `vol` run on `node` (counted there, not as glusterd reports them:
/// a node cut off from the pool still answers).
pub async fn processes_on(ctx: &Ctx, node: &Node, vol: &Volume) -> Result<usize, TestError> {
    let out = ctx
        .sh(
            node,
            format!(
                "pgrep -f -- 'glusterfsd.*--volfile-id {}[.]' | wc -l",
                vol.name
            ),
        )
        .await?;
    out.trim()
        .parse()
        .map_err(|_| TestError::Check(format!("pgrep | wc -l printed {out:?}")))
}

/// The brick processes of a volume as `volume status` reports them.
pub async fn list(ctx: &Ctx, vol: &Volume) -> Result<Vec<BrickStatus>, TestError> {
    vol.status(ctx).await
}

/// Kills the process of brick `index` (in create order) with SIGKILL and waits until gluster reports it
/// offline. Returns the PID it killed.
pub async fn kill(ctx: &Ctx, vol: &Volume, index: usize) -> Result<u32, TestError> {
    let brick = vol
        .bricks
        .get(index)
        .ok_or_else(|| TestError::Check(format!("volume {} has no brick #{index}", vol.name)))?;
    let st = vol.status(ctx).await?;
    let found = st
        .iter()
        .find(|b| {
            b.path == brick.path && (b.host == brick.node.host() || b.host == brick.node.name())
        })
        .ok_or_else(|| {
            TestError::Check(format!(
                "volume status does not list brick {}",
                brick.spec()
            ))
        })?;
    let pid = found
        .pid
        .ok_or_else(|| TestError::Check(format!("brick {} is not running", brick.spec())))?;
    ctx.step(format!("kill brick {} (pid {pid})", brick.spec()));
    ctx.sh(&brick.node, format!("kill -KILL {pid}")).await?;
    let what = format!("brick {} to be reported offline", brick.spec());
    wait_for(
        ctx,
        &what,
        Duration::from_secs(30),
        Duration::from_millis(500),
        || async {
            let st = vol.status(ctx).await?;
            let still = st
                .iter()
                .any(|b| b.path == brick.path && b.online && b.pid == Some(pid));
            Ok(if still {
                Poll::Pending(format!("pid {pid} still listed online"))
            } else {
                Poll::Ready(())
            })
        },
    )
    .await?;
    Ok(pid)
}

/// Brings every dead brick back with `volume start force` and waits until all are online.
pub async fn bring_back(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    vol.start_force(ctx).await?;
    wait_online(ctx, vol, Duration::from_secs(60)).await
}

/// Waits until every brick is online.
pub async fn wait_online(ctx: &Ctx, vol: &Volume, timeout: Duration) -> Result<(), TestError> {
    vol.wait_online(ctx, timeout).await
}

/// Which bricks of each replica or disperse set to take down (see [`select`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// One brick per set: the last data brick (never the first brick of a replica set, which
    /// client quorum `auto` needs when exactly half the set is up).
    One,
    /// The most bricks per set that keep the volume writable with default settings: a minority
    /// of a replica set (client quorum `auto`), `redundancy` bricks of a disperse set, one data
    /// brick of an arbiter set.
    KeepQuorum,
    /// All but one brick of each replica set (the test must relax client quorum, e.g.
    /// `cluster.quorum-type none`); for disperse, `redundancy` bricks (more loses data).
    AllButOne,
    /// The arbiter brick of each arbiter set.
    Arbiter,
    /// Brick `n` (0-based, within its set) of each set.
    Nth(usize),
}

/// The bricks of each subvolume (replica or disperse set), as indices into `vol.bricks`;
/// for a plain distribute volume every brick is a set of its own.
pub fn sets(vol: &Volume) -> Vec<Vec<usize>> {
    layout_sets(&vol.layout)
}

fn layout_sets(layout: &Layout) -> Vec<Vec<usize>> {
    (0..layout.brick_count())
        .collect::<Vec<_>>()
        .chunks(layout.set_size().max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Whether brick `index` holds whole copies of files: not a disperse fragment, not an arbiter.
pub fn holds_data(vol: &Volume, index: usize) -> bool {
    layout_holds_data(&vol.layout, index)
}

fn layout_holds_data(layout: &Layout, index: usize) -> bool {
    match layout {
        Layout::Disperse { .. } | Layout::DistributedDisperse { .. } => false,
        Layout::Arbiter { .. } => index % 3 != 2,
        _ => true,
    }
}

/// Brick indices to take down for the volume's layout, per set, such that no data is lost (and,
/// except with [`Select::AllButOne`], the volume stays writable). A layout with no redundancy, or
/// a choice that does not apply to it, is an error naming both.
pub fn select(vol: &Volume, how: Select) -> Result<Vec<usize>, TestError> {
    select_in(&vol.layout, how).map_err(|why| {
        TestError::Nodes(format!(
            "cannot select bricks of {} ({}) with {how:?}: {why}",
            vol.name,
            vol.layout.type_str()
        ))
    })
}

/// [`select`] on a layout alone.
pub fn select_in(layout: &Layout, how: Select) -> Result<Vec<usize>, &'static str> {
    let no_arbiter = "the volume has no arbiter bricks";
    let per_set: Vec<usize> = match (*layout, how) {
        (Layout::Distribute { .. }, _) => return Err("a distribute volume has no redundancy"),
        (_, Select::Nth(n)) if n >= layout.set_size() => {
            return Err("there are not that many bricks in a set")
        }
        (_, Select::Nth(n)) => vec![n],
        (Layout::Replicate { replica } | Layout::DistributedReplicate { replica, .. }, how) => {
            match how {
                Select::One => vec![replica - 1],
                // auto quorum: more than half up (or exactly half including the first brick).
                Select::KeepQuorum => (replica - replica / 2..replica).collect(),
                Select::AllButOne => (1..replica).collect(),
                Select::Arbiter | Select::Nth(_) => return Err(no_arbiter),
            }
        }
        (
            Layout::Disperse { bricks, redundancy }
            | Layout::DistributedDisperse {
                bricks, redundancy, ..
            },
            how,
        ) => match how {
            Select::One => vec![bricks - 1],
            Select::KeepQuorum | Select::AllButOne => (bricks - redundancy..bricks).collect(),
            Select::Arbiter | Select::Nth(_) => return Err(no_arbiter),
        },
        (Layout::Arbiter { .. }, how) => match how {
            Select::One | Select::KeepQuorum | Select::Nth(_) => vec![1],
            Select::Arbiter => vec![2],
            Select::AllButOne => vec![1, 2],
        },
    };
    Ok(layout_sets(layout)
        .iter()
        .flat_map(|set| per_set.iter().filter_map(|&i| set.get(i).copied()))
        .collect())
}

/// Kills the brick processes at `indices` (see [`kill`]), each reported offline before the next.
/// Returns the PIDs killed.
pub async fn kill_many(ctx: &Ctx, vol: &Volume, indices: &[usize]) -> Result<Vec<u32>, TestError> {
    let mut pids = Vec::with_capacity(indices.len());
    for &i in indices {
        pids.push(kill(ctx, vol, i).await?);
    }
    Ok(pids)
}

/// Selects bricks with [`select`] and kills them; returns the indices taken down.
pub async fn take_down(ctx: &Ctx, vol: &Volume, how: Select) -> Result<Vec<usize>, TestError> {
    let chosen = select(vol, how)?;
    let specs: Vec<String> = chosen.iter().map(|&i| vol.bricks[i].spec()).collect();
    ctx.step(format!("take down {how:?}: {}", specs.join(", ")));
    kill_many(ctx, vol, &chosen).await?;
    Ok(chosen)
}

/// Parses the `.meta` private dump of an AFR or EC translator on a client: which children are up
/// (`child_up[i] = 1` lines for AFR; `childs_up_mask` for EC). `None` if neither is there.
pub fn parse_children_up(private: &str) -> Option<Vec<bool>> {
    let afr: Vec<bool> = private
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().starts_with("child_up[").then(|| v.trim() == "1")
        })
        .collect();
    if !afr.is_empty() {
        return Some(afr);
    }
    // EC: `childs_up_mask = 110` prints child 0 last.
    let mask = private.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "childs_up_mask").then(|| v.trim().to_string())
    })?;
    Some(mask.chars().rev().map(|c| c == '1').collect())
}

/// Waits until the client of `mount` sees every brick of the volume up again (its replicate or
/// disperse translators' children, read from the mount's `.meta`), so that what it writes next
/// reaches the bricks just brought back.
pub async fn wait_client_up(
    ctx: &Ctx,
    mount: &super::mount::Mount,
    vol: &Volume,
    timeout: Duration,
) -> Result<(), TestError> {
    let meta = format!("{}/.meta/graphs/active", mount.path);
    let line = format!(
        "for d in {m}/{v}-replicate-* {m}/{v}-disperse-*; do \
           [ -e \"$d/private\" ] || continue; echo \"== $d\"; cat \"$d/private\"; done",
        m = gflab_agent::shell::quote(&meta),
        v = vol.name
    );
    let what = format!(
        "the client on {} to see every brick of {} up",
        mount.node.name(),
        vol.name
    );
    let want_sets = sets(vol).len();
    wait_for(ctx, &what, timeout, Duration::from_secs(1), || async {
        let out = ctx.sh(&mount.node, line.clone()).await?;
        let dumps: Vec<&str> = out.split("== ").filter(|d| !d.trim().is_empty()).collect();
        let mut down = Vec::new();
        for d in &dumps {
            let name = d.lines().next().unwrap_or_default();
            match parse_children_up(d) {
                Some(up) if up.iter().all(|u| *u) => {}
                Some(up) => down.push(format!("{name}: {up:?}")),
                None => down.push(format!("{name}: no child state")),
            }
        }
        Ok(if dumps.len() == want_sets && down.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending(format!(
                "{} of {want_sets} sets dumped; not up: {}",
                dumps.len(),
                down.join("; ")
            ))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_bricks_per_set() {
        let r3 = Layout::DistributedReplicate {
            replica: 3,
            sets: 2,
        };
        assert_eq!(layout_sets(&r3), [vec![0, 1, 2], vec![3, 4, 5]]);
        assert_eq!(select_in(&r3, Select::One), Ok(vec![2, 5]));
        assert_eq!(select_in(&r3, Select::KeepQuorum), Ok(vec![2, 5]));
        assert_eq!(select_in(&r3, Select::AllButOne), Ok(vec![1, 2, 4, 5]));
        assert_eq!(select_in(&r3, Select::Nth(0)), Ok(vec![0, 3]));
        assert!(select_in(&r3, Select::Arbiter).is_err());
        assert!(select_in(&r3, Select::Nth(3)).is_err());
        let ec = Layout::Disperse {
            bricks: 6,
            redundancy: 2,
        };
        assert_eq!(select_in(&ec, Select::KeepQuorum), Ok(vec![4, 5]));
        let arb = Layout::Arbiter { sets: 2 };
        assert_eq!(select_in(&arb, Select::Arbiter), Ok(vec![2, 5]));
        assert_eq!(select_in(&arb, Select::One), Ok(vec![1, 4]));
        let r2 = Layout::Replicate { replica: 2 };
        assert_eq!(select_in(&r2, Select::KeepQuorum), Ok(vec![1]));
        assert!(select_in(&Layout::Distribute { bricks: 3 }, Select::One).is_err());
        assert!(layout_holds_data(&arb, 4) && !layout_holds_data(&arb, 5));
        assert!(!layout_holds_data(&ec, 0) && layout_holds_data(&r3, 5));
    }

    #[test]
    fn reads_children_up_from_meta() {
        let afr = "[xlator.cluster.afr.v-replicate-0]\nchild_count=3\nchild_up[0]=1\nchild_up[1]=0\nchild_up[2]=1\n";
        assert_eq!(parse_children_up(afr), Some(vec![true, false, true]));
        let ec = "[cluster/disperse.v-disperse-0]\nup = 1\nnodes = 3\nchilds_up = 2\nchilds_up_mask = 110\n";
        assert_eq!(parse_children_up(ec), Some(vec![false, true, true]));
        assert_eq!(parse_children_up("nothing"), None);
    }
}
