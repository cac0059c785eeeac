//! The `kernel-vm` kind: a node that is still a container on the lab network (same labels,
//! lifecycle and `down`), inside which QEMU boots Debian's cloud kernel with the whole root
//! filesystem as its initramfs. The container's address and MAC move to the VM (its eth0 joins a
//! bridge with the VM's tap device), so the agent port the engine publishes reaches the agent in
//! the VM. Such a node has its own kernel, hence its own device-mapper: thin-LVM bricks and
//! GlusterFS snapshots work on hosts whose kernel has no dm-thin. The VM makes its thin pool at
//! boot (`images/vm/init`), on a disk that lives and dies with the container.
//!
//! The image is built by `crate::images::vm`; this module says what a node of this kind is.
use std::net::Ipv4Addr;
use std::time::Duration;

use gflab_agent::Role;

use super::{container_lifecycle, ready_waits, Deadlines, Kind, ShapeContext, Unsupported};
use crate::facts::Accel;
use crate::images::vm::image_tag;
use crate::node::{Lifecycle, NodePlan, NodeStep, WaitFor, BRICK_ROOT};
use crate::runtime::{ContainerSpec, FileUpload, Labels};
use crate::thin;
use crate::topology::NodeKind;

/// Where the VM's settings go in the container (read by `images/vm/start`).
pub const VM_CONF_PATH: &str = "/etc/gflab/vm.conf";
/// Guest memory of a VM node (MiB): glusterd, bricks, snapshot bricks and the root filesystem
/// held in memory.
pub const VM_MEMORY_MIB: u32 = 1536;

/// The `kernel-vm` kind.
#[derive(Debug, Clone, Copy)]
pub struct KernelVm;

/// Settings of one VM node, written to [`VM_CONF_PATH`] in its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmSettings {
    /// Guest memory in MiB.
    pub memory_mib: u32,
    /// Guest CPUs.
    pub cpus: u32,
    /// The accelerator.
    pub accel: Accel,
    /// Size of the sparse disk that backs the thin pool, in MiB.
    pub disk_mib: u32,
    /// Volume group name (unique per lab and node).
    pub vg: String,
    /// Brick root inside the VM.
    pub brick_root: String,
    /// Every lab node's name and address, for the VM's /etc/hosts (the engine's DNS is not
    /// reachable from inside the VM).
    pub hosts: Vec<(String, Ipv4Addr)>,
}

/// The contents of [`VM_CONF_PATH`] (a shell fragment; every value quoted for the shell).
pub fn vm_conf(s: &VmSettings) -> String {
    let q = gflab_agent::shell::quote;
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
        q(s.accel.as_str()),
        s.disk_mib,
        q(&s.vg),
        q(&s.brick_root),
        q(&hosts)
    )
}

/// Turns a container spec into a VM node's: the VM image, the capabilities and devices QEMU and
/// the bridge need (KVM when the host has it and TCG is not forced), and no named volumes
/// (glusterd's state lives in the VM).
pub fn apply_to_container(spec: &mut ContainerSpec, image: &str, kvm: bool, s: &VmSettings) {
    spec.image = image.to_string();
    spec.cap_add = vec!["NET_ADMIN".into()];
    spec.devices = vec!["/dev/net/tun".into()];
    if kvm && s.accel != Accel::Tcg {
        spec.devices.push("/dev/kvm".into());
    }
    spec.volumes.clear();
    spec.init = true;
}

impl Kind for KernelVm {
    fn kind(&self) -> NodeKind {
        NodeKind::KernelVm
    }

    fn shape(&self, node: &mut NodePlan, ctx: &ShapeContext<'_>) {
        let settings = VmSettings {
            memory_mib: VM_MEMORY_MIB,
            cpus: 1,
            accel: ctx.facts.accel,
            disk_mib: thin::DISK_MIB,
            vg: thin::vg_name(ctx.lab, &node.name),
            brick_root: BRICK_ROOT.into(),
            hosts: ctx.hosts.to_vec(),
        };
        apply_to_container(
            &mut node.container,
            &image_tag(ctx.release),
            ctx.facts.kvm,
            &settings,
        );
        node.files.push(FileUpload {
            path: VM_CONF_PATH.into(),
            data: vm_conf(&settings).into_bytes(),
            mode: 0o644,
        });
        node.after_start = ready_waits(
            WaitFor::AgentPing,
            ctx.deadlines.boot,
            node.role,
            &ctx.deadlines,
        );
    }

