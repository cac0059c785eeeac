//! A GlusterFS source tree as `gflab build` sees it: its content hash (what build images are keyed
//! by; version control and autoconf's cache left out), and the manifest of its files' sizes and
//! modification times (what decides which files the builder's copy needs again).
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Names skipped when reading a tree: version control and autoconf's cache.
const SKIPPED: &[&str] = &[".git", "autom4te.cache"];

/// Why a tree could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A file or directory could not be read.
    #[error("failed to read the GlusterFS source {}: {source}", .path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The directory is not a GlusterFS source tree.
    #[error("{} is not a GlusterFS source tree: it has no {missing}\nhint: give the top directory of a git checkout or an unpacked release tarball (images/builder/glusterfs-source.sh fetches Debian's)", .path.display())]
    NotSource {
        /// The directory.
        path: PathBuf,
        /// What a tree has at its top.
        missing: &'static str,
    },
}

/// A GlusterFS source tree and its content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The directory (absolute).
    pub dir: PathBuf,
    /// The first 12 hex digits of a SHA-256 over every file's path, mode and content.
    pub hash: String,
    /// Files hashed.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// One entry of a tree, in path order.
struct Entry {
    rel: String,
    path: PathBuf,
    meta: std::fs::Metadata,
}

/// Every entry under `dir` but [`SKIPPED`] names, sorted by path (directories before their
/// contents), symlinks not followed.
fn walk(dir: &Path) -> Result<Vec<Entry>, SourceError> {
    let read = |path: &Path, source| SourceError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = stack.pop() {
        let mut names = Vec::new();
        for e in std::fs::read_dir(&path).map_err(|e| read(&path, e))? {
            let e = e.map_err(|e| read(&path, e))?;
            names.push(e.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        let mut dirs = Vec::new();
        for name in names {
            if SKIPPED.contains(&name.as_str()) {
                continue;
            }
            let p = path.join(&name);
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let meta = std::fs::symlink_metadata(&p).map_err(|e| read(&p, e))?;
            if meta.is_dir() {
                dirs.push((p.clone(), r.clone()));
            }
            out.push(Entry {
                rel: r,
                path: p,
                meta,
            });
        }
        // Depth first, in name order.
        stack.extend(dirs.into_iter().rev());
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

impl Source {
    /// Reads and hashes the tree at `dir`.
    pub fn read(dir: &Path) -> Result<Source, SourceError> {
        let dir = dir.canonicalize().map_err(|source| SourceError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        for missing in ["configure.ac", "glusterfsd", "xlators"] {
            if !dir.join(missing).exists() {
                return Err(SourceError::NotSource { path: dir, missing });
            }
        }
        use std::os::unix::fs::PermissionsExt;
        let mut h = Sha256::new();
        let (mut files, mut bytes) = (0, 0);
        for e in walk(&dir)? {
            let kind = if e.meta.is_dir() {
                "d"
            } else if e.meta.file_type().is_symlink() {
                "l"
            } else {
                "f"
            };
            h.update(format!(
                "{kind} {} {:o}\n",
                e.rel,
                e.meta.permissions().mode() & 0o111
            ));
            if e.meta.file_type().is_symlink() {
                let target = std::fs::read_link(&e.path).map_err(|source| SourceError::Read {
                    path: e.path.clone(),
                    source,
                })?;
                h.update(target.to_string_lossy().as_bytes());
            } else if e.meta.is_file() {
                let data = std::fs::read(&e.path).map_err(|source| SourceError::Read {
                    path: e.path.clone(),
                    source,
                })?;
                h.update((data.len() as u64).to_be_bytes());
                h.update(&data);
                files += 1;
                bytes += data.len() as u64;
            }
        }
        let hash = h.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Source {
            dir,
            hash,
            files,
            bytes,
        })
    }

    /// Every file and symlink of the tree with its size and modification time: what decides
    /// whether the builder's copy is current.
    pub fn manifest(&self) -> Result<Manifest, SourceError> {
        use std::os::unix::fs::MetadataExt;
        Ok(walk(&self.dir)?
            .into_iter()
            .filter(|e| !e.meta.is_dir())
            .map(|e| {
                let stamp = (
                    e.meta.len(),
                    e.meta.mtime() * 1_000_000_000 + e.meta.mtime_nsec(),
                );
                (e.rel, stamp)
            })
            .collect())
    }

    /// The named files and symlinks of the tree as a tar (modes and modification times kept, so
    /// make in the builder sees what changed).
    pub fn tar_of<'a>(
        &self,
        names: impl IntoIterator<Item = &'a String>,
    ) -> Result<Vec<u8>, SourceError> {
        let mut b = tar::Builder::new(Vec::new());
        b.follow_symlinks(false);
        for rel in names {
            let path = self.dir.join(rel);
            b.append_path_with_name(&path, rel)
                .map_err(|source| SourceError::Read { path, source })?;
        }
        b.into_inner().map_err(|source| SourceError::Read {
            path: self.dir.clone(),
            source,
        })
    }
}

/// Path → (size, modification time in ns) of a tree's files.
pub type Manifest = std::collections::BTreeMap<String, (u64, i64)>;

/// `size mtime path` lines.
pub fn manifest_text(m: &Manifest) -> String {
    m.iter()
        .map(|(p, (size, mtime))| format!("{size} {mtime} {p}\n"))
        .collect()
}

/// Reads [`manifest_text`]; unreadable lines are left out (their files are then sent again).
pub fn parse_manifest(text: &str) -> Manifest {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ' ');
            let size = parts.next()?.parse().ok()?;
            let mtime = parts.next()?.parse().ok()?;
            Some((parts.next()?.to_string(), (size, mtime)))
        })
        .collect()
}

