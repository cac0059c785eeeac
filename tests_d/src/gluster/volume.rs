//! Volumes: create every type, start, stop, delete, set, reset, info, status, list.
//!
//! Bricks are placed round-robin over the servers at `<brick_root>/<volume>/b<i>`. A volume created
//! through [`create`] is stopped and deleted (and its brick directories removed) when the test ends.
use std::collections::BTreeMap;
use std::time::Duration;

use gflab_agent::shell;

use super::{gluster, gluster_xml, req, wait_for, Poll};
use crate::ctx::{Cleanup, Node};
use crate::matrix::VolumeType;
use crate::xml::Element;
use crate::{Ctx, TestError};

/// How bricks are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Files hashed over `bricks` bricks, no redundancy.
    Distribute {
        /// Brick count.
        bricks: usize,
    },
    /// One replica set of `replica` bricks.
    Replicate {
        /// Copies.
        replica: usize,
    },
    /// `sets` replica sets of `replica` bricks each.
    DistributedReplicate {
        /// Copies per set.
        replica: usize,
        /// Number of sets.
        sets: usize,
    },
    /// Erasure coded over `bricks` bricks, `redundancy` of which may fail.
    Disperse {
        /// Total bricks.
        bricks: usize,
        /// Bricks that may be lost.
        redundancy: usize,
    },
    /// `sets` disperse sets of `bricks` bricks each, `redundancy` of which may fail per set.
    DistributedDisperse {
        /// Bricks per set.
        bricks: usize,
        /// Bricks per set that may be lost.
        redundancy: usize,
        /// Number of sets.
        sets: usize,
    },
    /// `sets` sets of two data bricks plus one arbiter (metadata only) brick.
    Arbiter {
        /// Number of sets.
        sets: usize,
    },
}

impl Layout {
    /// Total bricks.
    pub fn brick_count(&self) -> usize {
        match *self {
            Layout::Distribute { bricks } => bricks,
            Layout::Replicate { replica } => replica,
            Layout::DistributedReplicate { replica, sets } => replica * sets,
            Layout::Disperse { bricks, .. } => bricks,
            Layout::DistributedDisperse { bricks, sets, .. } => bricks * sets,
            Layout::Arbiter { sets } => 3 * sets,
        }
    }
    /// Bricks per subvolume (replica/disperse set).
    pub fn set_size(&self) -> usize {
        match *self {
            Layout::Distribute { .. } => 1,
            Layout::Replicate { replica } | Layout::DistributedReplicate { replica, .. } => replica,
            Layout::Disperse { bricks, .. } | Layout::DistributedDisperse { bricks, .. } => bricks,
            Layout::Arbiter { .. } => 3,
        }
    }
    /// The `volume create` words before the brick list.
    fn create_args(&self) -> Vec<String> {
        match *self {
            Layout::Distribute { .. } => vec![],
            Layout::Replicate { replica } | Layout::DistributedReplicate { replica, .. } => {
                vec!["replica".into(), replica.to_string()]
            }
            Layout::Disperse { bricks, redundancy }
            | Layout::DistributedDisperse {
                bricks, redundancy, ..
            } => vec![
                "disperse".into(),
                bricks.to_string(),
                "redundancy".into(),
                redundancy.to_string(),
            ],
            Layout::Arbiter { .. } => {
                vec!["replica".into(), "3".into(), "arbiter".into(), "1".into()]
            }
        }
    }
    /// The `typeStr` gluster reports for this layout.
    pub fn type_str(&self) -> &'static str {
        match self {
            Layout::Distribute { .. } => "Distribute",
            Layout::Replicate { .. } | Layout::Arbiter { sets: 1 } => "Replicate",
            Layout::DistributedReplicate { .. } | Layout::Arbiter { .. } => "Distributed-Replicate",
            Layout::Disperse { .. } => "Disperse",
            Layout::DistributedDisperse { .. } => "Distributed-Disperse",
        }
    }
}

