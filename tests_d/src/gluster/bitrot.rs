//! Bitrot detection (`gluster volume bitrot`): enable and disable (disabled again at cleanup),
//! the scrubber's tunables (throttle, frequency, pause and resume, signing time), an on-demand
//! scrub waited for, `scrub status` parsed into typed per-node rows, the signer and scrubber
//! daemons, and on the bricks: a copy's signature (`trusted.bit-rot.signature`), its bad-file
//! mark (`trusted.bit-rot.bad-file`) and corrupting a copy behind GlusterFS's back.
//!
//! `scrub status` has no `--xml` form in GlusterFS 10: its text is parsed by
//! [`parse_scrub_status`].
use std::time::Duration;

use gflab_agent::{shell, Command};

use super::mgmt::{self, Attempt};
use super::volume::{Brick, Volume};
use super::{gluster, wait_for, xattr, Poll};
use crate::ctx::{Cleanup, Node};
use crate::{Ctx, TestError};

/// The xattr the signer (bitd) sets on a brick copy once it is signed.
pub const SIGNATURE: &str = "trusted.bit-rot.signature";
/// The xattr the scrubber sets on a brick copy whose data no longer matches its signature.
pub const BAD_FILE: &str = "trusted.bit-rot.bad-file";

/// `volume bitrot VOL ARGS...` on the volume's server, whatever gluster answers.
pub async fn attempt(ctx: &Ctx, vol: &Volume, args: &[&str]) -> Result<Attempt, TestError> {
    let mut words = vec!["volume", "bitrot", vol.name.as_str()];
    words.extend_from_slice(args);
    mgmt::attempt(ctx, &vol.server, words).await
}

/// `volume bitrot VOL ARGS...`; a refusal is an error.
async fn bitrot(ctx: &Ctx, vol: &Volume, args: &[&str]) -> Result<String, TestError> {
    let mut words = vec!["volume", "bitrot", vol.name.as_str()];
    words.extend_from_slice(args);
    gluster(ctx, &vol.server, words).await
}

/// `volume bitrot VOL enable`; disabled again at cleanup (before the volume is deleted), so the
/// node-wide signer and scrubber stop when no other volume uses them.
pub async fn enable(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    ctx.defer(Cleanup::Command {
        node: vol.server.clone(),
        command: Command::shell(format!(
            "gluster --mode=script volume bitrot {} disable || true",
            shell::quote(&vol.name)
        )),
    });
    bitrot(ctx, vol, &["enable"]).await.map(drop)
}

/// [`enable`] with a signing time of `signing_secs` when given (`features.expiry-time`, set
/// before enabling: changing it on a running signer makes it miss writes made meanwhile), then
/// waits until the signer and the scrubber of every brick are connected to it ([`wait_ready`]):
/// a file written before its brick's signer is connected is never signed (the signer misses its
/// release), and the scrubber skips it.
pub async fn enable_and_wait(
    ctx: &Ctx,
    vol: &Volume,
    signing_secs: Option<u32>,
) -> Result<(), TestError> {
    if let Some(secs) = signing_secs {
        vol.set(ctx, "features.expiry-time", &secs.to_string())
            .await?;
    }
    let before = readiness(ctx, vol).await?;
    enable(ctx, vol).await?;
    wait_ready(ctx, vol, &before, Duration::from_secs(90)).await
}

/// The signer's and the scrubber's logs on the servers.
const BITD_LOG: &str = "/var/log/glusterfs/bitd.log";
const SCRUB_LOG: &str = "/var/log/glusterfs/scrub.log";

/// How many lines of `log` on `node` contain `needle` (0 when the log does not exist).
async fn log_count(ctx: &Ctx, node: &Node, log: &str, needle: &str) -> Result<usize, TestError> {
    let out = ctx
        .sh(
            node,
            format!(
                "grep -cF -- {} {} 2>/dev/null; true",
                shell::quote(needle),
                shell::quote(log)
            ),
        )
        .await?;
    Ok(out.trim().parse().unwrap_or(0))
}

/// Per brick, in brick order: how many times its signer and its scrubber logged their
/// connection to it (counted in `bitd.log` and `scrub.log` on the brick's server).
/// Taken before [`enable`] and given to [`wait_ready`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness(Vec<(usize, usize)>);

