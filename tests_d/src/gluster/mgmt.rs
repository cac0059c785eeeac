//! The management plane beyond volumes: what glusterd refuses (probe, detach, `volume set`) with
//! its message, profiling, statedumps, `get-state`, `volume get`, brick multiplexing, server
//! quorum options and glusterd's memory. Every command is in the transcript; what a function turns
//! on (profiling, multiplexing, a cluster-wide option, dump files) is undone at cleanup.
use std::collections::BTreeMap;
use std::time::Duration;

use gflab_agent::{shell, Command};

use super::volume::Volume;
use super::{gluster_cmd, gluster_xml, wait_for, Poll};
use crate::ctx::{Cleanup, Node};
use crate::{Ctx, TestError};

/// What gluster answered to a command a test expects it may refuse.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Exit status 0.
    pub ok: bool,
    /// stdout and stderr together, trimmed (where gluster's reason is).
    pub message: String,
}

impl Attempt {
    /// Whether the message contains `text` (case-insensitive).
    pub fn says(&self, text: &str) -> bool {
        self.message.to_lowercase().contains(&text.to_lowercase())
    }
}

/// Runs `gluster --mode=script ARGS` on `node` and returns its answer whatever the exit status.
pub async fn attempt<I, S>(ctx: &Ctx, node: &Node, args: I) -> Result<Attempt, TestError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let out = ctx
        .exec(node, gluster_cmd(args).timeout(Duration::from_secs(180)))
        .await?;
    Ok(Attempt {
        ok: out.success(),
        message: format!("{}{}", out.stdout_str(), out.stderr_str())
            .trim()
            .to_string(),
    })
}

/// `peer probe HOST` from `from` (an IP or a name), whatever gluster answers.
pub async fn probe_attempt(ctx: &Ctx, from: &Node, host: &str) -> Result<Attempt, TestError> {
    attempt(ctx, from, ["peer", "probe", host]).await
}

/// `peer detach HOST [force]` from `from`, whatever gluster answers.
pub async fn detach_attempt(
    ctx: &Ctx,
    from: &Node,
    host: &str,
    force: bool,
) -> Result<Attempt, TestError> {
    let mut args = vec!["peer", "detach", host];
    if force {
        args.push("force");
    }
    attempt(ctx, from, args).await
}

/// Registers a cleanup that probes `host` again from `from` (for a test that detaches it) and
/// waits for the pool to be whole: a probe of a peer already in the pool is a no-op.
pub fn reprobe_at_cleanup(ctx: &Ctx, from: &Node, host: &str) {
    let h = shell::quote(host);
    ctx.defer(Cleanup::Command {
        node: from.clone(),
        command: Command::shell(format!(
            "for i in $(seq 60); do gluster --mode=script peer probe {h} && break; sleep 2; done; \
             for i in $(seq 60); do n=$(gluster --mode=script peer status | grep -c 'Peer in Cluster (Connected)'); \
             [ \"$n\" -ge \"$(gluster --mode=script peer status | sed -n 's/^Number of Peers: //p')\" ] && exit 0; sleep 2; done; exit 1"
        )),
    });
}

/// The node's first IPv4 address (`hostname -i`), for probing by IP what the node list names.
pub async fn ip_of(ctx: &Ctx, node: &Node) -> Result<String, TestError> {
    let out = ctx.sh(node, "hostname -i").await?;
    out.split_whitespace()
        .find(|w| w.parse::<std::net::Ipv4Addr>().is_ok())
        .map(str::to_string)
        .ok_or_else(|| TestError::Check(format!("hostname -i printed no IPv4: {out:?}")))
}

/// `volume set VOL KEY VALUE` (VOL may be `all`), whatever gluster answers.
pub async fn set_attempt(
    ctx: &Ctx,
    server: &Node,
    vol: &str,
    key: &str,
    value: &str,
) -> Result<Attempt, TestError> {
    attempt(ctx, server, ["volume", "set", vol, key, value]).await
}

