//! Who may mount a volume: `auth.allow` and `auth.reject`, for the whole volume (`client1,10.0.0.*`)
//! or per directory (`/d1(client1|10.0.0.5),/d2(client2)`), naming clients by IP, by host name or
//! by an IP wildcard. Every value set is reset at cleanup, and a set returns only once every
//! online brick has reloaded its configuration (bricks apply `volume set` asynchronously: a mount
//! right after it could still meet the old rule). Mounts that must be refused are attempted with
//! [`mount::ensure_refused`](super::mount::ensure_refused).
use std::time::Duration;

use gflab_agent::{shell, Command};

use super::mgmt::{self, Attempt};
use super::mount::{log_file, Mount};
use super::volume::{Brick, Volume};
use super::{wait_for, Poll};
use crate::ctx::{Cleanup, Node};
use crate::{Ctx, TestError};

/// The two address lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `auth.allow` (default `*`).
    Allow,
    /// `auth.reject` (default none); a client matching it is refused whatever `auth.allow` says.
    Reject,
}

impl Key {
    /// The volume option.
    pub fn option(self) -> &'static str {
        match self {
            Key::Allow => "auth.allow",
            Key::Reject => "auth.reject",
        }
    }
}

/// How a client is named in an address list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// Its IPv4 address (`hostname -i` on the client).
    Ip,
    /// Its host name as the node list gives it (the bricks resolve it).
    Host,
    /// Its IPv4 address with the last byte a wildcard (`10.0.0.*`): the client and its subnet.
    Wildcard,
}

/// The client's name in an address list, the way `by` says.
pub async fn address(ctx: &Ctx, client: &Node, by: By) -> Result<String, TestError> {
    Ok(match by {
        By::Host => client.host().to_string(),
        By::Ip => mgmt::ip_of(ctx, client).await?,
        By::Wildcard => {
            let ip = mgmt::ip_of(ctx, client).await?;
            let (net, _) = ip.rsplit_once('.').unwrap_or((ip.as_str(), ""));
            format!("{net}.*")
        }
    })
}

/// Whether an IPv4 wildcard (`10.0.0.*`) or address matches `ip` (as `fnmatch` would for these).
pub fn matches(pattern: &str, ip: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => ip.starts_with(prefix),
        None => pattern == ip,
    }
}

