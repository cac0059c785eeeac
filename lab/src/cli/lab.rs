//! Lab lifecycle subcommands: images, up, down, ls, status, exec, logs, nodes.
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use futures::FutureExt;
use gflab_agent::{Client, ClientOptions, Command, ExecEvent, ExitStatus, NodeList, Secret};

use crate::facts::HostFacts;
use crate::images::{ImageSet, Need};
use crate::lab::{self as lifecycle, LabError, NodeRow, UpRequest};
use crate::node::role_name;
use crate::progress::Progress;
use crate::runtime::docker::DockerRuntime;
use crate::runtime::{ObjectKind, Runtime as _};
use crate::signals::{Interrupt, Signal};
use crate::state;
use crate::topology::{check_name, Release, Topology};

/// Build command of the static agent, shown when the binary is missing.
pub const AGENT_BUILD_HINT: &str = "RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build --release -p gflab-agent --target x86_64-unknown-linux-gnu";
const AGENT_REL: &str = "x86_64-unknown-linux-gnu/release/gflab-agent";

fn parse_release(s: &str) -> Result<Release, String> {
    s.parse()
}

/// `gflab images`.
#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Debian release (bookworm = GlusterFS 10.3, trixie = 11.1).
    #[arg(long, default_value = "bookworm", value_parser = parse_release)]
    pub release: Release,
}

/// Builds missing images for a release.
pub async fn images(a: ImagesArgs) -> anyhow::Result<i32> {
    let rt = DockerRuntime::connect().await?;
    let progress = Progress::detect();
    let set = ImageSet::for_release(a.release);
    let built = crate::images::ensure(&rt, &[Need::Roles(set.clone())], &progress).await?;
    if !built.built.is_empty() {
        progress.note(format!("built: {}", built.built.join(", ")));
    }
    println!("{}\n{}\n{}", set.base, set.server, set.client);
    Ok(0)
}

/// Finds the static agent binary: `$GFLAB_AGENT_BIN`, next to `gflab`, the target dir, the workspace.
pub fn agent_binary_path() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("GFLAB_AGENT_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("failed to find the agent binary: GFLAB_AGENT_BIN={} does not exist\nhint: {AGENT_BUILD_HINT}", p.display());
        }
        return Ok(p);
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join("gflab-agent"));
        // `<target>/debug/gflab` → `<target>/x86_64-unknown-linux-gnu/release/gflab-agent`.
        if let Some(target) = dir.parent() {
            candidates.push(target.join(AGENT_REL));
        }
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR").filter(|t| !t.is_empty()) {
        candidates.push(PathBuf::from(t).join(AGENT_REL));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    candidates.push(workspace.join("target").join(AGENT_REL));
    candidates.push(PathBuf::from("target").join(AGENT_REL));
    for c in &candidates {
        if c.is_file() && is_static(c) {
            return Ok(c.clone());
        }
    }
    bail!(
        "failed to find the static agent binary (looked at {})\nhint: build it with: {AGENT_BUILD_HINT}\nhint: or point GFLAB_AGENT_BIN at it",
        candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
    )
}

/// A dynamically linked ELF names its loader; a static one does not.
fn is_static(path: &Path) -> bool {
    std::fs::read(path)
        .is_ok_and(|b| b.starts_with(b"\x7fELF") && !b.windows(15).any(|w| w == b"/lib64/ld-linux"))
}

/// `gflab up`.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Topology file.
    #[arg(default_value = "topologies/2x2.toml")]
    pub topology: PathBuf,
    /// Lab name (default: the topology's `name`).
    #[arg(long)]
    pub name: Option<String>,
    /// Keep what was created when `up` fails or is interrupted.
    #[arg(long)]
    pub keep_on_failure: bool,
}

fn print_nodes(rows: &[NodeRow]) {
    let builds = rows.iter().any(|r| !r.glusterfs.is_empty());
    println!(
        "{:<10} {:<7} {:<15} {:<22} {:<8}{}",
        "NODE",
        "ROLE",
        "IP",
        "AGENT",
        "STATE",
        if builds { " GLUSTERFS" } else { "" }
    );
    for r in rows {
        println!(
            "{:<10} {:<7} {:<15} {:<22} {:<8}{}",
            r.name,
            role_name(r.role),
            r.ip,
            r.agent,
            r.state,
            if builds {
                format!(" {}", r.glusterfs)
            } else {
                String::new()
            }
        );
    }
}

