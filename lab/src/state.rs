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
    /// A lab's kept topology cannot be used.
    #[error("lab topology {}: {message}", .path.display())]
    Topology {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
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

/// The topology file kept in a lab's state directory.
const TOPOLOGY: &str = "topology.toml";

/// Keeps the topology a lab was made from (its source text, with `release` as `topo` says), for
/// `gflab upgrade`.
pub fn save_topology(lab: &str, topo: &crate::topology::Topology) -> Result<PathBuf, StateError> {
    let dir = lab_dir(lab)?;
    std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
    let src = std::fs::read_to_string(&topo.source).map_err(io("read", &topo.source))?;
    let mut doc: toml_edit::DocumentMut =
        src.parse()
            .map_err(|e: toml_edit::TomlError| StateError::Topology {
                path: topo.source.clone(),
                message: e.to_string(),
            })?;
    doc["release"] = toml_edit::value(topo.release.as_str());
    // The copy lives elsewhere: a source tree written relative to the original is kept absolute.
    if let Some(src) = &topo.glusterfs_src {
        let abs = src.canonicalize().unwrap_or_else(|_| src.clone());
        doc["glusterfs"]["src"] = toml_edit::value(abs.to_string_lossy().as_ref());
    }
    let path = dir.join(TOPOLOGY);
    std::fs::write(&path, doc.to_string()).map_err(io("write", &path))?;
    Ok(path)
}

/// The topology kept by [`save_topology`].
pub fn read_topology(lab: &str) -> Result<crate::topology::Topology, StateError> {
    let path = lab_dir(lab)?.join(TOPOLOGY);
    if !path.is_file() {
        return Err(StateError::Topology {
            path,
            message: "missing: the lab was made before gflab kept its topology (gflab down and \
                      up again)"
                .into(),
        });
    }
    crate::topology::Topology::load(&path).map_err(|e| StateError::Topology {
        path,
        message: e.to_string(),
    })
}

/// Reads a lab's secret.
pub fn read_secret(lab: &str) -> Result<Secret, StateError> {
    let path = lab_dir(lab)?.join(SECRET);
    Secret::read_file(&path).map_err(io("read", &path))
}

/// How often [`lock`] looks again when the file it locked was removed by its previous holder.
const LOCK_ATTEMPTS: usize = 100;

/// An exclusive lock on one lab's lifecycle, held while `up` runs.
///
/// The lock file (`<root>/<lab>.lock`, outside the lab directory that `down` removes) exists only
/// while someone holds it: releasing the lock (dropping it) removes the file first and unlocks
/// after, so no file is left once nobody holds a lock. A concurrent [`lock`] that opened the file
/// before it was removed notices and opens the path again (see [`lock`]).
#[derive(Debug)]
pub struct LabLock {
    /// The open, locked file; closing it releases the lock.
    file: std::fs::File,
    /// Where it is linked while the lock is held.
    path: PathBuf,
}

impl Drop for LabLock {
    fn drop(&mut self) {
        // Removed while still locked, unlocked after: a locker that opened the file before sees
        // it gone and starts over. (Closing the file would unlock it too.)
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %self.path.display(), error = %e, "failed to remove lock file");
            }
        }
        let _ = self.file.unlock();
    }
}

impl LabLock {
    /// Locks `file`, just opened at `path`, without waiting. `Ok(None)` when the lock was taken on
    /// a file its previous holder had already removed (or another file now sits at `path`): such a
    /// lock excludes nobody, so the caller opens the path again.
    fn attempt(lab: &str, file: std::fs::File, path: &Path) -> Result<Option<LabLock>, StateError> {
        use std::os::unix::fs::MetadataExt;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Busy {
                    lab: lab.to_string(),
                    path: path.to_path_buf(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("lock", path)(e)),
        }
        let open = file.metadata().map_err(io("inspect", path))?;
        let linked = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("inspect", path)(e)),
        };
        if (open.dev(), open.ino()) != (linked.dev(), linked.ino()) {
            return Ok(None);
        }
        Ok(Some(LabLock {
            file,
            path: path.to_path_buf(),
        }))
    }

    /// Takes the lock at `path` without waiting, creating the file when there is none.
    fn acquire(lab: &str, path: &Path) -> Result<LabLock, StateError> {
        for _ in 0..LOCK_ATTEMPTS {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
                .map_err(io("open", path))?;
            if let Some(lock) = LabLock::attempt(lab, file, path)? {
                return Ok(lock);
            }
        }
        // Every attempt lost to another locker that took the file and released it again.
        Err(StateError::Busy {
            lab: lab.to_string(),
            path: path.to_path_buf(),
        })
    }
}

/// The lock file path of a lab (whether or not it exists).
fn lock_path(lab: &str) -> Result<PathBuf, StateError> {
    Ok(root()?.join(format!("{lab}.lock")))
}