    fn before_remove(&self, _labels: &Labels) -> Vec<NodeStep> {
        // The VM's pool lives in the VM's kernel and goes with it.
        Vec::new()
    }

    fn lifecycle(
        &self,
        action: Lifecycle,
        role: Role,
        d: &Deadlines,
    ) -> Result<Vec<NodeStep>, Unsupported> {
        let mut steps = Vec::new();
        if matches!(action, Lifecycle::Restart | Lifecycle::Stop) {
            // The engine stops QEMU, not the guest: write the guest's dirty pages to its disk
            // first, as a real reboot's shutdown would, or the bricks and glusterd's state lose
            // their last writes.
            steps.push(NodeStep::run(
                "flush the VM's filesystems to its disk",
                &["sync"],
                Duration::from_secs(120),
            ));
        }
        steps.extend(container_lifecycle(action, role, d.boot, d));
        Ok(steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ContainerOp;

    fn settings(accel: Accel) -> VmSettings {
        VmSettings {
            memory_mib: 1536,
            cpus: 1,
            accel,
            disk_mib: 4096,
            vg: thin::vg_name("snap shot", "server1"),
            brick_root: "/bricks/it's".into(),
            hosts: vec![
                ("server1".into(), Ipv4Addr::new(10, 0, 0, 2)),
                ("client1".into(), Ipv4Addr::new(10, 0, 0, 3)),
            ],
        }
    }

    #[test]
    fn a_reboot_flushes_the_guest_before_the_engine_restarts_it() {
        let d = Deadlines::default();
        let steps = KernelVm
            .lifecycle(Lifecycle::Restart, Role::Server, &d)
            .expect("supported");
        assert!(matches!(&steps[0], NodeStep::Run { argv, .. } if argv == &["sync"]));
        assert_eq!(steps[1], NodeStep::Engine(ContainerOp::Restart));
        assert_eq!(steps[2], NodeStep::wait(WaitFor::AgentPing, d.boot));
        let start = KernelVm
            .lifecycle(Lifecycle::Start, Role::Client, &d)
            .expect("supported");
        assert_eq!(start[0], NodeStep::Engine(ContainerOp::Start));
    }

    #[test]
    fn vm_conf_quotes_values_for_the_shell() {
        let c = vm_conf(&settings(Accel::Auto));
        assert!(c.contains("GFLAB_VM_VG=gflab_snap_shot_server1\n"), "{c}");
        assert!(c.contains("GFLAB_BRICK_ROOT='/bricks/it'\\''s'\n"), "{c}");
        assert!(
            c.contains("GFLAB_HOSTS='server1=10.0.0.2 client1=10.0.0.3'\n"),
            "{c}"
        );
        assert!(c.contains("GFLAB_VM_MEMORY=1536\n"));
        assert!(c.contains("GFLAB_VM_ACCEL=auto\n"));
        // The file is read by sh: every value comes back as written.
        let script = format!("{c}printf '%s\\n' \"$GFLAB_BRICK_ROOT\" \"$GFLAB_HOSTS\"");
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .expect("sh");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "/bricks/it's\nserver1=10.0.0.2 client1=10.0.0.3\n"
        );
    }

    #[test]
    fn kvm_is_passed_only_when_present_and_not_forced_off() {
        let base = || ContainerSpec {
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
        for (kvm, accel, want) in [
            (true, Accel::Auto, true),
            (true, Accel::Kvm, true),
            (true, Accel::Tcg, false),
            (false, Accel::Auto, false),
        ] {
            let mut spec = base();
            apply_to_container(&mut spec, "gflab/vm:bookworm-1", kvm, &settings(accel));
            assert_eq!(spec.image, "gflab/vm:bookworm-1");
            assert_eq!(spec.cap_add, ["NET_ADMIN"]);
            assert_eq!(
                spec.devices.contains(&"/dev/kvm".to_string()),
                want,
                "{kvm} {accel:?}"
            );
            assert!(spec.devices.contains(&"/dev/net/tun".to_string()));
            assert!(spec.volumes.is_empty());
            assert_eq!(spec.publish_tcp, [7070]);
            assert!(spec.init);
        }
    }
}
