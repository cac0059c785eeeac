//! The node list: which nodes a run talks to, where their agents listen and what they offer (format in
//! DESIGN.md).
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A node's job in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs glusterd and bricks.
    Server,
    /// Mounts volumes.
    Client,
}

/// Something a node offers beyond the basics, which some tests need.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Capability {
    /// The server's brick root is on thin-provisioned LVM, one thin volume per brick (snapshots work).
    #[serde(rename = "thin-lvm")]
    ThinLvm,
    /// The node may be rebooted by tests (lab nodes; a real host only when its owner lists it).
    #[serde(rename = "reboot")]
    Reboot,
}

impl Capability {
    /// Every capability, in the order they are listed to users.
    pub const ALL: &'static [Capability] = &[Capability::ThinLvm, Capability::Reboot];

    /// The name used in node lists and messages (`thin-lvm`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Capability::ThinLvm => "thin-lvm",
            Capability::Reboot => "reboot",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Capability {
    type Err = UnknownCapability;

    /// The capability with this name (`thin-lvm`).
    fn from_str(name: &str) -> Result<Capability, UnknownCapability> {
        Capability::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| UnknownCapability {
                name: name.to_string(),
            })
    }
}

/// A capability name this build does not know; its message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability {name:?} (known: {})", known_capabilities())]
pub struct UnknownCapability {
    /// The name as written.
    pub name: String,
}

/// The known capability names, comma-separated.
fn known_capabilities() -> String {
    Capability::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
    pub capabilities: Vec<Capability>,
    /// The GlusterFS build the node was given by gflab (`10.3 source 0123456789ab`), when it is
    /// not the release's packaged one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glusterfs: Option<String>,
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
        let unknown = unknown_capabilities(text);
        if !unknown.is_empty() {
            return Err(unknown.join("; "));
        }
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

/// Each node's name and capability names, read leniently before the strict decoding so that an unknown
/// capability is reported with the node that claims it.
#[derive(Debug, serde::Deserialize)]
struct CapabilityNames {
    /// The nodes, in order.
    #[serde(default, rename = "node")]
    nodes: Vec<NodeCapabilityNames>,
}

/// One node's name and capability names, as written.
#[derive(Debug, serde::Deserialize)]
struct NodeCapabilityNames {
    /// The node's name.
    #[serde(default)]
    name: String,
    /// Its capabilities, not yet checked.
    #[serde(default)]
    capabilities: Vec<String>,
}

/// A problem for every capability in the node list TOML that this build does not know, each naming its
/// node (`node[1].capabilities: server2 offers unknown capability "thick-lvm" (known: thin-lvm, reboot)`). TOML
/// this lenient reading cannot follow yields none: the strict decoding reports what is wrong with it.
fn unknown_capabilities(text: &str) -> Vec<String> {
    let Ok(names) = toml::from_str::<CapabilityNames>(text) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for (i, node) in names.nodes.iter().enumerate() {
        for name in &node.capabilities {
            if let Err(unknown) = name.parse::<Capability>() {
                problems.push(format!(
                    "node[{i}].capabilities: {} offers {unknown}",
                    node.name
                ));
            }
        }
    }
    problems
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_names_agree_with_the_file_format() {
        for &cap in Capability::ALL {
            let value = toml::Value::try_from(cap).expect("capability encodes");
            assert_eq!(value.as_str(), Some(cap.as_str()));
            assert_eq!(cap.as_str().parse::<Capability>(), Ok(cap));
            assert_eq!(cap.to_string(), cap.as_str());
        }
        let err = "thick-lvm".parse::<Capability>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"unknown capability "thick-lvm" (known: thin-lvm, reboot)"#
        );
    }
}
