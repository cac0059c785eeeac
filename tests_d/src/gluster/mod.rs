//! GlusterFS operations for tests: every call goes through [`Ctx`] (so it lands in the transcript) and
//! parses `gluster --xml` output into typed values.
//!
//! - [`peer`]: probe, detach, status, wait until the pool is connected.
//! - [`volume`]: create (distribute, replicate, distributed-replicate, disperse, arbiter), start, stop,
//!   delete, set, reset, info, status, list.
//! - [`brick`]: list, choose which bricks to take down per set for a layout, kill one or several,
//!   bring them back, wait until bricks and clients see them online.
//! - [`glusterd`]: start, stop, restart through the agent's service control, wait until it answers.
//! - [`mount`]: FUSE mounts of a volume or one of its directories on clients, unmount, refused
//!   mounts with the client log's reason.
//! - [`auth`]: `auth.allow` / `auth.reject` for the volume or per directory, by IP, host name or
//!   wildcard, reset at cleanup; mounts cut off by an auth change.
//! - [`io`]: write files of given sizes with sha256 checksums, verify, in parallel across nodes.
//! - [`heal`]: index and full heal, heal info (summary, split-brain, counts), waits, split-brain
//!   resolution (bigger-file, latest-mtime, source-brick, favorite-child-policy).
//! - [`replace`]: replace-brick and reset-brick.
//! - [`ec`]: disperse fragments on bricks, their EC xattrs, heal checks, client options.
//! - [`dht`]: add-brick, remove-brick, rebalance, layout ranges, data and link files on bricks.
//! - [`arbiter`]: arbiter bricks hold no data; add-brick/remove-brick changing the replica count.
//! - [`xattr`]: GlusterFS xattrs on bricks (`trusted.afr.*`, `trusted.ec.*`, gfid, DHT) and gfids.
//! - [`tree`]: a checksum of a tree's data and metadata, compared between a mount and its bricks.
//! - [`bgio`]: background writers that run through faults, then are stopped and validated.
//! - [`fileops`]: deep trees, rename, links, chmod/chown, other users, truncate, append, sparse.
//! - [`snapshot`]: create, list, info, status, activate, deactivate, delete, restore, clone, config.
//! - [`shard`]: sharding on with a block size, base files and shards on the bricks, their
//!   background deletion.
//! - [`glusterfind`]: sessions, `pre`/`query` output parsed into change records, `post`, for
//!   volumes whose bricks are all on the server glusterfind runs on.
//! - [`hashing`]: distribute volumes mounted with `cluster.min-free-disk` at 1% (a lab's bricks
//!   share the host's disk, whose free space would otherwise steer DHT).
//! - [`mgmt`]: refusals (probe, detach, set) with their message, profile, statedump, get-state,
//!   `volume get`, brick multiplexing, server quorum options, glusterd RSS.
//! - [`quota`]: directory quota: enable/disable, usage and object limits, timeouts, `quota list`
//!   and `list-objects` as typed rows, waits for the accounting, writes refused with EDQUOT.
//! - [`bitrot`]: bitrot detection: enable/disable, scrub tunables, on-demand scrub and its
//!   parsed status, signer and scrubber daemons, signatures and bad copies on bricks.
//! - [`ctime`]: consistent times (`features.ctime`): `trusted.glusterfs.mdata` decoded and
//!   compared across bricks, times with nanoseconds as a client sees them.
//! - [`vstatus`]: `volume status VOL clients` and `detail` as typed rows per brick.
use std::future::Future;
use std::time::{Duration, Instant};

use gflab_agent::{shell, Command, ServiceAction};

use crate::ctx::{Cleanup, Node};
use crate::xml::{self, Element};
use crate::{Ctx, TestError};

pub mod arbiter;
pub mod auth;
pub mod bgio;
pub mod bitrot;
pub mod brick;
pub mod ctime;
pub mod dht;
pub mod ec;
pub mod fileops;
pub mod glusterd;
pub mod glusterfind;
pub mod hashing;
pub mod heal;
pub mod io;
pub mod mgmt;
pub mod mount;
pub mod peer;
pub mod quota;
pub mod replace;
pub mod shard;
pub mod snapshot;
pub mod tree;
pub mod volume;
pub mod vstatus;
pub mod xattr;

/// `gluster --mode=script ARGS...` (never prompts).
pub fn gluster_cmd<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Command::new("gluster").arg("--mode=script").args(args)
}

/// Runs a gluster CLI command on `node`; a non-zero exit is an error.
pub async fn gluster<I, S>(ctx: &Ctx, node: &Node, args: I) -> Result<String, TestError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Ok(ctx.run(node, gluster_cmd(args)).await?.stdout_str())
}

/// Runs `gluster --mode=script --xml ARGS...` and returns the `<cliOutput>` root after checking `opRet`.
pub async fn gluster_xml<I, S>(ctx: &Ctx, node: &Node, args: I) -> Result<Element, TestError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let cmd = gluster_cmd(args).arg("--xml");
    let command = cmd.display();
    let out = ctx.run(node, cmd).await?;
    let text = out.stdout_str();
    let parse_err = |message: String| TestError::Parse {
        node: node.name().to_string(),
        command: command.clone(),
        message,
    };
    let root = xml::parse(&text).map_err(|e| parse_err(e.to_string()))?;
    let ret = root.child_text("opRet").unwrap_or("0");
    if ret != "0" {
        return Err(parse_err(format!(
            "opRet {ret}: {}",
            root.child_text("opErrstr").unwrap_or("(no message)")
        )));
    }
    Ok(root)
}

