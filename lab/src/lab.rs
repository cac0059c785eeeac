//! The lab lifecycle over a [`Runtime`]: `up` (plan → network → volumes → containers with the
//! agent injected → start → readiness → trusted pool → node list) and `down` (by label).
//!
//! `up` runs under [`run_guarded`]: an error or an interrupt tears down everything the lab owns
//! (the same code path as `down`) unless the caller keeps it.
use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::future::{join_all, try_join_all};
use gflab_agent::{Client, ClientOptions, Command, NodeEntry, NodeList, Role, Secret};

use crate::plan::{
    self, ImageTags, NodePlan, Plan, PlanError, AGENT_PATH, AGENT_PORT, SECRET_PATH,
};
use crate::progress::Progress;
use crate::runtime::{
    FileUpload, LabObject, ObjectKind, Runtime, RuntimeError, LABEL_NODE, LABEL_ROLE,
    LABEL_TOPOLOGY,
};
use crate::state::{self, StateError};
use crate::topology::{Ipv4Cidr, Location, SubnetChoice, Topology};

/// What `up` waits for on a node, in order, each with its own deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// The agent accepts a connection, authenticates and answers a ping.
    AgentPing,
    /// glusterd answers `gluster pool list` (servers only).
    Glusterd,
}

impl std::fmt::Display for WaitFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WaitFor::AgentPing => "the agent to answer",
            WaitFor::Glusterd => "glusterd to answer",
        })
    }
}

/// Everything the lifecycle can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A runtime operation failed during a step.
    #[error("{step}: {source}")]
    Runtime {
        /// The step (`creating containers`).
        step: &'static str,
        /// The runtime's error (names the object and has the engine's words).
        source: RuntimeError,
    },
    /// The plan could not be made.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A lab with this name exists with another topology.
    #[error("lab {lab} already exists with a different topology (labels say {have}, this topology is {want})\nhint: gflab down {lab}, or pick another name with --name")]
    Exists {
        /// Lab.
        lab: String,
        /// Topology hashes found on its objects.
        have: String,
        /// This topology's hash.
        want: String,
    },
    /// The lab exists but is not (completely) running.
    #[error("lab {lab} exists but is not healthy: {why}\nhint: gflab down {lab} and up again")]
    Unhealthy {
        /// Lab.
        lab: String,
        /// What is wrong.
        why: String,
    },
    /// The topology's subnet overlaps an existing network.
    #[error("{}:{}:{}: subnet {subnet} overlaps Docker network {network} ({other})\nhint: choose another subnet or subnet = \"auto\"", .file.display(), .location.line, .location.column)]
    SubnetOverlap {
        /// Topology file.
        file: PathBuf,
        /// Where `subnet` is written.
        location: Location,
        /// The subnet asked for.
        subnet: Ipv4Cidr,
        /// The network it overlaps.
        network: String,
        /// That network's subnet.
        other: Ipv4Cidr,
    },
    /// `auto` found nothing free.
    #[error("failed to pick a free subnet: every /24 from {} upward overlaps an existing network\nhint: remove unused Docker networks or set subnet in the topology", plan::AUTO_SUBNET_BASE)]
    NoFreeSubnet,
    /// A node did not become ready in time.
    #[error("failed to wait for {what} on {node} within {secs}s: {last}")]
    Timeout {
        /// Node.
        node: String,
        /// What was awaited.
        what: WaitFor,
        /// The deadline.
        secs: u64,
        /// The last error seen.
        last: String,
    },
    /// A command run through the agent failed.
    #[error("failed to {what} on {node}: `{cmd}` exited with {status}: {output}")]
    Command {
        /// What it was for (`probe server2`).
        what: String,
        /// Node.
        node: String,
        /// The command line.
        cmd: String,
        /// Its exit status.
        status: String,
        /// Its output.
        output: String,
    },
    /// Talking to an agent failed.
    #[error("failed to {what} on {node}: {source}")]
    Agent {
        /// What (`run gluster peer status`).
        what: String,
        /// Node.
        node: String,
        /// The client's error.
        source: gflab_agent::Error,
    },
    /// The trusted pool did not form in time.
    #[error("failed to form the trusted pool within {secs}s: {last}")]
    Pool {
        /// The deadline.
        secs: u64,
        /// What was last seen.
        last: String,
    },
    /// A container has no published agent port.
    #[error("failed to find the published agent port of {node}")]
    NoAgentPort {
        /// Node.
        node: String,
    },
    /// The state directory could not be written or read.
    #[error(transparent)]
    State(#[from] StateError),
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// Thin-LVM bricks or the VM image could not be made.
    #[error(transparent)]
    Vm(#[from] crate::vm::VmError),
    /// Teardown left objects behind.
    #[error("failed to remove everything of lab {lab}: {}", .errors.join("; "))]
    Teardown {
        /// Lab.
        lab: String,
        /// Each failure.
        errors: Vec<String>,
    },
}

fn rt_err(step: &'static str) -> impl Fn(RuntimeError) -> LabError {
    move |source| LabError::Runtime { step, source }
}

/// Deadlines of `up`'s waits.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// For each agent to answer.
    pub agent: Duration,
    /// For each glusterd to answer.
    pub glusterd: Duration,
    /// For the whole pool to show every peer connected.
    pub pool: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            agent: Duration::from_secs(30),
            glusterd: Duration::from_secs(60),
            pool: Duration::from_secs(60),
        }
    }
}

