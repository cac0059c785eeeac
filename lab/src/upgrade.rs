//! `gflab upgrade LAB --to RELEASE`: GlusterFS's upgrade procedure on a lab, node by node.
//!
//! Rolling (the default): servers one at a time — stop the node's GlusterFS processes, replace its
//! container by one of the new release's image with the same name, address, volumes (glusterd's
//! state, bricks, logs), agent and secret, start it, wait for glusterd, then until its bricks are
//! online and heal has nothing pending — then the clients, whose GlusterFS mounts are made again.
//! Offline (`--offline`): every started volume is stopped, all nodes are replaced at once, the
//! volumes are started again.
//!
//! A node's release is its container's `io.gflab.release` label, so an upgrade that stopped (a
//! signal, a node that did not come back) leaves each node on one release, says which, and the same
//! command finishes the job. A node that does not come back on the new release is put back on its
//! old one. Kernel-VM nodes keep GlusterFS on their VM's disk and are refused.
use std::time::{Duration, Instant};

use gflab_agent::{Command, NodeEntry, Role, Secret};
use gflab_tests::{Ctx, CtxConfig};

use crate::control::{self, Target};
use crate::facts::HostFacts;
use crate::images;
use crate::lab::{node_files, node_list, LabError};
use crate::node::LABEL_RELEASE;
use crate::plan::{self, Plan, PlanInput};
use crate::progress::Progress;
use crate::runtime::ImageStore;
use crate::runtime::{FileUpload, LabObject, ObjectKind, Runtime, LABEL_NODE};
use crate::state;
use crate::topology::{NodeKind, Release, Topology};

/// What to upgrade.
#[derive(Debug, Clone)]
pub struct UpgradeRequest {
    /// The lab.
    pub lab: String,
    /// The release to go to.
    pub to: Release,
    /// Stop every volume and upgrade all nodes at once.
    pub offline: bool,
    /// The agent binary put into the new containers.
    pub agent_binary: Vec<u8>,
    /// How long a node's bricks and heal may take to settle before the next node.
    pub settle: Duration,
    /// Upgrade online even where GlusterFS's upgrade guide does not support it (a started
    /// dispersed or pure distributed volume).
    pub force: bool,
}

/// One node's upgrade.
#[derive(Debug, Clone)]
pub struct NodeUpgrade {
    /// The node.
    pub node: String,
    /// Its release before.
    pub from: String,
    /// Wall time: stop, replace, ready, bricks online and heal done.
    pub duration: Duration,
}

/// What an upgrade did.
#[derive(Debug, Clone, Default)]
pub struct UpgradeOutcome {
    /// Nodes upgraded now, in order.
    pub upgraded: Vec<NodeUpgrade>,
    /// Nodes that were on the release already.
    pub already: Vec<String>,
}

/// Why an upgrade stopped, with each node's release at that moment.
#[derive(Debug)]
pub struct UpgradeError {
    /// What went wrong.
    pub why: String,
    /// `node=release` for every node.
    pub releases: Vec<String>,
    /// What to do next: run the same upgrade again to finish it, or (when it was refused before
    /// any node was touched) what to change.
    pub hint: String,
}

impl std::fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\nnodes now: {}\nhint: {}",
            self.why,
            self.releases.join(", "),
            self.hint
        )
    }
}

impl std::error::Error for UpgradeError {}

/// Why `upgrade_nodes` stopped: a refusal before any node was touched (why, hint), or a failure
/// on the way.
enum Stop {
    Refused(String, String),
    Failed(String),
}

impl From<String> for Stop {
    fn from(why: String) -> Self {
        Stop::Failed(why)
    }
}

/// Volume types GlusterFS's upgrade guide does not support upgrading online ("Online upgrade is
/// only possible with replicated and distributed replicate volumes"): while one server is down, a
/// pure distributed volume loses the files on it, and a dispersed one has every fragment on that
/// server to rebuild under I/O from a cluster of two releases.
fn online_unsupported(type_str: &str) -> bool {
    type_str == "Distribute" || type_str.contains("Disperse")
}

