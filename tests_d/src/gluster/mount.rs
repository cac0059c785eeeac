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

/// A mounted volume (or one of its directories) on a client.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The client.
    pub node: Node,
    /// The mount point.
    pub path: String,
    /// The volume name.
    pub volume: String,
    /// The directory of the volume mounted (`dir/sub`, no leading `/`); `None` for the root.
    pub subdir: Option<String>,
}

/// Why gluster refused a mount, from the client's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// The bricks refused the client (`auth.allow` / `auth.reject`): `AUTH_FAILED`,
    /// `Authentication failed`.
    AuthFailed,
    /// The directory asked for does not exist on the volume (`subdirectory for mount ... is not
    /// found`).
    NoSuchDirectory,
    /// Another handshake failure (the log line says which).
    Other,
}

/// A mount that gluster refused: the mount point does not serve (checked) and is gone.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The client.
    pub node: Node,
    /// What was mounted (`server:/vol/dir`).
    pub source: String,
    /// Why, classified from `line`.
    pub reason: RefusalReason,
    /// The client log's line that says why (`SETVOLUME on remote-host failed [...]`).
    pub line: String,
}

/// What the mount point showed after `mount` (see [`attempt_mount`]).
enum Attempted {
    Serving,
    Refused(String),
    Failed,
}

/// What a mount attempt gave.
#[derive(Debug, Clone)]
pub enum MountOutcome {
    /// It mounted and answers `stat` and `ls`.
    Mounted(Mount),
    /// Gluster refused it.
    Refused(Refusal),
    /// The mount helper failed (its message) and the client's log names no refusal by the
    /// bricks (e.g. the path names a file); the mount point does not serve.
    Failed(String),
}

/// The client's log file of a FUSE mount at `path` (glusterfs names it after the mount point:
/// `/mnt/gflab/x` logs to `/var/log/glusterfs/mnt-gflab-x.log`).
pub fn log_file(path: &str) -> String {
    format!(
        "/var/log/glusterfs/{}.log",
        path.trim_matches('/').replace('/', "-")
    )
}

/// Lines of a mount's client log that say the handshake with the bricks was refused.
const REFUSAL_LINES: &str = "SETVOLUME on remote-host failed|Server authentication failed";

fn classify(line: &str) -> RefusalReason {
    if line.contains("is not found") || line.contains("No such file or directory") {
        RefusalReason::NoSuchDirectory
    } else if line.contains("Authentication failed")
        || line.contains("AUTH_FAILED")
        || line.contains("Permission denied")
    {
        RefusalReason::AuthFailed
    } else {
        RefusalReason::Other
    }
}

/// `server:/volume` or `server:/volume/dir`.
fn source(vol: &Volume, subdir: Option<&str>) -> String {
    match subdir
        .map(|d| d.trim_matches('/'))
        .filter(|d| !d.is_empty())
    {
        Some(d) => format!("{}:/{}/{d}", vol.server.host(), vol.name),
        None => format!("{}:/{}", vol.server.host(), vol.name),
    }
}