/// The current [`Readiness`] counts of `vol`'s bricks.
pub async fn readiness(ctx: &Ctx, vol: &Volume) -> Result<Readiness, TestError> {
    let mut v = Vec::new();
    for b in &vol.bricks {
        let connected = format!("Connected to brick [{{brick-path={}}}]", b.path);
        v.push((
            log_count(ctx, &b.node, BITD_LOG, &connected).await?,
            log_count(ctx, &b.node, SCRUB_LOG, &connected).await?,
        ));
    }
    Ok(Readiness(v))
}

/// Waits until, for every brick of `vol`, the signer and the scrubber connected to it since `before` was taken (both log it; neither is shown by any gluster command).
pub async fn wait_ready(
    ctx: &Ctx,
    vol: &Volume,
    before: &Readiness,
    timeout: Duration,
) -> Result<(), TestError> {
    let what = format!(
        "the signer and scrubber of every brick of {} ready",
        vol.name
    );
    wait_for(ctx, &what, timeout, Duration::from_secs(1), || async {
        let now = readiness(ctx, vol).await?;
        let waiting: Vec<String> = vol
            .bricks
            .iter()
            .zip(now.0.iter().zip(&before.0))
            .filter(|(_, (n, b))| n.0 <= b.0 || n.1 <= b.1)
            .map(|(brick, (n, b))| {
                format!(
                    "{} (signer connected: {}, scrubber connected: {})",
                    brick.spec(),
                    n.0 > b.0,
                    n.1 > b.1
                )
            })
            .collect();
        Ok(if waiting.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending(waiting.join(", "))
        })
    })
    .await
}

/// The clients of each kind connected to the volume's bricks (`volume status VOL client-list`,
/// which has no `--xml` form: `glustershd`, `bitd`, `scrub`, `fuse`...; a kind's count is the
/// most processes of that kind one brick has as clients).
pub async fn client_counts(
    ctx: &Ctx,
    vol: &Volume,
) -> Result<std::collections::BTreeMap<String, u64>, TestError> {
    let out = gluster(
        ctx,
        &vol.server,
        ["volume", "status", &vol.name, "client-list"],
    )
    .await?;
    Ok(parse_client_list(&out))
}

/// Parses `volume status VOL client-list`: name → count.
pub fn parse_client_list(out: &str) -> std::collections::BTreeMap<String, u64> {
    out.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (name, count) = (w.next()?, w.next()?);
            if w.next().is_some() {
                return None;
            }
            Some((name.to_string(), count.parse().ok()?))
        })
        .collect()
}

/// `volume bitrot VOL disable`.
pub async fn disable(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    bitrot(ctx, vol, &["disable"]).await.map(drop)
}

/// How hard the scrubber works (`scrub-throttle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// The default.
    Lazy,
    /// More threads.
    Normal,
    /// The most.
    Aggressive,
}

impl Throttle {
    /// The word gluster takes and shows.
    pub fn word(self) -> &'static str {
        match self {
            Throttle::Lazy => "lazy",
            Throttle::Normal => "normal",
            Throttle::Aggressive => "aggressive",
        }
    }
}

/// How often the scrubber runs by itself (`scrub-frequency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Every minute (a debugging value the CLI accepts without listing it).
    Minute,
    /// Hourly.
    Hourly,
    /// Daily.
    Daily,
    /// Weekly.
    Weekly,
    /// Every two weeks (the default).
    Biweekly,
    /// Monthly.
    Monthly,
}

impl Frequency {
    /// The word gluster takes and shows.
    pub fn word(self) -> &'static str {
        match self {
            Frequency::Minute => "minute",
            Frequency::Hourly => "hourly",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Biweekly => "biweekly",
            Frequency::Monthly => "monthly",
        }
    }
}

/// `volume bitrot VOL scrub-throttle T`.
pub async fn set_throttle(ctx: &Ctx, vol: &Volume, t: Throttle) -> Result<(), TestError> {
    bitrot(ctx, vol, &["scrub-throttle", t.word()])
        .await
        .map(drop)
}

/// `volume bitrot VOL scrub-frequency F`.
pub async fn set_frequency(ctx: &Ctx, vol: &Volume, f: Frequency) -> Result<(), TestError> {
    bitrot(ctx, vol, &["scrub-frequency", f.word()])
        .await
        .map(drop)
}

