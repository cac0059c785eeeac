//! The lab lifecycle over the engine: [`up`] (facts → plan → images → network → volumes →
//! containers with the agent injected → start → each node's steps after start → trusted pool →
//! node list) and [`down`] (each kind's steps before removal, then every object by label).
//!
//! `up` is one library call: the CLI parses, probes the host, calls it and prints. Its work after
//! start is data from the plan (`NodePlan::after_start`), carried out by `crate::control`. It
//! runs under [`run_guarded`]: an error or an interrupt tears down everything the lab owns (the
//! same code path as `down`) unless the caller keeps it.
use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures::future::{join_all, try_join_all};
use gflab_agent::{NodeEntry, NodeList, Role, Secret};
use gflab_tests::{Ctx, CtxConfig, TestError};

use crate::control::{self, published_agent, ControlError, Target};
use crate::facts::HostFacts;
use crate::images::{self, ImageError};
use crate::kind::{self, Deadlines};
use crate::node::{capabilities_of, BRICK_ROOT, LABEL_IP};
use crate::plan::{self, Plan, PlanError, PlanInput};
use crate::progress::Progress;
use crate::runtime::{
    FileUpload, ImageStore, LabObject, ObjectKind, Runtime, RuntimeError, LABEL_NODE, LABEL_ROLE,
    LABEL_TOPOLOGY,
};
use crate::state::{self, StateError};
use crate::topology::{Ipv4Cidr, Location, SubnetChoice, Topology};

