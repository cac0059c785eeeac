//! FUSE mounts on clients (`mount -t glusterfs server:/volume /mnt/...`); unmounted when the test ends.
use std::time::Duration;

use gflab_agent::shell;

use super::volume::Volume;
use super::{wait_for, Poll};
use crate::ctx::{Cleanup, Node};
use crate::{Ctx, TestError};

/// Runs one file operation (a shell line) on `node` with `$M` set to the mount point `dir`, with
/// absolute paths (changing into a mount that lost quorum would fail before the operation does);
/// returns its output whatever the exit status, for tests that expect it to fail.
pub async fn attempt(
    ctx: &Ctx,
    node: &Node,
    dir: &str,
    line: &str,
    timeout: Duration,
) -> Result<gflab_agent::Output, TestError> {
    ctx.exec(
        node,
        gflab_agent::Command::shell(line)
            .env("M", dir)
            .timeout(timeout),
    )
    .await
}

/// What a write through a mount is expected to do (see [`ensure_write`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteExpect {
    /// The write succeeds.
    Allowed,
    /// The write fails and its error contains this text (`"Read-only file system"` for EROFS).
    Refused(&'static str),
}

/// Writes 16 KiB of random data to `rel` (relative to the mount) with `dd ... conv=fsync` and
/// checks the outcome against `expect`; the check's message names the file and what gluster said.
pub async fn ensure_write(
    ctx: &Ctx,
    m: &Mount,
    rel: &str,
    expect: WriteExpect,
) -> Result<(), TestError> {
    let out = attempt(
        ctx,
        &m.node,
        &m.path,
        &format!(
            "dd if=/dev/urandom of=\"$M\"/{} bs=4k count=4 conv=fsync status=none",
            shell::quote(rel)
        ),
        Duration::from_secs(60),
    )
    .await?;
    let err = out.stderr_str().trim().to_string();
    match expect {
        WriteExpect::Allowed if out.success() => Ok(()),
        WriteExpect::Allowed => Err(TestError::Check(format!(
            "writing {rel} on {}:{} should be allowed: {err}",
            m.node.name(),
            m.path
        ))),
        WriteExpect::Refused(why) if !out.success() && err.contains(why) => Ok(()),
        WriteExpect::Refused(why) => Err(TestError::Check(format!(
            "writing {rel} on {}:{} should fail with \"{why}\": exit {:?}, {err}",
            m.node.name(),
            m.path,
            out.status
        ))),
    }
}

/// Runs `line` like [`attempt`] on the mount `m` (`$M` is its path) and checks that it fails
/// with one of the `errors` (e.g. `"Input/output error"`, `"Transport endpoint is not
/// connected"`) in its output; returns that output. A success, or another error, is a check
/// failure naming the line.
pub async fn ensure_fails(
    ctx: &Ctx,
    m: &Mount,
    line: &str,
    errors: &[&str],
) -> Result<String, TestError> {
    let out = attempt(ctx, &m.node, &m.path, line, Duration::from_secs(120)).await?;
    let text = format!("{}{}", out.stdout_str(), out.stderr_str());
    if out.success() {
        return Err(TestError::Check(format!(
            "`{line}` on {}:{} succeeded; it should fail with one of {errors:?}",
            m.node.name(),
            m.path
        )));
    }
    if !errors.iter().any(|e| text.contains(e)) {
        return Err(TestError::Check(format!(
            "`{line}` on {}:{} failed, but not with one of {errors:?}: {}",
            m.node.name(),
            m.path,
            text.trim()
        )));
    }
    Ok(text)
}

/// A mounted volume on a client.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The client.
    pub node: Node,
    /// The mount point.
    pub path: String,
    /// The volume name.
    pub volume: String,
}

/// Mounts `vol` (from its server) on `client` under `/mnt/gflab/` and waits until it answers `stat`.
pub async fn mount(ctx: &Ctx, client: &Node, vol: &Volume) -> Result<Mount, TestError> {
    let path = format!("/mnt/gflab/{}", ctx.unique("mnt"));
    ctx.defer(Cleanup::Unmount {
        node: client.clone(),
        path: path.clone(),
    });
    let p = shell::quote(&path);
    let source = format!("{}:/{}", vol.server.host(), vol.name);
    ctx.sh(
        client,
        format!(
            "mkdir -p {p} && mount -t glusterfs {} {p}",
            shell::quote(&source)
        ),
    )
    .await?;
    let what = format!("{source} mounted on {}:{path}", client.name());
    wait_for(
        ctx,
        &what,
        Duration::from_secs(30),
        Duration::from_millis(500),
        || async {
            let out = ctx
                .exec(
                    client,
                    gflab_agent::Command::shell(format!(
                        "mountpoint -q {p} && stat -f -c %T {p} && ls {p} >/dev/null"
                    )),
                )
                .await?;
            Ok(if out.success() {
                Poll::Ready(())
            } else {
                Poll::Pending(out.stderr_str())
            })
        },
    )
    .await?;
    Ok(Mount {
        node: client.clone(),
        path,
        volume: vol.name.clone(),
    })
}

/// The usual start of a scenario: creates `spec`, starts it, waits until its bricks are online and
/// mounts it on the first client.
pub async fn volume_mounted(
    ctx: &Ctx,
    spec: super::volume::VolumeSpec,
) -> Result<(Volume, Mount), TestError> {
    let vol = super::volume::create(ctx, spec).await?;
    vol.start_and_wait(ctx).await?;
    let client = ctx.client(0)?;
    let m = mount(ctx, &client, &vol).await?;
    Ok((vol, m))
}

/// Unmounts and removes the mount point.
pub async fn unmount(ctx: &Ctx, m: &Mount) -> Result<(), TestError> {
    let p = shell::quote(&m.path);
    ctx.sh(&m.node, format!("umount {p} && rmdir {p}"))
        .await
        .map(|_| ())
}

/// Whether `path` is a mount point on `node`.
pub async fn is_mounted(ctx: &Ctx, node: &Node, path: &str) -> Result<bool, TestError> {
    let out = ctx
        .exec(
            node,
            gflab_agent::Command::new("mountpoint").args(["-q", path]),
        )
        .await?;
    Ok(out.success())
}