/// A per-directory list: `/d1(a|b),/d2(c)` from `[("d1", [a, b]), ("d2", [c])]` (`"/"` or `""`
/// for the volume's root).
pub fn per_dir<S: AsRef<str>>(entries: &[(&str, &[S])]) -> String {
    entries
        .iter()
        .map(|(dir, names)| {
            let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
            format!("/{}({})", dir.trim_matches('/'), names.join("|"))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `volume set VOL auth.allow|auth.reject VALUE`, reset at cleanup; returns once every online
/// brick has reloaded its configuration.
pub async fn set(ctx: &Ctx, vol: &Volume, key: Key, value: &str) -> Result<(), TestError> {
    let before = value_of(ctx, vol, key).await?;
    reset_at_cleanup(ctx, vol, key);
    let marks = reconfigure_marks(ctx, vol).await?;
    vol.set(ctx, key.option(), value).await?;
    if before != value {
        wait_reconfigured(ctx, vol, &marks).await?;
    }
    Ok(())
}

/// `volume reset VOL auth.allow|auth.reject` (back to everyone allowed, no one rejected); returns
/// once every online brick has reloaded its configuration.
pub async fn reset(ctx: &Ctx, vol: &Volume, key: Key) -> Result<(), TestError> {
    let before = value_of(ctx, vol, key).await?;
    let marks = reconfigure_marks(ctx, vol).await?;
    vol.reset(ctx, key.option()).await?;
    if before != default(key) {
        wait_reconfigured(ctx, vol, &marks).await?;
    }
    Ok(())
}

/// A `volume set` of `key` that gluster may refuse, with its answer; reset at cleanup in case it
/// was accepted.
pub async fn set_attempt(
    ctx: &Ctx,
    vol: &Volume,
    key: Key,
    value: &str,
) -> Result<Attempt, TestError> {
    reset_at_cleanup(ctx, vol, key);
    mgmt::set_attempt(ctx, &vol.server, &vol.name, key.option(), value).await
}

/// The value of `key` (`volume get`; the defaults are `*` for allow and empty for reject, which
/// gluster prints as `(null)`).
pub async fn value_of(ctx: &Ctx, vol: &Volume, key: Key) -> Result<String, TestError> {
    let v = vol.get(ctx, key.option()).await?;
    Ok(if v == "(null)" { String::new() } else { v })
}

fn default(key: Key) -> &'static str {
    match key {
        Key::Allow => "*",
        Key::Reject => "",
    }
}

/// The guard: `volume reset VOL KEY` at cleanup, unless the volume is gone already.
fn reset_at_cleanup(ctx: &Ctx, vol: &Volume, key: Key) {
    let v = shell::quote(&vol.name);
    ctx.defer(Cleanup::Command {
        node: vol.server.clone(),
        command: Command::shell(format!(
            "gluster --mode=script volume info {v} >/dev/null 2>&1 || exit 0; \
             gluster --mode=script volume reset {v} {}",
            key.option()
        )),
    });
}

/// Brick log lines that end a configuration reload: the brick graph's io-stats is reconfigured
/// just below protocol/server (which holds the auth lists), or the new volfile is the same.
const RELOADED: &str = "ios_sample_buf_size_configure|No change in volfile";

/// A brick process's log file (`/bricks/v/b0` logs to `/var/log/glusterfs/bricks/bricks-v-b0.log`).
pub fn brick_log(brick: &Brick) -> String {
    format!(
        "/var/log/glusterfs/bricks/{}.log",
        brick.path.trim_matches('/').replace('/', "-")
    )
}

async fn reload_count(ctx: &Ctx, brick: &Brick) -> Result<u64, TestError> {
    let out = ctx
        .exec(
            &brick.node,
            Command::shell(format!(
                "grep -cE '{RELOADED}' {} || true",
                shell::quote(&brick_log(brick))
            )),
        )
        .await?
        .stdout_str();
    Ok(out.trim().parse().unwrap_or(0))
}

/// For every online brick, how many reloads its log shows now.
async fn reconfigure_marks(ctx: &Ctx, vol: &Volume) -> Result<Vec<(Brick, u64)>, TestError> {
    let status = vol.status(ctx).await.unwrap_or_default();
    let mut marks = Vec::new();
    for b in &vol.bricks {
        let online = status
            .iter()
            .any(|s| s.online && s.path == b.path && s.host == b.node.host());
        if online {
            marks.push((b.clone(), reload_count(ctx, b).await?));
        }
    }
    Ok(marks)
}

async fn wait_reconfigured(
    ctx: &Ctx,
    vol: &Volume,
    marks: &[(Brick, u64)],
) -> Result<(), TestError> {
    let what = format!(
        "{} online brick(s) of {} to reload their configuration",
        marks.len(),
        vol.name
    );
    wait_for(
        ctx,
        &what,
        Duration::from_secs(30),
        Duration::from_millis(300),
        || async {
            let mut behind = Vec::new();
            for (b, n) in marks {
                if reload_count(ctx, b).await? <= *n {
                    behind.push(b.spec());
                }
            }
            Ok(if behind.is_empty() {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("not reloaded yet: {}", behind.join(", ")))
            })
        },
    )
    .await
}

/// Waits until the mount `m` stopped serving because the bricks refused its client after an
/// auth change (they drop clients no longer allowed): its FUSE process shuts down, the mount
/// point is no longer a mount. Returns the client log's line that says so.
pub async fn wait_cut_off(ctx: &Ctx, m: &Mount, timeout: Duration) -> Result<String, TestError> {
    let p = shell::quote(&m.path);
    let log = shell::quote(&log_file(&m.path));
    let what = format!("{}:{} to be cut off", m.node.name(), m.path);
    wait_for(ctx, &what, timeout, Duration::from_millis(500), || async {
        let out = ctx
            .exec(
                &m.node,
                Command::shell(format!(
                    "mountpoint -q {p} && echo MOUNTED; \
                     grep -m1 -E 'Server authentication failed|SETVOLUME on remote-host failed' {log} || true"
                )),
            )
            .await?
            .stdout_str();
        let mounted = out.lines().any(|l| l == "MOUNTED");
        let line = out.lines().find(|l| *l != "MOUNTED").map(str::to_string);
        Ok(match line {
            Some(l) if !mounted => Poll::Ready(l),
            _ => Poll::Pending(format!(
                "mounted: {mounted}, refusal in its log: {}",
                line.is_some()
            )),
        })
    })
    .await
}
