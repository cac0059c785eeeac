//! Directory quota: enable and disable (a guard disables it when the test ends), usage and object
//! limits on paths (with their soft limit), their removal, the timeouts and alert time, and
//! `quota list` / `list-objects` read from `--xml` into typed rows. The marker's accounting is
//! asynchronous: [`wait_usage`] and [`wait_objects`] poll the list until a condition holds.
//!
//! On the client side: [`fill`] (a `dd` through a mount that may be refused with [`EDQUOT`]) and
//! [`statfs`] (what `df` reports for the mount, which `features.quota-deem-statfs` bends to the
//! limit on `/`).
use std::time::Duration;

use gflab_agent::{shell, Command};

use super::mgmt::{self, Attempt};
use super::mount::{self, Mount};
use super::volume::Volume;
use super::xattr::Xattrs;
use super::{gluster_cmd, wait_for, Poll};
use crate::ctx::{Cleanup, Node};
use crate::xml::{self, Element};
use crate::{Ctx, TestError};

/// What a client sees when a write or create goes over a limit (EDQUOT).
pub const EDQUOT: &str = "Disk quota exceeded";

/// One row of `quota list`: a usage limit on a directory. Sizes in bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// The directory, from the volume root (`/dir`).
    pub path: String,
    /// The hard limit.
    pub hard_limit: u64,
    /// The soft limit as a percentage of the hard limit.
    pub soft_limit_percent: f64,
    /// The soft limit in bytes.
    pub soft_limit: u64,
    /// Bytes accounted under the directory.
    pub used: u64,
    /// Bytes left before the hard limit (0 when over it).
    pub available: u64,
    /// `Soft-limit exceeded?`
    pub soft_exceeded: bool,
    /// `Hard-limit exceeded?`
    pub hard_exceeded: bool,
}

/// One row of `quota list-objects`: an object (inode) limit on a directory.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectLimit {
    /// The directory, from the volume root.
    pub path: String,
    /// The hard limit (files and directories, the directory itself included).
    pub hard_limit: u64,
    /// The soft limit as a percentage of the hard limit.
    pub soft_limit_percent: f64,
    /// The soft limit in objects.
    pub soft_limit: u64,
    /// Files accounted under the directory.
    pub files: u64,
    /// Directories accounted, the directory itself included.
    pub dirs: u64,
    /// Objects left before the hard limit.
    pub available: u64,
    /// `Soft-limit exceeded?`
    pub soft_exceeded: bool,
    /// `Hard-limit exceeded?`
    pub hard_exceeded: bool,
}

/// `volume quota VOL ARGS...` on the volume's server, whatever gluster answers.
pub async fn attempt(ctx: &Ctx, vol: &Volume, args: &[&str]) -> Result<Attempt, TestError> {
    let mut all = vec!["volume", "quota", vol.name.as_str()];
    all.extend_from_slice(args);
    mgmt::attempt(ctx, &vol.server, all).await
}

/// `volume quota VOL ARGS...`; a refusal is an error naming the command and gluster's answer.
pub async fn run(ctx: &Ctx, vol: &Volume, args: &[&str]) -> Result<(), TestError> {
    let mut all = vec!["volume", "quota", vol.name.as_str()];
    all.extend_from_slice(args);
    ctx.run(&vol.server, gluster_cmd(all)).await.map(drop)
}

/// `quota enable`, and a guard that disables quota again when the test ends (before the volume
/// goes); a guard that finds it disabled already, or the volume gone, is fine.
pub async fn enable(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    let v = shell::quote(&vol.name);
    ctx.defer(Cleanup::Command {
        node: vol.server.clone(),
        command: Command::shell(format!(
            "out=$(gluster --mode=script volume quota {v} disable 2>&1) || \
             {{ echo \"$out\"; echo \"$out\" | grep -qiE 'already disabled|is disabled|does not exist'; }}"
        )),
    });
    run(ctx, vol, &["enable"]).await
}