/// Mounts `vol` — its root, or the directory `subdir` (`server:/vol/dir`) — on `client` under
/// `/mnt/gflab/`, and tells whether it serves or gluster refused it. FUSE mounts report success
/// even when the bricks refuse the client (the refusal comes after `mount` returns), so the
/// outcome is read from the mount point (it answers `stat` and `ls`) and from the client's log
/// (a `SETVOLUME ... failed` line). A refused mount is checked not to serve, is unmounted if
/// the FUSE process left it behind, and its directory removed; the line saying why is returned.
pub async fn attempt_mount(
    ctx: &Ctx,
    client: &Node,
    vol: &Volume,
    subdir: Option<&str>,
) -> Result<MountOutcome, TestError> {
    let path = format!("/mnt/gflab/{}", ctx.unique("mnt"));
    ctx.defer(Cleanup::Unmount {
        node: client.clone(),
        path: path.clone(),
    });
    let p = shell::quote(&path);
    let log = shell::quote(&log_file(&path));
    let source = source(vol, subdir);
    let out = ctx
        .exec(
            client,
            gflab_agent::Command::shell(format!(
                "mkdir -p {p} && mount -t glusterfs {} {p}",
                shell::quote(&source)
            )),
        )
        .await?;
    let failed = (!out.success()).then(|| {
        format!(
            "mount -t glusterfs {source} {path} on {}: {} {}",
            client.name(),
            out.stdout_str().trim(),
            out.stderr_str().trim()
        )
    });
    let what = format!(
        "{source} on {}:{path} to serve or be refused",
        client.name()
    );
    let polls = std::sync::atomic::AtomicU32::new(0);
    let state = wait_for(
        ctx,
        &what,
        Duration::from_secs(30),
        Duration::from_millis(500),
        || async {
            let n = polls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let out = ctx
                .exec(
                    client,
                    gflab_agent::Command::shell(format!(
                        "if l=$(grep -m1 -E '{REFUSAL_LINES}' {log} 2>/dev/null); then \
                           echo \"REFUSED $l\"; \
                         elif mountpoint -q {p} && stat -f -c %T {p} >/dev/null && ls {p} >/dev/null; then \
                           echo SERVING; \
                         else echo PENDING; fi"
                    )),
                )
                .await?;
            let text = out.stdout_str();
            let text = text.trim();
            Ok(if let Some(l) = text.strip_prefix("REFUSED ") {
                Poll::Ready(Attempted::Refused(l.to_string()))
            } else if text == "SERVING" {
                Poll::Ready(Attempted::Serving)
            } else if failed.is_some() && n > 6 {
                // The mount helper failed and, 3 s later, the log still names no refusal.
                Poll::Ready(Attempted::Failed)
            } else {
                Poll::Pending(format!("not serving yet: {}", out.stderr_str().trim()))
            })
        },
    )
    .await?;
    let first = match state {
        Attempted::Serving => {
            return Ok(MountOutcome::Mounted(Mount {
                node: client.clone(),
                path,
                volume: vol.name.clone(),
                subdir: subdir.map(|d| d.trim_matches('/').to_string()),
            }))
        }
        Attempted::Failed => {
            let msg = failed.unwrap_or_default();
            if is_mounted(ctx, client, &path).await? {
                return Err(TestError::Check(format!(
                    "{msg}; yet {path} is a mount point"
                )));
            }
            return Ok(MountOutcome::Failed(msg));
        }
        Attempted::Refused(l) => l,
    };
    // Prefer the line that carries the bricks' reason over fuse's generic shutdown line.
    let lines = ctx
        .exec(
            client,
            gflab_agent::Command::shell(format!("grep -E '{REFUSAL_LINES}' {log}")),
        )
        .await?
        .stdout_str();
    let line = lines
        .lines()
        .find(|l| l.contains("SETVOLUME"))
        .unwrap_or(&first)
        .trim()
        .to_string();
    // The FUSE process shuts down after the refusal; until it has, the mount point may still be
    // there (and answer ENOTCONN). It must never serve: wait until it is gone, unmount it if the
    // process is gone but the mount stayed.
    let what = format!("the refused mount {}:{path} to be gone", client.name());
    let serving = wait_for(
        ctx,
        &what,
        Duration::from_secs(30),
        Duration::from_millis(500),
        || async {
            let out = ctx
                .exec(
                    client,
                    gflab_agent::Command::shell(format!(
                        "if ! mountpoint -q {p}; then echo GONE; \
                         elif ls {p} >/dev/null 2>&1; then echo SERVING; \
                         elif ! pgrep -f -- {pat} >/dev/null; then umount -l {p}; echo STALE; \
                         else echo DYING; fi",
                        pat = shell::quote(&format!("glusterfs.* {path}$")),
                    )),
                )
                .await?;
            Ok(match out.stdout_str().trim() {
                "GONE" => Poll::Ready(false),
                "SERVING" => Poll::Ready(true),
                s => Poll::Pending(s.to_string()),
            })
        },
    )
    .await?;
    if serving {
        return Err(TestError::Check(format!(
            "{source} on {}:{path} serves although its log says it was refused: {line}",
            client.name()
        )));
    }
    ctx.sh(client, format!("rmdir {p} 2>/dev/null || true"))
        .await?;
    Ok(MountOutcome::Refused(Refusal {
        node: client.clone(),
        reason: classify(&line),
        source,
        line,
    }))
}

/// Mounts `vol` (from its server) on `client` under `/mnt/gflab/` and waits until it answers `stat`;
/// a refused mount is an error carrying the client log's reason.
pub async fn mount(ctx: &Ctx, client: &Node, vol: &Volume) -> Result<Mount, TestError> {
    mounted(attempt_mount(ctx, client, vol, None).await?)
}

/// Mounts the directory `dir` of `vol` (`server:/vol/dir`, `dir` relative to the volume's root,
/// `a/b/c` for a level-down directory) on `client`; a refused mount is an error with the reason.
pub async fn mount_subdir(
    ctx: &Ctx,
    client: &Node,
    vol: &Volume,
    dir: &str,
) -> Result<Mount, TestError> {
    mounted(attempt_mount(ctx, client, vol, Some(dir)).await?)
}

fn mounted(o: MountOutcome) -> Result<Mount, TestError> {
    match o {
        MountOutcome::Mounted(m) => Ok(m),
        MountOutcome::Refused(r) => Err(TestError::Check(format!(
            "mounting {} on {} was refused: {}",
            r.source,
            r.node.name(),
            r.line
        ))),
        MountOutcome::Failed(msg) => Err(TestError::Check(msg)),
    }
}

/// Attempts a mount of `vol` (or its directory `subdir`) on `client` that gluster must refuse
/// for `reason`; returns the refusal (its log line). A mount that serves is unmounted and
/// reported as a check failure naming what was expected.
pub async fn ensure_refused(
    ctx: &Ctx,
    client: &Node,
    vol: &Volume,
    subdir: Option<&str>,
    reason: RefusalReason,
) -> Result<Refusal, TestError> {
    match attempt_mount(ctx, client, vol, subdir).await? {
        MountOutcome::Refused(r) if r.reason == reason => Ok(r),
        MountOutcome::Refused(r) => Err(TestError::Check(format!(
            "mounting {} on {} was refused for {:?}, expected {reason:?}: {}",
            r.source,
            client.name(),
            r.reason,
            r.line
        ))),
        MountOutcome::Failed(msg) => Err(TestError::Check(format!(
            "mounting {} on {} should be refused ({reason:?}) by the bricks, but the mount \
             helper failed without a refusal in the client's log: {msg}",
            source(vol, subdir),
            client.name()
        ))),
        MountOutcome::Mounted(m) => {
            unmount(ctx, &m).await?;
            Err(TestError::Check(format!(
                "mounting {} on {} should be refused ({reason:?}) but it mounted and served",
                source(vol, subdir),
                client.name()
            )))
        }
    }
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