/// `volume get VOL all` (VOL may be `all`): every option and its value (` (DEFAULT)` marks left
/// out), in gluster's order.
pub async fn get_all(
    ctx: &Ctx,
    server: &Node,
    vol: &str,
) -> Result<Vec<(String, String)>, TestError> {
    let root = gluster_xml(ctx, server, ["volume", "get", vol, "all"]).await?;
    Ok(root
        .find("volGetopts")
        .map(|g| {
            g.children("Opt")
                .filter_map(|o| {
                    Some((
                        o.child_text("Option")?.to_string(),
                        o.child_text("Value")
                            .unwrap_or_default()
                            .trim_end_matches(" (DEFAULT)")
                            .to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default())
}

/// `volume get VOL KEY` on `server` (VOL may be `all`): the value, ` (DEFAULT)` left out.
pub async fn get(ctx: &Ctx, server: &Node, vol: &str, key: &str) -> Result<String, TestError> {
    let root = gluster_xml(ctx, server, ["volume", "get", vol, key]).await?;
    root.find("volGetopts")
        .and_then(|g| g.find("Opt"))
        .and_then(|o| o.child_text("Value"))
        .map(|v| v.trim_end_matches(" (DEFAULT)").to_string())
        .ok_or_else(|| TestError::Parse {
            node: server.name().to_string(),
            command: format!("gluster volume get {vol} {key} --xml"),
            message: "no <Opt><Value>".into(),
        })
}

/// Sets a cluster-wide option (`volume set all KEY VALUE`) and registers a cleanup that puts
/// back the value it had.
pub async fn set_all(ctx: &Ctx, server: &Node, key: &str, value: &str) -> Result<(), TestError> {
    let before = get(ctx, server, "all", key).await?;
    ctx.defer(Cleanup::Command {
        node: server.clone(),
        command: gluster_cmd(["volume", "set", "all", key, before.as_str()]),
    });
    ctx.run(server, gluster_cmd(["volume", "set", "all", key, value]))
        .await
        .map(drop)
}

// ---------------------------------------------------------------------------------------------
// Profile

/// One brick's cumulative profile: calls per fop (`WRITE`, `LOOKUP`, ...).
#[derive(Debug, Clone, Default)]
pub struct BrickProfile {
    /// `host:/path` as gluster prints it.
    pub brick: String,
    /// Number of calls per fop, cumulative since `profile start`.
    pub fops: BTreeMap<String, u64>,
}

impl BrickProfile {
    /// Calls of `fop` (0 when not listed).
    pub fn calls(&self, fop: &str) -> u64 {
        self.fops.get(fop).copied().unwrap_or(0)
    }
}

/// `volume profile VOL start`; stopped at cleanup (a stop that finds it stopped is fine).
pub async fn profile_start(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    ctx.defer(Cleanup::Command {
        node: vol.server.clone(),
        command: Command::shell(format!(
            "gluster --mode=script volume profile {} stop || true",
            shell::quote(&vol.name)
        )),
    });
    ctx.run(
        &vol.server,
        gluster_cmd(["volume", "profile", &vol.name, "start"]),
    )
    .await
    .map(drop)
}

/// `volume profile VOL stop`.
pub async fn profile_stop(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    ctx.run(
        &vol.server,
        gluster_cmd(["volume", "profile", &vol.name, "stop"]),
    )
    .await
    .map(drop)
}

/// `volume profile VOL info`: per brick, the cumulative calls per fop.
pub async fn profile_info(ctx: &Ctx, vol: &Volume) -> Result<Vec<BrickProfile>, TestError> {
    let out = ctx
        .run(
            &vol.server,
            gluster_cmd(["volume", "profile", &vol.name, "info"]),
        )
        .await?
        .stdout_str();
    Ok(parse_profile(&out))
}

/// Parses `volume profile info` text: `Brick: HOST:PATH`, then a `Cumulative Stats:` table whose
/// rows end with `<No. of calls> <FOP>`; interval tables are left out.
pub fn parse_profile(text: &str) -> Vec<BrickProfile> {
    let mut out: Vec<BrickProfile> = Vec::new();
    let mut cumulative = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(b) = t.strip_prefix("Brick:") {
            out.push(BrickProfile {
                brick: b.trim().to_string(),
                fops: BTreeMap::new(),
            });
            cumulative = false;
        } else if t.starts_with("Cumulative Stats") {
            cumulative = true;
        } else if t.starts_with("Interval") {
            cumulative = false;
        } else if cumulative {
            let w: Vec<&str> = t.split_whitespace().collect();
            if w.len() >= 2 {
                let fop = w[w.len() - 1];
                if let (Ok(n), true) = (
                    w[w.len() - 2].parse::<u64>(),
                    fop.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                ) {
                    if let Some(b) = out.last_mut() {
                        *b.fops.entry(fop.to_string()).or_default() += n;
                    }
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Statedump

/// One statedump file on a node.
#[derive(Debug, Clone)]
pub struct Dump {
    /// The node holding it.
    pub node: Node,
    /// Its path.
    pub path: String,
}

/// The directory statedumps go to on `node` (`gluster --print-statedumpdir`).
pub async fn statedump_dir(ctx: &Ctx, node: &Node) -> Result<String, TestError> {
    Ok(ctx
        .sh(node, "gluster --print-statedumpdir")
        .await?
        .trim()
        .to_string())
}

/// The dump file name prefix of a brick: its path without the leading `/`, `/` as `-`.
pub fn brick_dump_prefix(path: &str) -> String {
    path.trim_start_matches('/').replace('/', "-")
}

/// `volume statedump VOL`; waits until every brick has written a new dump file
/// (`<brick path with ->.<pid>.dump.<time>` in the statedump directory of its node) and returns
/// them, one per brick in create order. The files are removed at cleanup.
pub async fn statedump(ctx: &Ctx, vol: &Volume) -> Result<Vec<Dump>, TestError> {
    let mut dirs = Vec::new();
    let mut before = Vec::new();
    for b in &vol.bricks {
        let dir = statedump_dir(ctx, &b.node).await?;
        let prefix = brick_dump_prefix(&b.path);
        let existing = ctx
            .sh(
                &b.node,
                format!(
                    "ls -1 {} | grep -F -- {} || true",
                    shell::quote(&dir),
                    shell::quote(&format!("{prefix}."))
                ),
            )
            .await?;
        before.push(existing.lines().map(str::to_string).collect::<Vec<_>>());
        ctx.defer(Cleanup::Command {
            node: b.node.clone(),
            command: Command::shell(format!(
                "rm -f {}/{}.*.dump.*",
                shell::quote(&dir),
                shell::quote(&prefix)
            )),
        });
        dirs.push((dir, prefix));
    }
    ctx.run(&vol.server, gluster_cmd(["volume", "statedump", &vol.name]))
        .await?;
    let mut dumps = Vec::new();
    for (i, b) in vol.bricks.iter().enumerate() {
        let (dir, prefix) = &dirs[i];
        let old = &before[i];
        let path = wait_for(
            ctx,
            &format!("a statedump of brick {i} in {dir} on {}", b.node.name()),
            Duration::from_secs(60),
            Duration::from_secs(1),
            || async {
                let ls = ctx
                    .sh(
                        &b.node,
                        format!(
                            "ls -1 {} | grep -F -- {} || true",
                            shell::quote(dir),
                            shell::quote(&format!("{prefix}."))
                        ),
                    )
                    .await?;
                let new: Vec<&str> = ls
                    .lines()
                    .filter(|l| l.contains(".dump.") && !old.iter().any(|o| o == l))
                    .collect();
                Ok(match new.first() {
                    // A dump is written in one go, but give it a moment to be complete.
                    Some(f) => {
                        let p = format!("{dir}/{f}");
                        let tail = ctx
                            .sh(&b.node, format!("tail -c 200 {}", shell::quote(&p)))
                            .await?;
                        if tail.contains("DUMP-END-TIME") {
                            Poll::Ready(p)
                        } else {
                            Poll::Pending(format!("{p} not complete yet"))
                        }
                    }
                    None => Poll::Pending(format!("no new {prefix}.*.dump.* file")),
                })
            },
        )
        .await?;
        dumps.push(Dump {
            node: b.node.clone(),
            path,
        });
    }
    Ok(dumps)
}

impl Dump {
    /// The file's text.
    pub async fn text(&self, ctx: &Ctx) -> Result<String, TestError> {
        Ok(String::from_utf8_lossy(&ctx.get_file(&self.node, &self.path).await?).into_owned())
    }
}

/// Every `[section]` of a statedump whose header contains `name`, each as its `key=value` lines.
pub fn dump_sections(text: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut cur: Option<BTreeMap<String, String>> = None;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            if let Some(s) = cur.take() {
                out.push(s);
            }
            if t.contains(name) {
                cur = Some(BTreeMap::new());
            }
        } else if let Some(s) = cur.as_mut() {
            if let Some((k, v)) = t.split_once('=') {
                s.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
    }
    if let Some(s) = cur {
        out.push(s);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// get-state

/// `gluster get-state` parsed: the file it wrote and its `key: value` lines per `[section]`.
#[derive(Debug, Clone)]
pub struct GlusterdState {
    /// The file glusterd wrote.
    pub path: String,
    /// `(section, key, value)` in file order.
    pub entries: Vec<(String, String, String)>,
}

impl GlusterdState {
    /// The value of `key` (first match, any section).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, k, _)| k == key)
            .map(|(_, _, v)| v.as_str())
    }
    /// Every `(key, value)` of `section`.
    pub fn section(&self, section: &str) -> Vec<(&str, &str)> {
        self.entries
            .iter()
            .filter(|(s, _, _)| s == section)
            .map(|(_, k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
    /// Values of every key that ends with `suffix` (`.primary_hostname`, `.name`).
    pub fn values_ending(&self, suffix: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(_, k, _)| k.ends_with(suffix))
            .map(|(_, _, v)| v.as_str())
            .collect()
    }
}

/// Parses a get-state file: `[Section]` headers, `Key: Value` lines.
pub fn parse_state(path: &str, text: &str) -> GlusterdState {
    let mut section = String::new();
    let mut entries = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            section = t[1..t.len() - 1].to_string();
        } else if let Some((k, v)) = t.split_once(':') {
            entries.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
        }
    }
    GlusterdState {
        path: path.to_string(),
        entries,
    }
}

/// `gluster get-state glusterd odir /var/run/gluster file <unique>` on `node`: checks the CLI
/// names the file it wrote, reads and parses it; the file is removed at cleanup.
pub async fn get_state(ctx: &Ctx, node: &Node) -> Result<GlusterdState, TestError> {
    let file = ctx.unique("state");
    let dir = "/var/run/gluster";
    ctx.defer(Cleanup::Command {
        node: node.clone(),
        command: Command::shell(format!("rm -f {dir}/{file}")),
    });
    let out = ctx
        .run(
            node,
            gluster_cmd(["get-state", "glusterd", "odir", dir, "file", file.as_str()]),
        )
        .await?
        .stdout_str();
    let path = out
        .split_whitespace()
        .find(|w| w.starts_with('/') && w.contains(&file))
        .map(str::to_string)
        .ok_or_else(|| {
            TestError::Check(format!(
                "get-state did not name the file it wrote ({file}): {out:?}"
            ))
        })?;
    let text = String::from_utf8_lossy(&ctx.get_file(node, &path).await?).into_owned();
    Ok(parse_state(&path, &text))
}

// ---------------------------------------------------------------------------------------------
// Brick multiplexing, processes, memory

/// Turns brick multiplexing on or off for the cluster (`volume set all cluster.brick-multiplex`);
/// switched off again at cleanup.
pub async fn brick_multiplex(ctx: &Ctx, server: &Node, on: bool) -> Result<(), TestError> {
    ctx.defer(Cleanup::Command {
        node: server.clone(),
        command: gluster_cmd(["volume", "set", "all", "cluster.brick-multiplex", "off"]),
    });
    let v = if on { "on" } else { "off" };
    ctx.run(
        server,
        gluster_cmd(["volume", "set", "all", "cluster.brick-multiplex", v]),
    )
    .await
    .map(drop)
}

/// PIDs of the processes named `name` on `node` (`pgrep -x`).
pub async fn pids(ctx: &Ctx, node: &Node, name: &str) -> Result<Vec<u32>, TestError> {
    let out = ctx
        .sh(node, format!("pgrep -x {} || true", shell::quote(name)))
        .await?;
    Ok(out.lines().filter_map(|l| l.trim().parse().ok()).collect())
}

/// Number of brick processes (`glusterfsd`) on `node`, whatever their volume.
pub async fn glusterfsd_count(ctx: &Ctx, node: &Node) -> Result<usize, TestError> {
    Ok(pids(ctx, node, "glusterfsd").await?.len())
}

/// PID of the self-heal daemon on `node` (a `glusterfs` with `glustershd` in its command line).
pub async fn shd_pid(ctx: &Ctx, node: &Node) -> Result<Option<u32>, TestError> {
    let out = ctx
        .sh(node, "pgrep -f -- 'glusterfs.*glustershd' || true")
        .await?;
    Ok(out.lines().find_map(|l| l.trim().parse().ok()))
}

/// glusterd's resident set size on `node`, in KiB.
pub async fn glusterd_rss_kib(ctx: &Ctx, node: &Node) -> Result<u64, TestError> {
    let out = ctx.sh(node, "ps -C glusterd -o rss=").await?;
    out.split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| TestError::Check(format!("ps -C glusterd -o rss= printed {out:?}")))
}

// ---------------------------------------------------------------------------------------------
// Server quorum

/// Turns server quorum on for `vol` (`cluster.server-quorum-type server`); off at cleanup.
pub async fn server_quorum(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    ctx.defer(Cleanup::Command {
        node: vol.server.clone(),
        command: Command::shell(format!(
            "gluster --mode=script volume reset {} cluster.server-quorum-type || true",
            shell::quote(&vol.name)
        )),
    });
    vol.set(ctx, "cluster.server-quorum-type", "server").await
}

/// Sets the cluster's `cluster.server-quorum-ratio` (percent); the old value back at cleanup.
pub async fn server_quorum_ratio(ctx: &Ctx, server: &Node, percent: u32) -> Result<(), TestError> {
    set_all(
        ctx,
        server,
        "cluster.server-quorum-ratio",
        &percent.to_string(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_cumulative_only() {
        let t = "Brick: h1:/b/v/b0\n----\nCumulative Stats:\n   Block Size: 4096b+\n No. of Reads: 0\n No. of Writes: 5\n %-latency Avg-latency Min-Latency Max-Latency No. of calls Fop\n ---------\n 0.00 0.00 us 0.00 us 0.00 us 3 RELEASE\n 10.0 5.00 us 1.00 us 9.00 us 5 WRITE\n\n Duration: 10 seconds\nInterval 0 Stats:\n 10.0 5.00 us 1.00 us 9.00 us 7 WRITE\nBrick: h2:/b/v/b1\nCumulative Stats:\n 1.0 1 us 1 us 1 us 2 LOOKUP\n";
        let p = parse_profile(t);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].brick, "h1:/b/v/b0");
        assert_eq!(p[0].calls("WRITE"), 5);
        assert_eq!(p[0].calls("RELEASE"), 3);
        assert_eq!(p[1].calls("LOOKUP"), 2);
    }

    #[test]
    fn state_and_dump_parse() {
        let s = parse_state(
            "/x",
            "[Global]\nMYUUID: abc\nop-version: 100000\n\n[Peers]\nPeer1.primary_hostname: s2\n",
        );
        assert_eq!(s.get("op-version"), Some("100000"));
        assert_eq!(s.values_ending(".primary_hostname"), vec!["s2"]);
        let d = dump_sections("[a.b]\nx=1\n[c]\ny=2\n[a.b]\nx=3\n", "a.b");
        assert_eq!(d.len(), 2);
        assert_eq!(d[1]["x"], "3");
        assert_eq!(brick_dump_prefix("/bricks/v/b0"), "bricks-v-b0");
    }
}

// ---------------------------------------------------------------------------------------------
// Server quorum lost by stopping glusterd

/// Makes the started volume `vol` lose server quorum: `cluster.server-quorum-type server` on it,
/// the cluster's `cluster.server-quorum-ratio` at 95 (every server needed), then glusterd stopped
/// on `down` (started again at cleanup). Returns once glusterd on every other server holding a
/// brick of `vol` has stopped its brick processes there and `volume status` (asked of
/// `vol.server`) shows none of them online.
pub async fn lose_server_quorum(ctx: &Ctx, vol: &Volume, down: &Node) -> Result<(), TestError> {
    server_quorum(ctx, vol).await?;
    server_quorum_ratio(ctx, &vol.server, 95).await?;
    // Stop `down` only once it has both options: a glusterd stopped before it committed them
    // imports them from its peers when it starts again, and 10.3 then starts the volume's
    // bricks twice at once, one of which fails and leaves the brick down.
    wait_for(
        ctx,
        &format!(
            "{} to have server quorum on {} at 95%",
            down.name(),
            vol.name
        ),
        Duration::from_secs(30),
        Duration::from_secs(1),
        || async {
            let t = get(ctx, down, &vol.name, "cluster.server-quorum-type").await?;
            let r = get(ctx, down, "all", "cluster.server-quorum-ratio").await?;
            Ok(if t == "server" && r.trim_end_matches('%') == "95" {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("server-quorum-type {t}, ratio {r}"))
            })
        },
    )
    .await?;
    super::glusterd::stop(ctx, down).await?;
    let mut up: Vec<Node> = Vec::new();
    for b in &vol.bricks {
        if b.node.name() != down.name() && !up.iter().any(|n| n.name() == b.node.name()) {
            up.push(b.node.clone());
        }
    }
    for s in &up {
        wait_for(
            ctx,
            &format!(
                "glusterd on {} to stop its bricks of {} without server quorum",
                s.name(),
                vol.name
            ),
            Duration::from_secs(90),
            Duration::from_secs(1),
            || async {
                Ok(match super::brick::processes_on(ctx, s, vol).await? {
                    0 => Poll::Ready(()),
                    n => Poll::Pending(format!("{n} brick process(es) still running")),
                })
            },
        )
        .await?;
    }
    let online: Vec<String> = vol
        .status(ctx)
        .await?
        .into_iter()
        .filter(|b| b.online)
        .map(|b| b.spec())
        .collect();
    if online.is_empty() {
        Ok(())
    } else {
        Err(TestError::Check(format!(
            "bricks of {} online in volume status without server quorum: {online:?}",
            vol.name
        )))
    }
}

/// Starts glusterd on `down` again after [`lose_server_quorum`] and waits until it answers,
/// every peer is connected and every brick of `vol` is online.
pub async fn regain_server_quorum(ctx: &Ctx, vol: &Volume, down: &Node) -> Result<(), TestError> {
    super::glusterd::start(ctx, down).await?;
    super::glusterd::wait(ctx, down, Duration::from_secs(60)).await?;
    super::peer::wait_connected(ctx, Duration::from_secs(120)).await?;
    vol.wait_online(ctx, Duration::from_secs(120)).await
}

// ---------------------------------------------------------------------------------------------
// Host UUIDs

/// Each brick of `volume info VOL --xml` as `(host:/path, hostUuid)`, in volume order.
pub fn brick_host_uuids(root: &crate::xml::Element) -> Vec<(String, String)> {
    root.find("volume")
        .and_then(|v| v.child("bricks"))
        .map(|b| {
            b.children("brick")
                .map(|e| {
                    (
                        e.child_text("name").unwrap_or(&e.text).trim().to_string(),
                        e.child_text("hostUuid")
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The UUID glusterd on `node` has for itself (`UUID=` of `/var/lib/glusterd/glusterd.info`).
pub async fn own_uuid(ctx: &Ctx, node: &Node) -> Result<String, TestError> {
    let text = ctx.sh(node, "cat /var/lib/glusterd/glusterd.info").await?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("UUID="))
        .map(str::to_string)
        .ok_or_else(|| {
            TestError::Check(format!(
                "no UUID= line in /var/lib/glusterd/glusterd.info on {}: {text:?}",
                node.name()
            ))
        })
}

#[cfg(test)]
mod host_uuid_tests {
    #[test]
    fn brick_host_uuids_parsed() {
        let root = crate::xml::parse(
            "<cliOutput><opRet>0</opRet><volInfo><volumes><volume><name>v</name><bricks>\
             <brick uuid=\"u1\">h1:/b/0<name>h1:/b/0</name><hostUuid>u1</hostUuid></brick>\
             <brick uuid=\"u2\">h2:/b/1<name>h2:/b/1</name><hostUuid>u2</hostUuid></brick>\
             </bricks></volume></volumes></volInfo></cliOutput>",
        )
        .unwrap();
        assert_eq!(
            super::brick_host_uuids(&root),
            vec![
                ("h1:/b/0".to_string(), "u1".to_string()),
                ("h2:/b/1".to_string(), "u2".to_string())
            ]
        );
    }
}