/// `quota disable` (gluster drops every limit and the quota options with it).
pub async fn disable(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    run(ctx, vol, &["disable"]).await
}

/// Whether `features.quota` is on for the volume.
pub async fn enabled(ctx: &Ctx, vol: &Volume) -> Result<bool, TestError> {
    Ok(vol.get(ctx, "features.quota").await? == "on")
}

/// `quota limit-usage PATH SIZE [SOFT%]` (`size` as gluster reads it: `10MB`, `2.5GB`, bytes).
pub async fn limit_usage(
    ctx: &Ctx,
    vol: &Volume,
    path: &str,
    size: &str,
    soft_percent: Option<u32>,
) -> Result<(), TestError> {
    let soft = soft_percent.map(|p| format!("{p}%"));
    let mut args = vec!["limit-usage", path, size];
    if let Some(s) = &soft {
        args.push(s);
    }
    run(ctx, vol, &args).await
}

/// `quota limit-objects PATH COUNT [SOFT%]`.
pub async fn limit_objects(
    ctx: &Ctx,
    vol: &Volume,
    path: &str,
    count: u64,
    soft_percent: Option<u32>,
) -> Result<(), TestError> {
    let count = count.to_string();
    let soft = soft_percent.map(|p| format!("{p}%"));
    let mut args = vec!["limit-objects", path, count.as_str()];
    if let Some(s) = &soft {
        args.push(s);
    }
    run(ctx, vol, &args).await
}

/// `quota remove PATH` (the usage limit).
pub async fn remove(ctx: &Ctx, vol: &Volume, path: &str) -> Result<(), TestError> {
    run(ctx, vol, &["remove", path]).await
}

/// `quota remove-objects PATH` (the object limit).
pub async fn remove_objects(ctx: &Ctx, vol: &Volume, path: &str) -> Result<(), TestError> {
    run(ctx, vol, &["remove-objects", path]).await
}

/// `quota soft-timeout SECS`: how long a brick may trust its cached usage while under the soft
/// limit.
pub async fn soft_timeout(ctx: &Ctx, vol: &Volume, secs: u32) -> Result<(), TestError> {
    run(ctx, vol, &["soft-timeout", &format!("{secs}s")]).await
}

/// `quota hard-timeout SECS`: the same above the soft limit (0: every write asks for the usage).
pub async fn hard_timeout(ctx: &Ctx, vol: &Volume, secs: u32) -> Result<(), TestError> {
    run(ctx, vol, &["hard-timeout", &format!("{secs}s")]).await
}

/// `quota alert-time TIME` (`1s`, `2m`, `1w`): how often a brick logs that usage is above a soft
/// limit.
pub async fn alert_time(ctx: &Ctx, vol: &Volume, time: &str) -> Result<(), TestError> {
    run(ctx, vol, &["alert-time", time]).await
}

/// `quota default-soft-limit PCT%`: the soft limit of limits set without one.
pub async fn default_soft_limit(ctx: &Ctx, vol: &Volume, percent: u32) -> Result<(), TestError> {
    run(ctx, vol, &["default-soft-limit", &format!("{percent}%")]).await
}

/// Soft and hard timeouts 0: every write is checked against the current usage, so a limit is
/// enforced as soon as the accounting reaches it (what quota's own tests do).
pub async fn enforce_immediately(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    soft_timeout(ctx, vol, 0).await?;
    hard_timeout(ctx, vol, 0).await
}

