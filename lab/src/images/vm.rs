//! The kernel-VM node image: a container image that runs QEMU, carrying Debian's cloud kernel
//! and the node's whole root filesystem as its initramfs (see `kind::kernel_vm` for what such a
//! node is).
//!
//! The VM side is in `images/vm/start` (container entrypoint: network hand-over, QEMU) and
//! `images/vm/init` (PID 1 in the VM: modules, address, thin pool, then the agent). Boot files are
//! cached between builds ([`boot_cache_dir`]); the image tag is keyed by every input.

use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::cpio;
use crate::runtime::ImageStore;
use crate::thin::THIN_BRICKS_SCRIPT;
use crate::topology::Release;

/// Packages of the VM's root filesystem.
pub const VM_PACKAGES: &str = include_str!("../../../images/vm/packages-vm.txt");
/// Packages of the container that runs QEMU.
pub const HOST_PACKAGES: &str = include_str!("../../../images/vm/packages-host.txt");
/// The container's entrypoint.
pub const START_SCRIPT: &str = include_str!("../../../images/vm/start");
/// PID 1 inside the VM.
pub const INIT_SCRIPT: &str = include_str!("../../../images/vm/init");

/// Bump when the build recipe changes in a way the inputs above do not show.
const RECIPE: &str = "gflab-vm-1";

/// Where the VM's settings go in the container (read by `images/vm/start`).
pub const VM_CONF_PATH: &str = "/etc/gflab/vm.conf";

/// Paths under the rootfs that the VM never needs (kept out of the initramfs to save memory).
const PRUNED: &[&str] = &[
    "boot/",
    "usr/share/doc/",
    "usr/share/man/",
    "usr/share/info/",
    "usr/share/locale/",
    "var/cache/apt/",
    "var/lib/apt/lists/",
];

/// Why a VM image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// mmdebstrap could not be started.
    #[error("failed to run mmdebstrap for the VM root filesystem: {source}\nhint: apt-get install mmdebstrap")]
    NoMmdebstrap {
        /// Why the spawn failed.
        source: std::io::Error,
    },
    /// mmdebstrap failed.
    #[error("failed to bootstrap the {release} VM root filesystem ({status}):\n{stderr}")]
    Bootstrap {
        /// Release.
        release: Release,
        /// Exit status.
        status: String,
        /// Tail of its stderr.
        stderr: String,
    },
    /// Converting the tar stream to the initramfs failed.
    #[error("failed to write the VM initramfs {path}: {source}")]
    Initramfs {
        /// The file being written.
        path: PathBuf,
        /// What went wrong.
        source: cpio::CpioError,
    },
    /// The root filesystem had no kernel.
    #[error("failed to find the VM kernel: the {release} root filesystem has no /boot/vmlinuz-*\nhint: keep linux-image-cloud-amd64 in images/vm/packages-vm.txt")]
    NoKernel {
        /// Release.
        release: Release,
    },
    /// The build task died.
    #[error("failed to build the VM boot files: {0}")]
    Task(String),
    /// A local file operation failed.
    #[error("failed to {what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The packages of a list file (comments and blanks dropped).
fn packages(text: &str) -> Vec<&str> {
    super::parse_packages(text)
}

/// mmdebstrap's arguments for the VM root filesystem, as a tar on stdout.
pub fn rootfs_mmdebstrap_args(release: Release) -> Vec<String> {
    vec![
        "--variant=minbase".into(),
        "--format=tar".into(),
        format!("--include={}", packages(VM_PACKAGES).join(",")),
        "--aptopt=APT::Install-Recommends \"false\"".into(),
        release.as_str().into(),
        "-".into(),
    ]
}

/// Whether an entry of the root filesystem goes into the initramfs.
pub fn keep_in_initramfs(name: &str) -> bool {
    let dir = format!("{name}/");
    !PRUNED
        .iter()
        .any(|p| name.starts_with(p) && dir.len() > p.len())
}

/// The key of the kernel and initramfs: every input of the VM root filesystem.
fn boot_key(release: Release) -> String {
    super::hash12(&[
        RECIPE,
        release.as_str(),
        &rootfs_mmdebstrap_args(release).join("\n"),
        VM_PACKAGES,
        &PRUNED.join(","),
    ])
}

/// Where the kernel and initramfs of `release` are kept between image builds
/// (`$XDG_CACHE_HOME/gflab/vm-<release>-<key>`, else `~/.cache/...`, else the temp dir).
pub fn boot_cache_dir(release: Release) -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("gflab")
        .join(format!("vm-{release}-{}", boot_key(release)))
}

/// The VM node image's tag for a release: keyed by every input of the build.
pub fn image_tag(release: Release) -> String {
    let args = rootfs_mmdebstrap_args(release).join("\n");
    let host_args = host_mmdebstrap_args(release, Path::new("/"), Path::new("/")).join("\n");
    let h = super::hash12(&[
        RECIPE,
        release.as_str(),
        &args,
        &host_args,
        VM_PACKAGES,
        HOST_PACKAGES,
        START_SCRIPT,
        INIT_SCRIPT,
        THIN_BRICKS_SCRIPT,
        &PRUNED.join(","),
    ]);
    format!("gflab/vm:{release}-{h}")
}

