//! Kernel-VM server nodes against a real engine: a thin-LVM lab comes up with its servers as QEMU
//! VMs, the VM runs its own kernel with dm-thin, a GlusterFS snapshot works on its brick, and
//! `down` leaves no container, network, volume, QEMU process, loop or device-mapper device.
//!
//! Slow (the first run bootstraps the VM image, ≈ 3 min; then ≈ 2 min): run on its own with
//! `cargo test -p gflab --test snap_vm`. Needs the static agent built first (see lab_docker.rs).
//! Skips (with the reason printed) only when the Docker engine is unreachable.
//!
//! The lab is named `t-snapvm` and uses its own state directory.
use std::collections::BTreeSet;
use std::path::PathBuf;

use gflab::runtime::docker::DockerRuntime;
use gflab::runtime::Runtime;

const GFLAB: &str = env!("CARGO_BIN_EXE_gflab");
const LAB: &str = "t-snapvm";

fn state_home() -> PathBuf {
    let d = std::env::temp_dir().join(format!("gflab-snap-vm-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("create state dir");
    d
}

fn gflab(state: &PathBuf, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(GFLAB)
        .env("XDG_STATE_HOME", state)
        .env("CI", "true")
        .args(args)
        .output()
        .expect("spawn gflab");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(state: &PathBuf, args: &[&str]) -> String {
    let (code, out, err) = gflab(state, args);
    assert_eq!(
        code, 0,
        "gflab {args:?} failed\nstdout:\n{out}\nstderr:\n{err}"
    );
    out
}

/// Runs a shell line on a node of the lab through its agent.
fn sh(state: &PathBuf, node: &str, line: &str) -> String {
    ok(state, &["exec", "--lab", LAB, node, "--", "sh", "-c", line])
}

/// Whether the engine answers (else the test is skipped with the reason printed).
async fn engine_up() -> bool {
    match DockerRuntime::connect().await {
        Ok(_) => true,
        Err(e) => {
            eprintln!("SKIPPED: {e}");
            false
        }
    }
}

/// The lab's labeled objects, as the runtime lists them.
async fn lab_objects() -> Vec<String> {
    let rt = DockerRuntime::connect().await.expect("engine");
    rt.list(Some(LAB))
        .await
        .expect("list lab objects")
        .into_iter()
        .map(|o| format!("{} {}", o.kind, o.name))
        .collect()
}

/// Host-side traces a VM lab could leave: QEMU processes, attached loop devices, dm devices.
#[derive(Debug, PartialEq, Eq)]
struct HostTraces {
    /// PIDs of qemu-system processes.
    qemu: BTreeSet<u32>,
    /// Loop devices with a backing file.
    loops: BTreeSet<String>,
    /// Entries of /dev/mapper other than `control`.
    mapper: BTreeSet<String>,
}

fn host_traces() -> HostTraces {
    let mut qemu = BTreeSet::new();
    for e in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let argv0 = cmd.split(|b| *b == 0).next().unwrap_or_default();
            if String::from_utf8_lossy(argv0).contains("qemu-system") {
                qemu.insert(pid);
            }
        }
    }
    let mut loops = BTreeSet::new();
    for e in std::fs::read_dir("/sys/block")
        .expect("read /sys/block")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("loop") && e.path().join("loop/backing_file").exists() {
            loops.insert(name);
        }
    }
    let mapper = std::fs::read_dir("/dev/mapper")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "control")
                .collect()
        })
        .unwrap_or_default();
    HostTraces {
        qemu,
        loops,
        mapper,
    }
}

