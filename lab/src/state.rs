//! Per-lab state directory: `$XDG_STATE_HOME/gflab/<lab>/` (default `~/.local/state/gflab/<lab>/`,
//! mode 0700) holding `nodes.toml` (the node list) and `secret` (mode 0600).
//!
//! Docker labels stay the truth about what a lab owns; this directory only holds what the runner
//! needs to reach the agents.
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gflab_agent::{NodeList, Secret};

/// File name of the node list inside a lab's state directory.
pub const NODE_LIST: &str = "nodes.toml";
/// File name of the secret inside a lab's state directory.
pub const SECRET: &str = "secret";

/// Why state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Neither XDG_STATE_HOME nor HOME is set.
    #[error("failed to find the state directory: neither XDG_STATE_HOME nor HOME is set")]
    NoHome,
    /// A file operation failed.
    #[error("failed to {op} {}: {source}", .path.display())]
    Io {
        /// What was being done (`create`, `write`, `remove`, ...).
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The named lab has no node list.
    #[error("lab {lab} has no node list at {}\nhint: gflab up a topology with name {lab:?}, or pass --nodes FILE", .path.display())]
    NoSuchLab {
        /// The lab.
        lab: String,
        /// Where its node list would be.
        path: PathBuf,
    },
    /// Another `gflab up` of the same lab is running.
    #[error("another gflab up of lab {lab} is running (lock {})\nhint: wait for it, or stop it with Ctrl-C", .path.display())]
    Busy {
        /// The lab.
        lab: String,
        /// The lock file.
        path: PathBuf,
    },
    /// No lab is up.
    #[error("no lab is up (no state under {})\nhint: gflab up topologies/2x2.toml", .root.display())]
    NoLabUp {
        /// The state root searched.
        root: PathBuf,
    },
    /// Several labs are up; the caller must choose.
    #[error("several labs are up: {}\nhint: choose one with --lab NAME", .labs.join(", "))]
    SeveralLabsUp {
        /// Their names.
        labs: Vec<String>,
    },
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Io { op, path, source }
}

/// `$XDG_STATE_HOME/gflab` or `~/.local/state/gflab`.
pub fn root() -> Result<PathBuf, StateError> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
        return Ok(PathBuf::from(x).join("gflab"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or(StateError::NoHome)?;
    Ok(PathBuf::from(home).join(".local/state/gflab"))
}

/// The state directory of a lab.
pub fn lab_dir(lab: &str) -> Result<PathBuf, StateError> {
    Ok(root()?.join(lab))
}

/// The node list path of a lab (whether or not it exists).
pub fn node_list_path(lab: &str) -> Result<PathBuf, StateError> {
    Ok(lab_dir(lab)?.join(NODE_LIST))
}

/// Writes a lab's secret (0600) and node list into its state directory (0700); returns the node
/// list path.
pub fn write(lab: &str, list: &NodeList, secret: &Secret) -> Result<PathBuf, StateError> {
    let dir = lab_dir(lab)?;
    std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io("set permissions of", &dir))?;
    let secret_path = dir.join(SECRET);
    secret
        .write_file(&secret_path)
        .map_err(io("write", &secret_path))?;
    let path = dir.join(NODE_LIST);
    list.save(&path).map_err(io("write", &path))?;
    Ok(path)
}

/// Reads a lab's secret.
pub fn read_secret(lab: &str) -> Result<Secret, StateError> {
    let path = lab_dir(lab)?.join(SECRET);
    Secret::read_file(&path).map_err(io("read", &path))
}

/// An exclusive lock on one lab's lifecycle, held while `up` runs; released on drop.
#[derive(Debug)]
pub struct LabLock {
    /// The locked file (`<root>/<lab>.lock`, outside the lab directory that `down` removes).
    _file: std::fs::File,
}

/// Takes the lab's lock without waiting: two `up`s of one lab at once would tear each other down.
pub fn lock(lab: &str) -> Result<LabLock, StateError> {
    let root = root()?;
    std::fs::create_dir_all(&root).map_err(io("create", &root))?;
    let path = root.join(format!("{lab}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io("open", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(LabLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(StateError::Busy {
            lab: lab.to_string(),
            path,
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(io("lock", &path)(e)),
    }
}

/// Removes a lab's state directory (no error when it does not exist).
pub fn remove(lab: &str) -> Result<(), StateError> {
    let dir = lab_dir(lab)?;
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("remove", &dir)(e)),
    }
}

/// Labs that have a node list, sorted by name.
pub fn labs() -> Result<Vec<String>, StateError> {
    let root = root()?;
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("read", &root)(e)),
    };
    let mut labs: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join(NODE_LIST).is_file())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    labs.sort();
    Ok(labs)
}

/// Whether a node list's agents answer a TCP connect (its containers are running).
fn agents_answer(path: &Path) -> bool {
    let Ok(list) = NodeList::load(path) else {
        return false;
    };
    !list.nodes.is_empty()
        && list.nodes.iter().all(|n| {
            let addrs: Vec<SocketAddr> = n
                .agent
                .to_socket_addrs()
                .map(|a| a.collect())
                .unwrap_or_default();
            addrs
                .iter()
                .any(|a| TcpStream::connect_timeout(a, Duration::from_millis(500)).is_ok())
        })
}

/// The node list of the named lab, or of the only lab whose agents answer.
///
/// Errors: the named lab has no node list; no lab is up; several labs are up (all listed).
pub fn resolve_node_list(lab: Option<&str>) -> Result<PathBuf, StateError> {
    if let Some(lab) = lab {
        let path = node_list_path(lab)?;
        if !path.is_file() {
            return Err(StateError::NoSuchLab {
                lab: lab.to_string(),
                path,
            });
        }
        return Ok(path);
    }
    let mut up = Vec::new();
    for l in labs()? {
        let path = node_list_path(&l)?;
        if agents_answer(&path) {
            up.push((l, path));
        }
    }
    match up.len() {
        0 => Err(StateError::NoLabUp { root: root()? }),
        1 => Ok(up.remove(0).1),
        _ => Err(StateError::SeveralLabsUp {
            labs: up.into_iter().map(|(l, _)| l).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_exclusive_per_lab() {
        // The root comes from XDG_STATE_HOME or HOME; locks of unique names do not collide.
        let name = format!("t-lab-lock-{}", std::process::id());
        let first = lock(&name).expect("first lock");
        let err = lock(&name).expect_err("second lock must fail");
        assert!(matches!(err, StateError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("another gflab up"), "{err}");
        let other = lock(&format!("{name}-other")).expect("another lab locks freely");
        drop(first);
        let again = lock(&name).expect("lock after release");
        drop((again, other));
        let root = root().expect("root");
        let _ = std::fs::remove_file(root.join(format!("{name}.lock")));
        let _ = std::fs::remove_file(root.join(format!("{name}-other.lock")));
    }
}