/// What to create.
#[derive(Debug, Clone)]
pub struct VolumeSpec {
    /// Brick grouping.
    pub layout: Layout,
    /// Word used in the unique volume name (`rep` → `t103-rep-k3x9-1`).
    pub prefix: String,
    /// Pass `force` even when placement does not need it.
    pub force: bool,
    /// Put each brick on a filesystem of its own of this many MiB (a loop-backed ext4 made on
    /// the server), so that a brick can fill up; `None`: bricks are directories.
    pub brick_size_mib: Option<u32>,
}

impl VolumeSpec {
    /// A spec for `layout`.
    pub fn new(layout: Layout, prefix: &str) -> VolumeSpec {
        VolumeSpec {
            layout,
            prefix: prefix.to_string(),
            force: false,
            brick_size_mib: None,
        }
    }
    /// Distribute over `bricks` bricks.
    pub fn distribute(bricks: usize) -> VolumeSpec {
        VolumeSpec::new(Layout::Distribute { bricks }, "dist")
    }
    /// One replica set of `replica` bricks.
    pub fn replicate(replica: usize) -> VolumeSpec {
        VolumeSpec::new(Layout::Replicate { replica }, "rep")
    }
    /// `sets` × `replica`.
    pub fn distributed_replicate(replica: usize, sets: usize) -> VolumeSpec {
        VolumeSpec::new(Layout::DistributedReplicate { replica, sets }, "drep")
    }
    /// Disperse over `bricks` with `redundancy`.
    pub fn disperse(bricks: usize, redundancy: usize) -> VolumeSpec {
        VolumeSpec::new(Layout::Disperse { bricks, redundancy }, "disp")
    }
    /// `sets` × (`bricks` with `redundancy`).
    pub fn distributed_disperse(bricks: usize, redundancy: usize, sets: usize) -> VolumeSpec {
        VolumeSpec::new(
            Layout::DistributedDisperse {
                bricks,
                redundancy,
                sets,
            },
            "ddisp",
        )
    }
    /// `sets` × (2 data + 1 arbiter).
    pub fn arbiter(sets: usize) -> VolumeSpec {
        VolumeSpec::new(Layout::Arbiter { sets }, "arb")
    }
    /// Always pass `force`.
    pub fn force(mut self) -> VolumeSpec {
        self.force = true;
        self
    }
    /// Each brick on its own filesystem of `mib` MiB (disk-full tests).
    pub fn brick_size_mib(mut self, mib: u32) -> VolumeSpec {
        self.brick_size_mib = Some(mib);
        self
    }
}

/// Makes a loop-backed ext4 filesystem of `mib` MiB from `img`, mounted at `mnt`, with the brick
/// directory `mnt/brick` (glusterd refuses a brick at a mount point's root). Loop device nodes are
/// made when the node's /dev lacks them (containers).
fn small_brick_script(img: &str, mnt: &str, mib: u32) -> String {
    let (img, mnt) = (shell::quote(img), shell::quote(mnt));
    format!(
        "set -e\n\
         mkdir -p \"$(dirname {img})\" {mnt}\n\
         truncate -s {mib}M {img}\n\
         mkfs.ext4 -q -F -m 0 {img}\n\
         dev=$(losetup -f)\n\
         [ -e \"$dev\" ] || mknod -m 0660 \"$dev\" b 7 \"${{dev#/dev/loop}}\"\n\
         losetup \"$dev\" {img}\n\
         mount \"$dev\" {mnt}\n\
         mkdir -p {mnt}/brick\n"
    )
}

/// Undoes [`small_brick_script`]: unmounts, detaches the loop device, removes the file.
fn small_brick_teardown(img: &str, mnt: &str) -> String {
    let (img, mnt) = (shell::quote(img), shell::quote(mnt));
    format!(
        "if mountpoint -q {mnt}; then umount {mnt} || umount -l {mnt}; fi; \
         for d in $(losetup -n -O NAME -j {img} 2>/dev/null); do losetup -d \"$d\"; done; \
         rm -f {img}"
    )
}

/// One brick: the server it lives on and its directory.
#[derive(Debug, Clone)]
pub struct Brick {
    /// The server.
    pub node: Node,
    /// The directory.
    pub path: String,
}

