//! Node kinds: how a node runs, behind one small interface (containerlab's kinds, kind's
//! providers). Each kind is one module:
//!
//! - [`container`]: a plain container on the lab network (the default).
//! - [`kernel_vm`]: a container running QEMU with the node's own kernel (thin-LVM snapshots on
//!   hosts without dm-thin).
//! - [`host`]: a real machine from a hand-written node list; nothing to create or remove.
//!
//! A kind shapes its node's part of the plan ([`Kind::shape`]: image, devices, files, labels and
//! the steps after start), says what to do before its container is removed, and what each
//! [`Lifecycle`] action means for it. It only returns data: `crate::control` carries steps out,
//! so kinds are pure and table-tested. Adding a kind is adding a module here and a
//! [`NodeKind`] variant; nothing else branches on the kind.
pub mod container;
pub mod host;
pub mod kernel_vm;

use std::net::Ipv4Addr;
use std::time::Duration;

use gflab_agent::Role;

use crate::facts::HostFacts;
use crate::node::{Lifecycle, NodePlan, NodeStep, WaitFor, LABEL_KIND};
use crate::runtime::{ContainerOp, Labels};
use crate::topology::{NodeKind, Release};

/// How long each wait after start may take, by kind of wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// For a container's agent to answer.
    pub agent: Duration,
    /// For a kernel-VM node's agent to answer (QEMU boot, possibly under software emulation).
    pub boot: Duration,
    /// For a real host to come back from a reboot.
    pub reboot: Duration,
    /// For each glusterd to answer.
    pub glusterd: Duration,
    /// For the whole pool to show every peer connected.
    pub pool: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            agent: Duration::from_secs(30),
            boot: Duration::from_secs(300),
            reboot: Duration::from_secs(600),
            glusterd: Duration::from_secs(60),
            pool: Duration::from_secs(60),
        }
    }
}

/// What a kind may look at while it shapes a node: the lab, never the host itself.
#[derive(Debug, Clone, Copy)]
pub struct ShapeContext<'a> {
    /// Lab name.
    pub lab: &'a str,
    /// Debian release of the lab.
    pub release: Release,
    /// The host, probed once before planning.
    pub facts: &'a HostFacts,
    /// Every node's name and address (for nodes that cannot use the engine's DNS).
    pub hosts: &'a [(String, Ipv4Addr)],
    /// Wait deadlines.
    pub deadlines: Deadlines,
}

/// Why a kind cannot carry out a lifecycle action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {kind} node cannot {action}: {why}")]
pub struct Unsupported {
    /// The kind.
    pub kind: &'static str,
    /// The action asked for.
    pub action: Lifecycle,
    /// Why not.
    pub why: &'static str,
}

/// One kind of node.
pub trait Kind: Sync + std::fmt::Debug {
    /// Which kind this is.
    fn kind(&self) -> NodeKind;
    /// Shapes `node`'s part of the plan. `node` arrives as a plain container node with the
    /// lab's common settings; the kind changes what differs and sets `after_start`.
    fn shape(&self, node: &mut NodePlan, ctx: &ShapeContext<'_>);
    /// What to run on a node (through its agent) before its container is removed, from the
    /// container's labels.
    fn before_remove(&self, labels: &Labels) -> Vec<NodeStep>;
    /// What `action` is for a node of this kind with `role`, as steps.
    fn lifecycle(
        &self,
        action: Lifecycle,
        role: Role,
        deadlines: &Deadlines,
    ) -> Result<Vec<NodeStep>, Unsupported>;
}

/// The kind behind a [`NodeKind`].
pub fn of(kind: NodeKind) -> &'static dyn Kind {
    match kind {
        NodeKind::Container => &container::Container,
        NodeKind::KernelVm => &kernel_vm::KernelVm,
        NodeKind::Host => &host::Host,
    }
}