/// Runs `volume quota VOL WHAT --xml` and returns the `<volQuota>` rows; "No quota configured"
/// (or "No inode quota configured") is an empty list, any other refusal (quota disabled) an error with gluster's message.
async fn list_xml(ctx: &Ctx, vol: &Volume, what: &str) -> Result<Vec<Element>, TestError> {
    let cmd = gluster_cmd(["volume", "quota", vol.name.as_str(), what, "--xml"]);
    let command = cmd.display();
    let mut out = ctx.exec(&vol.server, cmd.clone()).await?;
    // GlusterFS 10.3 also prints nothing now and then with every limited directory in place (seen
    // under load right after an `ln` in one of them): asked again a second later, it answers.
    for _ in 0..3 {
        if !out.stdout_str().trim().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        out = ctx.exec(&vol.server, cmd.clone()).await?;
    }
    let text = out.stdout_str();
    let parse_err = |message: String| TestError::Parse {
        node: vol.server.name().to_string(),
        command: command.clone(),
        message,
    };
    if text.trim().is_empty() {
        // GlusterFS 10.3 prints nothing (exit 1) when a directory that had a limit is gone.
        return Err(parse_err(format!(
            "quota {what} --xml printed nothing (exit {:?}; a directory with a limit removed?): {}",
            out.status,
            out.stderr_str().trim()
        )));
    }
    let root = xml::parse(&text).map_err(|e| parse_err(format!("{e}: {}", out.stderr_str())))?;
    if root.child_text("opRet").unwrap_or("0") != "0" {
        let msg = root.child_text("opErrstr").unwrap_or("(no message)");
        if msg.contains("quota configured on volume") {
            return Ok(Vec::new());
        }
        return Err(parse_err(format!("quota {what} refused: {msg}")));
    }
    Ok(root
        .find("volQuota")
        .map(|q| q.children("limit").cloned().collect())
        .unwrap_or_default())
}

fn field<'a>(row: &'a Element, name: &str) -> Result<&'a str, TestError> {
    row.child_text(name)
        .map(str::trim)
        .ok_or_else(|| TestError::Check(format!("quota list row has no <{name}>: {row:?}")))
}

fn number(row: &Element, name: &str) -> Result<u64, TestError> {
    let t = field(row, name)?;
    t.parse().map_err(|_| {
        TestError::Check(format!(
            "quota list row: <{name}> is {t:?}, not a number ({})",
            row.child_text("path").unwrap_or("?")
        ))
    })
}

fn percent(row: &Element) -> Result<f64, TestError> {
    let t = field(row, "soft_limit_percent")?;
    t.trim_end_matches('%').parse().map_err(|_| {
        TestError::Check(format!(
            "quota list row: soft limit {t:?} is not a percentage"
        ))
    })
}

fn yes(row: &Element, name: &str) -> Result<bool, TestError> {
    match field(row, name)? {
        "Yes" => Ok(true),
        "No" => Ok(false),
        other => Err(TestError::Check(format!(
            "quota list row: <{name}> is {other:?}, not Yes/No"
        ))),
    }
}

/// Parses one `<limit>` of `quota list --xml`.
pub fn parse_limit(row: &Element) -> Result<Limit, TestError> {
    Ok(Limit {
        path: field(row, "path")?.to_string(),
        hard_limit: number(row, "hard_limit")?,
        soft_limit_percent: percent(row)?,
        soft_limit: number(row, "soft_limit_value")?,
        used: number(row, "used_space")?,
        available: number(row, "avail_space")?,
        soft_exceeded: yes(row, "sl_exceeded")?,
        hard_exceeded: yes(row, "hl_exceeded")?,
    })
}

/// Parses one `<limit>` of `quota list-objects --xml`.
pub fn parse_object_limit(row: &Element) -> Result<ObjectLimit, TestError> {
    Ok(ObjectLimit {
        path: field(row, "path")?.to_string(),
        hard_limit: number(row, "hard_limit")?,
        soft_limit_percent: percent(row)?,
        soft_limit: number(row, "soft_limit_value")?,
        files: number(row, "file_count")?,
        dirs: number(row, "dir_count")?,
        available: number(row, "available")?,
        soft_exceeded: yes(row, "sl_exceeded")?,
        hard_exceeded: yes(row, "hl_exceeded")?,
    })
}

/// `quota list`: every usage limit of the volume (empty when none is set).
pub async fn list(ctx: &Ctx, vol: &Volume) -> Result<Vec<Limit>, TestError> {
    list_xml(ctx, vol, "list")
        .await?
        .iter()
        .map(parse_limit)
        .collect()
}