/// The kernel and initramfs made from the VM root filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootFiles {
    /// The kernel image.
    pub vmlinuz: PathBuf,
    /// The whole root filesystem as a newc archive.
    pub rootfs_cpio: PathBuf,
}

/// Splits a root filesystem tar into the kernel (`dir/vmlinuz`) and the initramfs
/// (`dir/rootfs.cpio`, every entry kept by [`keep_in_initramfs`]). Reads the tar once, so it can
/// come straight from mmdebstrap's stdout. Returns the kernel's path if the tar had one.
pub fn split_rootfs<R: Read>(
    tar: R,
    dir: &Path,
) -> Result<(Option<PathBuf>, cpio::Summary), VmError> {
    let cpio_path = dir.join("rootfs.cpio");
    let io_err = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| VmError::Io { what, path, source }
    };
    let file = std::fs::File::create(&cpio_path).map_err(io_err("create", &cpio_path))?;
    let (out, sum, grabbed) = cpio::tar_to_newc(
        tar,
        std::io::BufWriter::with_capacity(1 << 20, file),
        &keep_in_initramfs,
        &|name| name.starts_with("boot/vmlinuz-"),
    )
    .map_err(|source| VmError::Initramfs {
        path: cpio_path.clone(),
        source,
    })?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(io_err("write", &cpio_path))?;
    match grabbed.into_iter().next() {
        Some((_, data)) => {
            let path = dir.join("vmlinuz");
            std::fs::write(&path, data).map_err(io_err("write", &path))?;
            Ok((Some(path), sum))
        }
        None => Ok((None, sum)),
    }
}

/// Bootstraps the VM root filesystem and writes `vmlinuz` and `rootfs.cpio` into `dir`.
pub fn build_boot_files(release: Release, dir: &Path) -> Result<BootFiles, VmError> {
    let mut child = std::process::Command::new("mmdebstrap")
        .args(rootfs_mmdebstrap_args(release))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| VmError::NoMmdebstrap { source })?;
    let stderr = child.stderr.take();
    let tail = std::thread::spawn(move || {
        let mut tail: VecDeque<String> = VecDeque::new();
        if let Some(e) = stderr {
            use std::io::BufRead;
            for line in std::io::BufReader::new(e).lines().map_while(Result::ok) {
                tracing::debug!(target: "mmdebstrap", "{line}");
                if tail.len() == 20 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        }
        tail.into_iter().collect::<Vec<_>>().join("\n")
    });
    let split = match child.stdout.take() {
        Some(out) => split_rootfs(std::io::BufReader::with_capacity(1 << 20, out), dir),
        None => Ok((None, cpio::Summary::default())),
    };
    let status = child.wait();
    let stderr = tail.join().unwrap_or_default();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            return Err(VmError::Bootstrap {
                release,
                status: s.to_string(),
                stderr,
            })
        }
        Err(e) => {
            return Err(VmError::Bootstrap {
                release,
                status: e.to_string(),
                stderr,
            })
        }
    }
    let (vmlinuz, sum) = split?;
    tracing::info!(
        entries = sum.entries,
        bytes = sum.data_bytes,
        "VM initramfs written"
    );
    let vmlinuz = vmlinuz.ok_or(VmError::NoKernel { release })?;
    Ok(BootFiles {
        vmlinuz,
        rootfs_cpio: dir.join("rootfs.cpio"),
    })
}

/// mmdebstrap's arguments for the container that runs QEMU: its packages, plus the kernel and
/// initramfs in `boot` and the scripts in `scripts` copied to `/vm`.
pub fn host_mmdebstrap_args(release: Release, boot: &Path, scripts: &Path) -> Vec<String> {
    let file = |d: &Path, n: &str| d.join(n).display().to_string();
    let mut args: Vec<String> = vec![
        "--variant=minbase".into(),
        "--format=tar".into(),
        format!("--include={}", packages(HOST_PACKAGES).join(",")),
        "--aptopt=APT::Install-Recommends \"false\"".into(),
    ];
    for d in [
        "path-exclude=/usr/share/man/*",
        "path-exclude=/usr/share/locale/*",
        "path-exclude=/usr/share/doc/*",
    ] {
        args.push(format!("--dpkgopt={d}"));
    }
    args.push("--customize-hook=mkdir -p \"$1/vm\"".into());
    args.push(format!(
        "--customize-hook=copy-in {} {} {} {} {} /vm",
        file(boot, "vmlinuz"),
        file(boot, "rootfs.cpio"),
        file(scripts, "start"),
        file(scripts, "init"),
        file(scripts, "thin-bricks")
    ));
    args.push(release.as_str().into());
    args.push("-".into());
    args
}

