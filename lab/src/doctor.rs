//! Host and engine checks (`gflab doctor`), and the probes `up` uses to choose how to run nodes.
//!
//! Every check reads its inputs through [`HostPaths`] and an [`EngineProbe`], so tests point them at
//! temporary files and fake engines and exercise each failure path.

use std::path::{Path, PathBuf};

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
    /// Kernel targets of device-mapper (`dmsetup targets` reads /proc/... ; here: `/proc/misc`).
    pub proc_misc: PathBuf,
    /// Filesystems the kernel supports.
    pub proc_filesystems: PathBuf,
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
            proc_misc: "/proc/misc".into(),
            proc_filesystems: "/proc/filesystems".into(),
            xattr_dir: data_root.clone(),
            disk_dir: data_root,
            path_env: std::env::var("PATH").unwrap_or_default(),
        }
    }
}

/// Whether a kernel module is loaded or built in, from `/proc/modules` and `/sys/module`.
pub fn module_present(paths: &HostPaths, name: &str) -> bool {
    if paths.sys_module.join(name).exists() {
        return true;
    }
    std::fs::read_to_string(&paths.proc_modules)
        .map(|t| {
            t.lines()
                .any(|l| l.split_whitespace().next() == Some(name))
        })
        .unwrap_or(false)
}

/// Whether the host kernel can give containers thin-provisioned LVs: the thin-pool target is
/// loaded and the device-mapper control device exists.
pub fn dm_thin_available(paths: &HostPaths) -> bool {
    module_present(paths, "dm_thin_pool") && paths.mapper_control.exists()
}