/// What to send (new or changed) and what to delete for `have` to become `want`.
pub fn delta(want: &Manifest, have: &Manifest) -> (Vec<String>, Vec<String>) {
    let send = want
        .iter()
        .filter(|(p, stamp)| have.get(*p) != Some(stamp))
        .map(|(p, _)| p.clone())
        .collect();
    let delete = have
        .keys()
        .filter(|p| !want.contains_key(*p))
        .cloned()
        .collect();
    (send, delete)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        for dir in ["glusterfsd/src", "xlators/a", ".git", "autom4te.cache"] {
            std::fs::create_dir_all(d.path().join(dir)).expect("mkdir");
        }
        std::fs::write(d.path().join("configure.ac"), "AC_INIT\n").expect("write");
        std::fs::write(d.path().join("glusterfsd/src/main.c"), "int main;\n").expect("write");
        std::fs::write(d.path().join(".git/HEAD"), "ref\n").expect("write");
        d
    }

    #[test]
    fn the_source_hash_follows_content_and_ignores_version_control() {
        let d = tree();
        let a = Source::read(d.path()).expect("read");
        assert_eq!(a.files, 2, "{a:?}");
        std::fs::write(d.path().join(".git/HEAD"), "other\n").expect("write");
        std::fs::write(d.path().join("autom4te.cache/x"), "y").expect("write");
        assert_eq!(Source::read(d.path()).expect("read").hash, a.hash);
        std::fs::write(d.path().join("glusterfsd/src/main.c"), "int main2;\n").expect("write");
        let b = Source::read(d.path()).expect("read");
        assert_ne!(b.hash, a.hash, "an edited file changes the hash");
        let all: Vec<String> = b.manifest().expect("manifest").into_keys().collect();
        let tar = b.tar_of(&all).expect("tar");
        let names: Vec<String> = tar::Archive::new(tar.as_slice())
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .display()
                    .to_string()
            })
            .collect();
        assert!(
            names.iter().any(|n| n == "glusterfsd/src/main.c"),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.starts_with(".git")), "{names:?}");
    }

    #[test]
    fn only_changed_files_are_sent_and_removed_ones_deleted() {
        let d = tree();
        let src = Source::read(d.path()).expect("read");
        let first = src.manifest().expect("manifest");
        let (send, delete) = delta(&first, &Manifest::new());
        assert_eq!(send.len(), first.len());
        assert!(delete.is_empty());
        let back = parse_manifest(&manifest_text(&first));
        assert_eq!(back, first, "the manifest survives its text form");
        assert_eq!(delta(&first, &back), (vec![], vec![]), "nothing changed");
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(d.path().join("glusterfsd/src/main.c"), "int main3;\n").expect("write");
        std::fs::write(d.path().join("xlators/a/new file.c"), "x").expect("write");
        std::fs::remove_file(d.path().join("configure.ac")).expect("rm");
        let now = src.manifest().expect("manifest");
        let (send, delete) = delta(&now, &back);
        assert_eq!(send, vec!["glusterfsd/src/main.c", "xlators/a/new file.c"]);
        assert_eq!(delete, vec!["configure.ac"]);
    }

    #[test]
    fn a_directory_that_is_not_a_source_tree_is_refused_naming_what_is_missing() {
        let d = tempfile::tempdir().expect("tempdir");
        let err = Source::read(d.path()).expect_err("refused");
        assert!(err.to_string().contains("no configure.ac"), "{err}");
        let err = Source::read(&d.path().join("nope")).expect_err("refused");
        assert!(err.to_string().contains("failed to read"), "{err}");
    }
}
