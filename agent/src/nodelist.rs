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
    /// Reading the file failed. The message carries the cause, so it is not chained as a source
    /// too (an error report would print it twice).
    #[error("failed to read node list {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("invalid node list {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl NodeList {
    /// Loads and validates a node list; `secret_file` is resolved against the file's directory.
    pub fn load(path: &Path) -> Result<NodeList, NodeListError> {
        let text = std::fs::read_to_string(path).map_err(|cause| NodeListError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        let mut list = NodeList::parse(&text).map_err(|message| NodeListError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        if list.secret_file.is_relative() {
            list.secret_file = base_dir(path).join(&list.secret_file);
        }
        Ok(list)
    }
    /// Parses and validates node list TOML (`secret_file` is left as written). The error lists every
    /// problem found, each with its field path.
    pub fn parse(text: &str) -> Result<NodeList, String> {
        let list: NodeList = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        let problems = list.problems();
        if problems.is_empty() {
            Ok(list)
        } else {
            Err(problems.join("; "))
        }
    }
    /// Every validation problem, each naming its field (`node[1].agent: ...`).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.lab.trim().is_empty() {
            problems.push("lab: must not be empty".to_string());
        }
        if self.secret_file.as_os_str().is_empty() {
            problems.push("secret_file: must not be empty".to_string());
        }
        if self.nodes.is_empty() {
            problems.push("node: the list has no nodes".to_string());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let at = format!("node[{i}]");
            if node.name.trim().is_empty() {
                problems.push(format!("{at}.name: must not be empty"));
            } else if !seen.insert(node.name.as_str()) {
                problems.push(format!("{at}.name: duplicate node name {:?}", node.name));
            }
            if node.host.trim().is_empty() {
                problems.push(format!("{at}.host: must not be empty"));
            }
            if let Err(why) = check_agent_addr(&node.agent) {
                problems.push(format!("{at}.agent: {why}"));
            }
        }
        problems
    }
    /// Writes the node list as TOML (atomically); a `secret_file` inside the list's directory is written
    /// relative to it.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut copy = self.clone();
        let dir = base_dir(path);
        if let Ok(rel) = copy.secret_file.strip_prefix(&dir) {
            if !rel.as_os_str().is_empty() {
                copy.secret_file = rel.to_path_buf();
            }
        }
        let text = toml::to_string(&copy).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("failed to encode node list {}: {e}", path.display()),
            )
        })?;
        crate::secret::write_atomic(path, text.as_bytes(), 0o644).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("failed to write node list {}: {e}", path.display()),
            )
        })
    }
    /// The nodes with the given role.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &NodeEntry> {
        self.nodes.iter().filter(move |n| n.role == role)
    }
}

/// The directory relative paths in the file at `path` are resolved against.
fn base_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `HOST:PORT` with a non-empty host and a numeric port.
fn check_agent_addr(addr: &str) -> Result<(), String> {
    let Some((host, port)) = addr.rsplit_once(':') else {
        return Err(format!("{addr:?} is not HOST:PORT"));
    };
    if host.trim_matches(['[', ']']).is_empty() {
        return Err(format!("{addr:?} has no host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok(()),
        _ => Err(format!("{addr:?} has no valid port (1-65535)")),
    }
}
