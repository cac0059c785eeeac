//! Thin-LVM bricks: one tagged volume group per server with a thin pool, and an XFS thin LV
//! mounted at the brick root (what GlusterFS snapshots need).
//!
//! `images/vm/thin-bricks` does the work on the node. Kernel-VM nodes run it at boot on their
//! virtio disk; server containers on hosts whose kernel has dm-thin run it through the agent after
//! start, loop-backed, and undo it before removal, since their pools live in the host's kernel.
//! This module holds the script and the steps that run it; `crate::kind` decides who needs them.
use std::time::Duration;

use crate::node::NodeStep;

/// Makes and removes thin-LVM bricks (in VMs and in server containers on dm-thin hosts).
pub const THIN_BRICKS_SCRIPT: &str = include_str!("../../images/vm/thin-bricks");
/// Where the thin-bricks script goes in a node.
pub const THIN_BRICKS_PATH: &str = "/usr/local/sbin/gflab-thin-bricks";
/// LVM tag on every volume group that holds brick thin pools (tests find pools by it).
pub const VG_TAG: &str = "gflab_bricks";
/// Label on a server container whose thin pool lives in the host kernel (value: its VG); `down`
/// removes the pool inside the node before removing the container.
pub const LABEL_THIN_VG: &str = "io.gflab.thin-vg";
/// The sparse file behind a server container's loop-backed thin pool.
pub const CONTAINER_PV_FILE: &str = "/var/lib/gflab-thin/pv.img";
/// Size of the sparse disk or file backing a node's thin pool (MiB).
pub const DISK_MIB: u32 = 4096;
/// How long making or removing a pool may take.
const TIMEOUT: Duration = Duration::from_secs(300);

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

/// The step that makes a loop-backed pool in a container and mounts its LV at `brick_root`.
pub fn setup_in_container(vg: &str, brick_root: &str) -> NodeStep {
    let pv = format!("loop:{CONTAINER_PV_FILE}:{DISK_MIB}");
    NodeStep::run(
        "set up thin-LVM bricks",
        &[THIN_BRICKS_PATH, "setup", vg, &pv, brick_root],
        TIMEOUT,
    )
}

/// The step that unmounts `brick_root` and removes the pool and its loop device.
pub fn teardown(vg: &str, brick_root: &str) -> NodeStep {
    NodeStep::run(
        "remove thin-LVM bricks",
        &[THIN_BRICKS_PATH, "teardown", vg, brick_root],
        TIMEOUT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vg_names_use_only_lvm_characters() {
        assert_eq!(vg_name("lab-1", "server2"), "gflab_lab-1_server2");
        assert_eq!(vg_name("a/b", "c:d"), "gflab_a_b_c_d");
    }

    #[test]
    fn steps_run_the_script_with_the_pool_and_the_brick_root() {
        let NodeStep::Run { argv, .. } = setup_in_container("gflab_l_server1", "/bricks") else {
            panic!("a command step");
        };
        assert_eq!(
            argv,
            [
                THIN_BRICKS_PATH,
                "setup",
                "gflab_l_server1",
                "loop:/var/lib/gflab-thin/pv.img:4096",
                "/bricks"
            ]
        );
        let NodeStep::Run { argv, .. } = teardown("gflab_l_server1", "/bricks") else {
            panic!("a command step");
        };
        assert_eq!(argv[1..], ["teardown", "gflab_l_server1", "/bricks"]);
    }
}
