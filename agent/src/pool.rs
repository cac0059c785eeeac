//! Clients for every node of a node list.
use crate::client::{Client, ClientOptions};
use crate::command::{Command, Output};
use crate::error::Error;
use crate::nodelist::{NodeEntry, NodeList};
use crate::secret::Secret;

/// Some nodes could not be reached; each is named with its error.
#[derive(Debug, thiserror::Error)]
#[error("failed to connect to {} node(s): {}", .unreachable.len(), .unreachable.iter().map(|(n, e)| format!("{n} ({e})")).collect::<Vec<_>>().join(", "))]
pub struct PoolError {
    /// (node name, why).
    pub unreachable: Vec<(String, Error)>,
}

/// Connections to every node of a node list.
#[derive(Debug, Clone)]
pub struct Pool {
    /// (node, its client), in node-list order.
    pub nodes: Vec<(NodeEntry, Client)>,
}

impl Pool {
    /// Connects to every node concurrently; fails naming every unreachable node.
    pub async fn connect(
        list: &NodeList,
        secret: Secret,
        opts: ClientOptions,
    ) -> Result<Pool, PoolError> {
        let attempts = list.nodes.iter().map(|node| {
            let secret = secret.clone();
            let opts = opts.clone();
            async move { (node, Client::connect(&node.agent, secret, opts).await) }
        });
        let mut nodes = Vec::new();
        let mut unreachable = Vec::new();
        for (node, result) in futures::future::join_all(attempts).await {
            match result {
                Ok(client) => nodes.push((node.clone(), client)),
                Err(e) => unreachable.push((node.name.clone(), e)),
            }
        }
        if unreachable.is_empty() {
            Ok(Pool { nodes })
        } else {
            Err(PoolError { unreachable })
        }
    }
    /// The client of the named node.
    pub fn client(&self, name: &str) -> Option<&Client> {
        self.nodes
            .iter()
            .find(|(n, _)| n.name == name)
            .map(|(_, c)| c)
    }
    /// Runs the same command on every node in parallel; results in node order.
    pub async fn run_all(&self, cmd: Command) -> Vec<(String, Result<Output, Error>)> {
        let runs = self.nodes.iter().map(|(node, client)| {
            let cmd = cmd.clone();
            async move { (node.name.clone(), client.exec(cmd).await) }
        });
        futures::future::join_all(runs).await
    }
}