/// Every volume of the cluster with its `volume info`, in `volume list` order.
async fn volumes(ctx: &Ctx) -> Result<Vec<gflab_tests::gluster::volume::VolumeInfo>, String> {
    use gflab_tests::gluster::volume;
    let server = ctx.server(0).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for name in volume::list(ctx, &server)
        .await
        .map_err(|e| e.to_string())?
    {
        out.push(
            volume::info(ctx, &server, &name)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(out)
}

/// The started volumes a rolling upgrade must not take online (`name (type)`).
async fn unsupported_online(ctx: &Ctx) -> Result<Vec<String>, String> {
    Ok(volumes(ctx)
        .await?
        .into_iter()
        .filter(|v| v.status == "Started" && online_unsupported(&v.type_str))
        .map(|v| format!("{} ({})", v.name, v.type_str))
        .collect())
}

/// The release each node container carries (`node=release`), in node order.
fn releases(objs: &[LabObject]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = objs
        .iter()
        .filter(|o| o.kind == ObjectKind::Container)
        .map(|o| {
            (
                o.label(LABEL_NODE).to_string(),
                o.label(LABEL_RELEASE).to_string(),
            )
        })
        .collect();
    v.sort_by_key(|(n, _)| {
        (
            !n.starts_with("server"),
            n.trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .parse::<u32>()
                .unwrap_or(0),
        )
    });
    v
}

/// Plans the lab as its saved topology says, on `release`, on its existing subnet.
async fn plan_on<R: Runtime>(
    rt: &R,
    lab: &str,
    release: Release,
    facts: &HostFacts,
) -> Result<(Topology, Plan), LabError> {
    let mut topo = state::read_topology(lab)?;
    topo.release = release;
    let network = plan::object_prefix(lab);
    let subnet = rt
        .subnets()
        .await
        .map_err(|source| LabError::Runtime {
            step: "listing networks",
            source,
        })?
        .into_iter()
        // Named `<engine> network <name>` (or a host route, never ours).
        .find(|(n, _)| *n == network || n.ends_with(&format!(" network {network}")))
        .map(|(_, s)| s)
        .ok_or_else(|| LabError::Unhealthy {
            lab: lab.into(),
            why: format!("its network {network} is missing"),
        })?;
    let p = plan::plan(
        &topo,
        &PlanInput {
            lab,
            subnet,
            facts,
            deadlines: Default::default(),
        },
    )?;
    Ok((topo, p))
}

/// A lab's nodes connected through the agents, as a context for GlusterFS commands.
async fn context<R: Runtime>(rt: &R, lab: &str, secret: &Secret) -> Result<Ctx, String> {
    let objs = rt.list(Some(lab)).await.map_err(|e| e.to_string())?;
    let list = node_list(lab, &objs).map_err(|e| e.to_string())?;
    let mut nodes = Vec::new();
    for entry in list.nodes {
        let client =
            gflab_agent::Client::connect(&entry.agent, secret.clone(), control::wait_options())
                .await
                .map_err(|e| format!("failed to connect to {}: {e}", entry.name))?;
        nodes.push(gflab_tests::Node { entry, client });
    }
    Ok(Ctx::new(CtxConfig {
        id: 0,
        name: "upgrade".into(),
        run_token: "upgrade".into(),
        nodes,
        control: None,
        volume_type: None,
    }))
}

/// Stops the GlusterFS processes of a node (glusterd first, then bricks, self-heal and mounts).
const STOP_GLUSTER: &str = "pkill -TERM -x glusterd; sleep 1; pkill -TERM -x glusterfsd; \
                            pkill -TERM -x glusterfs; sleep 1; \
                            pkill -KILL -x 'glusterd|glusterfsd|glusterfs'; true";

/// The FUSE GlusterFS mounts of a client: (source, mount point).
async fn gluster_mounts(client: &gflab_agent::Client) -> Result<Vec<(String, String)>, String> {
    let out = client
        .exec(Command::shell(
            "awk '$3 == \"fuse.glusterfs\" { print $1, $2 }' /proc/mounts",
        ))
        .await
        .map_err(|e| e.to_string())?;
    Ok(out
        .stdout_str()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(s, m)| (s.to_string(), m.to_string()))
        .collect())
}

/// Replaces node `name`'s container by the one `plan` describes, and waits until it is ready.
/// Returns the node's new agent address.
async fn replace<R: Runtime>(
    rt: &R,
    plan: &Plan,
    name: &str,
    files: &[FileUpload],
    secret: &Secret,
) -> Result<(), String> {
    let np = plan
        .nodes
        .iter()
        .find(|n| n.name == name)
        .ok_or_else(|| format!("{name} is not in the lab's topology"))?;
    let objs = rt.list(Some(&plan.lab)).await.map_err(|e| e.to_string())?;
    if let Some(old) = objs
        .iter()
        .find(|o| o.kind == ObjectKind::Container && o.label(LABEL_NODE) == name)
    {
        rt.remove(old)
            .await
            .map_err(|e| format!("failed to remove the old container of {name}: {e}"))?;
    }
    let all: Vec<FileUpload> = files.iter().chain(&np.files).cloned().collect();
    rt.create_container(&np.container, &all)
        .await
        .map_err(|e| format!("failed to create the new container of {name}: {e}"))?;
    rt.control(&np.container.name, crate::runtime::ContainerOp::Start)
        .await
        .map_err(|e| format!("failed to start {name}: {e}"))?;
    let mut target = Target::new(name, np.role, Some(&plan.lab), "");
    control::run_steps(Some(rt), secret, &mut target, &np.after_start)
        .await
        .map_err(|e| e.to_string())
}

/// Waits until every brick of `host` (none when empty) is online and heal has nothing pending on
/// any volume.
async fn settle(ctx: &Ctx, host: &str, limit: Duration) -> Result<(), String> {
    let Some(server) = ctx
        .servers()
        .into_iter()
        .find(|s| s.host() != host)
        .or_else(|| ctx.servers().into_iter().next())
    else {
        return Ok(());
    };
    until_ok(limit, || async {
        match pending(ctx, &server, host).await? {
            None => Ok(()),
            Some(why) => Err(why),
        }
    })
    .await
    .map_err(|last| {
        format!(
            "{} did not settle within {}s: {last}",
            if host.is_empty() { "the lab" } else { host },
            limit.as_secs()
        )
    })
}

/// What still keeps a node from being settled (bricks offline, entries to heal), or `None`.
async fn pending(
    ctx: &Ctx,
    server: &gflab_tests::Node,
    host: &str,
) -> Result<Option<String>, String> {
    use gflab_tests::gluster::{gluster_xml, heal, volume};
    let names = volume::list(ctx, server).await.map_err(|e| e.to_string())?;
    for name in names {
        let status = gluster_xml(ctx, server, ["volume", "status", name.as_str()]).await;
        let Ok(root) = status else {
            continue; // a stopped volume has no status
        };
        let bricks = volume::parse_status(&root);
        if let Some(b) = bricks.iter().find(|b| b.host == host && !b.online) {
            return Ok(Some(format!("brick {} of {name} is offline", b.spec())));
        }
        if let Some(b) = bricks.iter().find(|b| b.online && b.port.is_none()) {
            return Ok(Some(format!(
                "brick {} of {name} is online without a port (nothing new can connect to it)",
                b.spec()
            )));
        }
        let info = gluster_xml(ctx, server, ["volume", "heal", name.as_str(), "info"]).await;
        // Volumes without redundancy have no heal: nothing to wait for.
        if let Ok(root) = info {
            let n: u64 = heal::parse_heal_info(&root)
                .iter()
                .map(|b| b.entries.unwrap_or(0))
                .sum();
            if n > 0 {
                return Ok(Some(format!("{n} entries of {name} to heal")));
            }
        }
    }
    Ok(None)
}

/// Waits until every server sees every other connected and in the cluster.
///
/// GlusterFS 11's upgrade guide: during an online upgrade from 10, peers may reject each other over
/// a volume checksum mismatch (the NFS options became optional), and stopping and starting the
/// server fixes it. So first every server that sees a rejected peer, or whose glusterd is down, has
/// glusterd started again. Where that is not enough — a node whose volume configuration, written
/// by the old release, differs from what its upgraded peers write (seen from 10.3 to 11.1: the last
/// server keeps `nfs.disable=on` in `vols/<vol>/info`) — the node the others reject takes the
/// volume configuration from them, as GlusterFS's procedure for a rejected peer does: glusterd
/// stopped, its `vols/` moved aside (kept under `/var/lib/glusterd-rejected-*`), glusterd started;
/// it imports the volumes from its peers. Returns what it had to do, for the report.
async fn rejoin(ctx: &Ctx, limit: Duration) -> Result<Vec<String>, String> {
    use gflab_tests::gluster::{glusterd, peer};
    let mut done = Vec::new();
    let mut restarted: Vec<gflab_tests::Node> = Vec::new();
    // Rejections show within seconds of a node rejoining; short rounds keep a rolling upgrade fast.
    let round = (limit / 4).min(Duration::from_secs(20));
    if peer::wait_connected(ctx, round).await.is_ok() {
        return Ok(done);
    }
    // The guide's remedy: stop and start glusterd where peers are rejected.
    for s in ctx.servers() {
        let rejected = match peer::status(ctx, &s).await {
            Ok(peers) => peers.iter().any(|p| p.state.contains("Rejected")),
            Err(_) => true, // glusterd does not answer
        };
        if rejected {
            glusterd::stop(ctx, &s).await.map_err(|e| e.to_string())?;
            glusterd::start(ctx, &s).await.map_err(|e| e.to_string())?;
            restarted.push(s.clone());
            done.push(format!("{}: glusterd restarted (peer rejected)", s.name()));
        }
    }
    if peer::wait_connected(ctx, round).await.is_ok() {
        restart_bricks(ctx, &restarted).await?;
        return Ok(done);
    }
    // A node most of the others reject takes the volume configuration from them.
    let servers = ctx.servers();
    let mut rejections: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &servers {
        if let Ok(peers) = peer::status(ctx, s).await {
            for p in peers.iter().filter(|p| p.state.contains("Rejected")) {
                if let Some(o) = servers.iter().find(|o| p.is(o.host())) {
                    *rejections.entry(o.name().to_string()).or_default() += 1;
                }
            }
        }
    }
    let majority = servers.len().saturating_sub(1) / 2 + 1;
    for (name, n) in rejections.into_iter().filter(|(_, n)| *n >= majority) {
        let node = ctx.node(&name).map_err(|e| e.to_string())?;
        glusterd::stop(ctx, &node)
            .await
            .map_err(|e| e.to_string())?;
        ctx.sh(
            &node,
            "d=/var/lib/glusterd-rejected-$(date +%s); mkdir -p \"$d\" && \
             mv /var/lib/glusterd/vols \"$d/\" && mkdir /var/lib/glusterd/vols",
        )
        .await
        .map_err(|e| e.to_string())?;
        glusterd::start(ctx, &node)
            .await
            .map_err(|e| e.to_string())?;
        restarted.push(node.clone());
        done.push(format!(
            "{name}: rejected by {n} peer(s) over its volume configuration; took it from them"
        ));
    }
    peer::wait_connected(ctx, limit / 2)
        .await
        .map_err(|e| format!("{e} (after: {})", done.join("; ")))?;
    restart_bricks(ctx, &restarted).await?;
    Ok(done)
}

/// After glusterd was restarted on `nodes` or took its configuration from its peers, bricks of
/// theirs can run without a port in glusterd's map ("Online Y, port N/A", seen on a node that took
/// its peers' configuration): clients already connected keep them, but nothing new reaches them,
/// so the self-heal daemons cannot heal. The bricks of each such node are stopped and started
/// again (`volume start VOL force` on started volumes), one node at a time, each node's bricks
/// online with a port before the next. Heal is waited for afterwards ([`settle`]): it needs every
/// brick reachable, so waiting for it between nodes would wait on the bricks not restarted yet.
async fn restart_bricks(ctx: &Ctx, nodes: &[gflab_tests::Node]) -> Result<(), String> {
    use gflab_tests::gluster::gluster;
    let server = ctx.server(0).map_err(|e| e.to_string())?;
    for n in nodes {
        // A node that took its peers' configuration answers "does not exist" for a while.
        let lost = until_ok(Duration::from_secs(60), || {
            portless_bricks(ctx, &server, n.host())
        })
        .await?;
        if lost.is_empty() {
            continue;
        }
        ctx.sh(
            n,
            "pkill -TERM -x glusterfsd; sleep 1; pkill -KILL -x glusterfsd; true",
        )
        .await
        .map_err(|e| e.to_string())?;
        for v in volumes(ctx).await?.iter().filter(|v| v.status == "Started") {
            gluster(ctx, &server, ["volume", "start", v.name.as_str(), "force"])
                .await
                .map_err(|e| e.to_string())?;
        }
        until_ok(Duration::from_secs(120), || async {
            let left = portless_bricks(ctx, &server, n.host()).await?;
            if left.is_empty() {
                Ok(())
            } else {
                Err(left.join(", "))
            }
        })
        .await
        .map_err(|left| {
            format!(
                "the bricks of {} did not come back with a port within 120s: {left}",
                n.name()
            )
        })?;
    }
    Ok(())
}

/// The first success of `f`, asked every 2 s for up to `limit`; then its last error.
async fn until_ok<T, F, Fut>(limit: Duration, mut f: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if start.elapsed() >= limit => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_secs(2)).await,
        }
    }
}