impl Brick {
    /// `host:/path`, as gluster names it.
    pub fn spec(&self) -> String {
        format!("{}:{}", self.node.host(), self.path)
    }
}

/// A volume this test created.
#[derive(Debug, Clone)]
pub struct Volume {
    /// Volume name.
    pub name: String,
    /// The server the CLI runs on and clients mount from.
    pub server: Node,
    /// The bricks in `volume create` order.
    pub bricks: Vec<Brick>,
    /// Its layout.
    pub layout: Layout,
}

/// Parsed `gluster volume info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    /// Name.
    pub name: String,
    /// `Distribute`, `Replicate`, `Distributed-Replicate`, `Disperse`, ...
    pub type_str: String,
    /// `Created`, `Started`, `Stopped`.
    pub status: String,
    /// Brick count.
    pub brick_count: usize,
    /// Replica count (1 when not replicated).
    pub replica_count: usize,
    /// Arbiter count.
    pub arbiter_count: usize,
    /// Disperse count (0 when not dispersed).
    pub disperse_count: usize,
    /// Redundancy count.
    pub redundancy_count: usize,
    /// Snapshots taken of it.
    pub snapshot_count: usize,
    /// Bricks as `host:/path`.
    pub bricks: Vec<String>,
    /// Reconfigured options.
    pub options: BTreeMap<String, String>,
}

/// One brick process as `gluster volume status` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrickStatus {
    /// Host as gluster names it.
    pub host: String,
    /// Brick directory.
    pub path: String,
    /// Whether the process is up.
    pub online: bool,
    /// Its PID, when online.
    pub pid: Option<u32>,
    /// Its TCP port, when online.
    pub port: Option<u16>,
}

impl BrickStatus {
    /// `host:/path`.
    pub fn spec(&self) -> String {
        format!("{}:{}", self.host, self.path)
    }
}

/// Whether a brick placement puts two bricks of one set on the same host (gluster then wants `force`).
pub fn placement_needs_force(bricks: &[Brick], set_size: usize) -> bool {
    bricks.chunks(set_size.max(1)).any(|set| {
        set.iter()
            .enumerate()
            .any(|(i, a)| set[..i].iter().any(|b| b.node.host() == a.node.host()))
    })
}

