//! Carries out node steps (`crate::node::NodeStep`) on running nodes: waits, commands through the
//! agent, and engine operations on the node's container. `up` runs each node's steps after start,
//! `down` runs the steps before removal, and [`lifecycle`] runs what a kind says an action is.
//!
//! A container node's agent is published on a random host port that changes when the container
//! restarts: after an engine operation, and whenever a connection fails, its address is read
//! again from the lab's labels.
use std::time::{Duration, Instant};

use gflab_agent::{Client, ClientOptions, Command, Role, Secret};

use crate::kind::{Deadlines, Kind, Unsupported};
use crate::node::{Lifecycle, NodeStep, WaitFor};
use crate::runtime::{LabObject, ObjectKind, Runtime, RuntimeError, LABEL_NODE};

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// A wait ran out of time.
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
    /// A command exited non-zero.
    #[error("failed to {what} on {node}: `{cmd}` exited with {status}: {output}")]
    Command {
        /// What it was for.
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
    /// Talking to the agent failed.
    #[error("failed to {what} on {node}: {source}")]
    Agent {
        /// What.
        what: String,
        /// Node.
        node: String,
        /// The client's error.
        source: gflab_agent::Error,
    },
    /// An engine operation failed.
    #[error("node {node}: {source}")]
    Engine {
        /// Node.
        node: String,
        /// The engine's error.
        source: RuntimeError,
    },
    /// The node is not a container, or its container is gone.
    #[error("failed to find the container of node {node} in lab {lab}")]
    NoContainer {
        /// Node.
        node: String,
        /// Lab.
        lab: String,
    },
    /// The node's kind cannot do what was asked.
    #[error(transparent)]
    Unsupported(#[from] Unsupported),
}

/// A running node that steps act on.
#[derive(Debug, Clone)]
pub struct Target {
    /// Node name.
    pub name: String,
    /// Server or client.
    pub role: Role,
    /// The lab whose labels locate its container, when it is one (`None` for real hosts).
    pub lab: Option<String>,
    /// Where its agent was last reached (`127.0.0.1:49321`).
    pub agent: String,
    /// Its connected agent, once a wait or command connected.
    pub client: Option<Client>,
}

impl Target {
    /// A node whose agent is at `agent`.
    pub fn new(name: &str, role: Role, lab: Option<&str>, agent: &str) -> Target {
        Target {
            name: name.to_string(),
            role,
            lab: lab.map(String::from),
            agent: agent.to_string(),
            client: None,
        }
    }
}

/// Client options for short-lived connections during waits (a dead agent is retried by the wait).
pub fn wait_options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(2),
        max_reconnect_attempts: 3,
        initial_backoff: Duration::from_millis(50),
    }
}

pub use crate::node::published_agent;

/// Runs `steps` on `node` in order; the first failure ends them. `rt` is `None` for nodes that
/// are not containers (real hosts): an engine step is then an error.
pub async fn run_steps<R: Runtime>(
    rt: Option<&R>,
    secret: &Secret,
    node: &mut Target,
    steps: &[NodeStep],
) -> Result<(), ControlError> {
    // A reboot is seen as a new boot id: remember the one before.
    let before = if steps.iter().any(|s| {
        matches!(
            s,
            NodeStep::Wait {
                what: WaitFor::NewBoot,
                ..
            }
        )
    }) {
        Some(boot_id(&connected(rt, secret, node).await?, &node.name).await?)
    } else {
        None
    };
    for step in steps {
        match step {
            NodeStep::Wait { what, deadline } => {
                wait(rt, secret, node, *what, *deadline, before.as_deref()).await?
            }
            NodeStep::Run {
                what,
                argv,
                timeout,
                may_disconnect,
            } => {
                let client = connected(rt, secret, node).await?;
                let cmd = Command::new(argv[0].clone())
                    .args(argv[1..].iter().cloned())
                    .timeout(*timeout);
                match run(&client, &node.name, what, cmd).await {
                    Err(ControlError::Agent { .. }) if *may_disconnect => node.client = None,
                    other => {
                        other?;
                    }
                }
            }
            NodeStep::Engine(op) => {
                let container = container_of(rt, node).await?;
                let rt = rt.ok_or_else(|| ControlError::NoContainer {
                    node: node.name.clone(),
                    lab: node.lab.clone().unwrap_or_default(),
                })?;
                rt.control(&container.name, *op)
                    .await
                    .map_err(|source| ControlError::Engine {
                        node: node.name.clone(),
                        source,
                    })?;
                // Its agent comes back on a new port.
                node.client = None;
            }
        }
    }
    Ok(())
}

/// Carries out a lifecycle action on a node of `kind` (`rt`: as for [`run_steps`]).
pub async fn lifecycle<R: Runtime>(
    rt: Option<&R>,
    secret: &Secret,
    kind: &dyn Kind,
    node: &mut Target,
    action: Lifecycle,
    deadlines: &Deadlines,
) -> Result<(), ControlError> {
    let steps = kind.lifecycle(action, node.role, deadlines)?;
    tracing::info!(node = %node.name, %action, kind = kind.kind().as_str(), "lifecycle");
    run_steps(rt, secret, node, &steps).await
}