/// The bricks of `host` in started volumes that are offline or online without a port, as
/// `host:/path`.
async fn portless_bricks(
    ctx: &Ctx,
    server: &gflab_tests::Node,
    host: &str,
) -> Result<Vec<String>, String> {
    use gflab_tests::gluster::{gluster_xml, volume};
    let mut out = Vec::new();
    for v in volumes(ctx).await?.iter().filter(|v| v.status == "Started") {
        let root = gluster_xml(ctx, server, ["volume", "status", v.name.as_str()])
            .await
            .map_err(|e| e.to_string())?;
        out.extend(
            volume::parse_status(&root)
                .into_iter()
                .filter(|b| b.host == host && b.port.is_none())
                .map(|b| b.spec()),
        );
    }
    Ok(out)
}

/// Stops every started volume; returns their names.
async fn stop_volumes(ctx: &Ctx) -> Result<Vec<String>, String> {
    use gflab_tests::gluster::gluster;
    let server = ctx.server(0).map_err(|e| e.to_string())?;
    let mut stopped = Vec::new();
    for v in volumes(ctx)
        .await?
        .into_iter()
        .filter(|v| v.status == "Started")
    {
        gluster(ctx, &server, ["volume", "stop", v.name.as_str()])
            .await
            .map_err(|e| e.to_string())?;
        stopped.push(v.name);
    }
    Ok(stopped)
}