/// What `up` needs besides the runtime.
#[derive(Debug, Clone)]
pub struct UpRequest {
    /// The validated topology.
    pub topology: Topology,
    /// Lab name (the topology's, or `--name`).
    pub name: String,
    /// Images per role.
    pub images: ImageTags,
    /// The static agent binary injected into every node.
    pub agent_binary: Vec<u8>,
    /// Keep what was created when `up` fails or is interrupted.
    pub keep_on_failure: bool,
    /// Readiness deadlines.
    pub deadlines: Deadlines,
}

/// One row of the node table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeRow {
    /// Node name.
    pub name: String,
    /// `server` | `client`.
    pub role: String,
    /// Address on the lab network.
    pub ip: String,
    /// Where the agent is reached from the host.
    pub agent: String,
    /// Container state (`running`, ...).
    pub state: String,
    /// Capabilities the node offers (`thin-lvm`), from its labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

/// What `up` did.
#[derive(Debug, Clone)]
pub struct UpOutcome {
    /// The lab was already up with the same topology; nothing was created.
    pub already_up: bool,
    /// The nodes.
    pub nodes: Vec<NodeRow>,
    /// The node list path.
    pub node_list: PathBuf,
    /// The lab subnet (when created now).
    pub subnet: Option<Ipv4Cidr>,
}

/// Label carrying a node's lab IP, on containers.
pub const LABEL_IP: &str = "io.gflab.ip";

/// The node rows of a lab's objects (containers only), in plan order (servers, then clients).
pub fn node_rows(objects: &[LabObject]) -> Vec<NodeRow> {
    let mut rows: Vec<NodeRow> = objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Container)
        .map(|o| NodeRow {
            name: o.label(LABEL_NODE).to_string(),
            role: o.label(LABEL_ROLE).to_string(),
            ip: o.label(LABEL_IP).to_string(),
            agent: o
                .ports
                .iter()
                .find(|p| p.container == AGENT_PORT)
                .map(|p| p.host.to_string())
                .unwrap_or_default(),
            state: o.state.clone(),
            capabilities: crate::vm::capabilities_of(&o.labels),
        })
        .collect();
    rows.sort_by_key(|r| {
        let digits: String = r.name.chars().filter(char::is_ascii_digit).collect();
        (
            r.role != "server",
            digits.parse::<u32>().unwrap_or(0),
            r.name.clone(),
        )
    });
    rows
}

/// Labs that own objects, with their objects, sorted by name.
pub async fn labs<R: Runtime>(rt: &R) -> Result<Vec<(String, Vec<LabObject>)>, LabError> {
    let all = rt.list(None).await.map_err(rt_err("listing labs"))?;
    let names: BTreeSet<String> = all.iter().map(|o| o.lab().to_string()).collect();
    Ok(names
        .into_iter()
        .map(|n| {
            let objs = all.iter().filter(|o| o.lab() == n).cloned().collect();
            (n, objs)
        })
        .collect())
}

