//! The node list: which nodes a run talks to and where their agents listen (format in DESIGN.md).
use std::path::{Path, PathBuf};

/// A node's job in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs glusterd and bricks.
    Server,
    /// Mounts volumes.
    Client,
}

/// One node of a node list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    /// Short unique name (`server1`).
    pub name: String,
    /// Server or client.
    pub role: Role,
    /// The name gluster uses for this node (peer probe, brick paths).
    pub host: String,
    /// `HOST:PORT` where the runner reaches the agent.
    pub agent: String,
    /// Where bricks go on a server (`/bricks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brick_root: Option<String>,
    /// `user@host` for ssh, on real hosts (used by `gflab hosts install`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<String>,
    /// Capabilities this node offers (`thin-lvm`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

/// A whole node list file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeList {
    /// Lab (or cluster) name.
    pub lab: String,
    /// Secret file, relative to the node list's own directory.
    pub secret_file: PathBuf,
    /// The nodes, in order.
    #[serde(rename = "node")]
    pub nodes: Vec<NodeEntry>,
}

/// Why a node list could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NodeListError {
    /// Reading the file failed.
    #[error("failed to read node list {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("invalid node list {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl NodeList {
    /// Loads and validates a node list; `secret_file` is resolved against the file's directory.
    pub fn load(_path: &Path) -> Result<NodeList, NodeListError> {
        todo!("contract")
    }
    /// Writes the node list as TOML.
    pub fn save(&self, _path: &Path) -> std::io::Result<()> {
        todo!("contract")
    }
    /// The nodes with the given role.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &NodeEntry> {
        self.nodes.iter().filter(move |n| n.role == role)
    }
}