/// Creates (not starts) a volume over the servers; it is deleted when the test ends.
pub async fn create(ctx: &Ctx, spec: VolumeSpec) -> Result<Volume, TestError> {
    let servers = ctx.servers();
    let Some(first) = servers.first().cloned() else {
        return Err(TestError::Nodes(
            "creating a volume needs at least one server".into(),
        ));
    };
    let name = ctx.unique(&spec.prefix);
    let bricks: Vec<Brick> = (0..spec.layout.brick_count())
        .map(|i| {
            let node = servers[i % servers.len()].clone();
            let path = match spec.brick_size_mib {
                None => format!("{}/{}/b{}", node.brick_root(), name, i),
                Some(_) => format!("{}/{}/m{}/brick", node.brick_root(), name, i),
            };
            Brick { node, path }
        })
        .collect();
    let mut dirs: Vec<(Node, String)> = Vec::new();
    for s in &servers {
        if bricks.iter().any(|b| b.node.name() == s.name()) {
            dirs.push((s.clone(), format!("{}/{}", s.brick_root(), name)));
        }
    }
    // Small bricks are unmounted after the volume is deleted, before their directories go.
    let small: Vec<(&Brick, String, String)> = match spec.brick_size_mib {
        None => Vec::new(),
        Some(_) => bricks
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let root = b.node.brick_root();
                let img = format!("{root}/.gflab-small/{name}-b{i}.img");
                let mnt = format!("{root}/{name}/m{i}");
                (b, img, mnt)
            })
            .collect(),
    };
    ctx.defer(Cleanup::Volume {
        server: first.clone(),
        name: name.clone(),
        dirs: dirs.clone(),
        unmount: small
            .iter()
            .map(|(b, img, mnt)| (b.node.clone(), small_brick_teardown(img, mnt)))
            .collect(),
    });
    ctx.step(format!(
        "create {} volume {name} with {} bricks",
        spec.layout.type_str(),
        bricks.len()
    ));
    for (node, dir) in &dirs {
        ctx.sh(node, format!("mkdir -p {}", shell::quote(dir)))
            .await?;
    }
    if let Some(mib) = spec.brick_size_mib {
        ctx.step(format!("each brick on a {mib} MiB filesystem of its own"));
        for (b, img, mnt) in &small {
            match ctx.sh(&b.node, small_brick_script(img, mnt, mib)).await {
                // A node that cannot have loop devices (a host whose /dev lacks them) cannot
                // have small bricks: the test is skipped with the reason, never passed.
                Err(TestError::Command { stderr, .. })
                    if stderr.contains("loop device") || stderr.contains("loop-control") =>
                {
                    return Err(TestError::Skip(format!(
                        "{} cannot make loop devices for small bricks: {}",
                        b.node.name(),
                        stderr.trim()
                    )));
                }
                other => {
                    other?;
                }
            }
        }
    }
    let mut args: Vec<String> = vec!["volume".into(), "create".into(), name.clone()];
    args.extend(spec.layout.create_args());
    args.extend(["transport".into(), "tcp".into()]);
    args.extend(bricks.iter().map(Brick::spec));
    let force = spec.force || placement_needs_force(&bricks, spec.layout.set_size());
    let result = if force {
        gluster(
            ctx,
            &first,
            args.iter().cloned().chain(["force".to_string()]),
        )
        .await
    } else {
        match gluster(ctx, &first, args.clone()).await {
            // Bricks on the root partition are refused unless forced; say so and retry.
            Err(TestError::Command { stdout, stderr, .. })
                if format!("{stdout}{stderr}").contains("force") =>
            {
                ctx.step(
                    "gluster asks for `force` (bricks on the root partition?); retrying with it",
                );
                gluster(ctx, &first, args.into_iter().chain(["force".to_string()])).await
            }
            other => other,
        }
    };
    result?;
    Ok(Volume {
        name,
        server: first,
        bricks,
        layout: spec.layout,
    })
}

/// What gluster answered to a `volume create` that a test expects it may refuse.
#[derive(Debug, Clone)]
pub struct CreateAttempt {
    /// The volume name tried.
    pub name: String,
    /// The CLI's output, whatever its exit status.
    pub output: gflab_agent::Output,
}

impl CreateAttempt {
    /// Whether gluster created the volume.
    pub fn accepted(&self) -> bool {
        self.output.success()
    }
    /// stdout and stderr together (where gluster's reason is), trimmed.
    pub fn message(&self) -> String {
        format!("{}{}", self.output.stdout_str(), self.output.stderr_str())
            .trim()
            .to_string()
    }
}

/// Tries `volume create NAME <words...> <bricks...> [force]` with `bricks` new brick directories
/// placed round-robin over the servers as [`create`] places them, for tests of what gluster
/// refuses (`words` is the layout: `["disperse", "6", "redundancy", "0"]`). With `answer`
/// the CLI runs interactively and gets that line on stdin for its question (`"n"`); without, it
/// runs in script mode (every question answered yes). Returns the answer whatever it is; a
/// volume gluster does create is deleted at the end like any other.
pub async fn attempt_create(
    ctx: &Ctx,
    words: &[&str],
    bricks: usize,
    force: bool,
    answer: Option<&str>,
) -> Result<CreateAttempt, TestError> {
    let servers = ctx.servers();
    let Some(first) = servers.first().cloned() else {
        return Err(TestError::Nodes(
            "creating a volume needs at least one server".into(),
        ));
    };
    let name = ctx.unique("try");
    let mut dirs: Vec<(Node, String)> = Vec::new();
    for s in servers.iter().take(bricks) {
        let dir = format!("{}/{}", s.brick_root(), name);
        ctx.sh(s, format!("mkdir -p {}", shell::quote(&dir)))
            .await?;
        dirs.push((s.clone(), dir));
    }
    ctx.defer(Cleanup::Volume {
        server: first.clone(),
        name: name.clone(),
        dirs,
        unmount: Vec::new(),
    });
    let mut cmd = gflab_agent::Command::new("gluster");
    if answer.is_none() {
        cmd = cmd.arg("--mode=script");
    }
    cmd = cmd
        .args(["volume", "create", name.as_str()])
        .args(words.iter().copied());
    for i in 0..bricks {
        let s = &servers[i % servers.len()];
        cmd = cmd.arg(format!("{}:{}/{}/b{i}", s.host(), s.brick_root(), name));
    }
    if force {
        cmd = cmd.arg("force");
    }
    if let Some(a) = answer {
        cmd = cmd.stdin(format!("{a}\n").into_bytes());
    }
    ctx.step(format!("try to create {name}: {}", words.join(" ")));
    let output = ctx
        .exec(&first, cmd.timeout(Duration::from_secs(120)))
        .await?;
    Ok(CreateAttempt { name, output })
}