struct Down(PathBuf);
impl Drop for Down {
    fn drop(&mut self) {
        let _ = gflab(&self.0, &["down", LAB]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kernel_vm_lab_snapshots_and_down_leaves_nothing() {
    if !engine_up().await {
        return;
    }
    let state = state_home();
    let before = host_traces();
    let topo = state.join("snapvm.toml");
    std::fs::write(
        &topo,
        "version = 1\nname = \"t-snapvm\"\nrelease = \"bookworm\"\nsubnet = \"auto\"\npool = true\n\
         [servers]\ncount = 1\nbricks = 1\nbrick_kind = \"thin-lvm\"\n[clients]\ncount = 1\n",
    )
    .expect("write topology");
    let _down = Down(state.clone());
    let (code, out, err) = gflab(&state, &["up", topo.to_str().expect("utf-8 path")]);
    assert_eq!(code, 0, "up failed\nstdout:\n{out}\nstderr:\n{err}");
    // Asked for thin-LVM bricks in containers, up says how it runs the servers.
    assert!(
        err.contains("kernel-VM"),
        "up did not say servers run as VMs:\n{err}"
    );

    let list_path = ok(&state, &["nodes", LAB]);
    let list = std::fs::read_to_string(list_path.trim()).expect("read node list");
    let nodes: toml::Value = toml::from_str(&list).expect("node list is TOML");
    let server = &nodes["node"][0];
    assert_eq!(server["name"].as_str(), Some("server1"));
    let caps = |n: &toml::Value| -> Vec<String> {
        n.get("capabilities")
            .and_then(|c| c.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    // Snapshots on the server; every lab node may be rebooted by tests.
    assert_eq!(caps(server), ["thin-lvm", "reboot"], "{list}");
    assert_eq!(caps(&nodes["node"][1]), ["reboot"], "{list}");

    // The server is a VM: its own kernel, with dm-thin, and the brick root on a thin LV.
    let kernel = sh(&state, "server1", "uname -r");
    assert!(kernel.contains("cloud-amd64"), "server kernel {kernel}");
    let modules = sh(&state, "server1", "cat /proc/modules");
    assert!(modules.contains("dm_thin_pool"), "{modules}");
    let lv = sh(
        &state,
        "server1",
        "lvs --noheadings -o lv_name,pool_lv,vg_tags",
    );
    assert!(
        lv.contains("bricks") && lv.contains("pool") && lv.contains("gflab_bricks"),
        "{lv}"
    );

    // A snapshot of a volume whose brick is on that LV, and the client reads the volume.
    sh(
        &state,
        "server1",
        "mkdir -p /bricks/v1 \
         && gluster --mode=script volume create v1 server1:/bricks/v1/b0 \
         && gluster --mode=script volume start v1 \
         && gluster --mode=script snapshot create s1 v1 no-timestamp \
         && gluster --mode=script snapshot activate s1",
    );
    let status = sh(
        &state,
        "server1",
        "gluster --mode=script snapshot status s1",
    );
    assert!(
        status.contains("Brick Running") && status.contains("Yes"),
        "{status}"
    );
    let snaps = sh(&state, "server1", "lvs --noheadings -o lv_name,origin");
    assert!(
        snaps
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some("bricks")),
        "no snapshot LV of the brick LV:\n{snaps}"
    );
    sh(
        &state,
        "client1",
        "mkdir -p /mnt/v1 && mount -t glusterfs server1:/v1 /mnt/v1 && echo hi > /mnt/v1/f \
         && cat /mnt/v1/f && umount /mnt/v1",
    );

    // The script that gives server containers their bricks on hosts with dm-thin, run on the
    // VM's kernel: a loop-backed pool with the brick LV mounted, then a teardown that leaves no
    // volume group, mount or loop device.
    let made = sh(
        &state,
        "server1",
        "gflab-thin-bricks setup t_loop loop:/var/tmp/pv.img:1024 /mnt/tb \
         && mountpoint /mnt/tb && vgs --noheadings -o vg_name,vg_tags t_loop && losetup -a",
    );
    assert!(made.contains("is a mountpoint"), "{made}");
    assert!(
        made.contains("t_loop") && made.contains("gflab_bricks"),
        "{made}"
    );
    assert!(
        made.contains("/var/tmp/pv.img"),
        "no loop device over the file:\n{made}"
    );
    let gone = sh(
        &state,
        "server1",
        "gflab-thin-bricks teardown t_loop /mnt/tb; vgs t_loop 2>&1; mountpoint /mnt/tb; losetup -a",
    );
    assert!(gone.contains("not found"), "t_loop still there:\n{gone}");
    assert!(gone.contains("is not a mountpoint"), "{gone}");
    assert!(!gone.contains("pv.img"), "loop device left:\n{gone}");

    ok(&state, &["down", LAB]);
    assert_eq!(
        lab_objects().await,
        Vec::<String>::new(),
        "objects left by down"
    );
    let after = host_traces();
    assert!(
        after.qemu.is_subset(&before.qemu),
        "QEMU processes left: {:?}",
        after.qemu.difference(&before.qemu).collect::<Vec<_>>()
    );
    assert_eq!(after.loops, before.loops, "loop devices differ after down");
    assert_eq!(
        after.mapper, before.mapper,
        "device-mapper devices differ after down"
    );
    let _ = std::fs::remove_dir_all(&state);
}
