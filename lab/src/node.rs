//! A node as the plan describes it, and the steps its kind is made of.
//!
//! Everything here is data: a [`NodePlan`] says what to create for one node; [`NodeStep`]s say
//! what to do to it once it runs (wait for its agent, run a command through it, ask the engine to
//! restart it). Kinds (`crate::kind`) produce both; `crate::control` carries steps out.
use std::net::Ipv4Addr;
use std::time::Duration;

use gflab_agent::{Capability, Role};

use crate::runtime::{ContainerOp, ContainerSpec, FileUpload, Labels};
use crate::topology::{BrickKind, NodeKind};

/// Port the agent listens on inside every node.
pub const AGENT_PORT: u16 = 7070;
/// Where the agent binary goes in a node.
pub const AGENT_PATH: &str = "/usr/local/bin/gflab-agent";
/// Where the secret goes in a node.
pub const SECRET_PATH: &str = "/etc/gflab/secret";
/// Where a node records the GlusterFS build it was given (`<version> source <hash>`), read by
/// `gflab status`.
pub const NODE_BUILD_FILE: &str = "/etc/gflab/glusterfs-build";
/// Brick root on servers.
pub const BRICK_ROOT: &str = "/bricks";
/// The glusterd command line the agent supervises (foreground, so the agent can stop and restart it).
pub const GLUSTERD_CMD: &str = "glusterd -N --log-file=/var/log/glusterfs/glusterd.log";

/// Label carrying a node's lab IP, on containers.
pub const LABEL_IP: &str = "io.gflab.ip";
/// Label carrying a node's kind (`container`, `kernel-vm`), on containers.
pub const LABEL_KIND: &str = "io.gflab.kind";
/// Label on node containers: the Debian release (and so the GlusterFS version) the node runs.
pub const LABEL_RELEASE: &str = "io.gflab.release";
/// Label listing a node's capabilities, comma-separated (the node list's `capabilities`).
pub const LABEL_CAPABILITIES: &str = "io.gflab.capabilities";

/// One node of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    /// `server1`, `client2`, ...
    pub name: String,
    /// Server or client.
    pub role: Role,
    /// How it runs.
    pub kind: NodeKind,
    /// Servers: what bricks sit on.
    pub brick_kind: Option<BrickKind>,
    /// Servers: bricks per server.
    pub bricks: u32,
    /// Address on the lab network.
    pub ip: Ipv4Addr,
    /// The container to create.
    pub container: ContainerSpec,
    /// Files for this node only, uploaded before start with the common ones.
    pub files: Vec<FileUpload>,
    /// What to do, in order, once its container has started, before the pool forms.
    pub after_start: Vec<NodeStep>,
}

/// What a node step waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitFor {
    /// The agent accepts a connection, authenticates and answers a ping.
    AgentPing,
    /// The agent answers with a boot id other than the one it had before the step's action
    /// (a real host came back from a reboot).
    NewBoot,
    /// glusterd answers `gluster pool list` (servers only).
    Glusterd,
}

impl std::fmt::Display for WaitFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WaitFor::AgentPing => "the agent to answer",
            WaitFor::NewBoot => "the agent to answer after a reboot",
            WaitFor::Glusterd => "glusterd to answer",
        })
    }
}

/// One thing done to a running node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeStep {
    /// Wait until the condition holds, at most `deadline`.
    Wait {
        /// The condition.
        what: WaitFor,
        /// How long to try.
        deadline: Duration,
    },
    /// Run a command through the node's agent; a non-zero exit fails the step.
    Run {
        /// What it is for, for messages (`set up thin-LVM bricks`).
        what: &'static str,
        /// The command's argv.
        argv: Vec<String>,
        /// Its timeout.
        timeout: Duration,
        /// Whether the agent's connection may drop while it runs (a reboot): then the step
        /// counts as done.
        may_disconnect: bool,
    },
    /// Ask the engine to start, stop or restart the node's container.
    Engine(ContainerOp),
}

impl NodeStep {
    /// A wait.
    pub fn wait(what: WaitFor, deadline: Duration) -> NodeStep {
        NodeStep::Wait { what, deadline }
    }
    /// A command through the agent that must succeed.
    pub fn run(what: &'static str, argv: &[&str], timeout: Duration) -> NodeStep {
        NodeStep::Run {
            what,
            argv: argv.iter().map(|a| (*a).to_string()).collect(),
            timeout,
            may_disconnect: false,
        }
    }
}

/// What a test or a user can do to a whole node. Each kind says what it means for its nodes
/// (`crate::kind::Kind::lifecycle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    /// Reboot: every process stops, state on disk survives, the node comes back by itself.
    Restart,
    /// Power off (the node stays down until [`Lifecycle::Start`]).
    Stop,
    /// Power on a stopped node.
    Start,
    /// Freeze the node's GlusterFS processes (the agent stays reachable).
    Pause,
    /// Thaw what [`Lifecycle::Pause`] froze.
    Resume,
}

impl std::fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lifecycle::Restart => "restart",
            Lifecycle::Stop => "stop",
            Lifecycle::Start => "start",
            Lifecycle::Pause => "pause",
            Lifecycle::Resume => "resume",
        })
    }
}

/// A role's name in labels, tables and node names (`server`, `client`).
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Server => "server",
        Role::Client => "client",
    }
}

/// The capabilities a node's labels carry (a name this build does not know is left out).
pub fn capabilities_of(labels: &Labels) -> Vec<Capability> {
    labels
        .get(LABEL_CAPABILITIES)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter_map(|c| c.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The agent's command line in a node.
pub fn agent_cmd(role: Role) -> Vec<String> {
    let mut cmd: Vec<String> = [
        AGENT_PATH,
        "--listen",
        "0.0.0.0:7070",
        "--secret-file",
        SECRET_PATH,
    ]
    .map(String::from)
    .to_vec();
    if role == Role::Server {
        cmd.push("--service".into());
        cmd.push(format!("glusterd={GLUSTERD_CMD}"));
        cmd.push("--start".into());
        cmd.push("glusterd".into());
    }
    cmd
}

/// What every node container gets before it starts: the agent binary and the lab's secret.
pub fn node_files(agent_binary: &[u8], secret: &gflab_agent::Secret) -> [FileUpload; 2] {
    [
        FileUpload {
            path: AGENT_PATH.into(),
            data: agent_binary.to_vec(),
            mode: 0o755,
        },
        FileUpload {
            path: SECRET_PATH.into(),
            data: secret.expose().to_vec(),
            mode: 0o600,
        },
    ]
}

/// The published agent address of a lab container, from a listing.
pub fn published_agent(obj: &crate::runtime::LabObject) -> Option<String> {
    obj.ports
        .iter()
        .find(|p| p.container == AGENT_PORT)
        .map(|p| p.host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_command_line_is_fixed() {
        assert_eq!(
            agent_cmd(Role::Server),
            vec![
                "/usr/local/bin/gflab-agent",
                "--listen",
                "0.0.0.0:7070",
                "--secret-file",
                "/etc/gflab/secret",
                "--service",
                "glusterd=glusterd -N --log-file=/var/log/glusterfs/glusterd.log",
                "--start",
                "glusterd"
            ]
        );
        assert_eq!(agent_cmd(Role::Client).len(), 5);
    }

    #[test]
    fn capabilities_come_from_one_label() {
        let mut l = Labels::new();
        assert!(capabilities_of(&l).is_empty());
        l.insert(LABEL_CAPABILITIES.into(), "thin-lvm, x ,".into());
        assert_eq!(capabilities_of(&l), [Capability::ThinLvm]);
    }
}
