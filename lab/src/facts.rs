//! Facts about the host, probed once and passed into the pure plan: the VM accelerator setting,
//! whether `/dev/kvm` and the kernel's dm-thin are there, and which engine answers.
//!
//! Everything is read through [`HostPaths`] (the real paths by default, temp files in tests), so
//! probes are testable; the plan itself never reads the host.
use std::path::{Path, PathBuf};

use crate::runtime::{EngineInfo, EngineKind, Runtime, RuntimeError};

/// Where the host facts are read from (the real paths by default; temp files in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    /// The FUSE device.
    pub dev_fuse: PathBuf,
    /// The KVM device.
    pub dev_kvm: PathBuf,
    /// The loop control device.
    pub loop_control: PathBuf,
    /// The device-mapper control device.
    pub mapper_control: PathBuf,
    /// Loaded modules, one per line (`name size ...`); may be missing.
    pub proc_modules: PathBuf,
    /// Module directory (`/sys/module`): built-in and loaded modules with parameters show here.
    pub sys_module: PathBuf,
    /// Directory whose filesystem must hold `trusted.*` xattrs (bricks in named volumes sit on the
    /// engine's data root).
    pub xattr_dir: PathBuf,
    /// Directory whose free space is checked (the engine's data root).
    pub disk_dir: PathBuf,
    /// `PATH` to search for mmdebstrap.
    pub path_env: String,
}

impl Default for HostPaths {
    fn default() -> Self {
        let docker_root = Path::new("/var/lib/docker");
        let data_root = if docker_root.is_dir() {
            docker_root.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        HostPaths {
            dev_fuse: "/dev/fuse".into(),
            dev_kvm: "/dev/kvm".into(),
            loop_control: "/dev/loop-control".into(),
            mapper_control: "/dev/mapper/control".into(),
            proc_modules: "/proc/modules".into(),
            sys_module: "/sys/module".into(),
            xattr_dir: data_root.clone(),
            disk_dir: data_root,
            path_env: std::env::var("PATH").unwrap_or_default(),
        }
    }
}

impl HostPaths {
    /// The real paths, with the data root of a local `kind` engine (where its named volumes, and
    /// so the bricks, live): `/var/lib/docker`, or rootful Podman's `/var/lib/containers/storage`.
    pub fn for_engine(kind: EngineKind) -> HostPaths {
        let root = match kind {
            EngineKind::Docker => Path::new("/var/lib/docker"),
            EngineKind::Podman => Path::new("/var/lib/containers/storage"),
        };
        let base = HostPaths::default();
        if !root.is_dir() {
            return base;
        }
        HostPaths {
            xattr_dir: root.to_path_buf(),
            disk_dir: root.to_path_buf(),
            ..base
        }
    }
}

/// Whether a kernel module is loaded or built in, from `/proc/modules` and `/sys/module`.
pub fn module_present(paths: &HostPaths, name: &str) -> bool {
    if paths.sys_module.join(name).exists() {
        return true;
    }
    std::fs::read_to_string(&paths.proc_modules)
        .map(|t| t.lines().any(|l| l.split_whitespace().next() == Some(name)))
        .unwrap_or(false)
}

/// Whether the host kernel can give containers thin-provisioned LVs: the thin-pool target is
/// loaded and the device-mapper control device exists.
pub fn dm_thin_available(paths: &HostPaths) -> bool {
    module_present(paths, "dm_thin_pool") && paths.mapper_control.exists()
}

/// Which accelerator kernel-VM nodes use (`GFLAB_VM_ACCEL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Accel {
    /// KVM when a test boot works inside the node, else software emulation.
    #[default]
    Auto,
    /// KVM only.
    Kvm,
    /// Software emulation only (TCG).
    Tcg,
}

impl Accel {
    /// The name `images/vm/start` reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Auto => "auto",
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

impl std::str::FromStr for Accel {
    type Err = FactsError;
    fn from_str(s: &str) -> Result<Accel, FactsError> {
        match s {
            "" | "auto" => Ok(Accel::Auto),
            "kvm" => Ok(Accel::Kvm),
            "tcg" => Ok(Accel::Tcg),
            other => Err(FactsError::Accel {
                value: other.to_string(),
            }),
        }
    }
}

/// Why the host could not be probed.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    /// `GFLAB_VM_ACCEL` holds something else than `kvm`, `tcg` or `auto`.
    #[error(
        "GFLAB_VM_ACCEL={value:?} is not an accelerator\nhint: use kvm, tcg or auto (the default)"
    )]
    Accel {
        /// The value found.
        value: String,
    },
    /// The engine did not say what it is.
    #[error(transparent)]
    Engine(#[from] RuntimeError),
}

/// What the plan needs to know about the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// The accelerator setting for kernel-VM nodes.
    pub accel: Accel,
    /// `/dev/kvm` exists (passed into kernel-VM nodes unless the accelerator is TCG).
    pub kvm: bool,
    /// The host kernel can give containers thin pools (dm_thin_pool and device-mapper control).
    pub dm_thin: bool,
    /// The engine that runs the lab.
    pub engine: EngineInfo,
}

impl HostFacts {
    /// Probes the host at `paths`, the accelerator setting `accel` (`GFLAB_VM_ACCEL`'s value, if
    /// set) and the engine.
    pub async fn probe<R: Runtime>(
        paths: &HostPaths,
        accel: Option<&str>,
        rt: &R,
    ) -> Result<HostFacts, FactsError> {
        Ok(HostFacts {
            accel: accel.unwrap_or("").parse()?,
            kvm: paths.dev_kvm.exists(),
            dm_thin: dm_thin_available(paths),
            engine: rt.info().await?,
        })
    }

    /// Probes this host: the real paths and `GFLAB_VM_ACCEL` from the environment.
    pub async fn probe_here<R: Runtime>(rt: &R) -> Result<HostFacts, FactsError> {
        let accel = std::env::var("GFLAB_VM_ACCEL").ok();
        HostFacts::probe(&HostPaths::default(), accel.as_deref(), rt).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fake::FakeRuntime;

    fn paths(dir: &Path) -> HostPaths {
        HostPaths {
            dev_kvm: dir.join("kvm"),
            sys_module: dir.join("module"),
            proc_modules: dir.join("modules"),
            mapper_control: dir.join("control"),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn probes_read_the_given_paths() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = paths(d.path());
        let bare = HostFacts::probe(&p, None, &FakeRuntime::new())
            .await
            .expect("facts");
        assert_eq!(
            (bare.accel, bare.kvm, bare.dm_thin),
            (Accel::Auto, false, false)
        );
        std::fs::write(&p.dev_kvm, b"").expect("kvm");
        std::fs::create_dir_all(p.sys_module.join("dm_thin_pool")).expect("module");
        std::fs::write(&p.mapper_control, b"").expect("control");
        let full = HostFacts::probe(&p, Some("tcg"), &FakeRuntime::new())
            .await
            .expect("facts");
        assert_eq!(
            (full.accel, full.kvm, full.dm_thin),
            (Accel::Tcg, true, true)
        );
        // dm-thin needs both the module and the control device.
        std::fs::remove_file(&p.mapper_control).expect("rm");
        assert!(!dm_thin_available(&p));
    }

    #[tokio::test]
    async fn a_bad_accelerator_is_named() {
        let d = tempfile::tempdir().expect("tempdir");
        let err = HostFacts::probe(&paths(d.path()), Some("kvmm"), &FakeRuntime::new())
            .await
            .expect_err("bad value");
        assert!(err.to_string().contains("GFLAB_VM_ACCEL=\"kvmm\""), "{err}");
    }
}