/// `quota list-objects`: every object limit of the volume.
pub async fn list_objects(ctx: &Ctx, vol: &Volume) -> Result<Vec<ObjectLimit>, TestError> {
    list_xml(ctx, vol, "list-objects")
        .await?
        .iter()
        .map(parse_object_limit)
        .collect()
}

/// The usage limit on `path`, if one is set.
pub async fn limit(ctx: &Ctx, vol: &Volume, path: &str) -> Result<Option<Limit>, TestError> {
    Ok(list(ctx, vol).await?.into_iter().find(|l| l.path == path))
}

/// The object limit on `path`, if one is set.
pub async fn object_limit(
    ctx: &Ctx,
    vol: &Volume,
    path: &str,
) -> Result<Option<ObjectLimit>, TestError> {
    Ok(list_objects(ctx, vol)
        .await?
        .into_iter()
        .find(|l| l.path == path))
}

/// Polls `quota list` until the limit on `path` satisfies `cond` (the marker updates the
/// accounting asynchronously); returns that row. `what` describes the condition.
pub async fn wait_usage<F>(
    ctx: &Ctx,
    vol: &Volume,
    path: &str,
    what: &str,
    timeout: Duration,
    cond: F,
) -> Result<Limit, TestError>
where
    F: Fn(&Limit) -> bool,
{
    let desc = format!("quota on {path} of {}: {what}", vol.name);
    wait_for(ctx, &desc, timeout, Duration::from_secs(1), || async {
        Ok(match limit(ctx, vol, path).await? {
            Some(l) if cond(&l) => Poll::Ready(l),
            Some(l) => Poll::Pending(format!("{l:?}")),
            None => Poll::Pending(format!("no limit on {path} in quota list")),
        })
    })
    .await
}

/// Polls `quota list-objects` until the object limit on `path` satisfies `cond`.
pub async fn wait_objects<F>(
    ctx: &Ctx,
    vol: &Volume,
    path: &str,
    what: &str,
    timeout: Duration,
    cond: F,
) -> Result<ObjectLimit, TestError>
where
    F: Fn(&ObjectLimit) -> bool,
{
    let desc = format!("object quota on {path} of {}: {what}", vol.name);
    wait_for(ctx, &desc, timeout, Duration::from_secs(1), || async {
        Ok(match object_limit(ctx, vol, path).await? {
            Some(l) if cond(&l) => Poll::Ready(l),
            Some(l) => Poll::Pending(format!("{l:?}")),
            None => Poll::Pending(format!("no object limit on {path} in quota list-objects")),
        })
    })
    .await
}

/// PID of the quota daemon on `node` (a `glusterfs` serving `gluster/quotad`).
pub async fn quotad_pid(ctx: &Ctx, node: &Node) -> Result<Option<u32>, TestError> {
    let out = ctx
        .sh(
            node,
            "pgrep -f -- '^/usr/sbin/glusterfs .*gluster/quotad' || true",
        )
        .await?;
    Ok(out.lines().find_map(|l| l.trim().parse().ok()))
}

/// Waits until the quota daemon runs on `node`; returns its PID.
pub async fn wait_quotad(ctx: &Ctx, node: &Node, timeout: Duration) -> Result<u32, TestError> {
    wait_for(
        ctx,
        &format!("the quota daemon on {}", node.name()),
        timeout,
        Duration::from_secs(1),
        || async {
            Ok(match quotad_pid(ctx, node).await? {
                Some(p) => Poll::Ready(p),
                None => Poll::Pending("no quotad process".into()),
            })
        },
    )
    .await
}

/// What a [`fill`] did.
#[derive(Debug, Clone)]
pub struct Fill {
    /// `dd` (and its fsync) succeeded.
    pub ok: bool,
    /// Its error output, trimmed.
    pub error: String,
    /// The file's size on the mount afterwards.
    pub size: u64,
}

