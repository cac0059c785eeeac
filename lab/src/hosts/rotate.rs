//! `gflab hosts rotate-secret`: a new secret on every host, through the agents themselves (the link is
//! encrypted and authenticated with the old secret), all or nothing. Per host: write the new secret
//! to the installed secret file (atomically, 0600), SIGHUP the agent (it re-reads the file; open
//! connections keep their keys, so a runner connected meanwhile is not interrupted), and prove the
//! new secret with a fresh connection. If any host fails, the hosts already rotated get the old secret
//! back; only when every host answers to the new secret is the node list's secret file replaced.
use std::time::Duration;

use futures::StreamExt;
use gflab_agent::{Client, ClientOptions, Command, NodeEntry, Secret};

/// How one host fared.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RotateReport {
    /// The node.
    pub node: String,
    /// Its agent address.
    pub agent: String,
    /// Whether it answers to the new secret now.
    pub rotated: bool,
    /// Whether it was rotated and then given the old secret back (another host failed).
    pub rolled_back: bool,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// Client settings for rotation: quick, few retries.
fn opts(timeout: Duration) -> ClientOptions {
    ClientOptions {
        connect_timeout: timeout,
        max_reconnect_attempts: 3,
        initial_backoff: Duration::from_millis(100),
    }
}

/// Where and how to rotate.
#[derive(Debug, Clone)]
pub struct RotateOptions {
    /// The secret file the agents read (`/etc/gflab/secret` where `gflab hosts install` put them).
    pub secret_path: String,
    /// Hosts worked on at once.
    pub jobs: usize,
    /// Per connection.
    pub timeout: Duration,
}

/// Puts `to` on the host whose agent answers to `from`, reloads it and checks it answers to `to`.
async fn swap(
    node: &NodeEntry,
    from: &Secret,
    to: &Secret,
    o: &RotateOptions,
) -> Result<(), String> {
    let timeout = o.timeout;
    let client = Client::connect(&node.agent, from.clone(), opts(timeout))
        .await
        .map_err(|e| e.to_string())?;
    client
        .put_file(&o.secret_path, to.expose().to_vec(), 0o600)
        .await
        .map_err(|e| e.to_string())?;
    // The shell's parent is the agent daemon itself.
    let out = client
        .exec(Command::shell("kill -HUP $PPID"))
        .await
        .map_err(|e| e.to_string())?;
    if !out.success() {
        return Err(format!(
            "failed to signal the agent: {}",
            out.stderr_str().trim()
        ));
    }
    // The reload is asynchronous: give it a moment, then prove the new secret.
    let mut last = String::new();
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match Client::connect(&node.agent, to.clone(), opts(timeout)).await {
            Ok(c) => match c.ping().await {
                Ok(_) => return Ok(()),
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "the agent does not answer to the new secret: {last}; hint: was it installed by `gflab \
         hosts install` (secret file {})?",
        o.secret_path
    ))
}

/// Rotates `old` to `new` on every node; rolls back on any failure.
pub async fn rotate(
    nodes: &[NodeEntry],
    old: &Secret,
    new: &Secret,
    o: &RotateOptions,
) -> Vec<RotateReport> {
    let mut reports: Vec<RotateReport> =
        futures::stream::iter(nodes.iter().map(|node| async move {
            let r = swap(node, old, new, o).await;
            RotateReport {
                node: node.name.clone(),
                agent: node.agent.clone(),
                rotated: r.is_ok(),
                rolled_back: false,
                error: r.err(),
            }
        }))
        .buffered(o.jobs.max(1))
        .collect()
        .await;
    if reports.iter().all(|r| r.rotated) {
        return reports;
    }
    for (node, report) in nodes.iter().zip(reports.iter_mut()) {
        if report.rotated {
            match swap(node, new, old, o).await {
                Ok(()) => {
                    report.rotated = false;
                    report.rolled_back = true;
                }
                Err(e) => report.error = Some(format!("failed to roll back: {e}")),
            }
        }
    }
    reports
}