/// Asks each running node's agent which GlusterFS it runs (best effort: a node that does not
/// answer within a few seconds shows `?`).
async fn fill_builds(lab: &str, rows: &mut [NodeRow]) {
    let Ok(secret) = state::read_secret(lab) else {
        return;
    };
    let opts = ClientOptions {
        connect_timeout: std::time::Duration::from_secs(3),
        max_reconnect_attempts: 1,
        ..ClientOptions::default()
    };
    let addrs: Vec<String> = rows.iter().map(|r| r.agent.clone()).collect();
    let builds =
        crate::reload::builds(&addrs, &secret, &opts, std::time::Duration::from_secs(5)).await;
    for (r, b) in rows.iter_mut().zip(builds) {
        if r.state == "running" && !r.agent.is_empty() {
            r.glusterfs = b.unwrap_or_else(|| "?".into());
        }
    }
}

/// Reports how `up` stopped on a signal; returns the exit code a shell gives a process killed by
/// it (the teardown has run by then).
fn stopped(signal: Signal, message: &str) -> anyhow::Result<i32> {
    eprintln!("error: {message}");
    Ok(signal.exit_code())
}

/// Brings a lab up.
pub async fn up(a: UpArgs) -> anyhow::Result<i32> {
    let mut interrupt = Interrupt::install()?;
    let topology = Topology::load(&a.topology)?;
    let name = a.name.clone().unwrap_or_else(|| topology.name.clone());
    check_name(&name).map_err(|m| anyhow::anyhow!("--name: {m}"))?;
    let _lock = state::lock(&name)?;
    let agent_path = agent_binary_path()?;
    let agent_binary = std::fs::read(&agent_path)
        .with_context(|| format!("failed to read the agent binary {}", agent_path.display()))?;
    let rt = DockerRuntime::connect().await?;
    let facts = HostFacts::probe_here(&rt).await?;
    let progress = Progress::detect();
    let req = UpRequest {
        topology,
        name: name.clone(),
        agent_binary,
        keep_on_failure: a.keep_on_failure,
        deadlines: Default::default(),
    };
    let started = std::time::Instant::now();
    let result = lifecycle::up(&rt, &req, &facts, &progress, interrupt.recv().map(drop)).await;
    if let (Err(LabError::Interrupted), Some(sig)) = (&result, interrupt.received()) {
        return stopped(
            sig,
            &format!("failed to bring up lab {name}: interrupted by {sig}"),
        );
    }
    let out = result.with_context(|| format!("failed to bring up lab {name}"))?;
    if out.already_up {
        progress.note(format!(
            "lab {name} is already up with this topology; nothing changed"
        ));
    } else {
        let subnet = out.subnet.map(|s| s.to_string()).unwrap_or_default();
        progress.note(format!(
            "lab {name} is up on {subnet} ({:.1}s)",
            started.elapsed().as_secs_f64()
        ));
    }
    print_nodes(&out.nodes);
    println!("node list: {}", out.node_list.display());
    Ok(0)
}

/// `gflab down`.
#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// Lab name (default: the only lab).
    pub name: Option<String>,
    /// Tear down every lab.
    #[arg(long, conflicts_with = "name")]
    pub all: bool,
}

/// Tears down one lab, or all.
pub async fn down(a: DownArgs) -> anyhow::Result<i32> {
    let rt = DockerRuntime::connect().await?;
    let progress = Progress::detect();
    let known: Vec<String> = lifecycle::labs(&rt)
        .await?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let targets: Vec<String> = match (&a.name, a.all) {
        (Some(n), _) => vec![n.clone()],
        (None, true) => {
            let mut all = known.clone();
            for l in state::labs()? {
                if !all.contains(&l) {
                    all.push(l);
                }
            }
            all
        }
        (None, false) => match known.as_slice() {
            [one] => vec![one.clone()],
            [] => {
                progress.note("no lab is up");
                return Ok(0);
            }
            many => bail!(
                "several labs are up: {}\nhint: gflab down NAME, or gflab down --all",
                many.join(", ")
            ),
        },
    };
    for lab in targets {
        let step = progress.step(format!("tearing down lab {lab}"));
        let n = lifecycle::down(&rt, &lab).await?;
        if n == 0 && !known.contains(&lab) {
            step.done("nothing to remove");
        } else {
            step.done(&format!("{n} objects removed"));
        }
    }
    Ok(0)
}

