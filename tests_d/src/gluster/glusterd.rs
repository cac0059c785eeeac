//! glusterd control through the agent's service control (systemd on hosts, the agent's supervisor in
//! containers), and waiting until it answers the CLI again.
use std::time::Duration;

use gflab_agent::ServiceAction;

use super::{gluster_cmd, wait_for, Poll};
use crate::ctx::{Cleanup, Node};
use crate::{Ctx, TestError};

/// The service name.
pub const SERVICE: &str = "glusterd";

/// Starts glusterd on `node`.
pub async fn start(ctx: &Ctx, node: &Node) -> Result<(), TestError> {
    ctx.service(node, SERVICE, ServiceAction::Start)
        .await
        .map(|_| ())
}

/// Stops glusterd on `node`; registers a cleanup that starts it again at the end of the test.
pub async fn stop(ctx: &Ctx, node: &Node) -> Result<(), TestError> {
    ctx.defer(Cleanup::Service {
        node: node.clone(),
        name: SERVICE.into(),
    });
    ctx.service(node, SERVICE, ServiceAction::Stop)
        .await
        .map(|_| ())
}

/// Restarts glusterd on `node` and returns its new PID when the agent reports one.
pub async fn restart(ctx: &Ctx, node: &Node) -> Result<Option<u32>, TestError> {
    Ok(ctx
        .service(node, SERVICE, ServiceAction::Restart)
        .await?
        .pid)
}

/// Whether glusterd is running, per the service manager.
pub async fn is_running(ctx: &Ctx, node: &Node) -> Result<bool, TestError> {
    Ok(ctx
        .service(node, SERVICE, ServiceAction::Status)
        .await?
        .running)
}

/// Waits until glusterd on `node` answers `gluster volume list`.
pub async fn wait(ctx: &Ctx, node: &Node, timeout: Duration) -> Result<(), TestError> {
    let what = format!("glusterd on {} to answer", node.name());
    wait_for(ctx, &what, timeout, Duration::from_millis(500), || async {
        let out = ctx.exec(node, gluster_cmd(["volume", "list"])).await?;
        Ok(if out.success() {
            Poll::Ready(())
        } else {
            Poll::Pending(format!(
                "{} {}",
                out.stdout_str().trim(),
                out.stderr_str().trim()
            ))
        })
    })
    .await
}