/// What replacing nodes needs: the lab planned on the new release, its images made, the lab's
/// secret, and the files each new container gets.
async fn prepare<E: Runtime + ImageStore>(
    engine: &E,
    req: &UpgradeRequest,
    facts: &HostFacts,
    progress: &Progress,
) -> Result<(Topology, Plan, Secret, [FileUpload; 2]), String> {
    let (topo, plan) = plan_on(engine, &req.lab, req.to, facts)
        .await
        .map_err(|e| e.to_string())?;
    images::ensure(engine, &plan.images, progress)
        .await
        .map_err(|e| format!("failed to make the {} images: {e}", req.to))?;
    let secret = state::read_secret(&req.lab).map_err(|e| e.to_string())?;
    let files = node_files(&req.agent_binary, &secret);
    Ok((topo, plan, secret, files))
}

/// Upgrades `req.lab` to `req.to`. `interrupt` resolving stops before the next node (the node
/// being replaced is finished first, so it is never left half-made). On error, says what went
/// wrong and which release each node runs now.
pub async fn upgrade<E: Runtime + ImageStore>(
    engine: &E,
    req: &UpgradeRequest,
    facts: &HostFacts,
    progress: &Progress,
    interrupt: impl std::future::Future<Output = ()>,
) -> Result<UpgradeOutcome, UpgradeError> {
    match upgrade_nodes(engine, req, facts, progress, interrupt).await {
        Ok(o) => Ok(o),
        Err(stop) => {
            let (why, hint) = match stop {
                Stop::Refused(why, hint) => (why, hint),
                Stop::Failed(why) => (why, "run the same gflab upgrade again to finish".into()),
            };
            let objs = engine.list(Some(&req.lab)).await.unwrap_or_default();
            Err(UpgradeError {
                why,
                releases: releases(&objs)
                    .into_iter()
                    .map(|(n, r)| format!("{n}={r}"))
                    .collect(),
                hint,
            })
        }
    }
}