/// `volume bitrot VOL signing-time SECS`: how long after its last write (fd closed) a file is
/// signed (the volume option `features.expiry-time`, 120 s by default).
pub async fn set_signing_time(ctx: &Ctx, vol: &Volume, secs: u32) -> Result<(), TestError> {
    bitrot(ctx, vol, &["signing-time", &secs.to_string()])
        .await
        .map(drop)
}

/// `volume bitrot VOL scrub pause`.
pub async fn pause(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    bitrot(ctx, vol, &["scrub", "pause"]).await.map(drop)
}

/// `volume bitrot VOL scrub resume`.
pub async fn resume(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    bitrot(ctx, vol, &["scrub", "resume"]).await.map(drop)
}

// ---------------------------------------------------------------------------------------------
// Daemons

/// The node-wide daemons bitrot detection runs (one of each per server holding a brick of a
/// volume with bitrot enabled, whatever the number of such volumes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    /// The signer (`--volfile-id gluster/bitd`).
    Bitd,
    /// The scrubber (`--volfile-id gluster/scrub`).
    Scrubber,
}

impl Daemon {
    fn volfile(self) -> &'static str {
        match self {
            Daemon::Bitd => "bitd",
            Daemon::Scrubber => "scrub",
        }
    }
}

/// PIDs of `daemon` on `node` (a `glusterfs` process with its volfile id).
pub async fn daemon_pids(ctx: &Ctx, node: &Node, daemon: Daemon) -> Result<Vec<u32>, TestError> {
    // The bracket keeps the pattern from matching a shell that carries it.
    let pattern = format!("[v]olfile-id gluster/{} ", daemon.volfile());
    let out = ctx
        .exec(node, Command::new("pgrep").args(["-f", "--", &pattern]))
        .await?;
    Ok(out
        .stdout_str()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

/// Waits until `daemon` runs (exactly one process) on every node of `nodes` when `running`, or
/// on none of them when not.
pub async fn wait_daemon(
    ctx: &Ctx,
    nodes: &[Node],
    daemon: Daemon,
    running: bool,
    timeout: Duration,
) -> Result<(), TestError> {
    let what = format!(
        "{daemon:?} {} on {}",
        if running { "running" } else { "gone" },
        nodes.iter().map(Node::name).collect::<Vec<_>>().join(", ")
    );
    wait_for(ctx, &what, timeout, Duration::from_secs(1), || async {
        let mut wrong = Vec::new();
        for n in nodes {
            let pids = daemon_pids(ctx, n, daemon).await?;
            let ok = if running {
                pids.len() == 1
            } else {
                pids.is_empty()
            };
            if !ok {
                wrong.push(format!("{}: pids {pids:?}", n.name()));
            }
        }
        Ok(if wrong.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending(wrong.join("; "))
        })
    })
    .await
}

/// The servers holding bricks of `vol` (where its signer and scrubber run), in brick order.
pub fn brick_servers(vol: &Volume) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    for b in &vol.bricks {
        if !nodes.iter().any(|n| n.name() == b.node.name()) {
            nodes.push(b.node.clone());
        }
    }
    nodes
}

// ---------------------------------------------------------------------------------------------
// Scrub status

/// One corrupted object a node's scrubber reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupted {
    /// Its gfid.
    pub gfid: String,
    /// The brick holding the bad copy (a path on that node), when printed.
    pub brick: Option<String>,
    /// Its path from the volume root, when printed.
    pub path: Option<String>,
}

/// One node's row of `scrub status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrubNode {
    /// The name gluster printed (`localhost` for the server that answered, or a host name).
    pub name: String,
    /// The server this row is about, when it could be matched (see [`scrub_status`]).
    pub server: Option<String>,
    /// Files scrubbed in the last run.
    pub scrubbed: u64,
    /// Files skipped (not signed yet).
    pub skipped: u64,
    /// When the last scrub completed; `None` while none has ("Scrubber pending to complete.").
    pub last_completed: Option<String>,
    /// Duration of the last scrub, seconds.
    pub duration_secs: u64,
    /// The error count: corrupted objects found.
    pub errors: u64,
    /// The corrupted objects listed.
    pub corrupted: Vec<Corrupted>,
}

/// `volume bitrot VOL scrub status`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrubStatus {
    /// The volume.
    pub volume: String,
    /// The scrub state (`Active`, `Paused`, `Inactive`), without the run mark.
    pub state: String,
    /// Whether a scrub is running on some node (`(In Progress)`, not `(Idle)`).
    pub running: bool,
    /// `Scrub impact` (the throttle).
    pub impact: String,
    /// `Scrub frequency`.
    pub frequency: String,
    /// The signer's log.
    pub bitd_log: String,
    /// The scrubber's log.
    pub scrub_log: String,
    /// One row per node.
    pub nodes: Vec<ScrubNode>,
}

