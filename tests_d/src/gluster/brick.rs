//! Brick processes: list, kill one, bring back (`volume start force`), wait online.
use std::time::Duration;

use super::volume::{BrickStatus, Volume};
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