async fn upgrade_nodes<E: Runtime + ImageStore>(
    engine: &E,
    req: &UpgradeRequest,
    facts: &HostFacts,
    progress: &Progress,
    interrupt: impl std::future::Future<Output = ()>,
) -> Result<UpgradeOutcome, Stop> {
    tokio::pin!(interrupt);
    let lab = req.lab.as_str();
    let objs = engine
        .list(Some(lab))
        .await
        .map_err(|e| format!("failed to list lab {lab}: {e}"))?;
    if objs.is_empty() {
        return Err(Stop::Refused(
            format!("no lab named {lab}"),
            "gflab ls".into(),
        ));
    }
    let vm: Vec<&str> = objs
        .iter()
        .filter(|o| {
            o.kind == ObjectKind::Container
                && crate::kind::of_labels(&o.labels).kind() == NodeKind::KernelVm
        })
        .map(|o| o.label(LABEL_NODE))
        .collect();
    if !vm.is_empty() {
        return Err(Stop::Refused(
            format!(
                "refusing to upgrade {}: kernel-VM nodes keep GlusterFS on their VM's disk image, \
                 which a new container image does not replace",
                vm.join(", ")
            ),
            "a lab with kernel-VM nodes is made again on the new release, without its data: \
             gflab down, then gflab up with the release in its topology"
                .into(),
        ));
    }
    let (new_topo, new_plan, secret, files) = prepare(engine, req, facts, progress).await?;
    let mut outcome = UpgradeOutcome::default();
    let mut todo = Vec::new();
    for (n, r) in releases(&objs) {
        if r == req.to.as_str() {
            outcome.already.push(n);
        } else {
            todo.push((n, r));
        }
    }
    // The node list follows the agents to their new ports.
    let refresh = || async {
        let objs = engine.list(Some(lab)).await.unwrap_or_default();
        if let Ok(list) = node_list(lab, &objs) {
            let _ = state::write(lab, &list, &secret);
        }
    };
    if todo.is_empty() {
        state::save_topology(lab, &new_topo).map_err(|e| e.to_string())?;
        return Ok(outcome);
    }

    if req.offline {
        let ctx = context(engine, lab, &secret).await?;
        let step = progress.step("stopping every started volume");
        let stopped = stop_volumes(&ctx).await?;
        step.done(&format!("{} stopped", stopped.len()));
        let started = Instant::now();
        let step = progress.step(format!("replacing {} nodes at once", todo.len()));
        let work = todo.iter().map(|(n, _)| {
            let (files, secret, plan, ctx) = (&files, &secret, &new_plan, &ctx);
            async move {
                if let Some(node) = ctx.nodes().iter().find(|x| x.name() == n) {
                    let _ = node.client.exec(Command::shell(STOP_GLUSTER)).await;
                }
                replace(engine, plan, n, files, secret).await
            }
        });
        let failed: Vec<String> = futures::future::join_all(work)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect();
        refresh().await;
        if !failed.is_empty() {
            step.done("failed");
            return Err(failed.join("\n").into());
        }
        step.done("ready");
        let ctx = context(engine, lab, &secret).await?;
        for line in rejoin(&ctx, req.settle).await? {
            progress.note(line);
        }
        let server = ctx.server(0).map_err(|e| e.to_string())?;
        let step = progress.step(format!("starting {} volumes", stopped.len()));
        for v in &stopped {
            gflab_tests::gluster::gluster(&ctx, &server, ["volume", "start", v.as_str()])
                .await
                .map_err(|e| e.to_string())?;
        }
        step.done("started");
        for (node, from) in todo {
            outcome.upgraded.push(NodeUpgrade {
                node,
                from,
                duration: started.elapsed(),
            });
        }
        state::save_topology(lab, &new_topo).map_err(|e| e.to_string())?;
        return Ok(outcome);
    }

    if !req.force {
        let ctx = context(engine, lab, &secret).await?;
        let servers_left = todo
            .iter()
            .any(|(n, _)| ctx.servers().iter().any(|s| s.name() == n));
        let unsupported = if servers_left {
            unsupported_online(&ctx).await?
        } else {
            Vec::new()
        };
        if !unsupported.is_empty() {
            return Err(Stop::Refused(
                format!(
                    "refusing a rolling upgrade: {} started, and GlusterFS's upgrade guide \
                     supports online upgrades of replicated volumes only (a server down takes a \
                     pure distributed volume's files with it, and leaves a dispersed volume's \
                     fragments to rebuild under I/O in a cluster of two releases)",
                    unsupported.join(", ")
                ),
                format!(
                    "--offline stops every volume, upgrades all nodes and starts them again; or \
                     stop {} first; --force upgrades online anyway",
                    if unsupported.len() == 1 { "it" } else { "them" }
                ),
            ));
        }
    }
    for (node, from) in todo {
        if futures::poll!(&mut interrupt).is_ready() {
            return Err(format!("interrupted before upgrading {node}").into());
        }
        let started = Instant::now();
        let step = progress.step(format!("upgrading {node} from {from} to {}", req.to));
        // The pool must be whole before a node goes down (an earlier run may have stopped short).
        let before = match context(engine, lab, &secret).await {
            Ok(ctx) => rejoin(&ctx, req.settle).await,
            Err(e) => Err(e),
        };
        let up = match before {
            Ok(notes) => {
                for line in notes {
                    progress.note(line);
                }
                upgrade_one(engine, req, facts, &new_plan, &files, &secret, &node, &from).await
            }
            Err(e) => Err(format!(
                "the pool is not whole before upgrading {node}: {e}"
            )),
        };
        refresh().await;
        match up {
            Ok((state, notes)) => {
                for line in notes {
                    progress.note(line);
                }
                step.done(&format!("on {}, {state}", req.to));
            }
            Err(e) => {
                step.done("failed");
                return Err(e.into());
            }
        }
        outcome.upgraded.push(NodeUpgrade {
            node,
            from,
            duration: started.elapsed(),
        });
    }
    // The guide's last step: heal every volume and see nothing pending. A client unmounted for its
    // upgrade in the middle of a write leaves that write's pending marks (seen: 3 entries).
    let step = progress.step("healing every volume");
    let ctx = context(engine, lab, &secret).await?;
    heal_all(&ctx, req.settle)
        .await
        .map_err(|e| format!("after upgrading every node: {e}"))?;
    step.done("nothing pending");
    state::save_topology(lab, &new_topo).map_err(|e| e.to_string())?;
    Ok(outcome)
}

