//! Host and engine checks (`gflab doctor`), and the probes `up` uses to choose how to run nodes.
//!
//! Every check reads its inputs through [`HostPaths`] and plain values (the engine's answer, the
//! capability set, the KVM test boot), so tests point them at temporary files and made-up answers
//! and exercise each failure path.

use std::path::{Path, PathBuf};

use crate::facts::{module_present, HostPaths};
use crate::plan::{ROOTLESS_FIX, ROOTLESS_WHY};
use crate::runtime::{EngineInfo, EngineKind, Runtime};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Ok,
    /// Not fine, but gflab has a slower or narrower way around it.
    Warn,
    /// Not fine: the affected components cannot run.
    Problem,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// Short name (`engine`, `fuse`, ...).
    pub name: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// How to fix it (empty when ok).
    pub hint: String,
    /// Which test components or lab features it affects.
    pub affects: &'static [&'static str],
}

impl Check {
    fn new(
        name: &'static str,
        affects: &'static [&'static str],
        status: Status,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        let hint = if status == Status::Ok {
            String::new()
        } else {
            hint.into()
        };
        Check {
            name,
            status,
            detail: detail.into(),
            hint,
            affects,
        }
    }
}

const ALL_LABS: &[&str] = &["every lab", "every test"];
const MOUNTS: &[&str] = &["client mounts", "every test that mounts a volume"];
const BRICKS: &[&str] = &["bricks", "every test that creates a volume"];
const THIN_CONTAINERS: &[&str] = &["snapshot tests with container servers"];
const VM_SPEED: &[&str] = &["kernel-VM servers (snapshot lab) boot time and speed"];
const IMAGES: &[&str] = &["gflab images", "gflab up"];
const VM_NODES: &[&str] = &["kernel-VM servers (snapshot lab on hosts without dm-thin)"];

/// The engine as seen by a version query, or why it could not be asked.
pub type EngineAnswer = Result<EngineInfo, String>;

/// What doctor found about the engine: where it looked, what answered, and what a Podman
/// engine needs on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSeen {
    /// The address tried (`unix:///var/run/docker.sock`, `unix:///run/podman/podman.sock`).
    pub endpoint: String,
    /// Its answer.
    pub answer: EngineAnswer,
    /// `podman` is on PATH (its API service may just not be running).
    pub podman_installed: bool,
    /// For a local Podman: the init binary it gives containers that ask for one (from
    /// containers.conf), and whether it is there. `None` for Docker or a remote engine.
    pub podman_init: Option<(PathBuf, bool)>,
}

/// Lowest engine API version gflab is tested against (Docker 20.10, Podman 4.3).
pub const MIN_API: (u32, u32) = (1, 41);

