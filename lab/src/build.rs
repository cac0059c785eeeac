//! Your own GlusterFS in the lab: `gflab build --glusterfs-src DIR`, `[glusterfs] src = "DIR"` in a
//! topology, and `gflab reload LAB`.
//!
//! A source tree (a git checkout or an unpacked release tarball) is hashed by content
//! ([`Source`]); the hash keys everything built from it, so an unchanged tree builds nothing. The
//! build runs in a builder container (its image bootstrapped offline from Debian's packages like
//! the node images, `images/packages/builder.txt`) whose agent is the same as a node's: the tree
//! is copied into a build volume with its modification times, so `make` recompiles only what
//! changed, beside a compiler cache (`images/builder/build.sh`). The installed tree comes back as
//! a tar, which goes into server and client images built over the release's own
//! (`images/builder/Dockerfile`), or straight into a running lab's nodes ([`crate::reload`]).
//!
//! The builder container and its volumes carry the lab label `build`: `gflab ls` shows them and
//! `gflab down build` removes them, compiler cache included.
use std::path::{Path, PathBuf};
use std::time::Duration;

use gflab_agent::{Client, ClientOptions, Command, ExecEvent, ExitStatus, Role, Secret};
use sha2::{Digest, Sha256};

use crate::images::{self, hash12, ImageError, ImageSet};
use crate::node::{agent_cmd, AGENT_PORT};
use crate::progress::Progress;
use crate::runtime::{
    BuildSpec, ContainerOp, ContainerSpec, FileUpload, ImageStore, Labels, Runtime, RuntimeError,
    VolumeMount, VolumeSpec, LABEL_LAB, LABEL_NODE,
};
use crate::topology::Release;

/// Packages of the builder image.
pub const BUILDER_PACKAGES: &str = include_str!("../../images/packages/builder.txt");
/// What runs in the builder: configure when needed, make, make install, pack.
pub const BUILD_SCRIPT: &str = include_str!("../../images/builder/build.sh");
/// The node images carrying a build.
pub const BUILD_DOCKERFILE: &str = include_str!("../../images/builder/Dockerfile");
/// Bump when the build recipe changes in a way the inputs above do not show.
const RECIPE: &str = "gflab-build-1";
/// The lab label of the builder container and the build volumes.
pub const BUILD_LAB: &str = "build";
/// Label on build images: the source tree's content hash.
pub const LABEL_SRC: &str = "io.gflab.glusterfs-src";
/// Label on build images: the built version string.
pub const LABEL_VERSION: &str = "io.gflab.glusterfs-version";
/// Where each node records the build it runs (`<version> <source hash>`), read by `gflab status`.
pub const NODE_BUILD_FILE: &str = "/etc/gflab/glusterfs-build";
/// Names skipped when reading a tree: version control and autoconf's cache.
const SKIPPED: &[&str] = &[".git", "autom4te.cache"];