/// Starts heal of every volume and waits until none has entries pending (volumes without
/// redundancy, and stopped ones, have nothing to heal).
async fn heal_all(ctx: &Ctx, limit: Duration) -> Result<(), String> {
    use gflab_tests::gluster::{gluster, volume};
    let server = ctx.server(0).map_err(|e| e.to_string())?;
    for name in volume::list(ctx, &server)
        .await
        .map_err(|e| e.to_string())?
    {
        let _ = gluster(ctx, &server, ["volume", "heal", name.as_str()]).await;
    }
    // No server's bricks are singled out: only what heal still has to do.
    settle(ctx, "", limit).await
}

/// Upgrades one node (rolling): returns the state it was left in (a server: its bricks online and
/// nothing pending heal; a client: its mounts made again), and what was done on the way.
#[allow(clippy::too_many_arguments)]
async fn upgrade_one<E: Runtime>(
    engine: &E,
    req: &UpgradeRequest,
    facts: &HostFacts,
    new_plan: &Plan,
    files: &[FileUpload],
    secret: &Secret,
    node: &str,
    from: &str,
) -> Result<(String, Vec<String>), String> {
    let lab = req.lab.as_str();
    let mut notes = Vec::new();
    let ctx = context(engine, lab, secret).await?;
    let this = ctx.node(node).map_err(|e| e.to_string())?;
    let entry: NodeEntry = this.entry.clone();
    let mounts = match entry.role {
        Role::Client => gluster_mounts(&this.client).await?,
        Role::Server => Vec::new(),
    };
    // A client is unmounted first, as the guide says: data its applications closed but GlusterFS
    // still held (flush-behind) reaches the bricks before the client goes.
    for (_, mnt) in &mounts {
        let m = gflab_agent::shell::quote(mnt);
        let _ = this
            .client
            .exec(Command::shell(format!("umount {m} || umount -l {m}")))
            .await;
    }
    let _ = this.client.exec(Command::shell(STOP_GLUSTER)).await;
    if let Err(e) = replace(engine, new_plan, node, files, secret).await {
        // Back to the release it ran.
        let back = match from.parse::<Release>() {
            Ok(old) => match plan_on(engine, lab, old, facts).await {
                Ok((_, old_plan)) => replace(engine, &old_plan, node, files, secret)
                    .await
                    .map(|()| format!("{node} was put back on {old}")),
                Err(pe) => Err(pe.to_string()),
            },
            Err(pe) => Err(pe),
        };
        let said =
            back.unwrap_or_else(|b| format!("putting {node} back on {from} failed too: {b}"));
        return Err(format!(
            "{node} did not come back on {}: {e}\n{said}",
            req.to
        ));
    }
    let ctx = context(engine, lab, secret).await?;
    match entry.role {
        Role::Server => {
            for line in rejoin(&ctx, req.settle)
                .await
                .map_err(|e| format!("after upgrading {node}: {e}"))?
            {
                notes.push(line);
            }
            settle(&ctx, &entry.host, req.settle)
                .await
                .map_err(|e| format!("after upgrading {node}: {e}"))?;
        }
        Role::Client => {
            let client = &ctx.node(node).map_err(|e| e.to_string())?.client;
            for (source, mnt) in &mounts {
                let cmd = format!(
                    "mkdir -p {m} && mount -t glusterfs {s} {m}",
                    m = gflab_agent::shell::quote(mnt),
                    s = gflab_agent::shell::quote(source)
                );
                let out = client
                    .exec(Command::shell(cmd))
                    .await
                    .map_err(|e| e.to_string())?;
                if !out.success() {
                    return Err(format!(
                        "failed to mount {source} again on {node} at {mnt}: {}",
                        out.stderr_str().trim()
                    ));
                }
            }
        }
    }
    let state = match entry.role {
        Role::Server => "its bricks online, nothing pending heal".to_string(),
        Role::Client if mounts.is_empty() => "no GlusterFS mount to make again".to_string(),
        Role::Client => format!("{} mount(s) made again", mounts.len()),
    };
    Ok((state, notes))
}