/// The node's container in its lab, as the engine lists it now.
async fn container_of<R: Runtime>(
    rt: Option<&R>,
    node: &Target,
) -> Result<LabObject, ControlError> {
    let no_container = || ControlError::NoContainer {
        node: node.name.clone(),
        lab: node.lab.clone().unwrap_or_default(),
    };
    let (Some(rt), Some(lab)) = (rt, node.lab.as_deref()) else {
        return Err(no_container());
    };
    rt.list(Some(lab))
        .await
        .map_err(|source| ControlError::Engine {
            node: node.name.clone(),
            source,
        })?
        .into_iter()
        .find(|o| o.kind == ObjectKind::Container && o.label(LABEL_NODE) == node.name)
        .ok_or_else(no_container)
}

/// The node's agent, connecting (and re-reading its address) when there is no live connection.
async fn connected<R: Runtime>(
    rt: Option<&R>,
    secret: &Secret,
    node: &mut Target,
) -> Result<Client, ControlError> {
    if node.client.is_none() {
        if rt.is_some() && node.lab.is_some() {
            if let Some(addr) = published_agent(&container_of(rt, node).await?) {
                node.agent = addr;
            }
        }
        let client = Client::connect(&node.agent, secret.clone(), wait_options())
            .await
            .map_err(|source| ControlError::Agent {
                what: format!("connect to the agent at {}", node.agent),
                node: node.name.clone(),
                source,
            })?;
        node.client = Some(client);
    }
    node.client
        .clone()
        .ok_or_else(|| ControlError::NoContainer {
            node: node.name.clone(),
            lab: node.lab.clone().unwrap_or_default(),
        })
}

/// Runs a command that must succeed; returns its stdout.
async fn run(
    client: &Client,
    node: &str,
    what: &str,
    cmd: Command,
) -> Result<String, ControlError> {
    let line = cmd.display();
    let out = client
        .exec(cmd)
        .await
        .map_err(|source| ControlError::Agent {
            what: format!("run `{line}` ({what})"),
            node: node.to_string(),
            source,
        })?;
    if out.success() {
        return Ok(out.stdout_str());
    }
    Err(ControlError::Command {
        what: what.to_string(),
        node: node.to_string(),
        cmd: line,
        status: format!("{:?}", out.status),
        output: format!("{}{}", out.stdout_str().trim(), out.stderr_str().trim()),
    })
}

/// The node's kernel boot id.
async fn boot_id(client: &Client, node: &str) -> Result<String, ControlError> {
    let cmd = Command::new("cat")
        .arg("/proc/sys/kernel/random/boot_id")
        .timeout(Duration::from_secs(10));
    Ok(run(client, node, "read the boot id", cmd)
        .await?
        .trim()
        .to_string())
}

/// Polls `what` until it holds or `deadline` passes.
async fn wait<R: Runtime>(
    rt: Option<&R>,
    secret: &Secret,
    node: &mut Target,
    what: WaitFor,
    deadline: Duration,
    boot_before: Option<&str>,
) -> Result<(), ControlError> {
    let start = Instant::now();
    let mut last = String::from("no attempt");
    let every = match what {
        WaitFor::AgentPing | WaitFor::NewBoot => Duration::from_millis(50),
        WaitFor::Glusterd => Duration::from_millis(100),
    };
    while start.elapsed() < deadline {
        match check(rt, secret, node, what, boot_before).await {
            Ok(None) => {
                tracing::debug!(node = %node.name, %what, elapsed_ms = start.elapsed().as_millis() as u64, "ready");
                return Ok(());
            }
            Ok(Some(why)) => last = why,
            Err(e) => {
                last = e.to_string();
                // Reconnect next time, at the address the labels say now.
                if matches!(e, ControlError::Agent { .. }) {
                    node.client = None;
                }
            }
        }
        tokio::time::sleep(every).await;
    }
    Err(ControlError::Timeout {
        node: node.name.clone(),
        what,
        secs: deadline.as_secs(),
        last,
    })
}

/// One look at a wait's condition: `None` when it holds, else what is not there yet.
async fn check<R: Runtime>(
    rt: Option<&R>,
    secret: &Secret,
    node: &mut Target,
    what: WaitFor,
    boot_before: Option<&str>,
) -> Result<Option<String>, ControlError> {
    let name = node.name.clone();
    let client = connected(rt, secret, node).await?;
    let agent_err = |source| ControlError::Agent {
        what: "ping the agent".into(),
        node: name.clone(),
        source,
    };
    match what {
        WaitFor::AgentPing => {
            client.ping().await.map_err(agent_err)?;
            Ok(None)
        }
        WaitFor::NewBoot => {
            let now = boot_id(&client, &name).await?;
            Ok((Some(now.as_str()) == boot_before).then(|| format!("still boot {now}")))
        }
        WaitFor::Glusterd => {
            let cmd = Command::new("gluster")
                .args(["--mode=script", "pool", "list"])
                .timeout(Duration::from_secs(30));
            match run(&client, &name, "check glusterd", cmd).await {
                Ok(_) => Ok(None),
                Err(ControlError::Command { output, status, .. }) => Ok(Some(format!(
                    "gluster pool list exited with {status}: {output}"
                ))),
                Err(e) => Err(e),
            }
        }
    }
}
