//! Kernel-VM server nodes: a node that is still a container on the lab network (same labels,
//! lifecycle and `down`), inside which QEMU boots Debian's cloud kernel with the whole root
//! filesystem as its initramfs. The container's address and MAC move to the VM (its eth0 joins a
//! bridge with the VM's tap device), so the agent port Docker publishes reaches the agent in the VM.
//! Such a node has its own kernel, hence its own device-mapper: thin-LVM bricks and GlusterFS
//! snapshots work on hosts whose kernel has no dm-thin.
//!
//! - [`cpio`]: the tar → newc converter that turns mmdebstrap's tar into the initramfs.
//! - here: the image recipe (package lists and scripts under `images/vm/`), the image build, and
//!   what a plan changes for a kernel-VM node ([`apply_to_container`], [`vm_conf`]).
//!
//! The VM side is in `images/vm/start` (container entrypoint: network hand-over, QEMU) and
//! `images/vm/init` (PID 1 in the VM: modules, address, thin pool, then the agent).
//!
//! Thin-LVM bricks either way: `images/vm/thin-bricks` makes a tagged volume group with a thin pool
//! and mounts an XFS thin LV at the brick root. VMs run it at boot on their virtio disk; server
//! containers on hosts whose kernel has dm-thin run it through the agent at `up`
//! ([`setup_container_bricks`], loop-backed) and undo it at `down` ([`teardown_container_bricks`]),
//! since their pools live in the host's kernel. [`choose_server_kind`] decides which.
//! `GFLAB_VM_ACCEL` (`kvm` | `tcg` | `auto`, default `auto`) forces the VMs' accelerator.

pub mod cpio;

use std::collections::VecDeque;
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::runtime::{ContainerSpec, FileUpload};
use crate::topology::Release;

/// Packages of the VM's root filesystem.
pub const VM_PACKAGES: &str = include_str!("../../images/vm/packages-vm.txt");
/// Packages of the container that runs QEMU.
pub const HOST_PACKAGES: &str = include_str!("../../images/vm/packages-host.txt");
/// The container's entrypoint.
pub const START_SCRIPT: &str = include_str!("../../images/vm/start");
/// PID 1 inside the VM.
pub const INIT_SCRIPT: &str = include_str!("../../images/vm/init");
/// Makes and removes thin-LVM bricks (in VMs and in server containers on dm-thin hosts).
pub const THIN_BRICKS_SCRIPT: &str = include_str!("../../images/vm/thin-bricks");
/// Where the thin-bricks script goes in a node.
pub const THIN_BRICKS_PATH: &str = "/usr/local/sbin/gflab-thin-bricks";

/// Bump when the build recipe changes in a way the inputs above do not show.
const RECIPE: &str = "gflab-vm-1";