fn parse_api(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// How to start Podman's API service as root.
pub const PODMAN_SERVICE: &str = "systemctl enable --now podman.socket, or podman system service \
    --time=0 unix:///run/podman/podman.sock &";

/// Engine reachable, named (Docker Engine or Podman), and its API version new enough.
pub fn check_engine(seen: &EngineSeen) -> Check {
    let c = |s, d: String, h: String| Check::new("engine", ALL_LABS, s, d, h);
    let at = &seen.endpoint;
    match &seen.answer {
        Err(e) => {
            let hint = if at.contains("podman") {
                format!("start Podman's API service: {PODMAN_SERVICE}")
            } else if seen.podman_installed {
                format!(
                    "start Docker (systemctl start docker), or Podman's API service ({PODMAN_SERVICE}); \
                     gflab finds either socket, or set DOCKER_HOST"
                )
            } else {
                "start the engine (systemctl start docker) or set DOCKER_HOST".into()
            };
            c(
                Status::Problem,
                format!("no engine answers at {at}: {e}"),
                hint,
            )
        }
        Ok(EngineInfo {
            product,
            version,
            api,
            ..
        }) => match parse_api(api) {
            Some(v) if v >= MIN_API => c(
                Status::Ok,
                format!("{product} {version}, API {api} at {at}"),
                String::new(),
            ),
            Some(_) => c(
                Status::Problem,
                format!(
                    "{product} {version} speaks API {api}, older than {}.{}",
                    MIN_API.0, MIN_API.1
                ),
                "upgrade the engine to Docker 20.10 or Podman 4.3 or later".into(),
            ),
            None => c(
                Status::Problem,
                format!("{product} {version} reports an unreadable API version {api:?}"),
                "check DOCKER_HOST points at Docker Engine or Podman's API service".into(),
            ),
        },
    }
}

/// The engine runs as root: a rootless one cannot give bricks their trusted.* xattrs.
pub fn check_rootful(answer: &EngineAnswer) -> Option<Check> {
    let info = answer.as_ref().ok()?;
    Some(if info.rootless {
        Check::new(
            "rootful",
            ALL_LABS,
            Status::Problem,
            format!("{} runs rootless: {ROOTLESS_WHY}", info.product),
            ROOTLESS_FIX,
        )
    } else {
        Check::new(
            "rootful",
            ALL_LABS,
            Status::Ok,
            format!(
                "{} runs as root: containers get SYS_ADMIN in the host's user namespace",
                info.product
            ),
            "",
        )
    })
}

/// The init Podman gives a container that asks for one: the last `init_path` set in
/// containers.conf texts (read in order: the system's, /etc's, its drop-ins), else Podman's
/// default.
pub fn podman_init_path(confs: &[String]) -> PathBuf {
    let mut path = PathBuf::from(PODMAN_DEFAULT_INIT);
    for text in confs {
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == "init_path" {
                    path = PathBuf::from(v.trim().trim_matches('"'));
                }
            }
        }
    }
    path
}

/// The init this host's Podman uses and whether it is there, from its containers.conf files.
pub fn podman_init_here() -> (PathBuf, bool) {
    let mut files = vec![
        PathBuf::from("/usr/share/containers/containers.conf"),
        PathBuf::from("/etc/containers/containers.conf"),
    ];
    let mut dropins: Vec<PathBuf> = std::fs::read_dir("/etc/containers/containers.conf.d")
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dropins.sort();
    files.extend(dropins);
    let confs: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    let path = podman_init_path(&confs);
    let there = path.is_file();
    (path, there)
}

/// Podman's init when containers.conf names none.
pub const PODMAN_DEFAULT_INIT: &str = "/usr/libexec/podman/catatonit";

/// Container nodes ask for no init (the agent reaps as PID 1); kernel-VM nodes do (QEMU is their
/// main process). Docker brings its own; Podman needs catatonit on the host.
pub fn check_init(seen: &EngineSeen) -> Option<Check> {
    let c = |s, d: String, h: &str| Check::new("init", VM_NODES, s, d, h);
    let info = seen.answer.as_ref().ok()?;
    let nodes = "container nodes need none (the agent reaps as PID 1)";
    Some(match (info.kind, &seen.podman_init) {
        (EngineKind::Docker, _) => c(
            Status::Ok,
            format!("{nodes}; kernel-VM nodes use Docker's own init"),
            "",
        ),
        (EngineKind::Podman, Some((path, true))) => c(
            Status::Ok,
            format!("{nodes}; kernel-VM nodes use {}", path.display()),
            "",
        ),
        (EngineKind::Podman, Some((path, false))) => c(
            Status::Warn,
            format!(
                "{nodes}; kernel-VM nodes ask Podman for an init and {} is missing: they cannot start",
                path.display()
            ),
            "apt-get install catatonit (dnf install catatonit on Fedora and RHEL), or set init_path in containers.conf",
        ),
        (EngineKind::Podman, None) => c(
            Status::Ok,
            format!("{nodes}; kernel-VM nodes need Podman's init (catatonit) on the engine's host, not checked from here"),
            "",
        ),
    })
}

fn is_char_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p)
        .map(|m| m.file_type().is_char_device())
        .unwrap_or(false)
}