/// The kind of a lab container, from its labels (containers made before kinds were labeled are
/// plain containers).
pub fn of_labels(labels: &Labels) -> &'static dyn Kind {
    let name = labels.get(LABEL_KIND).map_or("", String::as_str);
    of(NodeKind::ALL
        .into_iter()
        .find(|k| k.as_str() == name)
        .unwrap_or(NodeKind::Container))
}

/// The waits after a node's agent starts: its agent, then (servers) glusterd.
pub fn ready_waits(
    agent: WaitFor,
    agent_deadline: Duration,
    role: Role,
    d: &Deadlines,
) -> Vec<NodeStep> {
    let mut steps = vec![NodeStep::wait(agent, agent_deadline)];
    if role == Role::Server {
        steps.push(NodeStep::wait(WaitFor::Glusterd, d.glusterd));
    }
    steps
}

/// The processes that make up a node's GlusterFS: glusterd, bricks, daemons and FUSE mounts.
const GLUSTER_PROCESSES: [&str; 3] = ["glusterd", "glusterfsd", "glusterfs"];

/// Freezes (`STOP`) or thaws (`CONT`) every GlusterFS process of a node through its agent; the
/// same on every kind, since the agent keeps running. No such process (pkill's 1) is fine.
pub fn signal_gluster(what: &'static str, signal: &str) -> NodeStep {
    let line = format!(
        "pkill -{signal} -x '{}' || [ $? -eq 1 ]",
        GLUSTER_PROCESSES.join("|")
    );
    NodeStep::Run {
        what,
        argv: vec!["sh".into(), "-c".into(), line],
        timeout: Duration::from_secs(10),
        may_disconnect: false,
    }
}

/// Lifecycle actions of a node that is a container (whatever runs inside it): the engine starts,
/// stops or restarts it, then its agent (within `agent_deadline`) and glusterd are awaited.
pub fn container_lifecycle(
    action: Lifecycle,
    role: Role,
    agent_deadline: Duration,
    d: &Deadlines,
) -> Vec<NodeStep> {
    let engine = |op| {
        let mut steps = vec![NodeStep::Engine(op)];
        steps.extend(ready_waits(WaitFor::AgentPing, agent_deadline, role, d));
        steps
    };
    match action {
        Lifecycle::Restart => engine(ContainerOp::Restart),
        Lifecycle::Start => engine(ContainerOp::Start),
        Lifecycle::Stop => vec![NodeStep::Engine(ContainerOp::Stop)],
        Lifecycle::Pause | Lifecycle::Resume => pause_resume(action).into_iter().collect(),
    }
}

/// Pause and resume, which every kind does the same way.
pub fn pause_resume(action: Lifecycle) -> Option<NodeStep> {
    match action {
        Lifecycle::Pause => Some(signal_gluster("pause GlusterFS processes", "STOP")),
        Lifecycle::Resume => Some(signal_gluster("resume GlusterFS processes", "CONT")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_found_by_its_label() {
        for k in NodeKind::ALL {
            let labels = Labels::from([(LABEL_KIND.to_string(), k.as_str().to_string())]);
            assert_eq!(of_labels(&labels).kind(), k);
            assert_eq!(of(k).kind(), k);
        }
        assert_eq!(of_labels(&Labels::new()).kind(), NodeKind::Container);
    }

    #[test]
    fn pause_and_resume_signal_every_gluster_process_on_every_kind() {
        let d = Deadlines::default();
        for k in NodeKind::ALL {
            for (action, sig) in [(Lifecycle::Pause, "-STOP"), (Lifecycle::Resume, "-CONT")] {
                let steps = of(k)
                    .lifecycle(action, Role::Server, &d)
                    .expect("supported");
                let [NodeStep::Run { argv, .. }] = steps.as_slice() else {
                    panic!("{k:?} {action}: {steps:?}");
                };
                assert_eq!(
                    argv[2],
                    format!("pkill {sig} -x 'glusterd|glusterfsd|glusterfs' || [ $? -eq 1 ]")
                );
            }
        }
    }
}