impl Fill {
    /// Refused with EDQUOT.
    pub fn over_quota(&self) -> bool {
        !self.ok && self.error.contains(EDQUOT)
    }
}

/// Writes `mib` MiB of zeros to `rel` (relative to the mount; its directory must exist) with
/// `dd bs=1M conv=fsync`, whatever the outcome; returns it with the file's size afterwards.
pub async fn fill(ctx: &Ctx, m: &Mount, rel: &str, mib: u64) -> Result<Fill, TestError> {
    let f = shell::quote(rel);
    let out = mount::attempt(
        ctx,
        &m.node,
        &m.path,
        &format!("dd if=/dev/zero of=\"$M\"/{f} bs=1M count={mib} conv=fsync status=none"),
        Duration::from_secs(180),
    )
    .await?;
    let size = ctx
        .sh(
            &m.node,
            format!(
                "stat -c %s {}/{f} 2>/dev/null || echo 0",
                shell::quote(&m.path)
            ),
        )
        .await?
        .trim()
        .parse()
        .unwrap_or(0);
    Ok(Fill {
        ok: out.success(),
        error: out.stderr_str().trim().to_string(),
        size,
    })
}

/// Writes `mib` MiB to `rel` and fails unless the write succeeds.
pub async fn fill_ok(ctx: &Ctx, m: &Mount, rel: &str, mib: u64) -> Result<u64, TestError> {
    let f = fill(ctx, m, rel, mib).await?;
    if !f.ok {
        return Err(TestError::Check(format!(
            "writing {mib} MiB to {rel} on {}:{} should succeed: {}",
            m.node.name(),
            m.path,
            f.error
        )));
    }
    Ok(f.size)
}

/// What `df` reports for a mount, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statfs {
    /// Size.
    pub total: u64,
    /// Used.
    pub used: u64,
    /// Available.
    pub available: u64,
}

/// `df -B1` of the mount.
pub async fn statfs(ctx: &Ctx, m: &Mount) -> Result<Statfs, TestError> {
    let out = ctx
        .sh(
            &m.node,
            format!(
                "df -B1 --output=size,used,avail {} | tail -1",
                shell::quote(&m.path)
            ),
        )
        .await?;
    let n: Vec<u64> = out
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match n[..] {
        [total, used, available] => Ok(Statfs {
            total,
            used,
            available,
        }),
        _ => Err(TestError::Check(format!(
            "df of {}:{} printed {out:?}",
            m.node.name(),
            m.path
        ))),
    }
}

/// `mkdir -p` each of `dirs` (relative to the mount) through the mount.
pub async fn mkdirs(ctx: &Ctx, m: &Mount, dirs: &[&str]) -> Result<(), TestError> {
    let list: Vec<String> = dirs
        .iter()
        .map(|d| format!("\"$M\"/{}", shell::quote(d.trim_start_matches('/'))))
        .collect();
    let out = mount::attempt(
        ctx,
        &m.node,
        &m.path,
        &format!("mkdir -p {}", list.join(" ")),
        Duration::from_secs(60),
    )
    .await?;
    if !out.success() {
        return Err(TestError::Check(format!(
            "mkdir -p {dirs:?} on {}:{} failed: {}",
            m.node.name(),
            m.path,
            out.stderr_str().trim()
        )));
    }
    Ok(())
}

/// The usual start: quota enabled on `vol` (disabled again at the end), enforced immediately
/// (timeouts 0), and `dirs` made through the mount.
pub async fn setup(ctx: &Ctx, vol: &Volume, m: &Mount, dirs: &[&str]) -> Result<(), TestError> {
    enable(ctx, vol).await?;
    enforce_immediately(ctx, vol).await?;
    if !dirs.is_empty() {
        mkdirs(ctx, m, dirs).await?;
    }
    Ok(())
}