/// /dev/fuse exists: client containers get it for FUSE mounts.
pub fn check_fuse(paths: &HostPaths) -> Check {
    if is_char_device(&paths.dev_fuse) {
        Check::new(
            "fuse",
            MOUNTS,
            Status::Ok,
            format!("{} is a character device", paths.dev_fuse.display()),
            "",
        )
    } else {
        Check::new(
            "fuse",
            MOUNTS,
            Status::Problem,
            format!(
                "{} is missing or not a character device",
                paths.dev_fuse.display()
            ),
            "modprobe fuse (or install the fuse kernel module)",
        )
    }
}

/// Capability numbers (linux/capability.h).
const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;

/// Parses `CapBnd:` of a /proc/PID/status text.
pub fn capability_bounding_set(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
}

/// The engine can only grant containers capabilities it holds: SYS_ADMIN (mounts, trusted xattrs)
/// and NET_ADMIN (the kernel-VM node's bridge) must be in the bounding set.
pub fn check_capabilities(proc_status: &str) -> Check {
    let c = |s, d: String, h: &str| {
        Check::new(
            "capabilities",
            &["server and client containers", "kernel-VM nodes"],
            s,
            d,
            h,
        )
    };
    let Some(set) = capability_bounding_set(proc_status) else {
        return c(
            Status::Problem,
            "no CapBnd line in /proc/self/status".into(),
            "run gflab on Linux",
        );
    };
    let missing: Vec<&str> = [(CAP_SYS_ADMIN, "SYS_ADMIN"), (CAP_NET_ADMIN, "NET_ADMIN")]
        .into_iter()
        .filter(|(bit, _)| set & (1u64 << bit) == 0)
        .map(|(_, n)| n)
        .collect();
    if missing.is_empty() {
        c(
            Status::Ok,
            "SYS_ADMIN and NET_ADMIN can be given to containers".into(),
            "",
        )
    } else {
        c(
            Status::Problem,
            format!(
                "capability bounding set {set:#x} lacks {}",
                missing.join(", ")
            ),
            "run the engine (and gflab) without a restricted capability bounding set",
        )
    }
}

/// Bricks keep GlusterFS metadata in `trusted.*` xattrs: the filesystem under the engine's data
/// root (where named volumes live) must take them.
pub fn check_trusted_xattrs(paths: &HostPaths) -> Check {
    let c = |s, d: String, h: &str| Check::new("trusted-xattrs", BRICKS, s, d, h);
    let probe = match tempfile::NamedTempFile::new_in(&paths.xattr_dir) {
        Ok(f) => f,
        Err(e) => {
            return c(
                Status::Problem,
                format!(
                    "failed to create a file in {}: {e}",
                    paths.xattr_dir.display()
                ),
                "run gflab as root, on a host whose engine data root is writable",
            )
        }
    };
    match xattr::set(probe.path(), "trusted.gflab.doctor", b"1") {
        Ok(()) => c(
            Status::Ok,
            format!("trusted.* xattrs work in {}", paths.xattr_dir.display()),
            "",
        ),
        Err(e) => c(
            Status::Problem,
            format!(
                "failed to set a trusted.* xattr in {}: {e}",
                paths.xattr_dir.display()
            ),
            "bricks need root and a filesystem with xattrs (ext4, xfs); run as root",
        ),
    }
}

/// Loop devices back thin pools in server containers.
pub fn check_loop(paths: &HostPaths) -> Check {
    if is_char_device(&paths.loop_control) {
        Check::new(
            "loop",
            THIN_CONTAINERS,
            Status::Ok,
            format!("{} present", paths.loop_control.display()),
            "",
        )
    } else {
        Check::new(
            "loop",
            THIN_CONTAINERS,
            Status::Warn,
            format!("{} is missing", paths.loop_control.display()),
            "modprobe loop; without it thin-LVM bricks need kernel-VM servers",
        )
    }
}