impl ScrubStatus {
    /// The row of `server` (by the name it was matched to).
    pub fn node(&self, server: &Node) -> Option<&ScrubNode> {
        self.nodes
            .iter()
            .find(|n| n.server.as_deref() == Some(server.name()))
    }
    /// Every corrupted gfid listed, over all nodes.
    pub fn corrupted_gfids(&self) -> Vec<String> {
        self.nodes
            .iter()
            .flat_map(|n| n.corrupted.iter().map(|c| c.gfid.clone()))
            .collect()
    }
    /// Total error count over all nodes.
    pub fn total_errors(&self) -> u64 {
        self.nodes.iter().map(|n| n.errors).sum()
    }
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.strip_prefix(key)?.strip_prefix(':').map(str::trim)
}

fn number(v: &str, key: &str) -> Result<u64, String> {
    v.parse()
        .map_err(|_| format!("{key}: {v:?} is not a number"))
}

/// Parses the text of `volume bitrot VOL scrub status`.
pub fn parse_scrub_status(text: &str) -> Result<ScrubStatus, String> {
    let mut st = ScrubStatus {
        volume: String::new(),
        state: String::new(),
        running: false,
        impact: String::new(),
        frequency: String::new(),
        bitd_log: String::new(),
        scrub_log: String::new(),
        nodes: Vec::new(),
    };
    // Set while reading the corrupted objects of the current node.
    let mut in_list = false;
    for raw in text.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with("=====") {
            in_list = false;
            continue;
        }
        if let Some(v) = field(line, "Volume name ") {
            st.volume = v.to_string();
        } else if let Some(v) = field(line, "State of scrub") {
            let (state, mark) = v.split_once(" (").unwrap_or((v, ""));
            st.state = state.to_string();
            st.running = mark.starts_with("In Progress");
        } else if let Some(v) = field(line, "Scrub impact") {
            st.impact = v.to_string();
        } else if let Some(v) = field(line, "Scrub frequency") {
            st.frequency = v.to_string();
        } else if let Some(v) = field(line, "Bitrot error log location") {
            st.bitd_log = v.to_string();
        } else if let Some(v) = field(line, "Scrubber error log location") {
            st.scrub_log = v.to_string();
        } else if let Some(v) = field(line, "Node") {
            in_list = false;
            st.nodes.push(ScrubNode {
                name: v.to_string(),
                server: None,
                scrubbed: 0,
                skipped: 0,
                last_completed: None,
                duration_secs: 0,
                errors: 0,
                corrupted: Vec::new(),
            });
        } else {
            let Some(n) = st.nodes.last_mut() else {
                return Err(format!("a line before the first node: {line:?}"));
            };
            if let Some(v) = field(line, "Number of Scrubbed files") {
                n.scrubbed = number(v, "scrubbed files")?;
            } else if let Some(v) = field(line, "Number of Skipped files") {
                n.skipped = number(v, "skipped files")?;
            } else if let Some(v) = field(line, "Last completed scrub time") {
                n.last_completed = (!v.starts_with("Scrubber pending")).then(|| v.to_string());
            } else if let Some(v) = field(line, "Duration of last scrub (D:M:H:M:S)") {
                let parts: Vec<u64> = v
                    .split(':')
                    .map(|p| number(p, "scrub duration"))
                    .collect::<Result<_, _>>()?;
                let [d, h, m, s] = parts[..] else {
                    return Err(format!("scrub duration {v:?} is not D:H:M:S"));
                };
                n.duration_secs = ((d * 24 + h) * 60 + m) * 60 + s;
            } else if let Some(v) = field(line, "Error count") {
                n.errors = number(v, "error count")?;
            } else if line.starts_with("Corrupted object's [GFID]") {
                in_list = true;
            } else if in_list {
                let t = line.trim();
                if let Some(p) = t.strip_prefix("path:") {
                    if let Some(c) = n.corrupted.last_mut() {
                        c.path = Some(p.trim().to_string());
                    }
                } else {
                    let (gfid, brick) = match t.split_once("==>") {
                        Some((g, b)) => (
                            g.trim(),
                            Some(b.trim().trim_start_matches("BRICK:").trim().to_string()),
                        ),
                        None => (t, None),
                    };
                    n.corrupted.push(Corrupted {
                        gfid: gfid.to_string(),
                        brick,
                        path: None,
                    });
                }
            } else {
                return Err(format!("unexpected line: {line:?}"));
            }
        }
    }
    if st.state.is_empty() || st.volume.is_empty() {
        return Err("no volume name or scrub state".into());
    }
    Ok(st)
}