/// Takes the lab's lock without waiting: two `up`s of one lab at once would tear each other down.
///
/// The holder removes the lock file on release, so a file opened here may be gone by the time it
/// is locked; the lock is taken only on the file still linked at the path (same device and inode),
/// otherwise the path is opened again.
pub fn lock(lab: &str) -> Result<LabLock, StateError> {
    let root = root()?;
    std::fs::create_dir_all(&root).map_err(io("create", &root))?;
    LabLock::acquire(lab, &lock_path(lab)?)
}

/// Removes a lab's state directory (no error when it does not exist), and its lock file when
/// nobody holds it (one a killed `up` left behind). A held lock file is its holder's to remove.
pub fn remove(lab: &str) -> Result<(), StateError> {
    let dir = lab_dir(lab)?;
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove", &dir)(e)),
    }
    remove_unheld_lock(lab, &lock_path(lab)?)
}

/// Removes the lock file at `path` unless someone holds it.
fn remove_unheld_lock(lab: &str, path: &Path) -> Result<(), StateError> {
    let file = match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io("open", path)(e)),
    };
    match LabLock::attempt(lab, file, path) {
        // Released at once, which removes the file.
        Ok(Some(lock)) => {
            drop(lock);
            Ok(())
        }
        // Already removed, or a new file whose locker is about to lock it: not ours.
        Ok(None) | Err(StateError::Busy { .. }) => Ok(()),
        Err(e) => Err(e),
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
        let path = lock_path(&name).expect("lock path");
        let first = lock(&name).expect("first lock");
        let err = lock(&name).expect_err("second lock must fail");
        assert!(matches!(err, StateError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("another gflab up"), "{err}");
        let other = lock(&format!("{name}-other")).expect("another lab locks freely");
        drop(first);
        assert!(!path.exists(), "released lock leaves no file");
        let again = lock(&name).expect("lock after release");
        drop((again, other));
        assert!(!path.exists(), "released lock leaves no file");
    }

    #[test]
    fn release_removes_the_lock_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lab.lock");
        let held = LabLock::acquire("lab", &path).expect("lock");
        assert!(path.is_file(), "the file exists while held");
        drop(held);
        assert!(!path.exists(), "released lock leaves no file");
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("read dir").count(),
            0,
            "nothing left"
        );
    }

    #[test]
    fn a_lock_on_a_removed_file_is_not_taken() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lab.lock");
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .expect("open")
        };
        // A locker opened the file while its holder still had it; the holder then released it
        // (removing the file). Locking the opened file succeeds but must not count.
        let holder = LabLock::acquire("lab", &path).expect("lock");
        let late = open();
        drop(holder);
        let got = LabLock::attempt("lab", late, &path).expect("attempt");
        assert!(got.is_none(), "locked a removed file: {got:?}");

        // Same, but a third locker has already created and locked a new file at the path.
        let holder = LabLock::acquire("lab", &path).expect("lock");
        let late = open();
        drop(holder);
        let third = LabLock::acquire("lab", &path).expect("lock the new file");
        let got = LabLock::attempt("lab", late, &path).expect("attempt");
        assert!(got.is_none(), "locked a replaced file: {got:?}");
        let err = LabLock::acquire("lab", &path).expect_err("the new file is held");
        assert!(matches!(err, StateError::Busy { .. }), "{err}");
        drop(third);
        assert!(!path.exists(), "released lock leaves no file");
    }

    #[test]
    fn concurrent_lockers_never_hold_at_once() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lab.lock");
        let held = AtomicBool::new(false);
        let taken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..300 {
                        let lock = match LabLock::acquire("lab", &path) {
                            Ok(l) => l,
                            Err(StateError::Busy { .. }) => continue,
                            Err(e) => panic!("lock: {e}"),
                        };
                        assert!(!held.swap(true, Ordering::SeqCst), "two holders at once");
                        taken.fetch_add(1, Ordering::SeqCst);
                        held.store(false, Ordering::SeqCst);
                        drop(lock);
                    }
                });
            }
        });
        assert!(taken.load(Ordering::SeqCst) > 0, "someone took the lock");
        assert!(!path.exists(), "released locks leave no file");
    }

    #[test]
    fn remove_takes_an_unheld_lock_file_and_leaves_a_held_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lab.lock");
        // What a killed `up` leaves behind: a file nobody holds.
        std::fs::write(&path, b"").expect("write");
        remove_unheld_lock("lab", &path).expect("remove");
        assert!(!path.exists(), "an unheld lock file is removed");
        remove_unheld_lock("lab", &path).expect("no file is no error");

        let held = LabLock::acquire("lab", &path).expect("lock");
        remove_unheld_lock("lab", &path).expect("a held lock is no error");
        assert!(path.exists(), "a held lock file stays with its holder");
        drop(held);
        assert!(!path.exists());
    }
}