/// Removes every object labeled with `lab`: containers, then networks, then volumes.
/// Returns how many objects were removed.
pub async fn destroy<R: Runtime>(rt: &R, lab: &str) -> Result<usize, LabError> {
    let mut removed = 0;
    let mut errors = Vec::new();
    // Thin pools of server containers live in the host kernel: remove them inside the nodes first.
    let objs = rt
        .list(Some(lab))
        .await
        .map_err(rt_err("listing lab objects"))?;
    let thin_errors = crate::vm::teardown_container_bricks(lab, &objs).await;
    // A create that was in flight when `up` was interrupted may land late: look again.
    for _round in 0..3 {
        let objs = rt
            .list(Some(lab))
            .await
            .map_err(rt_err("listing lab objects"))?;
        if objs.is_empty() {
            if thin_errors.is_empty() {
                return Ok(removed);
            }
            errors.clear();
            break;
        }
        errors.clear();
        for kind in [
            ObjectKind::Container,
            ObjectKind::Network,
            ObjectKind::Volume,
        ] {
            let of_kind: Vec<&LabObject> = objs.iter().filter(|o| o.kind == kind).collect();
            for o in &of_kind {
                tracing::debug!(lab, kind = %o.kind, name = %o.name, "removing");
            }
            let results = join_all(of_kind.iter().map(|o| rt.remove(o))).await;
            for r in results {
                match r {
                    Ok(()) => removed += 1,
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
    }
    let left = rt
        .list(Some(lab))
        .await
        .map_err(rt_err("listing lab objects"))?;
    errors.extend(thin_errors);
    if left.is_empty() && errors.is_empty() {
        return Ok(removed);
    }
    errors.extend(
        left.iter()
            .map(|o| format!("{} {} is still there", o.kind, o.name)),
    );
    Err(LabError::Teardown {
        lab: lab.to_string(),
        errors,
    })
}

/// `down`: removes the lab's objects and its state directory.
pub async fn down<R: Runtime>(rt: &R, lab: &str) -> Result<usize, LabError> {
    let n = destroy(rt, lab).await?;
    state::remove(lab)?;
    Ok(n)
}

/// Runs `fut`; on its error or on `interrupt`, tears the lab down (unless `keep`).
pub async fn run_guarded<R, T>(
    rt: &R,
    lab: &str,
    keep: bool,
    progress: &Progress,
    fut: impl Future<Output = Result<T, LabError>>,
    interrupt: impl Future<Output = ()>,
) -> Result<T, LabError>
where
    R: Runtime,
{
    let res = tokio::select! {
        r = fut => r,
        () = interrupt => Err(LabError::Interrupted),
    };
    let Err(e) = res else { return res };
    if keep {
        progress.note(format!(
            "keeping what lab {lab} created (--keep-on-failure); remove it with: gflab down {lab}"
        ));
        return Err(e);
    }
    let step = progress.step(format!("removing everything lab {lab} created"));
    if matches!(e, LabError::Interrupted) {
        // Requests the interrupt cut off may still complete in the engine.
        let _ = destroy(rt, lab).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    match down(rt, lab).await {
        Ok(n) => step.done(&format!("{n} objects removed")),
        Err(te) => {
            step.done("incomplete");
            progress.note(format!("error: {te}"));
        }
    }
    Err(e)
}

/// Resolves the subnet: checks a fixed one for overlaps, or picks a free one.
pub async fn resolve_subnet<R: Runtime>(rt: &R, topo: &Topology) -> Result<Ipv4Cidr, LabError> {
    let in_use = rt.subnets().await.map_err(rt_err("listing networks"))?;
    match topo.subnet {
        SubnetChoice::Fixed(c) => match in_use.iter().find(|(_, u)| u.overlaps(c)) {
            Some((network, other)) => Err(LabError::SubnetOverlap {
                file: topo.source.clone(),
                location: topo.subnet_location,
                subnet: c,
                network: network.clone(),
                other: *other,
            }),
            None => Ok(c),
        },
        SubnetChoice::Auto => {
            let used: Vec<Ipv4Cidr> = in_use.iter().map(|(_, c)| *c).collect();
            plan::pick_subnet(&used).ok_or(LabError::NoFreeSubnet)
        }
    }
}

/// Checks whether the lab already exists: `Some(rows)` when it is up with the same topology.
async fn existing<R: Runtime>(
    rt: &R,
    name: &str,
    hash: &str,
    expected_nodes: usize,
) -> Result<Option<Vec<LabObject>>, LabError> {
    let objs = rt
        .list(Some(name))
        .await
        .map_err(rt_err("listing lab objects"))?;
    if objs.is_empty() {
        return Ok(None);
    }
    let hashes: BTreeSet<&str> = objs.iter().map(|o| o.label(LABEL_TOPOLOGY)).collect();
    if hashes.len() != 1 || !hashes.contains(hash) {
        return Err(LabError::Exists {
            lab: name.into(),
            have: hashes.into_iter().collect::<Vec<_>>().join(","),
            want: hash.into(),
        });
    }
    let containers: Vec<&LabObject> = objs
        .iter()
        .filter(|o| o.kind == ObjectKind::Container)
        .collect();
    let running = containers.iter().filter(|o| o.state == "running").count();
    if containers.len() != expected_nodes || running != expected_nodes {
        return Err(LabError::Unhealthy {
            lab: name.into(),
            why: format!(
                "{running} of {expected_nodes} node containers running ({} exist)",
                containers.len()
            ),
        });
    }
    Ok(Some(objs))
}

/// Builds the node list from a lab's objects.
pub fn node_list(lab: &str, objects: &[LabObject]) -> Result<NodeList, LabError> {
    let mut nodes = Vec::new();
    for r in node_rows(objects) {
        if r.agent.is_empty() {
            return Err(LabError::NoAgentPort { node: r.name });
        }
        let role = if r.role == "server" {
            Role::Server
        } else {
            Role::Client
        };
        nodes.push(NodeEntry {
            host: r.name.clone(),
            name: r.name,
            role,
            agent: r.agent,
            brick_root: (role == Role::Server).then(|| plan::BRICK_ROOT.to_string()),
            ssh: None,
            // Labels this build does not know (another gflab's) offer nothing it can use.
            capabilities: r
                .capabilities
                .iter()
                .filter_map(|c| c.parse().ok())
                .collect(),
        });
    }
    Ok(NodeList {
        lab: lab.to_string(),
        secret_file: PathBuf::from(state::SECRET),
        nodes,
    })
}

/// Brings a lab up. `interrupt` resolving (Ctrl-C) aborts and tears down.
pub async fn up<R: Runtime>(
    rt: &R,
    req: &UpRequest,
    progress: &Progress,
    interrupt: impl Future<Output = ()>,
) -> Result<UpOutcome, LabError> {
    let topo = &req.topology;
    let name = req.name.as_str();
    let hash = topo.hash();
    let expected = (topo.servers.count + topo.clients) as usize;
    if let Some(objs) = existing(rt, name, &hash, expected).await? {
        let path = state::node_list_path(name)?;
        if !path.is_file() {
            // The secret is only in the state directory and the nodes: without it, no list.
            let secret = state::read_secret(name).map_err(|_| LabError::Unhealthy {
                lab: name.into(),
                why: "its state directory (secret) is gone".into(),
            })?;
            state::write(name, &node_list(name, &objs)?, &secret)?;
        }
        return Ok(UpOutcome {
            already_up: true,
            nodes: node_rows(&objs),
            node_list: path,
            subnet: None,
        });
    }
    // Checks a fixed subnet (and that a plan can be made) before anything is created.
    let first = resolve_subnet(rt, topo).await?;
    plan::plan(topo, name, first, &req.images)?;
    let secret = Secret::generate();
    let files = [
        FileUpload {
            path: AGENT_PATH.into(),
            data: req.agent_binary.clone(),
            mode: 0o755,
        },
        FileUpload {
            path: SECRET_PATH.into(),
            data: secret.expose().to_vec(),
            mode: 0o600,
        },
    ];
    let work = async {
        let plan = create_network(rt, req, first, progress).await?;
        let subnet = plan.network.subnet;
        provision(rt, &plan, &files, progress).await?;
        let objs = rt
            .list(Some(name))
            .await
            .map_err(rt_err("listing lab objects"))?;
        let list = node_list(name, &objs)?;
        let clients = wait_ready(&plan, &list, &secret, req.deadlines, progress).await?;
        crate::vm::setup_container_bricks(&plan, &clients).await?;
        if plan.pool {
            form_pool(&clients, req.deadlines.pool, progress).await?;
        }
        let path = state::write(name, &list, &secret)?;
        Ok(UpOutcome {
            already_up: false,
            nodes: node_rows(&objs),
            node_list: path,
            subnet: Some(subnet),
        })
    };
    run_guarded(rt, name, req.keep_on_failure, progress, work, interrupt).await
}

/// The plan for `subnet`, with each node's IP as a label.
fn plan_for(req: &UpRequest, subnet: Ipv4Cidr) -> Result<Plan, LabError> {
    let mut plan = plan::plan(&req.topology, &req.name, subnet, &req.images)?;
    for n in &mut plan.nodes {
        n.container.labels.insert(LABEL_IP.into(), n.ip.to_string());
    }
    Ok(plan)
}

/// Creates the lab network and returns the plan on it. With `subnet = "auto"`, a lab started at
/// the same moment may take the subnet first: then the next free one is picked.
async fn create_network<R: Runtime>(
    rt: &R,
    req: &UpRequest,
    first: Ipv4Cidr,
    progress: &Progress,
) -> Result<Plan, LabError> {
    let mut subnet = first;
    let mut tried = Vec::new();
    loop {
        let plan = plan_for(req, subnet)?;
        let step = progress.step(format!(
            "creating network {} ({})",
            plan.network.name, plan.network.subnet
        ));
        match rt.create_network(&plan.network).await {
            Ok(()) => {
                step.done("created");
                return Ok(plan);
            }
            Err(e) if req.topology.subnet == SubnetChoice::Auto && tried.len() < 8 => {
                step.done(&format!("taken, trying another ({e})"));
                tried.push(subnet);
                let mut used: Vec<Ipv4Cidr> = rt
                    .subnets()
                    .await
                    .map_err(rt_err("listing networks"))?
                    .into_iter()
                    .map(|(_, c)| c)
                    .collect();
                used.extend(&tried);
                subnet = plan::pick_subnet(&used).ok_or(LabError::NoFreeSubnet)?;
            }
            Err(e) => return Err(rt_err("creating the network")(e)),
        }
    }
}

/// Creates the volumes and the containers (agent injected), then starts them.
pub async fn provision<R: Runtime>(
    rt: &R,
    plan: &Plan,
    files: &[FileUpload],
    progress: &Progress,
) -> Result<(), LabError> {
    let step = progress.step(format!("creating {} volumes", plan.volumes.len()));
    try_join_all(plan.volumes.iter().map(|v| rt.create_volume(v)))
        .await
        .map_err(rt_err("creating volumes"))?;
    step.done("created");

    let step = progress.step(format!(
        "creating {} containers with the agent",
        plan.nodes.len()
    ));
    try_join_all(plan.nodes.iter().map(|n| async move {
        let all: Vec<FileUpload> = files.iter().chain(&n.files).cloned().collect();
        rt.create_container(&n.container, &all).await
    }))
    .await
    .map_err(rt_err("creating containers"))?;
    step.done("created");

    let step = progress.step(format!("starting {} nodes", plan.nodes.len()));
    try_join_all(
        plan.nodes
            .iter()
            .map(|n| rt.start_container(&n.container.name)),
    )
    .await
    .map_err(rt_err("starting nodes"))?;
    step.done("started");
    Ok(())
}

/// A connected node.
#[derive(Debug, Clone)]
pub struct ReadyNode {
    /// Node name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Its agent.
    pub client: Client,
}

fn short_opts() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(2),
        max_reconnect_attempts: 3,
        initial_backoff: Duration::from_millis(50),
    }
}

/// Waits for one node's agent to answer a ping.
async fn wait_agent(
    node: &NodeEntry,
    secret: &Secret,
    deadline: Duration,
) -> Result<Client, LabError> {
    let start = Instant::now();
    let mut last = String::from("no attempt");
    while start.elapsed() < deadline {
        match Client::connect(&node.agent, secret.clone(), short_opts()).await {
            Ok(c) => match c.ping().await {
                Ok(info) => {
                    tracing::debug!(node = %node.name, agent = %node.agent, version = %info.agent_version, elapsed_ms = start.elapsed().as_millis() as u64, "agent answered");
                    return Ok(c);
                }
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(LabError::Timeout {
        node: node.name.clone(),
        what: WaitFor::AgentPing,
        secs: deadline.as_secs(),
        last,
    })
}

/// Runs a command through an agent; returns stdout, or the failure as data.
async fn run(
    node: &ReadyNode,
    cmd: Command,
    what: &str,
) -> Result<Result<String, String>, LabError> {
    let line = cmd.display();
    let out = node
        .client
        .exec(cmd.timeout(Duration::from_secs(30)))
        .await
        .map_err(|source| LabError::Agent {
            what: format!("run `{line}` ({what})"),
            node: node.name.clone(),
            source,
        })?;
    if out.success() {
        Ok(Ok(out.stdout_str()))
    } else {
        Ok(Err(format!(
            "`{line}` exited with {:?}: {}{}",
            out.status,
            out.stdout_str().trim(),
            out.stderr_str().trim()
        )))
    }
}

/// Waits for one server's glusterd to answer.
async fn wait_glusterd(node: &ReadyNode, deadline: Duration) -> Result<(), LabError> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < deadline {
        let cmd = Command::new("gluster").args(["--mode=script", "pool", "list"]);
        match run(node, cmd, "check glusterd").await? {
            Ok(_) => {
                tracing::debug!(node = %node.name, elapsed_ms = start.elapsed().as_millis() as u64, "glusterd answered");
                return Ok(());
            }
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(LabError::Timeout {
        node: node.name.clone(),
        what: WaitFor::Glusterd,
        secs: deadline.as_secs(),
        last,
    })
}

/// Waits, node by node in parallel, for each [`WaitFor`] in order.
pub async fn wait_ready(
    plan: &Plan,
    list: &NodeList,
    secret: &Secret,
    deadlines: Deadlines,
    progress: &Progress,
) -> Result<Vec<ReadyNode>, LabError> {
    let step = progress.step(format!(
        "waiting for {} agents and glusterd",
        list.nodes.len()
    ));
    let waits = list.nodes.iter().map(|n| async move {
        let node_plan: Option<&NodePlan> = plan.nodes.iter().find(|p| p.name == n.name);
        let role = node_plan.map_or(n.role, |p| p.role);
        let mut ready = None;
        let order: &[WaitFor] = match role {
            Role::Server => &[WaitFor::AgentPing, WaitFor::Glusterd],
            Role::Client => &[WaitFor::AgentPing],
        };
        for w in order {
            match w {
                WaitFor::AgentPing => {
                    let client = wait_agent(n, secret, deadlines.agent).await?;
                    ready = Some(ReadyNode {
                        name: n.name.clone(),
                        role,
                        client,
                    });
                }
                WaitFor::Glusterd => {
                    if let Some(r) = &ready {
                        wait_glusterd(r, deadlines.glusterd).await?;
                    }
                }
            }
        }
        ready.ok_or_else(|| LabError::NoAgentPort {
            node: n.name.clone(),
        })
    });
    let nodes = try_join_all(waits).await?;
    step.done("ready");
    Ok(nodes)
}

/// One peer as `gluster --xml peer status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its hostname.
    pub hostname: String,
    /// `connected` = 1.
    pub connected: bool,
    /// `Peer in Cluster`, ...
    pub state: String,
}

fn xml_field(block: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = block.find(&open)? + open.len();
    let end = block[start..].find(&close)? + start;
    Some(block[start..end].trim().to_string())
}

/// Parses `gluster --xml peer status` output.
pub fn parse_peer_status(xml: &str) -> Vec<Peer> {
    xml.split("<peer>")
        .skip(1)
        .map(|b| b.split("</peer>").next().unwrap_or(""))
        .map(|b| Peer {
            hostname: xml_field(b, "hostname").unwrap_or_default(),
            connected: xml_field(b, "connected").as_deref() == Some("1"),
            state: xml_field(b, "stateStr").unwrap_or_default(),
        })
        .collect()
}

/// Forms the trusted pool from the first server and waits until every server sees every other
/// as "Peer in Cluster (Connected)".
pub async fn form_pool(
    nodes: &[ReadyNode],
    deadline: Duration,
    progress: &Progress,
) -> Result<(), LabError> {
    let servers: Vec<&ReadyNode> = nodes.iter().filter(|n| n.role == Role::Server).collect();
    if servers.len() < 2 {
        return Ok(());
    }
    let step = progress.step(format!(
        "forming the trusted pool of {} servers",
        servers.len()
    ));
    let start = Instant::now();
    let first = servers[0];
    // server1 probes every other server; then server2 probes server1 back by name, so peers know
    // server1 as "server1" (not by the reverse DNS name of its address).
    let probes = servers[1..]
        .iter()
        .map(|other| (first, *other))
        .chain(std::iter::once((servers[1], first)));
    for (from, to) in probes {
        let mut last;
        loop {
            let cmd = Command::new("gluster").args(["--mode=script", "peer", "probe", &to.name]);
            match run(from, cmd, &format!("probe {}", to.name)).await? {
                Ok(_) => break,
                Err(e) => last = e,
            }
            if start.elapsed() > deadline {
                return Err(LabError::Pool {
                    secs: deadline.as_secs(),
                    last,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let want = servers.len() - 1;
    loop {
        let checks = servers.iter().map(|s| async move {
            let cmd = Command::new("gluster").args(["--mode=script", "--xml", "peer", "status"]);
            let out = run(s, cmd, "check peer status").await?;
            Ok::<_, LabError>(match out {
                Ok(xml) => {
                    let peers = parse_peer_status(&xml);
                    let good = peers
                        .iter()
                        .filter(|p| p.connected && p.state == "Peer in Cluster")
                        .count();
                    if good == want {
                        None
                    } else {
                        Some(format!(
                            "{} sees {good} of {want} peers in cluster and connected: {peers:?}",
                            s.name
                        ))
                    }
                }
                Err(e) => Some(format!("{}: {e}", s.name)),
            })
        });
        let problems: Vec<String> = try_join_all(checks).await?.into_iter().flatten().collect();
        if problems.is_empty() {
            step.done("every peer in cluster and connected");
            return Ok(());
        }
        if start.elapsed() > deadline {
            return Err(LabError::Pool {
                secs: deadline.as_secs(),
                last: problems.join("; "),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The published agent endpoint of each node of a lab, in node order.
pub fn endpoints(objects: &[LabObject]) -> Vec<(String, Option<SocketAddr>)> {
    node_rows(objects)
        .into_iter()
        .map(|r| (r.name, r.agent.parse().ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fake::FakeRuntime;
    use std::path::Path;

    fn request(name: &str) -> UpRequest {
        let text =
            format!("version = 1\nname = \"{name}\"\n[servers]\ncount = 2\n[clients]\ncount = 1\n");
        UpRequest {
            topology: Topology::parse(&text, Path::new("t.toml")).expect("topology"),
            name: name.into(),
            images: ImageTags {
                server: "s".into(),
                client: "c".into(),
            },
            agent_binary: b"agent".to_vec(),
            keep_on_failure: false,
            deadlines: Deadlines {
                agent: Duration::from_millis(300),
                glusterd: Duration::from_millis(300),
                pool: Duration::from_millis(300),
            },
        }
    }

    fn never() -> impl Future<Output = ()> {
        std::future::pending()
    }

    #[tokio::test]
    async fn failing_step_tears_everything_down() {
        for failing in [
            "create-volume gflab-t-lab-f-server2-bricks",
            "create-container gflab-t-lab-f-client1",
            "upload gflab-t-lab-f-server2:/etc/gflab/secret",
            "start-container gflab-t-lab-f-server1",
        ] {
            let rt = FakeRuntime::new().fail_on(failing);
            let err = up(&rt, &request("t-lab-f"), &Progress::silent(), never())
                .await
                .expect_err("must fail");
            assert!(
                err.to_string().contains(
                    failing
                        .split(' ')
                        .nth(1)
                        .unwrap_or("")
                        .split(':')
                        .next()
                        .unwrap_or("")
                ),
                "error names the object: {err}"
            );
            assert!(
                rt.objects().is_empty(),
                "{failing}: left {:?}",
                rt.objects()
            );
            assert!(
                rt.calls().iter().any(|c| c.starts_with("remove-")),
                "{failing}"
            );
        }
    }

    #[tokio::test]
    async fn agents_not_answering_tears_down_unless_kept() {
        // The fake publishes ports nobody listens on: readiness fails after its deadline.
        let rt = FakeRuntime::new();
        let err = up(&rt, &request("t-lab-g"), &Progress::silent(), never())
            .await
            .expect_err("no agents");
        assert!(
            matches!(
                err,
                LabError::Timeout {
                    what: WaitFor::AgentPing,
                    ..
                }
            ),
            "{err}"
        );
        assert!(rt.objects().is_empty());

        let rt = FakeRuntime::new();
        let mut req = request("t-lab-g");
        req.keep_on_failure = true;
        up(&rt, &req, &Progress::silent(), never())
            .await
            .expect_err("no agents");
        // network + 2*3 + 1 volumes + 3 containers.
        assert_eq!(rt.objects().len(), 1 + 7 + 3);
    }

    #[tokio::test]
    async fn interrupt_tears_down() {
        let rt = FakeRuntime::new();
        let err = up(&rt, &request("t-lab-i"), &Progress::silent(), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
        })
        .await
        .expect_err("interrupted");
        assert!(matches!(err, LabError::Interrupted), "{err}");
        assert!(rt.objects().is_empty());
    }

    #[tokio::test]
    async fn steps_run_in_order_and_other_labs_stay() {
        let rt = FakeRuntime::new();
        // Another lab's objects.
        let mut other = request("t-lab-other");
        other.keep_on_failure = true;
        let _ = up(&rt, &other, &Progress::silent(), never()).await;
        let before = rt.objects().len();
        let _ = up(&rt, &request("t-lab-o"), &Progress::silent(), never()).await;
        let calls = rt.calls();
        let pos = |p: &str| calls.iter().position(|c| c.starts_with(p)).expect(p);
        assert!(pos("create-network gflab-t-lab-o") < pos("create-volume gflab-t-lab-o"));
        assert!(pos("create-volume gflab-t-lab-o") < pos("create-container gflab-t-lab-o"));
        assert!(pos("upload gflab-t-lab-o") < pos("start-container gflab-t-lab-o"));
        assert_eq!(rt.objects().len(), before, "the other lab is untouched");
        // The two labs got different subnets.
        let subnets = rt.subnets().await.expect("subnets");
        assert_eq!(subnets.len(), 1);
        assert_eq!(subnets[0].1.to_string(), "10.210.0.0/24");
    }

    #[tokio::test]
    async fn subnet_overlap_is_located_and_creates_nothing() {
        let rt = FakeRuntime::new().with_network("bridge", "10.231.0.0/16".parse().expect("cidr"));
        let text =
            "version = 1\nname = \"t-lab-s\"\nsubnet = \"10.231.7.0/24\"\n[servers]\ncount = 1\n";
        let mut req = request("t-lab-s");
        req.topology = Topology::parse(text, Path::new("s.toml")).expect("topology");
        let err = up(&rt, &req, &Progress::silent(), never())
            .await
            .expect_err("overlap");
        let msg = err.to_string();
        assert!(
            msg.starts_with("s.toml:3:10: subnet 10.231.7.0/24 overlaps Docker network bridge"),
            "{msg}"
        );
        assert!(
            rt.calls().iter().all(|c| !c.starts_with("create")),
            "{:?}",
            rt.calls()
        );
    }

    #[tokio::test]
    async fn same_name_different_topology_is_refused() {
        let rt = FakeRuntime::new();
        let mut a = request("t-lab-d");
        a.keep_on_failure = true;
        let _ = up(&rt, &a, &Progress::silent(), never()).await;
        let mut b = request("t-lab-d");
        b.topology.clients = 2;
        let n = rt.calls().len();
        let err = up(&rt, &b, &Progress::silent(), never())
            .await
            .expect_err("exists");
        assert!(matches!(err, LabError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("hint: gflab down t-lab-d"));
        assert_eq!(
            rt.calls()[n..]
                .iter()
                .filter(|c| !c.starts_with("list"))
                .count(),
            0
        );
    }

    #[test]
    fn peer_status_xml_is_parsed() {
        let xml = r#"<?xml version="1.0"?><cliOutput><opRet>0</opRet><peerStatus>
<peer><uuid>a</uuid><hostname>server2</hostname><hostnames><hostname>server2</hostname></hostnames>
<connected>1</connected><state>3</state><stateStr>Peer in Cluster</stateStr></peer>
<peer><uuid>b</uuid><hostname>server3</hostname><connected>0</connected><state>3</state>
<stateStr>Peer in Cluster</stateStr></peer></peerStatus></cliOutput>"#;
        let peers = parse_peer_status(xml);
        assert_eq!(
            peers,
            vec![
                Peer {
                    hostname: "server2".into(),
                    connected: true,
                    state: "Peer in Cluster".into()
                },
                Peer {
                    hostname: "server3".into(),
                    connected: false,
                    state: "Peer in Cluster".into()
                }
            ]
        );
        assert!(parse_peer_status("<cliOutput><peerStatus/></cliOutput>").is_empty());
    }
}