/// The first IPv4 address `name` resolves to on `node` (`getent ahostsv4`).
async fn resolve(ctx: &Ctx, node: &Node, name: &str) -> Result<Option<String>, TestError> {
    let out = ctx
        .exec(node, Command::new("getent").args(["ahostsv4", name]))
        .await?;
    Ok(out
        .stdout_str()
        .split_whitespace()
        .next()
        .map(str::to_string))
}

/// `volume bitrot VOL scrub status` from the volume's server, parsed, each row matched to the
/// server it is about: `localhost` is the server that answered, another name the server with that
/// host name or, failing that, the one whose address it resolves to (gluster may print a peer's
/// reverse-resolved name).
pub async fn scrub_status(ctx: &Ctx, vol: &Volume) -> Result<ScrubStatus, TestError> {
    let out = gluster(
        ctx,
        &vol.server,
        ["volume", "bitrot", &vol.name, "scrub", "status"],
    )
    .await?;
    let mut st = parse_scrub_status(&out).map_err(|message| TestError::Parse {
        node: vol.server.name().to_string(),
        command: format!("gluster volume bitrot {} scrub status", vol.name),
        message,
    })?;
    let servers = ctx.servers();
    let mut ips = Vec::new();
    for s in &servers {
        ips.push(mgmt::ip_of(ctx, s).await.ok());
    }
    for row in &mut st.nodes {
        if row.name == "localhost" {
            row.server = Some(vol.server.name().to_string());
            continue;
        }
        if let Some(s) = servers.iter().find(|s| s.host() == row.name) {
            row.server = Some(s.name().to_string());
            continue;
        }
        if let Some(ip) = resolve(ctx, &vol.server, &row.name).await? {
            if let Some(i) = ips.iter().position(|x| x.as_deref() == Some(ip.as_str())) {
                row.server = Some(servers[i].name().to_string());
            }
        }
    }
    Ok(st)
}