/// The brick log lines on every brick of `vol` that contain every one of `words`.
pub async fn brick_log_lines(
    ctx: &Ctx,
    vol: &Volume,
    words: &[&str],
) -> Result<Vec<String>, TestError> {
    let mut lines = Vec::new();
    for b in &vol.bricks {
        let log = format!(
            "/var/log/glusterfs/bricks/{}.log",
            b.path.trim_start_matches('/').replace('/', "-")
        );
        let filter: String = words
            .iter()
            .map(|w| format!(" | grep -F -- {}", shell::quote(w)))
            .collect();
        let out = ctx
            .sh(
                &b.node,
                format!("cat {} 2>/dev/null{filter} || true", shell::quote(&log)),
            )
            .await?;
        lines.extend(out.lines().map(|l| format!("{}: {l}", b.spec())));
    }
    Ok(lines)
}

/// The usage limit a brick stores on a directory (`trusted.glusterfs.quota.limit-set[.N]`, N
/// the quota version, bumped at every enable): the hard limit in bytes and the soft limit
/// percentage (`None`: the volume's default).
pub fn limit_xattr(x: &Xattrs) -> Option<(u64, Option<u64>)> {
    let (_, v) = x.values.iter().find(|(k, _)| {
        k.as_str() == "trusted.glusterfs.quota.limit-set"
            || k.starts_with("trusted.glusterfs.quota.limit-set.")
    })?;
    let hard = u64::from_be_bytes(v.get(..8)?.try_into().ok()?);
    let soft = i64::from_be_bytes(v.get(8..16)?.try_into().ok()?);
    Some((hard, u64::try_from(soft).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cliOutput>
  <opRet>0</opRet>
  <opErrno>0</opErrno>
  <opErrstr/>
  <volQuota>
    <limit>
      <path>/foo</path>
      <hard_limit>10485760</hard_limit>
      <soft_limit_percent>50%</soft_limit_percent>
      <soft_limit_value>5242880</soft_limit_value>
      <used_space>11665408</used_space>
      <avail_space>0</avail_space>
      <sl_exceeded>Yes</sl_exceeded>
      <hl_exceeded>Yes</hl_exceeded>
    </limit>
  </volQuota>
</cliOutput>"#;

    const OBJECTS: &str = r#"<cliOutput><opRet>0</opRet><volQuota><limit>
      <path>/obj</path><hard_limit>5</hard_limit><soft_limit_percent>80%</soft_limit_percent>
      <soft_limit_value>4</soft_limit_value><file_count>4</file_count><dir_count>1</dir_count>
      <available>0</available><sl_exceeded>Yes</sl_exceeded><hl_exceeded>Yes</hl_exceeded>
    </limit></volQuota></cliOutput>"#;

    #[test]
    fn parses_usage_row() {
        let root = xml::parse(LIST).unwrap();
        let row = root.find("volQuota").unwrap().child("limit").unwrap();
        let l = parse_limit(row).unwrap();
        assert_eq!(l.path, "/foo");
        assert_eq!(l.hard_limit, 10 << 20);
        assert_eq!(l.soft_limit_percent, 50.0);
        assert_eq!(l.soft_limit, 5 << 20);
        assert_eq!(l.used, 11665408);
        assert_eq!(l.available, 0);
        assert!(l.soft_exceeded && l.hard_exceeded);
    }

    #[test]
    fn parses_object_row() {
        let root = xml::parse(OBJECTS).unwrap();
        let row = root.find("volQuota").unwrap().child("limit").unwrap();
        let l = parse_object_limit(row).unwrap();
        assert_eq!((l.hard_limit, l.soft_limit, l.files, l.dirs), (5, 4, 4, 1));
        assert_eq!(l.soft_limit_percent, 80.0);
        assert!(l.soft_exceeded && l.hard_exceeded);
    }

    #[test]
    fn decodes_limit_xattr() {
        let mut x = Xattrs::default();
        let mut v = (10u64 << 20).to_be_bytes().to_vec();
        v.extend_from_slice(&(-1i64).to_be_bytes());
        x.values
            .insert("trusted.glusterfs.quota.limit-set.2".into(), v);
        assert_eq!(limit_xattr(&x), Some((10 << 20, None)));
    }
}
