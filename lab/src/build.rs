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
use std::path::PathBuf;
use std::time::Duration;

use gflab_agent::{Client, ClientOptions, Command, ExecEvent, ExitStatus, Role, Secret};

use crate::images::{self, hash12, ImageError, ImageSet};
use crate::node::{agent_cmd, AGENT_PORT};
use crate::progress::Progress;
use crate::runtime::{
    BuildSpec, ContainerOp, ContainerSpec, FileUpload, ImageStore, Labels, Runtime, RuntimeError,
    VolumeMount, VolumeSpec, LABEL_LAB, LABEL_NODE,
};
use crate::source::{delta, manifest_text, parse_manifest};
pub use crate::source::{Manifest, Source};
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

/// Why a build could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The source tree could not be read.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
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
        .create_container(&spec, &crate::node::node_files(agent_binary, &secret))
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
        .and_then(|o| crate::node::published_agent(&o))
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

    #[test]
    fn the_images_follow_the_source_hash() {
        assert_ne!(
            BuildImages::new(Release::Bookworm, "0123456789ab").server,
            BuildImages::new(Release::Bookworm, "0123456789ac").server
        );
        assert_ne!(
            BuildImages::new(Release::Bookworm, "0123456789ab").server,
            BuildImages::new(Release::Trixie, "0123456789ab").server
        );
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