/// Why a build could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The tree could not be read.
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
    /// An image could not be made.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] RuntimeError),
    /// The builder's agent could not be used.
    #[error("builder container {container}: {message}")]
    Builder {
        /// The container.
        container: String,
        /// What failed.
        message: String,
    },
    /// The build failed: the compiler's errors (file:line) first, then the last lines.
    #[error("the GlusterFS build of {} failed ({status}){errors}\nlast lines:\n{tail}", .dir.display())]
    Compile {
        /// The source tree.
        dir: PathBuf,
        /// The build script's exit.
        status: String,
        /// `\nerrors:\nfile:line: error: …` lines, or nothing.
        errors: String,
        /// The output's last lines.
        tail: String,
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
fn walk(dir: &Path) -> Result<Vec<Entry>, BuildError> {
    let read = |path: &Path, source| BuildError::Read {
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
    pub fn read(dir: &Path) -> Result<Source, BuildError> {
        let dir = dir.canonicalize().map_err(|source| BuildError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        for missing in ["configure.ac", "glusterfsd", "xlators"] {
            if !dir.join(missing).exists() {
                return Err(BuildError::NotSource { path: dir, missing });
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
                let target = std::fs::read_link(&e.path).map_err(|source| BuildError::Read {
                    path: e.path.clone(),
                    source,
                })?;
                h.update(target.to_string_lossy().as_bytes());
            } else if e.meta.is_file() {
                let data = std::fs::read(&e.path).map_err(|source| BuildError::Read {
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
    pub fn manifest(&self) -> Result<Manifest, BuildError> {
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
    ) -> Result<Vec<u8>, BuildError> {
        let mut b = tar::Builder::new(Vec::new());
        b.follow_symlinks(false);
        for rel in names {
            let path = self.dir.join(rel);
            b.append_path_with_name(&path, rel)
                .map_err(|source| BuildError::Read { path, source })?;
        }
        b.into_inner().map_err(|source| BuildError::Read {
            path: self.dir.clone(),
            source,
        })
    }
}

/// Path → (size, modification time in ns) of a tree's files.
pub type Manifest = std::collections::BTreeMap<String, (u64, i64)>;

/// `size mtime path` lines.
fn manifest_text(m: &Manifest) -> String {
    m.iter()
        .map(|(p, (size, mtime))| format!("{size} {mtime} {p}\n"))
        .collect()
}

/// Reads [`manifest_text`]; unreadable lines are left out (their files are then sent again).
fn parse_manifest(text: &str) -> Manifest {
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

/// The images of one build (pure: derived from the release and the source hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildImages {
    /// The source tree's hash.
    pub src_hash: String,
    /// The release's own images the build goes over.
    pub roles: ImageSet,
    /// The builder image.
    pub builder: String,
    /// The server image carrying the build.
    pub server: String,
    /// The client image carrying the build.
    pub client: String,
}

/// mmdebstrap's arguments for the builder image of `release`.
pub fn builder_args(release: Release) -> Vec<String> {
    vec![
        "--variant=minbase".into(),
        "--format=tar".into(),
        format!(
            "--include={}",
            images::parse_packages(BUILDER_PACKAGES).join(",")
        ),
        "--aptopt=APT::Install-Recommends \"false\"".into(),
        release.as_str().into(),
        "-".into(),
    ]
}

impl BuildImages {
    /// The tags for a build of the tree hashed `src_hash` on `release`.
    pub fn new(release: Release, src_hash: &str) -> BuildImages {
        let roles = ImageSet::for_release(release);
        let builder_hash = hash12(&[RECIPE, release.as_str(), &builder_args(release).join("\n")]);
        let builder = format!("gflab/builder:{release}-{builder_hash}");
        let key = |role: &str| {
            hash12(&[
                RECIPE,
                role,
                &builder,
                BUILD_SCRIPT,
                BUILD_DOCKERFILE,
                src_hash,
            ])
        };
        BuildImages {
            src_hash: src_hash.to_string(),
            server: format!("gflab/server:{release}-src-{}", key(&roles.server)),
            client: format!("gflab/client:{release}-src-{}", key(&roles.client)),
            roles,
            builder,
        }
    }
    /// The node image set: the release's base with the build's role images.
    pub fn set(&self) -> ImageSet {
        ImageSet {
            server: self.server.clone(),
            client: self.client.clone(),
            ..self.roles.clone()
        }
    }
}

/// What a build produced.
#[derive(Clone)]
pub struct Built {
    /// The installed tree, as a gzip-compressed tar to extract at `/`.
    pub install: Vec<u8>,
    /// The version string (`10.3`).
    pub version: String,
    /// The source hash.
    pub src_hash: String,
}

impl Built {
    /// What a node running it records and `gflab status` shows: `10.3 source 0123456789ab`.
    pub fn describe(&self) -> String {
        format!("{} source {}", self.version, self.src_hash)
    }
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("install", &format_args!("{} bytes", self.install.len()))
            .field("version", &self.version)
            .field("src_hash", &self.src_hash)
            .finish()
    }
}

/// The build volume of a source directory on a release (incremental builds of the same tree); the
/// builder container has the same name (one build of a tree at a time).
fn volume_name(src: &Source, release: Release) -> String {
    format!(
        "gflab-build-{release}-{}",
        hash12(&[&src.dir.to_string_lossy()])
    )
}

/// Removes the builder container of `src` on `release` if one is there (a build interrupted by a
/// signal, or killed); its volume stays.
pub async fn remove_builder<E: Runtime>(
    engine: &E,
    src: &Source,
    release: Release,
) -> Result<(), RuntimeError> {
    let name = volume_name(src, release);
    for o in engine.list(Some(BUILD_LAB)).await? {
        if o.kind == crate::runtime::ObjectKind::Container && o.name == name {
            engine.remove(&o).await?;
        }
    }
    Ok(())
}

/// Makes sure the build images of `src` exist: nothing when they do; otherwise the release's
/// images, the builder image, the build, then the two images. A failed image build leaves no tag
/// of this build behind.
pub async fn ensure_images<E: Runtime + ImageStore>(
    engine: &E,
    src: &Source,
    release: Release,
    agent_binary: &[u8],
    progress: &Progress,
) -> Result<BuildImages, BuildError> {
    let imgs = BuildImages::new(release, &src.hash);
    if engine.image_exists(&imgs.server).await? && engine.image_exists(&imgs.client).await? {
        progress.note(format!(
            "build of {} (source {}) is up to date: {}, {}",
            src.dir.display(),
            src.hash,
            imgs.server,
            imgs.client
        ));
        return Ok(imgs);
    }
    images::ensure_set(engine, &imgs.roles, progress).await?;
    let built = compile(engine, src, release, agent_binary, progress).await?;
    let mut made = Vec::new();
    for (base, tag) in [
        (&imgs.roles.server, &imgs.server),
        (&imgs.roles.client, &imgs.client),
    ] {
        let spec = BuildSpec {
            tag: tag.clone(),
            dockerfile: BUILD_DOCKERFILE.to_string(),
            base: base.clone(),
            args: Labels::from([("GLUSTERFS_BUILD".to_string(), built.describe())]),
            labels: Labels::from([
                (images::LABEL_IMAGE.to_string(), "build".to_string()),
                (LABEL_SRC.to_string(), src.hash.clone()),
                (LABEL_VERSION.to_string(), built.version.clone()),
            ]),
            context: vec![FileUpload {
                path: "install.tar.gz".into(),
                data: built.install.clone(),
                mode: 0o644,
            }],
        };
        if let Err(e) = images::build_spec(engine, &spec, progress).await {
            for t in made.iter().chain([tag]) {
                let _ = engine.remove_image(t).await;
            }
            return Err(e.into());
        }
        made.push(tag.clone());
    }
    progress.note(format!(
        "built glusterfs {} from {} (source {}): {}, {}",
        built.version,
        src.dir.display(),
        src.hash,
        imgs.server,
        imgs.client
    ));
    Ok(imgs)
}

/// Builds `src` in a builder container and returns the installed tree. The container is removed
/// afterwards, also on failure; its build volume stays for the next build.
pub async fn compile<E: Runtime + ImageStore>(
    engine: &E,
    src: &Source,
    release: Release,
    agent_binary: &[u8],
    progress: &Progress,
) -> Result<Built, BuildError> {
    let imgs = BuildImages::new(release, &src.hash);
    if !engine.image_exists(&imgs.builder).await? {
        images::bootstrap_with(
            engine,
            release,
            builder_args(release),
            &imgs.builder,
            &[],
            progress,
        )
        .await?;
    }
    let volume = volume_name(src, release);
    let name = volume.clone();
    remove_builder(engine, src, release).await?;
    let labels = Labels::from([
        (LABEL_LAB.to_string(), BUILD_LAB.to_string()),
        (LABEL_NODE.to_string(), "builder".to_string()),
    ]);
    engine
        .create_volume(&VolumeSpec {
            name: volume.clone(),
            labels: labels.clone(),
        })
        .await?;
    let secret = Secret::generate();
    let spec = ContainerSpec {
        name: name.clone(),
        hostname: "builder".into(),
        image: imgs.builder.clone(),
        cmd: agent_cmd(Role::Client),
        network: String::new(),
        ip: std::net::Ipv4Addr::UNSPECIFIED,
        aliases: Vec::new(),
        volumes: vec![VolumeMount {
            volume,
            target: "/w".into(),
        }],
        tmpfs: vec!["/tmp".into()],
        cap_add: Vec::new(),
        devices: Vec::new(),
        device_cgroup_rules: Vec::new(),
        publish_tcp: vec![AGENT_PORT],
        init: false,
        labels,
    };
    engine
        .create_container(&spec, &crate::lab::node_files(agent_binary, &secret))
        .await?;
    let result = run_in(engine, &name, secret, src, progress).await;
    remove_builder(engine, src, release).await?;
    result
}

/// Starts the builder, copies the tree in, runs the build script and fetches its result.
async fn run_in<E: Runtime>(
    engine: &E,
    name: &str,
    secret: Secret,
    src: &Source,
    progress: &Progress,
) -> Result<Built, BuildError> {
    let fail = |message: String| BuildError::Builder {
        container: name.to_string(),
        message,
    };
    engine.control(name, ContainerOp::Start).await?;
    let addr = engine
        .list(Some(BUILD_LAB))
        .await?
        .into_iter()
        .find(|o| o.name == name)
        .and_then(|o| crate::control::published_agent(&o))
        .ok_or_else(|| fail("its agent port is not published".into()))?;
    let client = connect(&addr, secret).await.map_err(fail)?;
    // Only what changed since the last copy goes over (the volume keeps the copy's manifest).
    let step = progress.step(format!(
        "copying what changed in {} into the build volume",
        src.dir.display()
    ));
    let want = src.manifest()?;
    let have = client
        .get_file("/w/src.manifest")
        .await
        .map(|b| parse_manifest(&String::from_utf8_lossy(&b)))
        .unwrap_or_default();
    let (send, delete) = delta(&want, &have);
    let tar = src.tar_of(&send)?;
    let bytes = tar.len();
    client
        .put_file("/w/src.tar", tar, 0o644)
        .await
        .map_err(|e| fail(e.to_string()))?;
    client
        .put_file("/w/src.deleted", delete.join("\n").into_bytes(), 0o644)
        .await
        .map_err(|e| fail(e.to_string()))?;
    client
        .put_file("/w/build.sh", BUILD_SCRIPT.as_bytes().to_vec(), 0o755)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let unpack = client
        .exec(Command::shell(
            "set -e; mkdir -p /w/src; cd /w/src; tar -xf /w/src.tar; \
             while IFS= read -r f; do [ -n \"$f\" ] && rm -f -- \"$f\"; done < /w/src.deleted; \
             rm /w/src.tar /w/src.deleted",
        ))
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !unpack.success() {
        return Err(fail(format!(
            "unpacking the source failed: {}",
            unpack.stderr_str()
        )));
    }
    client
        .put_file("/w/src.manifest", manifest_text(&want).into_bytes(), 0o644)
        .await
        .map_err(|e| fail(e.to_string()))?;
    step.done(&format!(
        "{} of {} files ({} KB), {} deleted",
        send.len(),
        want.len(),
        bytes >> 10,
        delete.len()
    ));
    let step = progress.step(format!("building glusterfs from {}", src.dir.display()));
    let mut stream = client
        .exec_stream(Command::new("/w/build.sh").timeout(Duration::from_secs(4 * 3600)))
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut lines = LineLog::default();
    let status = loop {
        match stream.next().await {
            Some(Ok(ExecEvent::Stdout(b) | ExecEvent::Stderr(b))) => {
                for line in lines.push(&b) {
                    if !line.contains("Entering directory") {
                        step.detail(&line, line.starts_with("gflab-build: "));
                    }
                }
            }
            Some(Ok(ExecEvent::Exit { status, .. })) => break status,
            Some(Err(e)) => return Err(fail(e.to_string())),
            None => return Err(fail("the build's output ended without its exit".into())),
        }
    };
    lines.flush();
    if status != ExitStatus::Code(0) {
        return Err(BuildError::Compile {
            dir: src.dir.clone(),
            status: match status {
                ExitStatus::Code(c) => format!("exit {c}"),
                ExitStatus::Signal(s) => format!("killed by signal {s}"),
                ExitStatus::TimedOut => "timed out".into(),
            },
            errors: lines.errors(),
            tail: lines.tail(),
        });
    }
    step.done("built");
    let install = client
        .get_file("/w/out/install.tar.gz")
        .await
        .map_err(|e| fail(e.to_string()))?;
    let version = client
        .get_file("/w/out/version")
        .await
        .map_err(|e| fail(e.to_string()))?;
    Ok(Built {
        install,
        version: String::from_utf8_lossy(&version).trim().to_string(),
        src_hash: src.hash.clone(),
    })
}

/// Connects to a freshly started agent (it may take a moment to listen).
async fn connect(addr: &str, secret: Secret) -> Result<Client, String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match Client::connect(addr, secret.clone(), ClientOptions::default()).await {
            Ok(c) => return Ok(c),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(format!(
                    "its agent at {addr} did not answer within 30 s: {e}"
                ))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The build's output split into lines: the last ones, and the compiler's error lines.
#[derive(Debug, Default)]
struct LineLog {
    /// The directory of the tree make last entered (`xlators/debug/trace/src`).
    dir: String,
    partial: Vec<u8>,
    last: std::collections::VecDeque<String>,
    errors: Vec<String>,
}

impl LineLog {
    const TAIL: usize = 40;
    const ERRORS: usize = 30;
    /// Adds output; returns the lines it completed.
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let mut done = Vec::new();
        while let Some(i) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=i).collect();
            let line = String::from_utf8_lossy(&line[..i]).into_owned();
            self.record(&line);
            done.push(line);
        }
        done
    }
    fn flush(&mut self) {
        if !self.partial.is_empty() {
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned();
            self.record(&line);
        }
    }
    fn record(&mut self, line: &str) {
        if let Some(rest) = line.split("Entering directory '/w/src/").nth(1) {
            self.dir = rest.trim_end_matches('\'').to_string();
            return;
        }
        if is_compiler_error(line) && self.errors.len() < Self::ERRORS {
            // Named by its path in the tree, as the developer's editor knows it.
            let located = if line.starts_with('/') || self.dir.is_empty() {
                line.to_string()
            } else {
                format!("{}/{line}", self.dir)
            };
            self.errors.push(located);
        }
        if self.last.len() == Self::TAIL {
            self.last.pop_front();
        }
        self.last.push_back(line.to_string());
    }
    fn errors(&self) -> String {
        if self.errors.is_empty() {
            String::new()
        } else {
            format!("\nerrors:\n{}", self.errors.join("\n"))
        }
    }
    fn tail(&self) -> String {
        self.last.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// `file.c:12:5: error: …` (and `fatal error`, and the linker's `undefined reference`).
pub fn is_compiler_error(line: &str) -> bool {
    let mut parts = line.splitn(4, ':');
    let (Some(file), Some(l)) = (parts.next(), parts.next()) else {
        return false;
    };
    let located = !file.is_empty()
        && !file.contains(' ')
        && !l.is_empty()
        && l.bytes().all(|b| b.is_ascii_digit());
    located && (line.contains(" error: ") || line.contains("undefined reference to"))
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
        assert_ne!(
            BuildImages::new(Release::Bookworm, &b.hash).server,
            BuildImages::new(Release::Bookworm, &a.hash).server
        );
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

    #[test]
    fn compiler_errors_are_picked_out_of_the_build_output() {
        let mut log = LineLog::default();
        log.push(b"make[4]: Entering directory '/w/src/xlators/cluster/afr/src'\n");
        log.push(b"  CC       afr.lo\nafr.c:12:5: error: expected ';' before 'return'\n");
        log.push(b"make[2]: *** [Makefile:1: afr.lo] Error 1\nld: x.o: in function `f':\nx.c:3: undefined reference to `g'\npartial");
        log.flush();
        assert_eq!(
            log.errors(),
            "\nerrors:\nxlators/cluster/afr/src/afr.c:12:5: error: expected ';' before 'return'\n\
             xlators/cluster/afr/src/x.c:3: undefined reference to `g'"
        );
        assert!(log.tail().ends_with("partial"));
        assert!(!is_compiler_error("checking for error: no"));
    }
}