/// Everything the lifecycle can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Building the topology's GlusterFS source failed.
    #[error(transparent)]
    Build(#[from] Box<crate::build::BuildError>),
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
    /// The images could not be built.
    #[error(transparent)]
    Images(#[from] ImageError),
    /// A node's step after start failed (readiness, thin-LVM bricks).
    #[error(transparent)]
    Node(Box<ControlError>),
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
    #[error("{}:{}:{}: subnet {subnet} overlaps {network} ({other})\nhint: choose another subnet or subnet = \"auto\"", .file.display(), .location.line, .location.column)]
    SubnetOverlap {
        /// Topology file.
        file: PathBuf,
        /// Where `subnet` is written.
        location: Location,
        /// The subnet asked for.
        subnet: Ipv4Cidr,
        /// What uses it (`Docker network bridge`, `the host's route on br-1`).
        network: String,
        /// That network's subnet.
        other: Ipv4Cidr,
    },
    /// `auto` found nothing free.
    #[error("failed to pick a free subnet: every /24 from {} upward overlaps an existing network\nhint: remove unused Docker networks or set subnet in the topology", plan::AUTO_SUBNET_BASE)]
    NoFreeSubnet,
    /// The trusted pool did not form.
    #[error("failed to form the trusted pool: {source}")]
    Pool {
        /// What the GlusterFS library saw.
        source: Box<TestError>,
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
    /// A signal asked to stop.
    #[error("interrupted")]
    Interrupted,
    /// Teardown left objects behind.
    #[error("failed to remove everything of lab {lab}: {}", .errors.join("; "))]
    Teardown {
        /// Lab.
        lab: String,
        /// Each failure.
        errors: Vec<String>,
    },
}

impl From<ControlError> for LabError {
    fn from(e: ControlError) -> Self {
        LabError::Node(Box::new(e))
    }
}

fn rt_err(step: &'static str) -> impl Fn(RuntimeError) -> LabError {
    move |source| LabError::Runtime { step, source }
}

/// What `up` needs besides the engine and the host facts.
#[derive(Debug, Clone)]
pub struct UpRequest {
    /// The validated topology.
    pub topology: Topology,
    /// Lab name (the topology's, or `--name`).
    pub name: String,
    /// The static agent binary injected into every node.
    pub agent_binary: Vec<u8>,
    /// Keep what was created when `up` fails or is interrupted.
    pub keep_on_failure: bool,
    /// Wait deadlines.
    pub deadlines: Deadlines,
}

/// One row of the node table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeRow {
    /// Node name.
    pub name: String,
    /// Server or client.
    pub role: Role,
    /// Address on the lab network.
    pub ip: String,
    /// Where the agent is reached from the host.
    pub agent: String,
    /// Container state (`running`, ...).
    pub state: String,
    /// Capabilities the node offers (`thin-lvm`), from its labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<gflab_agent::Capability>,
    /// The GlusterFS it runs (`10.3 packaged`, `10.3 source 0123456789ab`), asked of its agent by
    /// `gflab status`; empty when not asked.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub glusterfs: String,
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

/// A node's role from its labels (containers of a lab carry one).
fn role_of(obj: &LabObject) -> Role {
    if obj.label(LABEL_ROLE) == "server" {
        Role::Server
    } else {
        Role::Client
    }
}

/// The node rows of a lab's objects (containers only), in plan order (servers, then clients).
pub fn node_rows(objects: &[LabObject]) -> Vec<NodeRow> {
    let mut rows: Vec<NodeRow> = objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Container)
        .map(|o| NodeRow {
            name: o.label(LABEL_NODE).to_string(),
            role: role_of(o),
            ip: o.label(LABEL_IP).to_string(),
            agent: published_agent(o).unwrap_or_default(),
            state: o.state.clone(),
            capabilities: capabilities_of(&o.labels),
            glusterfs: String::new(),
        })
        .collect();
    rows.sort_by_key(|r| {
        let digits: String = r.name.chars().filter(char::is_ascii_digit).collect();
        (
            r.role != Role::Server,
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

/// Runs each container's steps before removal (its kind's `before_remove`, e.g. removing thin
/// pools that live in the host kernel). Returns one line per failure.
async fn before_removal<R: Runtime>(rt: &R, lab: &str, objects: &[LabObject]) -> Vec<String> {
    let work: Vec<(&LabObject, Vec<crate::node::NodeStep>)> = objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Container)
        .map(|o| (o, kind::of_labels(&o.labels).before_remove(&o.labels)))
        .filter(|(_, steps)| !steps.is_empty())
        .collect();
    if work.is_empty() {
        return Vec::new();
    }
    let secret = match state::read_secret(lab) {
        Ok(s) => s,
        Err(e) => {
            return vec![format!(
                "failed to run the steps before removal of lab {lab}'s nodes: {e}"
            )]
        }
    };
    join_all(work.into_iter().map(|(o, steps)| {
        let secret = &secret;
        async move {
            let node = o.label(LABEL_NODE);
            let mut target = Target::new(
                node,
                role_of(o),
                Some(lab),
                &published_agent(o).unwrap_or_default(),
            );
            control::run_steps(Some(rt), secret, &mut target, &steps)
                .await
                .err()
                .map(|e| e.to_string())
        }
    }))
    .await
    .into_iter()
    .flatten()
    .collect()
}

/// Removes every object labeled with `lab`: containers, then networks, then volumes.
/// Returns how many objects were removed.
pub async fn destroy<R: Runtime>(rt: &R, lab: &str) -> Result<usize, LabError> {
    let mut removed = 0;
    let mut errors = Vec::new();
    let objs = rt
        .list(Some(lab))
        .await
        .map_err(rt_err("listing lab objects"))?;
    let before_errors = before_removal(rt, lab, &objs).await;
    // A create that was in flight when `up` was interrupted may land late: look again.
    for _round in 0..3 {
        let objs = rt
            .list(Some(lab))
            .await
            .map_err(rt_err("listing lab objects"))?;
        if objs.is_empty() {
            if before_errors.is_empty() {
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
    errors.extend(before_errors);
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

/// Checks whether the lab already exists: `Some(objects)` when it is up with the same topology.
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
        nodes.push(NodeEntry {
            host: r.name.clone(),
            brick_root: (r.role == Role::Server).then(|| BRICK_ROOT.to_string()),
            name: r.name,
            role: r.role,
            agent: r.agent,
            ssh: None,
            capabilities: r.capabilities,
            glusterfs: None,
        });
    }
    Ok(NodeList {
        lab: lab.to_string(),
        secret_file: PathBuf::from(state::SECRET),
        nodes,
    })
}

pub use crate::node::node_files;

/// Brings a lab up on a host with `facts`. `interrupt` resolving (a signal) aborts and tears
/// down; before anything is created (while images build) it just stops.
pub async fn up<E: Runtime + ImageStore>(
    engine: &E,
    req: &UpRequest,
    facts: &HostFacts,
    progress: &Progress,
    interrupt: impl Future<Output = ()>,
) -> Result<UpOutcome, LabError> {
    tokio::pin!(interrupt);
    let topo = &req.topology;
    let name = req.name.as_str();
    let hash = topo.hash();
    let expected = (topo.servers.count + topo.clients) as usize;
    if let Some(objs) = existing(engine, name, &hash, expected).await? {
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
    // The subnet and the plan are checked before anything is created.
    let subnet = resolve_subnet(engine, topo).await?;
    let input = |subnet| PlanInput {
        lab: name,
        subnet,
        facts,
        deadlines: req.deadlines,
    };
    let first = plan::plan(topo, &input(subnet))?;
    for note in &first.notes {
        progress.note(note);
    }
    // A signal that has arrived wins over work that is ready too: nothing is created after it.
    tokio::select! {
        biased;
        () = &mut interrupt => return Err(LabError::Interrupted),
        r = images::ensure(engine, &first.images, progress) => { r?; }
    }
    for need in &first.images {
        if let images::Need::Build(src) = need {
            tokio::select! {
                biased;
                () = &mut interrupt => {
                    let _ = crate::build::remove_builder(engine, src, topo.release).await;
                    return Err(LabError::Interrupted);
                }
                r = crate::build::ensure_images(
                    engine, src, topo.release, &req.agent_binary, progress
                ) => { r.map_err(Box::new)?; }
            }
        }
    }
    let secret = Secret::generate();
    let files = node_files(&req.agent_binary, &secret);
    let work = async {
        let plan = create_network(
            engine,
            req,
            first,
            |s| plan::plan(topo, &input(s)),
            progress,
        )
        .await?;
        provision(engine, &plan, &files, progress).await?;
        let objs = engine
            .list(Some(name))
            .await
            .map_err(rt_err("listing lab objects"))?;
        let list = node_list(name, &objs)?;
        let ready = after_start(engine, &plan, &list, &secret, progress).await?;
        if let Some(deadline) = plan.pool {
            form_pool(ready, deadline, progress).await?;
        }
        let mut list = list;
        if topo.glusterfs_src.is_some() {
            crate::reload::record_builds(&mut list, &secret).await;
        }
        let path = state::write(name, &list, &secret)?;
        state::save_topology(name, topo)?;
        Ok(UpOutcome {
            already_up: false,
            nodes: node_rows(&objs),
            node_list: path,
            subnet: Some(plan.network.subnet),
        })
    };
    run_guarded(engine, name, req.keep_on_failure, progress, work, interrupt).await
}

/// Creates the lab network and returns the plan on it. With `subnet = "auto"`, a lab started at
/// the same moment may take the subnet first: then the next free one is picked and the lab is
/// planned again on it.
async fn create_network<R: Runtime>(
    rt: &R,
    req: &UpRequest,
    first: Plan,
    replan: impl Fn(Ipv4Cidr) -> Result<Plan, PlanError>,
    progress: &Progress,
) -> Result<Plan, LabError> {
    let mut plan = first;
    let mut tried = Vec::new();
    loop {
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
                tried.push(plan.network.subnet);
                let mut used: Vec<Ipv4Cidr> = rt
                    .subnets()
                    .await
                    .map_err(rt_err("listing networks"))?
                    .into_iter()
                    .map(|(_, c)| c)
                    .collect();
                used.extend(&tried);
                plan = replan(plan::pick_subnet(&used).ok_or(LabError::NoFreeSubnet)?)?;
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
            .map(|n| rt.control(&n.container.name, crate::runtime::ContainerOp::Start)),
    )
    .await
    .map_err(rt_err("starting nodes"))?;
    step.done("started");
    Ok(())
}

/// Runs every node's steps after start, nodes in parallel; returns each node ready, with its
/// connected agent, in node-list order.
async fn after_start<R: Runtime>(
    rt: &R,
    plan: &Plan,
    list: &NodeList,
    secret: &Secret,
    progress: &Progress,
) -> Result<Vec<gflab_tests::Node>, LabError> {
    let step = progress.step(format!(
        "waiting for {} agents and glusterd",
        list.nodes.len()
    ));
    let work = list.nodes.iter().map(|entry| async move {
        let steps = plan
            .nodes
            .iter()
            .find(|p| p.name == entry.name)
            .map(|p| p.after_start.as_slice())
            .unwrap_or_default();
        let mut target = Target::new(&entry.name, entry.role, Some(&plan.lab), &entry.agent);
        control::run_steps(Some(rt), secret, &mut target, steps).await?;
        let client = match target.client {
            Some(c) => c,
            None => {
                gflab_agent::Client::connect(&target.agent, secret.clone(), control::wait_options())
                    .await
                    .map_err(|source| ControlError::Agent {
                        what: "connect to the agent".into(),
                        node: entry.name.clone(),
                        source,
                    })?
            }
        };
        Ok::<_, LabError>(gflab_tests::Node {
            entry: entry.clone(),
            client,
        })
    });
    let nodes = try_join_all(work).await?;
    step.done("ready");
    Ok(nodes)
}

/// Forms the trusted pool with the same GlusterFS library the tests use, and waits until every
/// server sees every other connected.
async fn form_pool(
    nodes: Vec<gflab_tests::Node>,
    deadline: Duration,
    progress: &Progress,
) -> Result<(), LabError> {
    let servers = nodes.iter().filter(|n| n.is_server()).count();
    let step = progress.step(format!("forming the trusted pool of {servers} servers"));
    let ctx = Ctx::new(CtxConfig {
        id: 0,
        name: "form the trusted pool".into(),
        run_token: "up".into(),
        nodes,
        control: None,
        volume_type: None,
    });
    gflab_tests::gluster::peer::ensure_pool(&ctx, deadline)
        .await
        .map_err(|source| LabError::Pool {
            source: Box::new(source),
        })?;
    step.done("every peer in cluster and connected");
    Ok(())
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
            agent_binary: b"agent".to_vec(),
            keep_on_failure: false,
            deadlines: Deadlines {
                agent: Duration::from_millis(300),
                boot: Duration::from_millis(300),
                reboot: Duration::from_millis(300),
                glusterd: Duration::from_millis(300),
                pool: Duration::from_millis(300),
            },
        }
    }

    fn facts() -> HostFacts {
        HostFacts {
            accel: crate::facts::Accel::Auto,
            kvm: false,
            dm_thin: false,
            engine: crate::runtime::EngineInfo {
                product: "Fake Engine".into(),
                version: "0".into(),
                api: "1.41".into(),
                ..crate::runtime::EngineInfo::default()
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
            let err = up(
                &rt,
                &request("t-lab-f"),
                &facts(),
                &Progress::silent(),
                never(),
            )
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
        let err = up(
            &rt,
            &request("t-lab-g"),
            &facts(),
            &Progress::silent(),
            never(),
        )
        .await
        .expect_err("no agents");
        assert!(
            matches!(
                err,
                LabError::Node(ref e) if matches!(**e, ControlError::Timeout {
                    what: crate::node::WaitFor::AgentPing,
                    ..
                })
            ),
            "{err}"
        );
        assert!(rt.objects().is_empty());

        let rt = FakeRuntime::new();
        let mut req = request("t-lab-g");
        req.keep_on_failure = true;
        up(&rt, &req, &facts(), &Progress::silent(), never())
            .await
            .expect_err("no agents");
        // network + 2*3 + 1 volumes + 3 containers.
        assert_eq!(rt.objects().len(), 1 + 7 + 3);
    }

    #[tokio::test]
    async fn interrupt_tears_down() {
        let rt = FakeRuntime::new();
        let err = up(
            &rt,
            &request("t-lab-i"),
            &facts(),
            &Progress::silent(),
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
            },
        )
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
        let _ = up(&rt, &other, &facts(), &Progress::silent(), never()).await;
        let before = rt.objects().len();
        let _ = up(
            &rt,
            &request("t-lab-o"),
            &facts(),
            &Progress::silent(),
            never(),
        )
        .await;
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
        let err = up(&rt, &req, &facts(), &Progress::silent(), never())
            .await
            .expect_err("overlap");
        let msg = err.to_string();
        assert!(
            msg.starts_with("s.toml:3:10: subnet 10.231.7.0/24 overlaps network bridge"),
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
        let _ = up(&rt, &a, &facts(), &Progress::silent(), never()).await;
        let mut b = request("t-lab-d");
        b.topology.clients = 2;
        let n = rt.calls().len();
        let err = up(&rt, &b, &facts(), &Progress::silent(), never())
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

    #[tokio::test]
    async fn images_are_ensured_before_anything_is_created() {
        let rt = FakeRuntime::new();
        let _ = up(
            &rt,
            &request("t-lab-img"),
            &facts(),
            &Progress::silent(),
            never(),
        )
        .await;
        let calls = rt.calls();
        let last_image = calls
            .iter()
            .rposition(|c| c.starts_with("image-exists"))
            .expect("images checked");
        let first_create = calls
            .iter()
            .position(|c| c.starts_with("create-"))
            .expect("created");
        assert!(last_image < first_create, "{calls:?}");
    }

    #[tokio::test]
    async fn an_interrupt_while_images_build_creates_nothing() {
        let rt = FakeRuntime::new();
        let err = up(
            &rt,
            &request("t-lab-early"),
            &facts(),
            &Progress::silent(),
            async {},
        )
        .await
        .expect_err("interrupted");
        assert!(matches!(err, LabError::Interrupted), "{err}");
        assert!(
            rt.calls().iter().all(|c| !c.starts_with("create-")),
            "{:?}",
            rt.calls()
        );
    }

    #[tokio::test]
    async fn steps_before_removal_without_the_labs_secret_are_reported_not_skipped() {
        let rt = FakeRuntime::new();
        let lab = "t-snap-no-such-lab-0d1e";
        let mut labels = crate::runtime::Labels::from([
            (crate::runtime::LABEL_LAB.to_string(), lab.to_string()),
            (LABEL_NODE.to_string(), "server1".to_string()),
            (
                crate::thin::LABEL_THIN_VG.to_string(),
                "gflab_x_server1".to_string(),
            ),
        ]);
        let spec = |labels: &crate::runtime::Labels| crate::runtime::ContainerSpec {
            name: format!("gflab-{lab}-server1"),
            hostname: "server1".into(),
            image: "i".into(),
            cmd: vec![],
            network: "n".into(),
            ip: std::net::Ipv4Addr::new(10, 0, 0, 2),
            aliases: vec![],
            volumes: vec![],
            tmpfs: vec![],
            cap_add: vec![],
            devices: vec![],
            device_cgroup_rules: vec![],
            publish_tcp: vec![crate::node::AGENT_PORT],
            init: true,
            labels: labels.clone(),
        };
        rt.create_container(&spec(&labels), &[])
            .await
            .expect("create");
        let err = destroy(&rt, lab).await.expect_err("reported");
        assert!(err.to_string().contains(lab), "{err}");
        assert!(rt.objects().is_empty(), "the objects still go");
        // Without a thin pool there is nothing to run before removal, and nothing to report.
        labels.remove(crate::thin::LABEL_THIN_VG);
        rt.create_container(&spec(&labels), &[])
            .await
            .expect("create");
        assert_eq!(destroy(&rt, lab).await.expect("removed"), 1);
    }
}
