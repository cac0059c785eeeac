//! The `container` kind: a plain container on the lab network, with its state in named volumes
//! (so it survives a restart). Servers with thin-LVM bricks (on hosts whose kernel has dm-thin)
//! get a loop-backed thin pool made through the agent after start and removed before removal.
use gflab_agent::Role;

use super::{container_lifecycle, ready_waits, Deadlines, Kind, ShapeContext, Unsupported};
use crate::node::{Lifecycle, NodePlan, NodeStep, WaitFor, BRICK_ROOT};
use crate::runtime::{FileUpload, Labels};
use crate::thin;
use crate::topology::{BrickKind, NodeKind};

/// The `container` kind.
#[derive(Debug, Clone, Copy)]
pub struct Container;

impl Kind for Container {
    fn kind(&self) -> NodeKind {
        NodeKind::Container
    }

    fn shape(&self, node: &mut NodePlan, ctx: &ShapeContext<'_>) {
        node.after_start = ready_waits(
            WaitFor::AgentPing,
            ctx.deadlines.agent,
            node.role,
            &ctx.deadlines,
        );
        if node.role == Role::Server {
            // Small bricks (`VolumeSpec::brick_size`) are loop-backed filesystems made inside.
            node.container.devices.push("/dev/loop-control".into());
            node.container.device_cgroup_rules.push("b 7:* rwm".into());
        }
        if node.brick_kind != Some(BrickKind::ThinLvm) {
            return;
        }
        // LVM in the container makes its own loop and device-mapper nodes (major 7 and the
        // dynamic device-mapper one): allow block devices, pass the two control devices.
        let c = &mut node.container;
        c.devices.push("/dev/mapper/control".into());
        c.device_cgroup_rules = vec!["b *:* rwm".into()];
        let vg = thin::vg_name(ctx.lab, &node.name);
        c.labels.insert(thin::LABEL_THIN_VG.into(), vg.clone());
        node.files.push(FileUpload {
            path: thin::THIN_BRICKS_PATH.into(),
            data: thin::THIN_BRICKS_SCRIPT.as_bytes().to_vec(),
            mode: 0o755,
        });
        node.after_start
            .push(thin::setup_in_container(&vg, BRICK_ROOT));
    }

    fn before_remove(&self, labels: &Labels) -> Vec<NodeStep> {
        // Its thin pool lives in the host kernel: it would outlive the container.
        labels
            .get(thin::LABEL_THIN_VG)
            .filter(|vg| !vg.is_empty())
            .map(|vg| vec![thin::teardown(vg, BRICK_ROOT)])
            .unwrap_or_default()
    }

    fn lifecycle(
        &self,
        action: Lifecycle,
        role: Role,
        d: &Deadlines,
    ) -> Result<Vec<NodeStep>, Unsupported> {
        Ok(container_lifecycle(action, role, d.agent, d))
    }
}
