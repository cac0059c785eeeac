//! Offline images: the base is bootstrapped with mmdebstrap from the host's apt sources and
//! streamed straight into the engine (`create_image` with `from_src("-")`, no temporary file);
//! the server and client images are builds on top of it that need no network.
//!
//! Every package of both roles goes into the base (builds cannot download). Tags are keyed by
//! content (package lists + Dockerfiles + release + bootstrap recipe), so a second run builds
//! nothing: `gflab/base:bookworm-<hash12>`, `gflab/server:bookworm-<hash12>`, ...
//!
//! - here: the base and role images, and [`ensure`] for whatever a plan needs ([`Need`]).
//! - [`vm`]: the kernel-VM node image (QEMU and the node's own kernel and initramfs).
//! - [`cpio`]: the tar → newc converter that turns a root filesystem into an initramfs.
//!
//! Everything reaches the engine through [`ImageStore`]; tags are pure functions of the inputs, so
//! a plan names its images without asking the engine.
pub mod cpio;
pub mod vm;

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use tokio::io::AsyncBufReadExt;

use crate::progress::Progress;
use crate::runtime::{BuildSpec, ImageStore, ImportSpec, Labels, RuntimeError};
use crate::topology::Release;

/// Packages every node gets.
pub const BASE_PACKAGES: &str = include_str!("../../../images/packages/base.txt");
/// Packages servers need (installed in the base too).
pub const SERVER_PACKAGES: &str = include_str!("../../../images/packages/server.txt");
/// Packages clients need (installed in the base too).
pub const CLIENT_PACKAGES: &str = include_str!("../../../images/packages/client.txt");
/// The server image recipe.
pub const SERVER_DOCKERFILE: &str = include_str!("../../../images/server/Dockerfile");
/// The client image recipe.
pub const CLIENT_DOCKERFILE: &str = include_str!("../../../images/client/Dockerfile");

/// Bump when the bootstrap recipe changes in a way the inputs above do not show.
const RECIPE: &str = "gflab-images-1";

/// Label put on every image gflab builds.
pub const LABEL_IMAGE: &str = "io.gflab.image";

/// Why images could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// mmdebstrap is not installed.
    #[error("failed to run mmdebstrap: {source}\nhint: apt-get install mmdebstrap")]
    NoMmdebstrap {
        /// Why the spawn failed.
        source: std::io::Error,
    },
    /// mmdebstrap failed.
    #[error("failed to bootstrap {release} with mmdebstrap ({status}):\n{stderr}")]
    Bootstrap {
        /// Release.
        release: Release,
        /// Its exit status.
        status: String,
        /// The tail of its stderr.
        stderr: String,
    },
    /// Importing the rootfs failed.
    #[error("failed to import base image {tag}: {message}")]
    Import {
        /// Tag.
        tag: String,
        /// The engine's words.
        message: String,
    },
    /// Building a role image failed.
    #[error("failed to build image {tag}: {message}")]
    Build {
        /// Tag.
        tag: String,
        /// The engine's words (the failing build output).
        message: String,
    },
    /// Asking the engine about an image, or removing one, failed.
    #[error(transparent)]
    Engine(#[from] RuntimeError),
    /// Building the kernel-VM node image's boot files failed.
    #[error(transparent)]
    Vm(#[from] vm::VmError),
}

/// The packages of a list file (comments and blanks dropped).
pub fn parse_packages(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Every package of the base, in list order, without duplicates.
pub fn all_packages() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for p in [BASE_PACKAGES, SERVER_PACKAGES, CLIENT_PACKAGES]
        .into_iter()
        .flat_map(parse_packages)
    {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// mmdebstrap's arguments for a release, writing the tar to `target` (`-` = stdout).
pub fn mmdebstrap_args(release: Release, target: &str) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--variant=minbase".into(),
        "--format=tar".into(),
        format!("--include={}", all_packages().join(",")),
        "--aptopt=APT::Install-Recommends \"false\"".into(),
    ];
    for d in [
        "path-exclude=/usr/share/man/*",
        "path-exclude=/usr/share/info/*",
        "path-exclude=/usr/share/locale/*",
        "path-exclude=/usr/share/doc/*",
        "path-include=/usr/share/doc/*/copyright",
    ] {
        args.push(format!("--dpkgopt={d}"));
    }
    args.push(release.as_str().into());
    args.push(target.into());
    args
}

/// The first 12 hex digits of a SHA-256 over length-prefixed `parts` (image tags are keyed by it).
pub(crate) fn hash12(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The image tags of one release (pure: derived from the embedded recipes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// Release.
    pub release: Release,
    /// Bootstrapped base.
    pub base: String,
    /// Server image.
    pub server: String,
    /// Client image.
    pub client: String,
}

impl ImageSet {
    /// The tags for `release`.
    pub fn for_release(release: Release) -> ImageSet {
        ImageSet::salted(release, "")
    }

    /// Tags with `salt` mixed into every hash: a separate, disposable set (cold-build benchmarks
    /// that must not touch images labs are using).
    pub fn salted(release: Release, salt: &str) -> ImageSet {
        let args = mmdebstrap_args(release, "-").join("\n");
        let recipe = format!("{RECIPE}{salt}");
        let base_hash = hash12(&[
            &recipe,
            release.as_str(),
            &args,
            BASE_PACKAGES,
            SERVER_PACKAGES,
            CLIENT_PACKAGES,
        ]);
        let base = format!("gflab/base:{release}-{base_hash}");
        let role = |df: &str| hash12(&[&recipe, &base, df]);
        ImageSet {
            release,
            server: format!("gflab/server:{release}-{}", role(SERVER_DOCKERFILE)),
            client: format!("gflab/client:{release}-{}", role(CLIENT_DOCKERFILE)),
            base,
        }
    }
}

/// An image set a plan needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// The base and role images of a release.
    Roles(ImageSet),
    /// The kernel-VM node image of a release.
    KernelVm(Release),
    /// The images of a GlusterFS built from this source tree; made by `build::ensure_images`,
    /// which needs containers, not by [`ensure`].
    Build(crate::source::Source),
}

/// What `ensure` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Built {
    /// Tags that were built now (empty: everything was up to date).
    pub built: Vec<String>,
}