/// `volume bitrot VOL scrub ondemand`, then waits until every node's scrubber completed a run
/// after it (its "last completed" time changed and nothing is in progress); returns that status.
pub async fn scrub_ondemand(
    ctx: &Ctx,
    vol: &Volume,
    timeout: Duration,
) -> Result<ScrubStatus, TestError> {
    let before = scrub_status(ctx, vol).await?;
    // A second-resolution timestamp: a scrub completing in the same second as the previous one
    // would look unchanged.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    bitrot(ctx, vol, &["scrub", "ondemand"]).await?;
    let what = format!("an on-demand scrub of {} completed on every node", vol.name);
    wait_for(ctx, &what, timeout, Duration::from_secs(2), || async {
        let now = scrub_status(ctx, vol).await?;
        let waiting: Vec<String> = now
            .nodes
            .iter()
            .filter(|n| {
                n.last_completed.is_none()
                    || before
                        .nodes
                        .iter()
                        .any(|b| b.name == n.name && b.last_completed == n.last_completed)
            })
            .map(|n| format!("{} (last completed {:?})", n.name, n.last_completed))
            .collect();
        Ok(
            if waiting.is_empty() && !now.running && !now.nodes.is_empty() {
                Poll::Ready(now)
            } else {
                Poll::Pending(format!(
                    "running: {}; not yet done: {}",
                    now.running,
                    waiting.join(", ")
                ))
            },
        )
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Brick copies

/// The bricks of `vol` holding `rel` (a regular file; DHT link files left out).
pub async fn holders(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<Brick>, TestError> {
    let mut out = Vec::new();
    for b in &vol.bricks {
        let q = shell::quote(&xattr::brick_path(b, rel));
        // A DHT link file is empty with only the sticky bit as mode.
        let line = format!("test -f {q} && ! {{ test -k {q} && test ! -s {q}; }}");
        if ctx.exec(&b.node, Command::shell(line)).await?.success() {
            out.push(b.clone());
        }
    }
    Ok(out)
}

/// Whether `rel`'s copy on `brick` is signed (carries [`SIGNATURE`]).
pub async fn is_signed(ctx: &Ctx, brick: &Brick, rel: &str) -> Result<bool, TestError> {
    Ok(xattr::on_brick(ctx, brick, rel)
        .await?
        .get(SIGNATURE)
        .is_some())
}

/// Whether `rel`'s copy on `brick` is marked bad (carries [`BAD_FILE`]).
pub async fn is_bad(ctx: &Ctx, brick: &Brick, rel: &str) -> Result<bool, TestError> {
    Ok(xattr::on_brick(ctx, brick, rel)
        .await?
        .get(BAD_FILE)
        .is_some())
}

/// Waits until every copy of every file of `rels` is signed on the bricks holding it; returns
/// the bricks holding each (in the order of `rels`). A file held by no brick is an error.
pub async fn wait_signed(
    ctx: &Ctx,
    vol: &Volume,
    rels: &[&str],
    timeout: Duration,
) -> Result<Vec<Vec<Brick>>, TestError> {
    let mut held = Vec::new();
    for rel in rels {
        let h = holders(ctx, vol, rel).await?;
        if h.is_empty() {
            return Err(TestError::Check(format!(
                "{rel} is on no brick of {}",
                vol.name
            )));
        }
        held.push(h);
    }
    let what = format!(
        "{} file(s) of {} signed on every copy",
        rels.len(),
        vol.name
    );
    wait_for(ctx, &what, timeout, Duration::from_secs(2), || async {
        let mut unsigned = Vec::new();
        for (rel, bricks) in rels.iter().zip(&held) {
            for b in bricks {
                if !is_signed(ctx, b, rel).await? {
                    unsigned.push(format!("{rel} on {}", b.spec()));
                }
            }
        }
        Ok(if unsigned.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending(format!("unsigned: {}", unsigned.join(", ")))
        })
    })
    .await?;
    Ok(held)
}

/// Waits until some copy of one of `rels` is signed; returns the first found (file, brick), in
/// the order of `rels` then of the bricks. For tests that need one signed copy to corrupt: in
/// GlusterFS 10.3 a node's signer sometimes never signs (neither on release nor from its first
/// crawl), so waiting for every copy can fail for reasons other than what a test checks. When no
/// copy at all is signed by `timeout` the test is SKIPPED with that reason: the scrubber cannot
/// be checked without a signature.
pub async fn wait_any_signed(
    ctx: &Ctx,
    vol: &Volume,
    rels: &[&str],
    timeout: Duration,
) -> Result<(String, Brick), TestError> {
    let mut held = Vec::new();
    for rel in rels {
        held.push(holders(ctx, vol, rel).await?);
    }
    let what = format!(
        "a copy of one of {} file(s) of {} signed",
        rels.len(),
        vol.name
    );
    wait_for(ctx, &what, timeout, Duration::from_secs(2), || async {
        for (rel, bricks) in rels.iter().zip(&held) {
            for b in bricks {
                if is_signed(ctx, b, rel).await? {
                    return Ok(Poll::Ready((rel.to_string(), b.clone())));
                }
            }
        }
        Ok(Poll::Pending("no copy signed".into()))
    })
    .await
    .map_err(|e| match e {
        TestError::Wait { after, .. } => TestError::Skip(format!(
            "GlusterFS's signer signed no copy of {} file(s) of {} in {}s \
             (trusted.bit-rot.signature on no brick): the scrubber cannot be checked",
            rels.len(),
            vol.name,
            after.as_secs()
        )),
        other => other,
    })
}

/// sha256 of a file on a node.
async fn sha256(ctx: &Ctx, node: &Node, path: &str) -> Result<String, TestError> {
    let out = ctx.run(node, Command::new("sha256sum").arg(path)).await?;
    out.stdout_str()
        .split_whitespace()
        .next()
        .map(str::to_string)
        .ok_or_else(|| TestError::Check(format!("sha256sum {path} printed nothing")))
}

/// Flips every bit of the first 16 bytes of `rel`'s copy on `brick`, in place, behind GlusterFS's
/// back (size kept, no xattr touched): the bit rot the scrubber must find. Checks that the copy's
/// checksum changed.
pub async fn corrupt_on_brick(ctx: &Ctx, brick: &Brick, rel: &str) -> Result<(), TestError> {
    let p = xattr::brick_path(brick, rel);
    let before = sha256(ctx, &brick.node, &p).await?;
    ctx.step(format!(
        "corrupt {rel} on {} behind gluster's back",
        brick.spec()
    ));
    let flip = "open(my $f, '+<', $ARGV[0]) or die \"open: $!\"; \
                sysread($f, my $b, 16) or die \"read: $!\"; \
                $b ^= (\"\\xff\" x length $b); \
                sysseek($f, 0, 0) or die \"seek: $!\"; \
                syswrite($f, $b) == length $b or die \"write: $!\"; \
                close($f) or die \"close: $!\";";
    ctx.run(&brick.node, Command::new("perl").args(["-e", flip, &p]))
        .await?;
    let after = sha256(ctx, &brick.node, &p).await?;
    if after == before {
        return Err(TestError::Check(format!(
            "{p} on {} has the same checksum after corrupting it",
            brick.node.name()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "\n\
Volume name : v1\n\n\
State of scrub: Active (Idle)\n\n\
Scrub impact: lazy\n\n\
Scrub frequency: biweekly\n\n\
Bitrot error log location: /var/log/glusterfs/bitd.log\n\n\
Scrubber error log location: /var/log/glusterfs/scrub.log\n\n\n\
=========================================================\n\n\
Node: localhost\n\n\
Number of Scrubbed files: 1\n\n\
Number of Skipped files: 0\n\n\
Last completed scrub time: 2026-12-07 04:56:22 +0000\n\n\
Duration of last scrub (D:M:H:M:S): 0:0:1:5\n\n\
Error count: 1\n\n\
Corrupted object's [GFID]:\n\n\
4d7fc546-8efe-4923-983f-127193c81b9f ==> BRICK: /bricks/v1/b1\n path: /f1\n\n\n\
=========================================================\n\n\
Node: server3\n\n\
Number of Scrubbed files: 0\n\n\
Number of Skipped files: 2\n\n\
Last completed scrub time: Scrubber pending to complete.\n\n\
Duration of last scrub (D:M:H:M:S): 0:0:0:0\n\n\
Error count: 0\n\n\
=========================================================\n";

    #[test]
    fn parses_client_list() {
        let out = "Client connections for volume v\n\
Name                                                       count\n\
-----                                                     ------\n\
glustershd                                                     3\n\
bitd                                                           3\n\
scrub                                                          2\n\n\
total clients for volume v : 3 \n\
-----------------------------------------------------------------\n";
        let c = parse_client_list(out);
        assert_eq!(c.get("bitd"), Some(&3));
        assert_eq!(c.get("scrub"), Some(&2));
        assert_eq!(c.get("glustershd"), Some(&3));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn parses_scrub_status() {
        let st = parse_scrub_status(STATUS).unwrap();
        assert_eq!(st.volume, "v1");
        assert_eq!(st.state, "Active");
        assert!(!st.running);
        assert_eq!(st.impact, "lazy");
        assert_eq!(st.frequency, "biweekly");
        assert_eq!(st.scrub_log, "/var/log/glusterfs/scrub.log");
        assert_eq!(st.nodes.len(), 2);
        let a = &st.nodes[0];
        assert_eq!(a.name, "localhost");
        assert_eq!((a.scrubbed, a.skipped, a.errors), (1, 0, 1));
        assert_eq!(a.duration_secs, 65);
        assert_eq!(
            a.last_completed.as_deref(),
            Some("2026-12-07 04:56:22 +0000")
        );
        assert_eq!(
            a.corrupted,
            vec![Corrupted {
                gfid: "4d7fc546-8efe-4923-983f-127193c81b9f".into(),
                brick: Some("/bricks/v1/b1".into()),
                path: Some("/f1".into()),
            }]
        );
        let b = &st.nodes[1];
        assert_eq!(b.last_completed, None);
        assert_eq!((b.scrubbed, b.skipped, b.errors), (0, 2, 0));
        assert!(b.corrupted.is_empty());
        assert_eq!(st.total_errors(), 1);
        assert_eq!(
            st.corrupted_gfids(),
            vec!["4d7fc546-8efe-4923-983f-127193c81b9f".to_string()]
        );
        let running = STATUS.replace("Active (Idle)", "Active (In Progress)");
        assert!(parse_scrub_status(&running).unwrap().running);
        assert!(parse_scrub_status("garbage").is_err());
    }
}