/// dm-thin in the host kernel lets server containers have thin-LVM bricks.
pub fn check_dm_thin(paths: &HostPaths) -> Check {
    let module = module_present(paths, "dm_thin_pool");
    let control = paths.mapper_control.exists();
    if module && control {
        return Check::new(
            "dm-thin",
            THIN_CONTAINERS,
            Status::Ok,
            "dm_thin_pool loaded, /dev/mapper/control present",
            "",
        );
    }
    let mut missing = Vec::new();
    if !module {
        missing.push("the dm_thin_pool module is not loaded");
    }
    if !control {
        missing.push("/dev/mapper/control is missing");
    }
    Check::new(
        "dm-thin",
        THIN_CONTAINERS,
        Status::Warn,
        format!(
            "{}: snapshot labs use kernel-VM servers (slower)",
            missing.join(", ")
        ),
        "load dm_thin_pool on the host (modprobe dm_thin_pool) to run snapshot tests in containers",
    )
}

/// What a test boot of the VM kernel under KVM showed: `None` when it could not be tried (no QEMU
/// on the host, or no kernel built yet), else `Ok` or the reason it failed.
pub type KvmBoot = Option<Result<(), String>>;

/// Test-boots `vmlinuz` under KVM (the same probe a VM node's container runs before choosing
/// KVM): the kernel must get as far as looking for its root filesystem.
pub async fn kvm_boot_probe(dev_kvm: &Path, vmlinuz: &Path) -> KvmBoot {
    if !vmlinuz.is_file() || !is_char_device(dev_kvm) {
        return None;
    }
    let child = tokio::process::Command::new("qemu-system-x86_64")
        .args(["-accel", "kvm", "-cpu", "host", "-m", "128", "-kernel"])
        .arg(vmlinuz)
        .args([
            "-append",
            "console=ttyS0 panic=-1",
            "-nographic",
            "-monitor",
            "none",
            "-no-reboot",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let out =
        tokio::time::timeout(std::time::Duration::from_secs(20), child.wait_with_output()).await;
    Some(match out {
        Err(_) => Err("the kernel did not boot within 20 s".into()),
        Ok(Err(e)) => Err(format!("qemu failed: {e}")),
        Ok(Ok(o)) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            if text.contains("Unable to mount root") {
                Ok(())
            } else {
                let last = text
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim();
                Err(format!("the kernel did not boot: {last}"))
            }
        }
    })
}

/// KVM makes kernel-VM servers fast; without it QEMU emulates the CPU.
pub fn check_kvm(paths: &HostPaths, boot: &KvmBoot) -> Check {
    let c = |s, d: String, h: &str| Check::new("kvm", VM_SPEED, s, d, h);
    if !is_char_device(&paths.dev_kvm) {
        return c(
            Status::Warn,
            format!(
                "{} is missing: kernel-VM servers use software emulation (TCG)",
                paths.dev_kvm.display()
            ),
            "enable virtualization (modprobe kvm_intel or kvm_amd; nested virtualization in a VM)",
        );
    }
    if let Some(Err(why)) = boot {
        return c(
            Status::Warn,
            format!("{} opens, but a test boot under KVM failed ({why}): kernel-VM servers use software emulation (TCG)", paths.dev_kvm.display()),
            "nested KVM may be unsupported here; VM nodes fall back to TCG by themselves",
        );
    }
    match std::fs::OpenOptions::new().read(true).write(true).open(&paths.dev_kvm) {
        Ok(_) if boot.is_some() => c(
            Status::Ok,
            format!("{} opens and the VM kernel boots under KVM", paths.dev_kvm.display()),
            "",
        ),
        Ok(_) => c(
            Status::Ok,
            format!("{} opens; each VM node also test-boots under KVM and falls back to TCG if that fails", paths.dev_kvm.display()),
            "",
        ),
        Err(e) => c(
            Status::Warn,
            format!("failed to open {}: {e}: kernel-VM servers use software emulation (TCG)", paths.dev_kvm.display()),
            "run as root or add the user to the kvm group",
        ),
    }
}

/// Free space the images, named volumes and VM disks need (GiB).
pub const MIN_FREE_GIB: u64 = 10;

/// Free space under the engine's data root.
pub fn check_disk(paths: &HostPaths) -> Check {
    let c = |s, d: String, h: &str| Check::new("disk", IMAGES, s, d, h);
    match nix::sys::statvfs::statvfs(&paths.disk_dir) {
        Ok(st) => {
            let free = st.blocks_available() * st.fragment_size();
            let gib = free / (1 << 30);
            if gib >= MIN_FREE_GIB {
                c(
                    Status::Ok,
                    format!("{gib} GiB free in {}", paths.disk_dir.display()),
                    "",
                )
            } else {
                c(
                    Status::Problem,
                    format!("only {gib} GiB free in {} (need {MIN_FREE_GIB})", paths.disk_dir.display()),
                    "free disk space (docker image prune for images gflab did not build is yours to decide)",
                )
            }
        }
        Err(e) => c(
            Status::Problem,
            format!(
                "failed to stat the filesystem of {}: {e}",
                paths.disk_dir.display()
            ),
            "check the engine's data root exists",
        ),
    }
}

/// mmdebstrap builds every image offline.
pub fn check_mmdebstrap(paths: &HostPaths) -> Check {
    let found = std::env::split_paths(&paths.path_env)
        .map(|d| d.join("mmdebstrap"))
        .find(|p| p.is_file());
    match found {
        Some(p) => Check::new(
            "mmdebstrap",
            IMAGES,
            Status::Ok,
            format!("{}", p.display()),
            "",
        ),
        None => Check::new(
            "mmdebstrap",
            IMAGES,
            Status::Problem,
            "mmdebstrap is not in PATH",
            "apt-get install mmdebstrap",
        ),
    }
}

/// Every check, in the order shown; `engine` is what was found about the engine (the `rootful`
/// and `init` checks only show when it answered), `proc_status` the text of /proc/self/status.
pub fn run_checks(
    paths: &HostPaths,
    engine: &EngineSeen,
    proc_status: &str,
    kvm_boot: &KvmBoot,
) -> Vec<Check> {
    let mut checks = vec![check_engine(engine)];
    checks.extend(check_rootful(&engine.answer));
    checks.extend(check_init(engine));
    checks.extend([
        check_fuse(paths),
        check_capabilities(proc_status),
        check_trusted_xattrs(paths),
        check_loop(paths),
        check_dm_thin(paths),
        check_kvm(paths, kvm_boot),
        check_disk(paths),
        check_mmdebstrap(paths),
    ]);
    checks
}

/// Asks the engine for its identity and version.
pub async fn ask_engine<R: Runtime>(rt: &R) -> EngineAnswer {
    rt.info().await.map_err(|e| e.to_string())
}

/// The report as text, one block per check.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let tag = match c.status {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Problem => "PROBLEM",
        };
        out.push_str(&format!("{tag:<8} {:<15} {}\n", c.name, c.detail));
        if c.status != Status::Ok {
            out.push_str(&format!(
                "         {:<15} affects: {}\n",
                "",
                c.affects.join(", ")
            ));
            out.push_str(&format!("         {:<15} hint: {}\n", "", c.hint));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::dm_thin_available;

    fn engine(version: &str, api: &str) -> EngineInfo {
        EngineInfo {
            product: "Docker Engine".into(),
            version: version.into(),
            api: api.into(),
            ..EngineInfo::default()
        }
    }

    fn podman(rootless: bool) -> EngineInfo {
        EngineInfo {
            kind: EngineKind::Podman,
            product: "Podman".into(),
            version: "4.3.1".into(),
            api: "1.41".into(),
            rootless,
        }
    }

    fn seen(endpoint: &str, answer: EngineAnswer) -> EngineSeen {
        EngineSeen {
            endpoint: endpoint.into(),
            answer,
            podman_installed: false,
            podman_init: None,
        }
    }

    const DOCKER: &str = "unix:///var/run/docker.sock";
    const PODMAN: &str = "unix:///run/podman/podman.sock";

    /// Paths that all point into an empty temp dir: every device and module is missing.
    fn empty(dir: &Path) -> HostPaths {
        HostPaths {
            dev_fuse: dir.join("fuse"),
            dev_kvm: dir.join("kvm"),
            loop_control: dir.join("loop-control"),
            mapper_control: dir.join("mapper-control"),
            proc_modules: dir.join("modules"),
            sys_module: dir.join("sys-module"),
            xattr_dir: dir.join("no-such-dir"),
            disk_dir: dir.join("no-such-dir"),
            path_env: dir.display().to_string(),
        }
    }

    #[test]
    fn engine_unreachable_old_and_garbled_are_problems() {
        let down = check_engine(&seen(DOCKER, Err("connection refused".into())));
        assert_eq!(down.status, Status::Problem);
        assert!(down.detail.contains("connection refused"));
        assert!(down.detail.contains(DOCKER), "{}", down.detail);
        assert!(down.hint.contains("DOCKER_HOST"));
        assert!(!down.hint.contains("podman"), "{}", down.hint);
        let old = |v, a| check_engine(&seen(DOCKER, Ok(engine(v, a))));
        assert_eq!(old("19.03", "1.40").status, Status::Problem);
        assert_eq!(old("x", "new").status, Status::Problem);
        let ok = old("20.10.24", "1.41");
        assert_eq!(ok.status, Status::Ok);
        assert_eq!(
            ok.detail,
            format!("Docker Engine 20.10.24, API 1.41 at {DOCKER}")
        );
        assert!(ok.hint.is_empty());
        assert_eq!(old("28", "1.50").status, Status::Ok);
    }

    #[test]
    fn podman_is_named_and_its_stopped_service_gets_the_start_commands() {
        let ok = check_engine(&seen(PODMAN, Ok(podman(false))));
        assert_eq!(ok.status, Status::Ok);
        assert_eq!(ok.detail, format!("Podman 4.3.1, API 1.41 at {PODMAN}"));
        // The Podman socket named, nothing listening: start its service.
        let down = check_engine(&seen(PODMAN, Err("No such file or directory".into())));
        assert_eq!(down.status, Status::Problem);
        assert!(
            down.hint
                .contains("podman system service --time=0 unix:///run/podman/podman.sock")
                && down.hint.contains("podman.socket"),
            "{}",
            down.hint
        );
        // Neither socket there, but Podman installed: both ways are offered.
        let neither = check_engine(&EngineSeen {
            podman_installed: true,
            ..seen(DOCKER, Err("No such file or directory".into()))
        });
        assert!(
            neither.hint.contains("systemctl start docker")
                && neither.hint.contains("podman system service"),
            "{}",
            neither.hint
        );
    }

    #[test]
    fn a_rootless_engine_is_a_problem_that_says_why_and_what_to_run() {
        let c = check_rootful(&Ok(podman(true))).expect("a check");
        assert_eq!(c.status, Status::Problem);
        assert!(
            c.detail.starts_with("Podman runs rootless")
                && c.detail.contains("trusted.* xattrs")
                && c.detail.contains("CAP_SYS_ADMIN"),
            "{}",
            c.detail
        );
        assert!(
            c.hint
                .contains("DOCKER_HOST=unix:///run/podman/podman.sock"),
            "{}",
            c.hint
        );
        assert_eq!(
            check_rootful(&Ok(podman(false))).expect("a check").status,
            Status::Ok
        );
        assert!(check_rootful(&Err("down".into())).is_none());
    }

    #[test]
    fn podman_without_its_init_binary_is_a_warning_for_vm_nodes() {
        let d = tempfile::tempdir().unwrap();
        let init = d.path().join("catatonit");
        let with = |there| EngineSeen {
            podman_init: Some((init.clone(), there)),
            ..seen(PODMAN, Ok(podman(false)))
        };
        let missing = check_init(&with(false)).expect("a check");
        assert_eq!(missing.status, Status::Warn);
        assert!(
            missing.detail.contains(&init.display().to_string()),
            "{}",
            missing.detail
        );
        assert!(
            missing.hint.contains("apt-get install catatonit"),
            "{}",
            missing.hint
        );
        assert_eq!(missing.affects, VM_NODES);
        assert_eq!(check_init(&with(true)).expect("a check").status, Status::Ok);
        let docker = check_init(&seen(DOCKER, Ok(engine("20.10", "1.41")))).expect("a check");
        assert_eq!(docker.status, Status::Ok);
        assert!(
            docker.detail.contains("agent reaps as PID 1"),
            "{}",
            docker.detail
        );
    }

    #[test]
    fn podman_init_path_follows_containers_conf() {
        assert_eq!(podman_init_path(&[]), PathBuf::from(PODMAN_DEFAULT_INIT));
        let confs = [
            "[containers]\n#init_path = \"/commented/out\"\ninit_path = \"/usr/libexec/podman/catatonit\"\n".to_string(),
            "[containers]\ninit_path=\"/opt/tini\" # a drop-in wins\n".to_string(),
        ];
        assert_eq!(podman_init_path(&confs), PathBuf::from("/opt/tini"));
        assert_eq!(
            podman_init_path(&confs[..1]),
            PathBuf::from(PODMAN_DEFAULT_INIT)
        );
    }

    #[test]
    fn missing_fuse_is_a_problem_for_mounts() {
        let d = tempfile::tempdir().unwrap();
        let p = empty(d.path());
        let c = check_fuse(&p);
        assert_eq!(c.status, Status::Problem);
        assert!(c.affects.contains(&"client mounts"));
        // A regular file is not a device either.
        std::fs::write(&p.dev_fuse, b"").unwrap();
        assert_eq!(check_fuse(&p).status, Status::Problem);
        let real = HostPaths {
            dev_fuse: "/dev/null".into(),
            ..p
        };
        assert_eq!(check_fuse(&real).status, Status::Ok);
    }

    #[test]
    fn capability_set_without_sys_admin_or_net_admin_is_a_problem() {
        let full = "Name:\tx\nCapBnd:\t000001ffffffffff\n";
        assert_eq!(check_capabilities(full).status, Status::Ok);
        let no_sys_admin = format!("CapBnd:\t{:016x}\n", 0x1ff_ffff_ffffu64 & !(1 << 21));
        let c = check_capabilities(&no_sys_admin);
        assert_eq!(c.status, Status::Problem);
        assert!(
            c.detail.contains("SYS_ADMIN") && !c.detail.contains("NET_ADMIN"),
            "{}",
            c.detail
        );
        let no_net = format!("CapBnd:\t{:016x}\n", 0x1ff_ffff_ffffu64 & !(1 << 12));
        assert!(check_capabilities(&no_net).detail.contains("NET_ADMIN"));
        assert_eq!(check_capabilities("Name:\tx\n").status, Status::Problem);
    }

    #[test]
    fn xattrs_in_a_missing_dir_are_a_problem() {
        let d = tempfile::tempdir().unwrap();
        let c = check_trusted_xattrs(&empty(d.path()));
        assert_eq!(c.status, Status::Problem);
        assert!(c.detail.contains("no-such-dir"), "{}", c.detail);
    }

    #[test]
    fn xattrs_on_a_filesystem_without_them_are_a_problem() {
        // /proc takes no files; /sys/kernel/... may differ, so use a read-only procfs dir.
        let p = HostPaths {
            xattr_dir: "/proc/self".into(),
            ..HostPaths::default()
        };
        assert_eq!(check_trusted_xattrs(&p).status, Status::Problem);
    }

    #[test]
    fn missing_loop_dm_thin_and_kvm_are_warnings_with_fallbacks() {
        let d = tempfile::tempdir().unwrap();
        let p = empty(d.path());
        let l = check_loop(&p);
        assert_eq!(l.status, Status::Warn);
        let t = check_dm_thin(&p);
        assert_eq!(t.status, Status::Warn);
        assert!(
            t.detail.contains("dm_thin_pool") && t.detail.contains("mapper/control"),
            "{}",
            t.detail
        );
        assert!(t.hint.contains("modprobe dm_thin_pool"));
        let k = check_kvm(&p, &None);
        assert_eq!(k.status, Status::Warn);
        assert!(k.detail.contains("TCG"));
    }

    #[test]
    fn kvm_that_opens_but_does_not_boot_is_a_warning() {
        let p = HostPaths {
            dev_kvm: "/dev/null".into(),
            ..HostPaths::default()
        };
        let failed = check_kvm(&p, &Some(Err("MSR assertion".into())));
        assert_eq!(failed.status, Status::Warn);
        assert!(
            failed.detail.contains("MSR assertion") && failed.detail.contains("TCG"),
            "{}",
            failed.detail
        );
        let booted = check_kvm(&p, &Some(Ok(())));
        assert_eq!(booted.status, Status::Ok);
        assert!(booted.detail.contains("boots under KVM"));
    }

    #[test]
    fn dm_thin_is_found_in_proc_modules_or_sys_module() {
        let d = tempfile::tempdir().unwrap();
        let p = empty(d.path());
        std::fs::write(&p.mapper_control, b"").unwrap();
        assert!(!dm_thin_available(&p));
        std::fs::write(
            &p.proc_modules,
            "dm_thin_pool 90112 0 - Live 0x0\ndm_mod 1 2\n",
        )
        .unwrap();
        assert!(dm_thin_available(&p));
        assert_eq!(check_dm_thin(&p).status, Status::Ok);
        std::fs::write(&p.proc_modules, "dm_thin_pool_x 1 0\n").unwrap();
        assert!(!dm_thin_available(&p));
        std::fs::create_dir_all(p.sys_module.join("dm_thin_pool")).unwrap();
        assert!(dm_thin_available(&p));
        std::fs::remove_file(&p.mapper_control).unwrap();
        assert!(
            !dm_thin_available(&p),
            "no /dev/mapper/control, no thin LVs"
        );
    }

    #[test]
    fn missing_disk_dir_and_mmdebstrap_are_problems() {
        let d = tempfile::tempdir().unwrap();
        let p = empty(d.path());
        assert_eq!(check_disk(&p).status, Status::Problem);
        let m = check_mmdebstrap(&p);
        assert_eq!(m.status, Status::Problem);
        assert!(m.hint.contains("apt-get install mmdebstrap"));
        let bin = d.path().join("mmdebstrap");
        std::fs::write(&bin, b"#!/bin/sh\n").unwrap();
        assert_eq!(check_mmdebstrap(&p).status, Status::Ok);
    }

    #[test]
    fn report_lists_every_check_with_hints_for_the_bad_ones() {
        let d = tempfile::tempdir().unwrap();
        let checks = run_checks(
            &empty(d.path()),
            &seen(DOCKER, Err("no socket".into())),
            "CapBnd:\t0\n",
            &None,
        );
        let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "engine",
                "fuse",
                "capabilities",
                "trusted-xattrs",
                "loop",
                "dm-thin",
                "kvm",
                "disk",
                "mmdebstrap"
            ]
        );
        assert!(checks.iter().all(|c| c.status != Status::Ok));
        let text = render(&checks);
        assert_eq!(text.matches("hint: ").count(), checks.len());
        assert_eq!(text.matches("affects: ").count(), checks.len());
        let json = serde_json::to_value(&checks).unwrap();
        assert_eq!(json[0]["status"], "problem");
        assert_eq!(json[4]["status"], "warn");
        // An engine that answers adds its two checks after `engine`.
        let podman = run_checks(
            &empty(d.path()),
            &seen(PODMAN, Ok(podman(true))),
            "CapBnd:\t0\n",
            &None,
        );
        let names: Vec<&str> = podman.iter().take(4).map(|c| c.name).collect();
        assert_eq!(names, ["engine", "rootful", "init", "fuse"]);
    }
}