/// Builds the kernel-VM node image for `release` unless it exists.
pub async fn ensure_image<S: ImageStore>(
    store: &S,
    release: Release,
    progress: &crate::progress::Progress,
) -> Result<super::Built, super::ImageError> {
    let tag = image_tag(release);
    if store.image_exists(&tag).await? {
        return Ok(super::Built::default());
    }
    let dir = tempfile::tempdir().map_err(|source| VmError::Io {
        what: "create a temporary directory in",
        path: std::env::temp_dir(),
        source,
    })?;
    let path = dir.path().to_path_buf();
    let boot = boot_cache_dir(release);
    if boot.join("vmlinuz").is_file() && boot.join("rootfs.cpio").is_file() {
        progress.note(format!("VM kernel and initramfs from {}", boot.display()));
    } else {
        let step = progress.step(format!(
            "bootstrapping the {release} VM kernel and initramfs"
        ));
        let staging = boot.with_extension("partial");
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|source| VmError::Io {
            what: "create",
            path: staging.clone(),
            source,
        })?;
        let dir = staging.clone();
        let built = tokio::task::spawn_blocking(move || build_boot_files(release, &dir))
            .await
            .map_err(|e| VmError::Task(e.to_string()))?;
        if let Err(e) = built {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e.into());
        }
        let _ = std::fs::remove_dir_all(&boot);
        std::fs::rename(&staging, &boot).map_err(|source| VmError::Io {
            what: "rename into place",
            path: boot.clone(),
            source,
        })?;
        step.done("written");
    }
    for (name, text) in [
        ("start", START_SCRIPT),
        ("init", INIT_SCRIPT),
        ("thin-bricks", THIN_BRICKS_SCRIPT),
    ] {
        let p = path.join(name);
        std::fs::write(&p, text).map_err(|source| VmError::Io {
            what: "write",
            path: p.clone(),
            source,
        })?;
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).map_err(
            |source| VmError::Io {
                what: "chmod",
                path: p.clone(),
                source,
            },
        )?;
    }
    super::bootstrap_with(
        store,
        release,
        host_mmdebstrap_args(release, &boot, &path),
        &tag,
        &["ENTRYPOINT [\"/vm/start\"]".to_string()],
        progress,
    )
    .await?;
    Ok(super::Built { built: vec![tag] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruned_paths_stay_out_but_their_parents_stay() {
        assert!(!keep_in_initramfs("usr/share/doc/glusterfs/README"));
        assert!(!keep_in_initramfs("boot/vmlinuz-6.1.0"));
        assert!(keep_in_initramfs("boot"));
        assert!(keep_in_initramfs("usr/share"));
        assert!(keep_in_initramfs(
            "usr/lib/modules/6.1.0/kernel/drivers/md/dm-thin-pool.ko"
        ));
        assert!(keep_in_initramfs("usr/share/documentation-not-doc"));
    }

    #[test]
    fn image_tag_is_keyed_by_release_and_recipe() {
        let a = image_tag(Release::Bookworm);
        assert_eq!(a, image_tag(Release::Bookworm));
        assert_ne!(a, image_tag(Release::Trixie));
        assert!(a.starts_with("gflab/vm:bookworm-"), "{a}");
    }

    #[test]
    fn host_image_copies_boot_files_into_vm_dir() {
        let args =
            host_mmdebstrap_args(Release::Bookworm, Path::new("/tmp/x"), Path::new("/tmp/x"));
        assert!(args
            .iter()
            .any(|a| a.starts_with("--include=") && a.contains("qemu-system-x86")));
        assert!(args.contains(
            &"--customize-hook=copy-in /tmp/x/vmlinuz /tmp/x/rootfs.cpio /tmp/x/start /tmp/x/init /tmp/x/thin-bricks /vm"
                .to_string()
        ));
        assert_eq!(
            args[args.len() - 2..],
            ["bookworm".to_string(), "-".to_string()]
        );
        let vm = rootfs_mmdebstrap_args(Release::Trixie);
        assert!(vm.iter().any(|a| a.contains("dm") || a.contains("lvm2")));
        assert!(
            !vm.iter().chain(&args).any(|a| a.contains("://")),
            "no mirror argument"
        );
    }

    #[test]
    fn split_rootfs_writes_kernel_and_initramfs() {
        let mut t = tar::Builder::new(Vec::new());
        for (p, d) in [
            ("./boot/vmlinuz-6.1.0-cloud-amd64", &b"KERNEL"[..]),
            ("./etc/hostname", b"x\n"),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_path(p).unwrap();
            h.set_cksum();
            t.append(&h, d).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let (k, sum) = split_rootfs(&t.into_inner().unwrap()[..], dir.path()).unwrap();
        assert_eq!(std::fs::read(k.unwrap()).unwrap(), b"KERNEL");
        assert_eq!(sum.entries, 1);
        let cpio = std::fs::read(dir.path().join("rootfs.cpio")).unwrap();
        assert!(cpio.windows(12).any(|w| w == b"etc/hostname"));
        assert!(!cpio.windows(6).any(|w| w == b"KERNEL"));
    }

    #[test]
    fn split_rootfs_without_kernel_says_so() {
        let t = tar::Builder::new(Vec::new()).into_inner().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (k, _) = split_rootfs(&t[..], dir.path()).unwrap();
        assert!(k.is_none());
    }
}