/// Reads a required child's text, or fails naming the element.
pub(crate) fn req<'a>(
    el: &'a Element,
    name: &str,
    cmd: &str,
    node: &Node,
) -> Result<&'a str, TestError> {
    el.child_text(name).ok_or_else(|| TestError::Parse {
        node: node.name().to_string(),
        command: cmd.to_string(),
        message: format!("<{}> has no <{name}>", el.name),
    })
}

/// One poll of a [`wait_for`] condition.
#[derive(Debug)]
pub enum Poll<T> {
    /// Done, with a value.
    Ready(T),
    /// Not yet; the current state, for the timeout message.
    Pending(String),
}

/// Polls `check` every `every` until it is ready or `timeout` passes. Command failures from `check`
/// count as "not yet" (a restarting daemon fails for a while) and the last one is reported on
/// timeout; an agent that cannot be reached ends the wait at once (its client already retried).
pub async fn wait_for<T, F, Fut>(
    ctx: &Ctx,
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: F,
) -> Result<T, TestError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, TestError>>,
{
    let start = Instant::now();
    ctx.step(format!("waiting up to {}s for {what}", timeout.as_secs()));
    loop {
        let last = match check().await {
            Ok(Poll::Ready(v)) => {
                ctx.step(format!(
                    "{what}: done after {:.1}s",
                    start.elapsed().as_secs_f64()
                ));
                return Ok(v);
            }
            Ok(Poll::Pending(s)) => s,
            Err(e @ TestError::Agent { .. }) => return Err(e),
            Err(e) => e.to_string(),
        };
        if start.elapsed() + every > timeout {
            return Err(TestError::Wait {
                what: what.to_string(),
                after: start.elapsed(),
                last,
            });
        }
        tokio::time::sleep(every).await;
    }
}

/// Runs a gluster command, retrying for up to a minute while glusterd reports another transaction
/// on the same object (a cancelled CLI call leaves glusterd finishing its transaction).
pub async fn gluster_settled(ctx: &Ctx, node: &Node, args: &[&str]) -> Result<String, TestError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match gluster(ctx, node, args.iter().copied()).await {
            Err(TestError::Command { stdout, stderr, .. })
                if Instant::now() < deadline && busy(&format!("{stdout}{stderr}")) =>
            {
                ctx.step("glusterd is busy with another transaction; retrying in 2s");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            other => return other,
        }
    }
}

fn busy(output: &str) -> bool {
    [
        "Another transaction is in progress",
        "Locking failed",
        "is already locked",
    ]
    .iter()
    .any(|m| output.contains(m))
}

/// Runs every cleanup registered on `ctx` in reverse order; returns the ones that failed, described.
pub async fn teardown(ctx: &Ctx) -> Vec<String> {
    let cleanups = ctx.take_cleanups();
    let mut failures = Vec::new();
    if !cleanups.is_empty() {
        ctx.step(format!("teardown: {} cleanup(s)", cleanups.len()));
    }
    for c in cleanups.into_iter().rev() {
        if let Err(e) = run_cleanup(ctx, &c).await {
            failures.push(e.to_string());
        }
    }
    failures
}

/// Deletes a volume if it exists: its snapshots first, then stop (force) and delete.
async fn delete_volume(ctx: &Ctx, server: &Node, name: &str) -> Result<(), TestError> {
    let exists = ctx
        .exec(server, gluster_cmd(["volume", "list"]))
        .await?
        .stdout_str()
        .lines()
        .any(|l| l.trim() == name);
    if !exists {
        return Ok(());
    }
    // Snapshots block deletion.
    if volume::info(ctx, server, name).await?.snapshot_count > 0 {
        gluster_settled(ctx, server, &["snapshot", "delete", "volume", name]).await?;
    }
    match gluster_settled(ctx, server, &["volume", "stop", name, "force"]).await {
        Err(TestError::Command { stdout, stderr, .. })
            if format!("{stdout}{stderr}").contains("not in the started state") => {}
        other => {
            other?;
        }
    }
    gluster_settled(ctx, server, &["volume", "delete", name])
        .await
        .map(|_| ())
}

/// Executes one cleanup; errors are returned (and already in the transcript).
pub(crate) async fn run_cleanup(ctx: &Ctx, c: &Cleanup) -> Result<(), TestError> {
    match c {
        Cleanup::Power { node, action } => ctx
            .control()?
            .power(&node.entry, &node.client, *action)
            .await
            .map_err(|e| TestError::Nodes(format!("failed to {action} {}: {e}", node.name()))),
        Cleanup::Unmount { node, path } => {
            let p = shell::quote(path);
            ctx.sh(
                node,
                format!(
                    "if mountpoint -q {p}; then umount {p} || umount -l {p}; fi; \
                     if [ -d {p} ]; then rmdir {p}; fi"
                ),
            )
            .await
            .map(|_| ())
        }
        Cleanup::Volume {
            server,
            name,
            dirs,
            unmount,
        } => {
            let deleted = delete_volume(ctx, server, name).await;
            // Small bricks' filesystems and loop devices go even when the deletion failed: they
            // live in the node's kernel and would outlive the test (and the lab).
            let mut unmounted = Ok(());
            for (node, line) in unmount {
                if let Err(e) = ctx.sh(node, line.clone()).await {
                    unmounted = unmounted.and(Err(e));
                }
            }
            deleted?;
            unmounted?;
            for (node, dir) in dirs {
                ctx.sh(node, format!("rm -rf {}", shell::quote(dir)))
                    .await?;
            }
            Ok(())
        }
        Cleanup::Service { node, name } => ctx
            .service(node, name, ServiceAction::Start)
            .await
            .map(|_| ()),
        Cleanup::Command { node, command } => ctx.run(node, command.clone()).await.map(|_| ()),
    }
}
