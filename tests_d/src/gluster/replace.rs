//! Replacing bricks: `volume replace-brick VOL OLD NEW commit force` (a new, empty brick takes an
//! old one's place) and `volume reset-brick VOL BRICK start` / `... BRICK BRICK commit force` (the
//! same brick, typically wiped, is taken out and put back). Each returns the volume as it is now.
//!
//! New brick directories go under the volume's own directory on a server that already holds one
//! of its bricks, so the volume's cleanup removes them with the rest.
use std::time::Duration;

use gflab_agent::shell;

use super::gluster;
use super::volume::{Brick, Volume};
use crate::ctx::Node;
use crate::{Ctx, TestError};

fn brick_at(vol: &Volume, index: usize) -> Result<&Brick, TestError> {
    vol.bricks
        .get(index)
        .ok_or_else(|| TestError::Check(format!("volume {} has no brick #{index}", vol.name)))
}

/// Replaces brick `index` with a new empty directory on `to` (default: the same server) with
/// `replace-brick ... commit force`, waits until every brick is online and returns the volume
/// with its brick list updated. Heal then fills the new brick (`heal::full` or the index).
pub async fn replace_brick(
    ctx: &Ctx,
    vol: &Volume,
    index: usize,
    to: Option<&Node>,
) -> Result<Volume, TestError> {
    let old = brick_at(vol, index)?.clone();
    let node = to.cloned().unwrap_or_else(|| old.node.clone());
    if !vol.bricks.iter().any(|b| b.node.name() == node.name()) {
        return Err(TestError::Nodes(format!(
            "the new brick must go on a server that holds a brick of {} (its directory is \
             cleaned up with the volume); {} holds none",
            vol.name,
            node.name()
        )));
    }
    let path = format!(
        "{}/{}/{}",
        node.brick_root(),
        vol.name,
        ctx.unique(&format!("r{index}"))
    );
    let new = Brick { node, path };
    ctx.step(format!("replace brick {} with {}", old.spec(), new.spec()));
    ctx.sh(&new.node, format!("mkdir -p {}", shell::quote(&new.path)))
        .await?;
    gluster(
        ctx,
        &vol.server,
        [
            "volume",
            "replace-brick",
            vol.name.as_str(),
            &old.spec(),
            &new.spec(),
            "commit",
            "force",
        ],
    )
    .await?;
    let mut now = vol.clone();
    now.bricks[index] = new;
    now.wait_online(ctx, Duration::from_secs(60)).await?;
    Ok(now)
}

/// `volume reset-brick VOL BRICK <tail...>` for brick `index`.
async fn reset_brick(
    ctx: &Ctx,
    vol: &Volume,
    index: usize,
    tail: &[&str],
) -> Result<(), TestError> {
    let b = brick_at(vol, index)?.spec();
    ctx.step(format!("reset-brick {b} {}", tail.join(" ")));
    let mut args = vec!["volume", "reset-brick", vol.name.as_str(), &b];
    args.extend_from_slice(tail);
    gluster(ctx, &vol.server, args).await.map(|_| ())
}

/// `reset-brick VOL BRICK start`: gluster takes brick `index` offline for maintenance.
pub async fn reset_brick_start(ctx: &Ctx, vol: &Volume, index: usize) -> Result<(), TestError> {
    reset_brick(ctx, vol, index, &["start"]).await
}

/// Empties brick `index`'s directory, gluster's metadata (`.glusterfs`) and the directory's own
/// xattrs included, as a new disk would be (between [`reset_brick_start`] and
/// [`reset_brick_commit`]).
pub async fn wipe_brick(ctx: &Ctx, vol: &Volume, index: usize) -> Result<(), TestError> {
    let b = brick_at(vol, index)?;
    let p = shell::quote(&b.path);
    ctx.step(format!("wipe brick {}", b.spec()));
    ctx.sh(&b.node, format!("set -e; rm -rf {p}; mkdir -p {p}"))
        .await
        .map(|_| ())
}

/// `reset-brick VOL BRICK BRICK commit force`: the same brick is put back; waits until every
/// brick is online. Returns the volume (its brick list does not change).
pub async fn reset_brick_commit(
    ctx: &Ctx,
    vol: &Volume,
    index: usize,
) -> Result<Volume, TestError> {
    let same = brick_at(vol, index)?.spec();
    reset_brick(ctx, vol, index, &[&same, "commit", "force"]).await?;
    vol.wait_online(ctx, Duration::from_secs(60)).await?;
    Ok(vol.clone())
}