/// Names of all volumes.
pub async fn list(ctx: &Ctx, server: &Node) -> Result<Vec<String>, TestError> {
    let root = gluster_xml(ctx, server, ["volume", "list"]).await?;
    Ok(root
        .find("volList")
        .map(|l| l.children("volume").map(|v| v.text.clone()).collect())
        .unwrap_or_default())
}

/// Parses one `<volume>` of `volume info --xml`.
pub fn parse_info(v: &Element, node: &Node, cmd: &str) -> Result<VolumeInfo, TestError> {
    let num = |name: &str| -> Result<usize, TestError> {
        let t = req(v, name, cmd, node)?;
        t.parse().map_err(|_| TestError::Parse {
            node: node.name().to_string(),
            command: cmd.to_string(),
            message: format!("<{name}> is not a number: {t:?}"),
        })
    };
    Ok(VolumeInfo {
        name: req(v, "name", cmd, node)?.to_string(),
        type_str: req(v, "typeStr", cmd, node)?.to_string(),
        status: req(v, "statusStr", cmd, node)?.to_string(),
        brick_count: num("brickCount")?,
        replica_count: num("replicaCount")?,
        arbiter_count: num("arbiterCount").unwrap_or(0),
        disperse_count: num("disperseCount").unwrap_or(0),
        redundancy_count: num("redundancyCount").unwrap_or(0),
        snapshot_count: num("snapshotCount").unwrap_or(0),
        bricks: v
            .child("bricks")
            .map(|b| {
                b.children("brick")
                    .map(|e| e.child_text("name").unwrap_or(&e.text).to_string())
                    .collect()
            })
            .unwrap_or_default(),
        options: v
            .child("options")
            .map(|o| {
                o.children("option")
                    .filter_map(|e| {
                        Some((
                            e.child_text("name")?.to_string(),
                            e.child_text("value")?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Parses the brick entries of `volume status --xml` (daemons such as the self-heal daemon are left out).
pub fn parse_status(root: &Element) -> Vec<BrickStatus> {
    let Some(vol) = root.find("volStatus").and_then(|s| s.find("volume")) else {
        return Vec::new();
    };
    vol.children("node")
        .filter(|n| n.child_text("path").is_some_and(|p| p.starts_with('/')))
        .map(|n| {
            let online = n.child_text("status") == Some("1");
            BrickStatus {
                host: n.child_text("hostname").unwrap_or_default().to_string(),
                path: n.child_text("path").unwrap_or_default().to_string(),
                online,
                pid: n
                    .child_text("pid")
                    .and_then(|p| p.parse().ok())
                    .filter(|p| online && *p > 0),
                port: n
                    .child_text("port")
                    .and_then(|p| p.parse().ok())
                    .filter(|p| online && *p > 0),
            }
        })
        .collect()
}

impl Volume {
    /// This volume as gluster describes it after bricks `indices` left it, with layout `layout`.
    pub fn without_bricks(&self, indices: &[usize], layout: Layout) -> Volume {
        Volume {
            bricks: self
                .bricks
                .iter()
                .enumerate()
                .filter(|(i, _)| !indices.contains(i))
                .map(|(_, b)| b.clone())
                .collect(),
            layout,
            ..self.clone()
        }
    }
    /// `volume start`.
    pub async fn start(&self, ctx: &Ctx) -> Result<(), TestError> {
        gluster(ctx, &self.server, ["volume", "start", &self.name])
            .await
            .map(|_| ())
    }
    /// `volume start force` (restarts bricks that are down).
    pub async fn start_force(&self, ctx: &Ctx) -> Result<(), TestError> {
        gluster(ctx, &self.server, ["volume", "start", &self.name, "force"])
            .await
            .map(|_| ())
    }
    /// `volume stop`.
    pub async fn stop(&self, ctx: &Ctx) -> Result<(), TestError> {
        gluster(ctx, &self.server, ["volume", "stop", &self.name])
            .await
            .map(|_| ())
    }
    /// `volume delete` (the volume must be stopped).
    pub async fn delete(&self, ctx: &Ctx) -> Result<(), TestError> {
        gluster(ctx, &self.server, ["volume", "delete", &self.name])
            .await
            .map(|_| ())
    }
    /// `volume set KEY VALUE`.
    pub async fn set(&self, ctx: &Ctx, key: &str, value: &str) -> Result<(), TestError> {
        gluster(ctx, &self.server, ["volume", "set", &self.name, key, value])
            .await
            .map(|_| ())
    }
    /// `volume reset KEY`.
    pub async fn reset(&self, ctx: &Ctx, key: &str) -> Result<(), TestError> {
        gluster(ctx, &self.server, ["volume", "reset", &self.name, key])
            .await
            .map(|_| ())
    }
    /// `volume get KEY`: the option's current value (default or set; gluster's ` (DEFAULT)`
    /// mark is left out).
    pub async fn get(&self, ctx: &Ctx, key: &str) -> Result<String, TestError> {
        let root = gluster_xml(ctx, &self.server, ["volume", "get", &self.name, key]).await?;
        root.find("volGetopts")
            .and_then(|g| g.find("Opt"))
            .and_then(|o| o.child_text("Value"))
            .map(|v| v.trim_end_matches(" (DEFAULT)").to_string())
            .ok_or_else(|| TestError::Parse {
                node: self.server.name().to_string(),
                command: format!("gluster volume get {} {key} --xml", self.name),
                message: "no <Opt><Value>".into(),
            })
    }
    /// `volume info`, parsed.
    pub async fn info(&self, ctx: &Ctx) -> Result<VolumeInfo, TestError> {
        info(ctx, &self.server, &self.name).await
    }
    /// `volume status`: the brick processes.
    pub async fn status(&self, ctx: &Ctx) -> Result<Vec<BrickStatus>, TestError> {
        let root = gluster_xml(ctx, &self.server, ["volume", "status", &self.name]).await?;
        Ok(parse_status(&root))
    }
    /// Starts the volume and waits until every brick is online.
    pub async fn start_and_wait(&self, ctx: &Ctx) -> Result<(), TestError> {
        self.start(ctx).await?;
        self.wait_online(ctx, Duration::from_secs(60)).await
    }
    /// Waits until every brick of the volume is online.
    pub async fn wait_online(&self, ctx: &Ctx, timeout: Duration) -> Result<(), TestError> {
        let what = format!("all {} bricks of {} online", self.bricks.len(), self.name);
        wait_for(ctx, &what, timeout, Duration::from_secs(1), || async {
            let st = self.status(ctx).await?;
            let online = st.iter().filter(|b| b.online).count();
            Ok(if online == self.bricks.len() {
                Poll::Ready(())
            } else {
                let down: Vec<String> = st
                    .iter()
                    .filter(|b| !b.online)
                    .map(BrickStatus::spec)
                    .collect();
                Poll::Pending(format!(
                    "{online}/{} online; down: {}",
                    self.bricks.len(),
                    down.join(", ")
                ))
            })
        })
        .await
    }
}

/// `volume info NAME`, parsed.
pub async fn info(ctx: &Ctx, server: &Node, name: &str) -> Result<VolumeInfo, TestError> {
    let root = gluster_xml(ctx, server, ["volume", "info", name]).await?;
    let cmd = format!("gluster volume info {name} --xml");
    let v = root.find("volume").ok_or_else(|| TestError::Parse {
        node: server.name().to_string(),
        command: cmd.clone(),
        message: "no <volume> element".into(),
    })?;
    parse_info(v, server, &cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml;

    #[test]
    fn layout_arithmetic() {
        assert_eq!(
            Layout::DistributedReplicate {
                replica: 2,
                sets: 2
            }
            .brick_count(),
            4
        );
        assert_eq!(Layout::Arbiter { sets: 1 }.brick_count(), 3);
        assert_eq!(
            Layout::Disperse {
                bricks: 3,
                redundancy: 1
            }
            .set_size(),
            3
        );
        assert_eq!(
            Layout::Disperse {
                bricks: 3,
                redundancy: 1
            }
            .create_args(),
            ["disperse", "3", "redundancy", "1"]
        );
        assert_eq!(
            Layout::Arbiter { sets: 1 }.create_args(),
            ["replica", "3", "arbiter", "1"]
        );
    }

    #[test]
    fn parses_volume_status_bricks_only() {
        let doc = r#"<cliOutput><opRet>0</opRet><volStatus><volumes><volume><volName>v</volName>
          <node><hostname>server1</hostname><path>/bricks/v/b0</path><status>1</status><port>49152</port><pid>77</pid></node>
          <node><hostname>server2</hostname><path>/bricks/v/b1</path><status>0</status><port>N/A</port><pid>-1</pid></node>
          <node><hostname>Self-heal Daemon</hostname><path>localhost</path><status>1</status><port>N/A</port><pid>90</pid></node>
          </volume></volumes></volStatus></cliOutput>"#;
        let st = parse_status(&xml::parse(doc).expect("xml"));
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].pid, Some(77));
        assert_eq!(st[0].port, Some(49152));
        assert!(!st[1].online);
        assert_eq!(st[1].pid, None);
        assert_eq!(st[1].spec(), "server2:/bricks/v/b1");
    }
}

impl VolumeType {
    /// The default geometry.
    pub fn layout(self) -> Layout {
        match self {
            VolumeType::Distribute => Layout::Distribute { bricks: 4 },
            VolumeType::Replicate => Layout::Replicate { replica: 3 },
            VolumeType::DistributedReplicate => Layout::DistributedReplicate {
                replica: 3,
                sets: 2,
            },
            VolumeType::Disperse => Layout::Disperse {
                bricks: 6,
                redundancy: 2,
            },
            VolumeType::DistributedDisperse => Layout::DistributedDisperse {
                bricks: 6,
                redundancy: 2,
                sets: 2,
            },
            VolumeType::Arbiter => Layout::Arbiter { sets: 1 },
            VolumeType::DistributedArbiter => Layout::Arbiter { sets: 2 },
        }
    }
    /// A spec of the default geometry, named with [`VolumeType::short`].
    pub fn spec(self) -> VolumeSpec {
        VolumeSpec::new(self.layout(), self.short())
    }
}

impl Ctx {
    /// A spec of this variant's volume type ([`VolumeType::spec`]), or an error
    /// saying the case declares no `runs_on`.
    pub fn matrix_spec(&self) -> Result<VolumeSpec, TestError> {
        self.volume_type().map(VolumeType::spec).ok_or_else(|| {
            TestError::Nodes(format!(
                "test {} asks for its matrix volume type but declares no runs_on",
                self.id()
            ))
        })
    }
}

#[cfg(test)]
mod matrix_tests {
    use crate::matrix::VolumeType;

    #[test]
    fn default_geometries() {
        let bricks: Vec<usize> = VolumeType::ALL
            .iter()
            .map(|t| t.layout().brick_count())
            .collect();
        assert_eq!(bricks, [4, 3, 6, 6, 12, 3, 6]);
        assert_eq!(
            VolumeType::DistributedDisperse.layout().type_str(),
            "Distributed-Disperse"
        );
    }
}