/// Builds whatever of `needs` is missing, in order; says "up to date" for each set that is.
pub async fn ensure<S: ImageStore>(
    store: &S,
    needs: &[Need],
    progress: &Progress,
) -> Result<Built, ImageError> {
    let mut built = Built::default();
    for need in needs {
        let more = match need {
            Need::Roles(set) => ensure_set(store, set, progress).await?,
            Need::KernelVm(release) => vm::ensure_image(store, *release, progress).await?,
            Need::Build(_) => Built::default(),
        };
        built.built.extend(more.built);
    }
    Ok(built)
}

/// Builds whatever of `set` is missing.
pub async fn ensure_set<S: ImageStore>(
    store: &S,
    set: &ImageSet,
    progress: &Progress,
) -> Result<Built, ImageError> {
    let release = set.release;
    let mut built = Built::default();
    if !store.image_exists(&set.base).await? {
        bootstrap(store, release, &set.base, progress).await?;
        built.built.push(set.base.clone());
    }
    // The role images are independent: build the missing ones side by side.
    let mut missing = Vec::new();
    for (tag, df) in [
        (&set.server, SERVER_DOCKERFILE),
        (&set.client, CLIENT_DOCKERFILE),
    ] {
        if !store.image_exists(tag).await? {
            missing.push((tag, df));
        }
    }
    futures::future::try_join_all(
        missing
            .iter()
            .map(|(tag, df)| build_role(store, &set.base, tag, df, progress)),
    )
    .await?;
    built
        .built
        .extend(missing.iter().map(|(tag, _)| (*tag).clone()));
    if built.built.is_empty() {
        progress.note(format!(
            "images for {release} are up to date: {}, {}, {}",
            set.base, set.server, set.client
        ));
    }
    Ok(built)
}

/// Removes every image of `set` that exists, role images first.
pub async fn remove_set<S: ImageStore>(store: &S, set: &ImageSet) -> Result<(), ImageError> {
    for tag in [&set.server, &set.client, &set.base] {
        store.remove_image(tag).await?;
    }
    Ok(())
}

/// Bootstraps the base with mmdebstrap, streaming its tar into the engine as `tag`.
pub async fn bootstrap<S: ImageStore>(
    store: &S,
    release: Release,
    tag: &str,
    progress: &Progress,
) -> Result<(), ImageError> {
    bootstrap_with(
        store,
        release,
        mmdebstrap_args(release, "-"),
        tag,
        &[],
        progress,
    )
    .await
}

/// The last lines of a long output, kept for an error message.
#[derive(Debug, Default)]
struct Tail(Mutex<VecDeque<String>>);