/// Where the VM's settings go in the container (read by `images/vm/start`).
pub const VM_CONF_PATH: &str = "/etc/gflab/vm.conf";
/// Capability a node with thin-LVM bricks advertises in the node list.
pub const CAP_THIN_LVM: &str = "thin-lvm";
/// LVM tag on every volume group that holds brick thin pools (tests find pools by it).
pub const VG_TAG: &str = "gflab_bricks";

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
    /// Importing the node image failed.
    #[error(transparent)]
    Image(#[from] crate::images::ImageError),
    /// The build task died.
    #[error("failed to build the VM boot files: {0}")]
    Task(String),
    /// Making or removing a node's thin-LVM bricks failed.
    #[error("failed to {what} thin-LVM bricks on node {node}: {message}")]
    ThinBricks {
        /// `set up` or `remove`.
        what: &'static str,
        /// The node.
        node: String,
        /// The command's output or the agent's error.
        message: String,
    },
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
    crate::images::parse_packages(text)
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
    crate::images::hash12(&[
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
    let h = crate::images::hash12(&[
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

/// Builds the kernel-VM node image for `release` unless it exists; returns its tag.
pub async fn ensure_image(
    docker: &bollard::Docker,
    release: Release,
    progress: &crate::progress::Progress,
) -> Result<String, VmError> {
    let tag = image_tag(release);
    if crate::images::exists(docker, &tag).await? {
        return Ok(tag);
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
            return Err(e);
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
    crate::images::bootstrap_with(
        docker,
        release,
        host_mmdebstrap_args(release, &boot, &path),
        &tag,
        &["ENTRYPOINT [\"/vm/start\"]".to_string()],
        progress,
    )
    .await?;
    Ok(tag)
}

/// Settings of one VM node, written to [`VM_CONF_PATH`] in its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmSettings {
    /// Guest memory in MiB.
    pub memory_mib: u32,
    /// Guest CPUs.
    pub cpus: u32,
    /// `kvm`, `tcg` or `auto`.
    pub accel: String,
    /// Size of the sparse disk that backs the thin pool, in MiB.
    pub disk_mib: u32,
    /// Volume group name (unique per lab and node).
    pub vg: String,
    /// Brick root inside the VM.
    pub brick_root: String,
    /// Every lab node's name and address, for the VM's /etc/hosts (Docker's DNS is not reachable
    /// from inside the VM).
    pub hosts: Vec<(String, Ipv4Addr)>,
}

/// A volume group name for a lab node: LVM allows `[A-Za-z0-9+_.-]`; anything else becomes `_`.
pub fn vg_name(lab: &str, node: &str) -> String {
    format!("gflab_{lab}_{node}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+_.-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The contents of [`VM_CONF_PATH`] (a shell fragment; every value is single-quoted).
pub fn vm_conf(s: &VmSettings) -> String {
    let q = |v: &str| format!("'{}'", v.replace('\'', "'\\''"));
    let hosts = s
        .hosts
        .iter()
        .map(|(n, ip)| format!("{n}={ip}"))
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "GFLAB_VM_MEMORY={}\nGFLAB_VM_CPUS={}\nGFLAB_VM_ACCEL={}\nGFLAB_VM_DISK_MB={}\nGFLAB_VM_VG={}\nGFLAB_BRICK_ROOT={}\nGFLAB_HOSTS={}\n",
        s.memory_mib,
        s.cpus,
        q(&s.accel),
        s.disk_mib,
        q(&s.vg),
        q(&s.brick_root),
        q(&hosts)
    )
}

/// Turns a planned container node into a kernel-VM node: the VM image, the capabilities and devices
/// QEMU and the bridge need, no gluster volumes (glusterd's state lives in the VM), and the
/// settings file uploaded before start.
pub fn apply_to_container(spec: &mut ContainerSpec, image: &str, s: &VmSettings) -> FileUpload {
    spec.image = image.to_string();
    spec.cap_add = vec!["NET_ADMIN".into()];
    spec.devices = vec!["/dev/net/tun".into()];
    if Path::new("/dev/kvm").exists() && s.accel != "tcg" {
        spec.devices.push("/dev/kvm".into());
    }
    spec.volumes.clear();
    spec.init = true;
    FileUpload {
        path: VM_CONF_PATH.into(),
        data: vm_conf(s).into_bytes(),
        mode: 0o644,
    }
}

/// Label on a server container whose thin pool lives in the host kernel (value: its VG); `down`
/// removes the pool inside the node before removing the container.
pub const LABEL_THIN_VG: &str = "io.gflab.thin-vg";
/// The sparse file behind a server container's loop-backed thin pool.
pub const CONTAINER_PV_FILE: &str = "/var/lib/gflab-thin/pv.img";

/// Label listing a node's capabilities, comma-separated (the node list's `capabilities`).
pub const LABEL_CAPABILITIES: &str = "io.gflab.capabilities";

/// Guest memory of a VM server node (MiB): glusterd, bricks, snapshot bricks and the root
/// filesystem held in memory.
pub const VM_MEMORY_MIB: u32 = 1536;
/// Size of the sparse disk backing a VM node's thin pool (MiB).
pub const VM_DISK_MIB: u32 = 4096;

/// Makes the plan's kernel-VM nodes VM containers, and labels servers with thin-LVM bricks with
/// the `thin-lvm` capability. Returns, per node name, the files to upload before start.
pub fn plan_nodes(
    lab: &str,
    release: Release,
    brick_root: &str,
    nodes: &mut [crate::plan::NodePlan],
) -> Vec<(String, FileUpload)> {
    use crate::topology::{BrickKind, NodeKind};
    let hosts: Vec<(String, Ipv4Addr)> = nodes.iter().map(|n| (n.name.clone(), n.ip)).collect();
    let image = image_tag(release);
    let accel = std::env::var("GFLAB_VM_ACCEL").unwrap_or_else(|_| "auto".into());
    let mut files = Vec::new();
    for n in nodes.iter_mut() {
        if n.brick_kind == Some(BrickKind::ThinLvm) {
            n.container
                .labels
                .insert(LABEL_CAPABILITIES.into(), CAP_THIN_LVM.into());
        }
        if n.kind == NodeKind::Container && n.brick_kind == Some(BrickKind::ThinLvm) {
            // LVM in the container makes its own loop and device-mapper nodes (majors 7 and the
            // dynamic device-mapper one): allow block devices, pass the two control devices.
            n.container
                .devices
                .extend(["/dev/loop-control", "/dev/mapper/control"].map(String::from));
            n.container.device_cgroup_rules.push("b *:* rwm".into());
            n.container
                .labels
                .insert(LABEL_THIN_VG.into(), vg_name(lab, &n.name));
            files.push((
                n.name.clone(),
                FileUpload {
                    path: THIN_BRICKS_PATH.into(),
                    data: THIN_BRICKS_SCRIPT.as_bytes().to_vec(),
                    mode: 0o755,
                },
            ));
        }
        if n.kind != NodeKind::KernelVm {
            continue;
        }
        let settings = VmSettings {
            memory_mib: VM_MEMORY_MIB,
            cpus: 1,
            accel: accel.clone(),
            disk_mib: VM_DISK_MIB,
            vg: vg_name(lab, &n.name),
            brick_root: brick_root.into(),
            hosts: hosts.clone(),
        };
        let upload = apply_to_container(&mut n.container, &image, &settings);
        files.push((n.name.clone(), upload));
    }
    files
}

/// How long `up` waits for a VM node's agent: QEMU boot under software emulation, two VMs
/// sharing the host's cores.
pub const BOOT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(300);

/// Picks how servers run for the topology on this host. Thin-LVM bricks need the kernel's dm-thin:
/// servers become kernel-VM nodes, which bring their own kernel. Returns what `up` says about it.
pub fn choose_server_kind(
    topo: &mut crate::topology::Topology,
    host: &crate::doctor::HostPaths,
) -> Option<String> {
    use crate::topology::{BrickKind, NodeKind};
    let s = &mut topo.servers;
    if s.brick_kind != BrickKind::ThinLvm || s.kind == NodeKind::KernelVm {
        return None;
    }
    if crate::doctor::dm_thin_available(host) {
        return Some(
            "thin-LVM bricks: the host kernel has dm-thin; server containers get loop-backed \
             thin pools"
                .into(),
        );
    }
    s.kind = NodeKind::KernelVm;
    Some({
        "thin-LVM bricks: the host kernel has no dm-thin (dm_thin_pool), so servers run as \
         kernel-VM nodes (QEMU with their own kernel; slower to boot)"
            .into()
    })
}

async fn run_thin_bricks(
    client: &gflab_agent::Client,
    node: &str,
    what: &'static str,
    args: &[&str],
) -> Result<(), VmError> {
    let err = |message: String| VmError::ThinBricks {
        what,
        node: node.to_string(),
        message,
    };
    let cmd = gflab_agent::Command::new(THIN_BRICKS_PATH)
        .args(args.iter().copied())
        .timeout(std::time::Duration::from_secs(300));
    let line = cmd.display();
    let out = client.exec(cmd).await.map_err(|e| err(e.to_string()))?;
    if out.success() {
        Ok(())
    } else {
        Err(err(format!(
            "`{line}` exited with {:?}: {}{}",
            out.status,
            out.stdout_str().trim(),
            out.stderr_str().trim()
        )))
    }
}

/// Makes the loop-backed thin pool and brick LV of every server container that has one planned
/// (hosts with dm-thin); kernel-VM nodes make theirs at boot.
pub async fn setup_container_bricks(
    plan: &crate::plan::Plan,
    nodes: &[crate::lab::ReadyNode],
) -> Result<(), VmError> {
    let work = plan.nodes.iter().filter_map(|p| {
        let vg = p.container.labels.get(LABEL_THIN_VG)?;
        let ready = nodes.iter().find(|r| r.name == p.name)?;
        Some(async move {
            let pv = format!("loop:{CONTAINER_PV_FILE}:{VM_DISK_MIB}");
            run_thin_bricks(
                &ready.client,
                &p.name,
                "set up",
                &["setup", vg, &pv, crate::plan::BRICK_ROOT],
            )
            .await
        })
    });
    futures::future::try_join_all(work).await?;
    Ok(())
}

/// Removes the thin pools that server containers of a lab hold in the host kernel (unmount,
/// `vgremove -ff`, `losetup -d`), before the containers go. Returns one line per failure.
pub async fn teardown_container_bricks(
    lab: &str,
    objects: &[crate::runtime::LabObject],
) -> Vec<String> {
    let nodes: Vec<&crate::runtime::LabObject> = objects
        .iter()
        .filter(|o| {
            o.kind == crate::runtime::ObjectKind::Container && !o.label(LABEL_THIN_VG).is_empty()
        })
        .collect();
    if nodes.is_empty() {
        return Vec::new();
    }
    let secret = match crate::state::read_secret(lab) {
        Ok(s) => s,
        Err(e) => {
            return vec![format!(
                "failed to remove thin-LVM bricks of lab {lab}: {e}"
            )]
        }
    };
    let opts = gflab_agent::ClientOptions {
        connect_timeout: std::time::Duration::from_secs(5),
        ..Default::default()
    };
    let work = nodes.iter().map(|o| {
        let secret = secret.clone();
        let opts = opts.clone();
        async move {
            let node = o.label(crate::runtime::LABEL_NODE);
            let port = o
                .ports
                .iter()
                .find(|p| p.container == crate::plan::AGENT_PORT)
                .ok_or_else(|| VmError::ThinBricks {
                    what: "remove",
                    node: node.to_string(),
                    message: "the container is not running (no agent port)".into(),
                })?;
            let client = gflab_agent::Client::connect(&port.host.to_string(), secret, opts)
                .await
                .map_err(|e| VmError::ThinBricks {
                    what: "remove",
                    node: node.to_string(),
                    message: e.to_string(),
                })?;
            run_thin_bricks(
                &client,
                node,
                "remove",
                &["teardown", o.label(LABEL_THIN_VG), crate::plan::BRICK_ROOT],
            )
            .await
        }
    });
    futures::future::join_all(work)
        .await
        .into_iter()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect()
}

/// The capabilities a node's labels carry.
pub fn capabilities_of(labels: &crate::runtime::Labels) -> Vec<String> {
    labels
        .get(LABEL_CAPABILITIES)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
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
    fn vm_conf_quotes_values_for_the_shell() {
        let s = VmSettings {
            memory_mib: 1536,
            cpus: 1,
            accel: "auto".into(),
            disk_mib: 4096,
            vg: vg_name("snap shot", "server1"),
            brick_root: "/bricks/it's".into(),
            hosts: vec![
                ("server1".into(), Ipv4Addr::new(10, 0, 0, 2)),
                ("client1".into(), Ipv4Addr::new(10, 0, 0, 3)),
            ],
        };
        let c = vm_conf(&s);
        assert!(c.contains("GFLAB_VM_VG='gflab_snap_shot_server1'\n"), "{c}");
        assert!(c.contains("GFLAB_BRICK_ROOT='/bricks/it'\\''s'\n"), "{c}");
        assert!(
            c.contains("GFLAB_HOSTS='server1=10.0.0.2 client1=10.0.0.3'\n"),
            "{c}"
        );
        assert!(c.contains("GFLAB_VM_MEMORY=1536\n"));
    }

    #[test]
    fn vg_names_use_only_lvm_characters() {
        assert_eq!(vg_name("lab-1", "server2"), "gflab_lab-1_server2");
        assert_eq!(vg_name("a/b", "c:d"), "gflab_a_b_c_d");
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

    #[test]
    fn apply_to_container_swaps_image_caps_and_uploads_settings() {
        let mut spec = ContainerSpec {
            name: "gflab-x-server1".into(),
            hostname: "server1".into(),
            image: "gflab/server:bookworm-0".into(),
            cmd: vec!["/usr/local/bin/gflab-agent".into()],
            network: "gflab-x".into(),
            ip: Ipv4Addr::new(10, 0, 0, 2),
            aliases: vec!["server1".into()],
            volumes: vec![crate::runtime::VolumeMount {
                volume: "v".into(),
                target: "/var/lib/glusterd".into(),
            }],
            tmpfs: vec!["/run".into()],
            cap_add: vec!["SYS_ADMIN".into()],
            devices: vec!["/dev/fuse".into()],
            device_cgroup_rules: Vec::new(),
            publish_tcp: vec![7070],
            init: false,
            labels: Default::default(),
        };
        let s = VmSettings {
            memory_mib: 1024,
            cpus: 1,
            accel: "tcg".into(),
            disk_mib: 2048,
            vg: "gflab_x_server1".into(),
            brick_root: "/bricks".into(),
            hosts: vec![],
        };
        let up = apply_to_container(&mut spec, "gflab/vm:bookworm-1", &s);
        assert_eq!(spec.image, "gflab/vm:bookworm-1");
        assert_eq!(spec.cap_add, ["NET_ADMIN"]);
        assert_eq!(spec.devices, ["/dev/net/tun"]);
        assert!(spec.volumes.is_empty());
        assert_eq!(spec.publish_tcp, [7070]);
        assert_eq!(up.path, VM_CONF_PATH);
        assert!(String::from_utf8(up.data)
            .unwrap()
            .contains("GFLAB_VM_ACCEL='tcg'"));
    }

    fn thin_topology(kind: &str) -> crate::topology::Topology {
        let text = format!(
            "version = 1\nname = \"t\"\n[servers]\ncount = 2\nbrick_kind = \"thin-lvm\"\n{kind}[clients]\ncount = 1\n"
        );
        crate::topology::Topology::parse(&text, Path::new("t.toml")).expect("valid topology")
    }

    fn host(dir: &Path, dm_thin: bool) -> crate::doctor::HostPaths {
        let p = crate::doctor::HostPaths {
            sys_module: dir.join("module"),
            proc_modules: dir.join("modules"),
            mapper_control: dir.join("control"),
            ..Default::default()
        };
        if dm_thin {
            std::fs::create_dir_all(p.sys_module.join("dm_thin_pool")).unwrap();
            std::fs::write(&p.mapper_control, b"").unwrap();
        }
        p
    }

    #[test]
    fn thin_lvm_without_dm_thin_makes_servers_vms_and_says_so() {
        use crate::topology::NodeKind;
        let d = tempfile::tempdir().unwrap();
        let mut t = thin_topology("");
        let note = choose_server_kind(&mut t, &host(d.path(), false)).expect("a note");
        assert_eq!(t.servers.kind, NodeKind::KernelVm);
        assert!(note.contains("no dm-thin"), "{note}");
        // Asked for explicitly: nothing to say.
        let mut t = thin_topology("kind = \"kernel-vm\"\n");
        assert!(choose_server_kind(&mut t, &host(d.path(), false)).is_none());
        assert_eq!(t.servers.kind, NodeKind::KernelVm);
    }

    #[test]
    fn thin_lvm_with_dm_thin_keeps_containers() {
        use crate::topology::NodeKind;
        let d = tempfile::tempdir().unwrap();
        let mut t = thin_topology("");
        let note = choose_server_kind(&mut t, &host(d.path(), true)).expect("a note");
        assert_eq!(t.servers.kind, NodeKind::Container);
        assert!(note.contains("loop-backed"), "{note}");
    }

    fn planned(t: &crate::topology::Topology) -> crate::plan::Plan {
        let images = crate::plan::ImageTags {
            server: "gflab/server:x".into(),
            client: "gflab/client:x".into(),
        };
        crate::plan::plan(t, "lab1", "10.9.0.0/24".parse().unwrap(), &images).expect("plan")
    }

    #[test]
    fn vm_servers_in_the_plan_get_the_vm_image_settings_and_capability() {
        let p = planned(&thin_topology("kind = \"kernel-vm\"\n"));
        let s1 = &p.nodes[0];
        assert_eq!(s1.container.image, image_tag(Release::Bookworm));
        assert_eq!(s1.container.cap_add, ["NET_ADMIN"]);
        assert_eq!(capabilities_of(&s1.container.labels), ["thin-lvm"]);
        assert_eq!(s1.files.len(), 1);
        let conf = String::from_utf8(s1.files[0].data.clone()).unwrap();
        assert!(conf.contains("GFLAB_VM_VG='gflab_lab1_server1'"), "{conf}");
        assert!(
            conf.contains("server1=10.9.0.2 server2=10.9.0.3 client1=10.9.0.4"),
            "{conf}"
        );
        let c1 = &p.nodes[2];
        assert_eq!(c1.container.image, "gflab/client:x");
        assert!(c1.files.is_empty());
        assert!(capabilities_of(&c1.container.labels).is_empty());
    }

    #[test]
    fn thin_container_servers_get_loop_devices_script_and_teardown_label() {
        let p = planned(&thin_topology(""));
        let s2 = &p.nodes[1];
        assert_eq!(s2.container.image, "gflab/server:x");
        assert!(s2
            .container
            .devices
            .contains(&"/dev/loop-control".to_string()));
        assert!(s2
            .container
            .devices
            .contains(&"/dev/mapper/control".to_string()));
        assert_eq!(s2.container.device_cgroup_rules, ["b *:* rwm"]);
        assert_eq!(
            s2.container.labels.get(LABEL_THIN_VG).map(String::as_str),
            Some("gflab_lab1_server2")
        );
        assert_eq!(s2.files.len(), 1);
        assert_eq!(s2.files[0].path, THIN_BRICKS_PATH);
        assert_eq!(s2.files[0].mode, 0o755);
        assert_eq!(capabilities_of(&s2.container.labels), ["thin-lvm"]);
    }

    #[test]
    fn dir_bricks_change_nothing() {
        let t = crate::topology::Topology::parse(
            "version = 1\nname = \"t\"\n[servers]\ncount = 1\n[clients]\ncount = 1\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let p = planned(&t);
        assert!(p.nodes.iter().all(|n| n.files.is_empty()
            && n.container.device_cgroup_rules.is_empty()
            && capabilities_of(&n.container.labels).is_empty()));
    }

    #[test]
    fn teardown_without_the_labs_secret_is_reported_not_skipped() {
        let obj = crate::runtime::LabObject {
            kind: crate::runtime::ObjectKind::Container,
            name: "gflab-x-server1".into(),
            labels: [
                (LABEL_THIN_VG.to_string(), "gflab_x_server1".to_string()),
                (
                    crate::runtime::LABEL_NODE.to_string(),
                    "server1".to_string(),
                ),
            ]
            .into_iter()
            .collect(),
            state: "running".into(),
            ports: vec![],
        };
        let lab = "t-snap-no-such-lab-0d1e";
        let errs = futures::executor::block_on(teardown_container_bricks(lab, &[obj]));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains(lab), "{errs:?}");
    }

    #[test]
    fn teardown_of_a_lab_without_thin_containers_does_nothing() {
        assert!(
            futures::executor::block_on(teardown_container_bricks("no-such-lab", &[])).is_empty()
        );
    }
}
