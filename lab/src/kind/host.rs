//! The `host` kind: a real machine (physical, a VM, or a network namespace) listed by hand in a
//! node list and running the agent. gflab creates and removes nothing for it; it reboots through
//! its own agent, and the wait ends when the agent answers with a new boot id.
use gflab_agent::Role;

use super::{pause_resume, ready_waits, Deadlines, Kind, ShapeContext, Unsupported};
use crate::node::{Lifecycle, NodePlan, NodeStep, WaitFor};
use crate::runtime::Labels;
use crate::topology::NodeKind;

/// The `host` kind.
#[derive(Debug, Clone, Copy)]
pub struct Host;

/// Reboots with systemd where it runs, with the init system's `reboot` elsewhere; detached, so the
/// agent can answer before it goes down.
const REBOOT: &str = "(sleep 1; systemctl reboot || reboot) >/dev/null 2>&1 &";

impl Kind for Host {
    fn kind(&self) -> NodeKind {
        NodeKind::Host
    }

    fn shape(&self, node: &mut NodePlan, ctx: &ShapeContext<'_>) {
        // Nothing to create: only wait for what runs there already.
        node.after_start = ready_waits(
            WaitFor::AgentPing,
            ctx.deadlines.agent,
            node.role,
            &ctx.deadlines,
        );
    }

    fn before_remove(&self, _labels: &Labels) -> Vec<NodeStep> {
        Vec::new()
    }

    fn lifecycle(
        &self,
        action: Lifecycle,
        role: Role,
        d: &Deadlines,
    ) -> Result<Vec<NodeStep>, Unsupported> {
        let unsupported = |why| Unsupported {
            kind: NodeKind::Host.as_str(),
            action,
            why,
        };
        match action {
            Lifecycle::Restart => {
                let mut steps = vec![NodeStep::Run {
                    what: "reboot",
                    argv: vec!["sh".into(), "-c".into(), REBOOT.into()],
                    timeout: std::time::Duration::from_secs(10),
                    may_disconnect: true,
                }];
                steps.extend(ready_waits(WaitFor::NewBoot, d.reboot, role, d));
                Ok(steps)
            }
            Lifecycle::Stop | Lifecycle::Start => Err(unsupported(
                "a real host powered off cannot be powered on through its agent; use restart",
            )),
            Lifecycle::Pause | Lifecycle::Resume => Ok(pause_resume(action).into_iter().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_reboots_through_its_agent_and_waits_for_a_new_boot() {
        let steps = Host
            .lifecycle(Lifecycle::Restart, Role::Server, &Deadlines::default())
            .expect("supported");
        assert!(matches!(
            &steps[0],
            NodeStep::Run { may_disconnect: true, argv, .. } if argv[2].contains("reboot")
        ));
        assert!(matches!(
            steps[1],
            NodeStep::Wait {
                what: WaitFor::NewBoot,
                ..
            }
        ));
        assert!(matches!(
            steps[2],
            NodeStep::Wait {
                what: WaitFor::Glusterd,
                ..
            }
        ));
        let err = Host
            .lifecycle(Lifecycle::Stop, Role::Client, &Deadlines::default())
            .expect_err("no power control");
        assert!(
            err.to_string().starts_with("a host node cannot stop"),
            "{err}"
        );
        assert!(Host.before_remove(&Labels::new()).is_empty());
    }
}