impl Tail {
    const LINES: usize = 20;
    fn push(&self, line: &str) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if t.len() == Self::LINES {
            t.pop_front();
        }
        t.push_back(line.to_string());
    }
    fn text(&self) -> String {
        let t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        t.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// [`bootstrap`] with other mmdebstrap arguments (writing to `-`) and extra image changes
/// (`ENTRYPOINT [...]`); used for the kernel-VM node image.
pub async fn bootstrap_with<S: ImageStore>(
    store: &S,
    release: Release,
    args: Vec<String>,
    tag: &str,
    changes: &[String],
    progress: &Progress,
) -> Result<(), ImageError> {
    let step = progress.step(format!("bootstrapping {tag} (mmdebstrap {release})"));
    let mut child = tokio::process::Command::new("mmdebstrap")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ImageError::NoMmdebstrap { source })?;
    let (stdout, stderr) = match (child.stdout.take(), child.stderr.take()) {
        (Some(o), Some(e)) => (o, e),
        _ => {
            return Err(ImageError::Bootstrap {
                release,
                status: "no pipes".into(),
                stderr: String::new(),
            })
        }
    };
    let spec = ImportSpec {
        tag: tag.to_string(),
        changes: [
            format!("LABEL {LABEL_IMAGE}=base"),
            "CMD [\"/bin/bash\"]".into(),
        ]
        .into_iter()
        .chain(changes.iter().cloned())
        .collect(),
    };
    let status = |st: &str| step.detail(&format!("import: {st}"), false);
    let import = store.import_image(&spec, Box::pin(stdout), &status);
    let tail = Tail::default();
    let read_stderr = async {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            // mmdebstrap's own phase lines ("I: downloading packages with apt...") also go to CI logs.
            step.detail(
                &line,
                line.starts_with("I: ") || line.starts_with("W: ") || line.starts_with("E: "),
            );
            tail.push(&line);
        }
    };
    let (imported, ()) = futures::join!(import, read_stderr);
    let status = child.wait().await;
    let failed = match &status {
        Ok(s) if s.success() => None,
        Ok(s) => Some(s.to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(status) = failed {
        // A truncated rootfs must never be taken for a good one.
        let _ = store.remove_image(tag).await;
        return Err(ImageError::Bootstrap {
            release,
            status,
            stderr: tail.text(),
        });
    }
    imported.map_err(|e| ImageError::Import {
        tag: tag.into(),
        message: match e {
            RuntimeError::Image { message, .. } => message,
            other => other.to_string(),
        },
    })?;
    step.done("imported");
    Ok(())
}

/// Builds a role image from a context holding only the Dockerfile.
pub async fn build_role<S: ImageStore>(
    store: &S,
    base: &str,
    tag: &str,
    dockerfile: &str,
    progress: &Progress,
) -> Result<(), ImageError> {
    let spec = BuildSpec {
        tag: tag.to_string(),
        dockerfile: dockerfile.to_string(),
        base: base.to_string(),
        args: Labels::new(),
        labels: Labels::from([(LABEL_IMAGE.to_string(), "role".to_string())]),
        context: Vec::new(),
    };
    build_spec(store, &spec, progress).await
}

/// Builds `spec`, showing its steps; fails with the build's last lines, also when the build
/// ended without the image.
pub async fn build_spec<S: ImageStore>(
    store: &S,
    spec: &BuildSpec,
    progress: &Progress,
) -> Result<(), ImageError> {
    let tag = spec.tag.as_str();
    let step = progress.step(format!("building {tag}"));
    let tail = Tail::default();
    let output = |line: &str| {
        step.detail(line, line.starts_with("Step "));
        tail.push(line);
    };
    let err = |message: String| ImageError::Build {
        tag: tag.into(),
        message,
    };
    if let Err(e) = store.build_image(spec, &output).await {
        tail.push(&e.to_string());
        return Err(err(tail.text()));
    }
    if !store.image_exists(tag).await? {
        return Err(err(format!(
            "the build ended without the image:\n{}",
            tail.text()
        )));
    }
    step.done("built");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_lists_cover_both_roles() {
        let all = all_packages();
        for p in [
            "glusterfs-server",
            "glusterfs-client",
            "iproute2",
            "procps",
            "lvm2",
        ] {
            assert!(all.contains(&p), "{p} missing from {all:?}");
        }
        assert_eq!(parse_packages("a # x\n\n# c\nb\n"), vec!["a", "b"]);
    }

    #[test]
    fn tags_are_keyed_by_content_and_release() {
        let a = ImageSet::for_release(Release::Bookworm);
        let b = ImageSet::for_release(Release::Bookworm);
        let t = ImageSet::for_release(Release::Trixie);
        assert_eq!(a, b);
        assert_ne!(a.base, t.base);
        assert!(a.base.starts_with("gflab/base:bookworm-"));
        assert!(a.server.starts_with("gflab/server:bookworm-"));
        assert!(t.client.starts_with("gflab/client:trixie-"));
        assert_eq!(a.base.len(), "gflab/base:bookworm-".len() + 12);
    }

    #[test]
    fn mmdebstrap_uses_host_sources_and_writes_to_target() {
        let args = mmdebstrap_args(Release::Trixie, "-");
        assert_eq!(
            args[args.len() - 2..],
            ["trixie".to_string(), "-".to_string()]
        );
        // No mirror argument: the host's apt sources are used.
        assert!(!args.iter().any(|a| a.contains("://")));
    }
}