/// Upgrades one node of a lab to `to` (a test's `upgrade::node` through the runner's node control):
/// the pool made whole first, the node replaced, its pool rejoined or its mounts made again.
/// Returns the node's new agent address.
#[allow(clippy::too_many_arguments)]
pub async fn upgrade_node<E: Runtime + ImageStore>(
    engine: &E,
    lab: &str,
    node: &str,
    to: Release,
    agent_binary: Vec<u8>,
    facts: &HostFacts,
    settle: Duration,
) -> Result<String, String> {
    let objs = engine.list(Some(lab)).await.map_err(|e| e.to_string())?;
    let from = releases(&objs)
        .into_iter()
        .find(|(n, _)| n == node)
        .map(|(_, r)| r)
        .ok_or_else(|| format!("no node {node} in lab {lab}"))?;
    let req = UpgradeRequest {
        lab: lab.to_string(),
        to,
        offline: false,
        agent_binary,
        settle,
        force: false,
    };
    let (_, new_plan, secret, files) = prepare(engine, &req, facts, &Progress::silent()).await?;
    if from != to.as_str() {
        let ctx = context(engine, lab, &secret).await?;
        rejoin(&ctx, settle).await?;
        upgrade_one(engine, &req, facts, &new_plan, &files, &secret, node, &from).await?;
    }
    let objs = engine.list(Some(lab)).await.map_err(|e| e.to_string())?;
    let list = node_list(lab, &objs).map_err(|e| e.to_string())?;
    let _ = state::write(lab, &list, &secret);
    list.nodes
        .into_iter()
        .find(|n| n.name == node)
        .map(|n| n.agent)
        .ok_or_else(|| format!("{node} has no agent after its upgrade"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_upgrades_are_for_replicated_volumes() {
        for t in ["Replicate", "Distributed-Replicate"] {
            assert!(!online_unsupported(t), "{t}");
        }
        for t in ["Distribute", "Disperse", "Distributed-Disperse"] {
            assert!(online_unsupported(t), "{t}");
        }
    }
}