/// `gflab ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, serde::Serialize)]
struct LabSummary {
    name: String,
    nodes: usize,
    running: usize,
    networks: usize,
    volumes: usize,
    topology: String,
    node_list: Option<PathBuf>,
}

/// Lists labs (by label).
pub async fn ls(a: LsArgs) -> anyhow::Result<i32> {
    let rt = DockerRuntime::connect().await?;
    let mut out = Vec::new();
    for (name, objs) in lifecycle::labs(&rt).await? {
        let count = |k: ObjectKind| objs.iter().filter(|o| o.kind == k).count();
        let path = state::node_list_path(&name)?;
        out.push(LabSummary {
            nodes: count(ObjectKind::Container),
            running: objs
                .iter()
                .filter(|o| o.kind == ObjectKind::Container && o.state == "running")
                .count(),
            networks: count(ObjectKind::Network),
            volumes: count(ObjectKind::Volume),
            topology: objs
                .first()
                .map(|o| o.label(crate::runtime::LABEL_TOPOLOGY).to_string())
                .unwrap_or_default(),
            node_list: path.is_file().then_some(path),
            name,
        });
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    println!(
        "{:<16} {:<8} {:<12} {:<8} NODE LIST",
        "LAB", "NODES", "TOPOLOGY", "VOLUMES"
    );
    for l in &out {
        println!(
            "{:<16} {:<8} {:<12} {:<8} {}",
            l.name,
            format!("{}/{}", l.running, l.nodes),
            l.topology,
            l.volumes,
            l.node_list
                .as_ref()
                .map_or("-".to_string(), |p| p.display().to_string())
        );
    }
    Ok(0)
}

/// `gflab status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Lab name (default: the only lab).
    pub name: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Picks the named lab, or the only one that exists (by label).
async fn pick_lab(
    rt: &DockerRuntime,
    name: Option<&str>,
) -> anyhow::Result<(String, Vec<crate::runtime::LabObject>)> {
    let labs = lifecycle::labs(rt).await?;
    match name {
        Some(n) => match labs.into_iter().find(|(l, _)| l == n) {
            Some(found) => Ok(found),
            None => bail!("lab {n} does not exist\nhint: gflab ls"),
        },
        None => match labs.len() {
            1 => Ok(labs.into_iter().next().expect("one lab")),
            0 => bail!("no lab exists\nhint: gflab up topologies/2x2.toml"),
            _ => bail!(
                "several labs exist: {}\nhint: name one",
                labs.iter()
                    .map(|(l, _)| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// Shows a lab's nodes.
pub async fn status(a: StatusArgs) -> anyhow::Result<i32> {
    let rt = DockerRuntime::connect().await?;
    let (lab, objs) = pick_lab(&rt, a.name.as_deref()).await?;
    let mut rows = lifecycle::node_rows(&objs);
    fill_builds(&lab, &mut rows).await;
    let path = state::node_list_path(&lab)?;
    if a.json {
        let v = serde_json::json!({
            "lab": lab,
            "nodes": rows,
            "node_list": path.is_file().then_some(path),
            "objects": objs.len(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("lab {lab}: {} objects", objs.len());
        print_nodes(&rows);
        if path.is_file() {
            println!("node list: {}", path.display());
        }
    }
    Ok(0)
}

/// `gflab exec`.
#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Lab name (default: the only running lab).
    #[arg(long)]
    pub lab: Option<String>,
    /// Node name (`server1`).
    pub node: String,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub cmd: Vec<String>,
}

/// Connects to one node of a lab through its node list.
async fn connect_node(lab: Option<&str>, node: &str) -> anyhow::Result<Client> {
    let path = state::resolve_node_list(lab)?;
    let list = NodeList::load(&path)?;
    let entry = list
        .nodes
        .iter()
        .find(|n| n.name == node)
        .with_context(|| {
            format!(
                "node {node} is not in lab {} (nodes: {})",
                list.lab,
                list.nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let secret_path = if list.secret_file.is_absolute() {
        list.secret_file.clone()
    } else {
        dir.join(&list.secret_file)
    };
    let secret = Secret::read_file(&secret_path)
        .with_context(|| format!("failed to read secret {}", secret_path.display()))?;
    let first = match Client::connect(&entry.agent, secret.clone(), ClientOptions::default()).await
    {
        Ok(c) => return Ok(c),
        Err(e) => e,
    };
    // A lab node whose container restarted (a reboot) listens on a new published port: find it by
    // the lab's labels, and keep the node list up to date for the next command.
    let moved = match DockerRuntime::connect().await {
        Ok(rt) => rt.list(Some(&list.lab)).await.ok().and_then(|objs| {
            lifecycle::node_rows(&objs)
                .into_iter()
                .find(|r| r.name == node && !r.agent.is_empty() && r.agent != entry.agent)
                .map(|r| r.agent)
        }),
        Err(_) => None,
    };
    let Some(addr) = moved else {
        return Err(first.into());
    };
    let client = Client::connect(&addr, secret.clone(), ClientOptions::default()).await?;
    if state::node_list_path(&list.lab).ok().as_deref() == Some(path.as_path()) {
        let mut updated = list.clone();
        if let Some(e) = updated.nodes.iter_mut().find(|n| n.name == node) {
            e.agent = addr;
        }
        updated.secret_file = PathBuf::from(state::SECRET);
        state::write(&list.lab, &updated, &secret)?;
    }
    Ok(client)
}

/// Maps an exit status to a process exit code (shell conventions).
pub fn exit_code(status: ExitStatus) -> i32 {
    match status {
        ExitStatus::Code(c) => c,
        ExitStatus::Signal(s) => 128 + s,
        ExitStatus::TimedOut => 124,
    }
}

/// Runs a command on a node, streaming its output; exits with its code.
pub async fn exec(a: ExecArgs) -> anyhow::Result<i32> {
    let client = connect_node(a.lab.as_deref(), &a.node).await?;
    let cmd = Command::new(a.cmd[0].clone()).args(a.cmd[1..].iter().cloned());
    let mut stream = client
        .exec_stream(cmd)
        .await
        .with_context(|| format!("failed to run `{}` on {}", a.cmd.join(" "), a.node))?;
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    while let Some(ev) = stream.next().await {
        match ev.with_context(|| format!("failed to run `{}` on {}", a.cmd.join(" "), a.node))? {
            ExecEvent::Stdout(b) => {
                stdout.write_all(&b)?;
                stdout.flush()?;
            }
            ExecEvent::Stderr(b) => {
                stderr.write_all(&b)?;
                stderr.flush()?;
            }
            ExecEvent::Exit { status, .. } => return Ok(exit_code(status)),
        }
    }
    bail!(
        "failed to run `{}` on {}: the agent ended the stream without an exit status",
        a.cmd.join(" "),
        a.node
    )
}

/// `gflab logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Lab name (default: the only running lab).
    #[arg(long)]
    pub lab: Option<String>,
    /// Node name.
    pub node: String,
    /// Log file on the node.
    #[arg(long, default_value = "/var/log/glusterfs/glusterd.log")]
    pub file: String,
    /// The agent's audit log instead (every request: peer, command, outcome, duration).
    #[arg(long, conflicts_with = "file")]
    pub agent: bool,
}

/// Where agents keep their audit log.
const AGENT_AUDIT_LOG: &str = "/var/log/gflab-agent/audit.log";

/// Prints a node's glusterd log (or its agent's audit log).
pub async fn logs(a: LogsArgs) -> anyhow::Result<i32> {
    let client = connect_node(a.lab.as_deref(), &a.node).await?;
    let file = if a.agent { AGENT_AUDIT_LOG } else { &a.file };
    let data = client
        .get_file(file)
        .await
        .with_context(|| format!("failed to read {file} on {}", a.node))?;
    std::io::stdout().write_all(&data)?;
    Ok(0)
}

/// `gflab nodes`.
#[derive(Debug, clap::Args)]
pub struct NodesArgs {
    /// Lab name (default: the only running lab).
    pub name: Option<String>,
}

/// Prints the node list path of a lab.
pub async fn nodes(a: NodesArgs) -> anyhow::Result<i32> {
    let path = state::resolve_node_list(a.name.as_deref())?;
    println!("{}", path.display());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_binaries_are_not_taken_for_the_static_agent() {
        let exe = std::env::current_exe().expect("test binary");
        assert!(!is_static(&exe), "a test binary links dynamically");
        assert!(!is_static(Path::new("/nonexistent")));
        let dir = tempfile::tempdir().expect("tempdir");
        let text = dir.path().join("script");
        std::fs::write(&text, "#!/bin/sh\n").expect("write");
        assert!(!is_static(&text), "not an ELF");
    }

    #[test]
    fn exit_codes_follow_shell_conventions() {
        assert_eq!(exit_code(ExitStatus::Code(3)), 3);
        assert_eq!(exit_code(ExitStatus::Signal(9)), 137);
        assert_eq!(exit_code(ExitStatus::TimedOut), 124);
    }
}

/// `gflab upgrade`.
#[derive(Debug, clap::Args)]
pub struct UpgradeArgs {
    /// The lab.
    pub name: String,
    /// The release to upgrade to (bookworm: GlusterFS 10.3, trixie: 11.1).
    #[arg(long, value_parser = |s: &str| s.parse::<crate::topology::Release>())]
    pub to: crate::topology::Release,
    /// Stop every volume, upgrade all nodes at once, start the volumes again.
    #[arg(long)]
    pub offline: bool,
    /// How long each server's bricks and heal may take to settle, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub settle: u64,
    /// Upgrade online even with a started dispersed or pure distributed volume, which GlusterFS's
    /// upgrade guide supports only offline.
    #[arg(long, conflicts_with = "offline")]
    pub force: bool,
}

/// Upgrades a lab's nodes to another release: rolling (servers, then clients) or offline.
pub async fn upgrade(a: UpgradeArgs) -> anyhow::Result<i32> {
    let mut interrupt = Interrupt::install()?;
    let _lock = state::lock(&a.name)?;
    let agent_path = agent_binary_path()?;
    let agent_binary = std::fs::read(&agent_path)
        .with_context(|| format!("failed to read the agent binary {}", agent_path.display()))?;
    let rt = DockerRuntime::connect().await?;
    let facts = HostFacts::probe_here(&rt).await?;
    let progress = Progress::detect();
    let req = crate::upgrade::UpgradeRequest {
        lab: a.name.clone(),
        to: a.to,
        offline: a.offline,
        agent_binary,
        settle: std::time::Duration::from_secs(a.settle.max(1)),
        force: a.force,
    };
    let started = std::time::Instant::now();
    let result =
        crate::upgrade::upgrade(&rt, &req, &facts, &progress, interrupt.recv().map(drop)).await;
    match result {
        Ok(out) => {
            for n in &out.upgraded {
                println!(
                    "{:<10} {} -> {}  {:.1}s",
                    n.node,
                    n.from,
                    a.to,
                    n.duration.as_secs_f64()
                );
            }
            if !out.already.is_empty() {
                println!("already on {}: {}", a.to, out.already.join(", "));
            }
            progress.note(format!(
                "lab {} is on {} ({} node(s) upgraded{}, {:.1}s)",
                a.name,
                a.to,
                out.upgraded.len(),
                if a.offline { ", offline" } else { "" },
                started.elapsed().as_secs_f64()
            ));
            Ok(0)
        }
        Err(e) => match interrupt.received() {
            Some(sig) => stopped(sig, &format!("upgrade of {} stopped by {sig}: {e}", a.name)),
            None => Err(anyhow::anyhow!("failed to upgrade lab {}: {e}", a.name)),
        },
    }
}
