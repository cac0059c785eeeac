//! Docker integration tests of the lab lifecycle: a real engine, real glusterd, real FUSE mounts.
//!
//! Slow (minutes; the first run bootstraps the images): run them on their own with
//! `cargo test -p gflab --test lab_docker`. They need the static agent built first:
//! `RUSTFLAGS="-C target-feature=+crt-static" cargo build --release -p gflab-agent --target x86_64-unknown-linux-gnu`.
//! They skip (with the reason printed) only when the Docker engine is unreachable.
//!
//! Every lab here is named `t-lab-*` (the signal sweeps: `t-sig-*`), uses its own state directory,
//! and is torn down at the end.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
};
use bollard::Docker;
use nix::sys::signal::Signal;
use tokio::io::{AsyncBufReadExt, BufReader};

const GFLAB: &str = env!("CARGO_BIN_EXE_gflab");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/topologies")
}

/// A private state directory shared by this test binary, inside the target directory, emptied
/// when the binary starts.
fn state_home() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lab-docker-state");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create state dir");
        d
    })
    .clone()
}

fn gflab() -> tokio::process::Command {
    let mut c = tokio::process::Command::new(GFLAB);
    c.env("XDG_STATE_HOME", state_home())
        .env("CI", "true")
        .env_remove("NO_COLOR")
        .kill_on_drop(true);
    c
}

/// Runs gflab to completion: (exit code, stdout, stderr).
async fn run(args: &[&str]) -> (i32, String, String) {
    let out = gflab().args(args).output().await.expect("spawn gflab");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs gflab and insists on success.
async fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args).await;
    assert_eq!(
        code, 0,
        "gflab {args:?} failed\nstdout:\n{out}\nstderr:\n{err}"
    );
    out
}

/// The engine, or None (test skipped with the reason printed).
async fn engine() -> Option<Docker> {
    let d = match Docker::connect_with_local_defaults() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("SKIPPED: Docker engine unreachable: {e}");
            return None;
        }
    };
    let d = match d.negotiate_version().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("SKIPPED: Docker engine unreachable: {e}");
            return None;
        }
    };
    if let Err(e) = d.ping().await {
        eprintln!("SKIPPED: Docker engine unreachable: {e}");
        return None;
    }
    ensure_images().await;
    Some(d)
}

/// Builds the images once per test binary (they are cached by content across runs).
async fn ensure_images() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        ok(&["images"]).await;
    })
    .await;
}

/// Containers, networks and volumes labeled with the lab.
async fn count_objects(d: &Docker, lab: &str) -> (usize, usize, usize) {
    let filter = HashMap::from([("label", vec![format!("io.gflab.lab={lab}")])]);
    let c = d
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filter)
                .build(),
        ))
        .await
        .expect("list containers")
        .len();
    let n = d
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&filter)
                .build(),
        ))
        .await
        .expect("list networks")
        .len();
    let v = d
        .list_volumes(Some(
            ListVolumesOptionsBuilder::default()
                .filters(&filter)
                .build(),
        ))
        .await
        .expect("list volumes")
        .volumes
        .unwrap_or_default()
        .len();
    (c, n, v)
}

fn topology(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// Tears a lab down at the end of a test, even when it panicked.
struct Down<S: AsRef<str>>(S);
impl<S: AsRef<str>> Drop for Down<S> {
    fn drop(&mut self) {
        let _ = std::process::Command::new(GFLAB)
            .env("XDG_STATE_HOME", state_home())
            .env("CI", "true")
            .args(["down", self.0.as_ref()])
            .output();
    }
}

#[tokio::test]
async fn images_second_run_builds_nothing() {
    let Some(_d) = engine().await else { return };
    let (code, out, err) = run(&["images"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("up to date"), "second run must say so: {err}");
    assert!(
        !err.contains("bootstrapping") && !err.contains("building"),
        "{err}"
    );
    assert_eq!(out.lines().count(), 3, "three tags: {out}");
}

#[tokio::test]
async fn up_volume_mount_and_down_leave_nothing() {
    let Some(d) = engine().await else { return };
    const LAB: &str = "t-lab-mount";
    let _guard = Down(LAB);
    let out = ok(&["up", &topology("valid-docker-2x1.toml"), "--name", LAB]).await;
    for n in ["server1", "server2", "client1"] {
        assert!(out.contains(n), "node table lists {n}: {out}");
    }
    assert!(out.contains("node list: "), "{out}");
    let list = state_home().join("gflab").join(LAB).join("nodes.toml");
    assert!(list.is_file());
    let secret = state_home().join("gflab").join(LAB).join("secret");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&secret)
            .expect("secret")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    // The pool is formed: server2 sees server1 in cluster and connected.
    let peers = ok(&[
        "exec", "--lab", LAB, "server2", "--", "gluster", "peer", "status",
    ])
    .await;
    assert!(peers.contains("Peer in Cluster (Connected)"), "{peers}");

    // The README walk-through: volume through the agent, FUSE mount on a client.
    ok(&[
        "exec",
        "--lab",
        LAB,
        "server1",
        "--",
        "gluster",
        "--mode=script",
        "volume",
        "create",
        "vol1",
        "replica",
        "2",
        "server1:/bricks/vol1",
        "server2:/bricks/vol1",
    ])
    .await;
    ok(&[
        "exec",
        "--lab",
        LAB,
        "server1",
        "--",
        "gluster",
        "--mode=script",
        "volume",
        "start",
        "vol1",
    ])
    .await;
    ok(&[
        "exec",
        "--lab",
        LAB,
        "client1",
        "--",
        "mkdir",
        "-p",
        "/mnt/vol1",
    ])
    .await;
    ok(&[
        "exec",
        "--lab",
        LAB,
        "client1",
        "--",
        "mount",
        "-t",
        "glusterfs",
        "server1:/vol1",
        "/mnt/vol1",
    ])
    .await;
    ok(&[
        "exec",
        "--lab",
        LAB,
        "client1",
        "--",
        "sh",
        "-c",
        "echo gflab > /mnt/vol1/hello",
    ])
    .await;
    for s in ["server1", "server2"] {
        let got = ok(&["exec", "--lab", LAB, s, "--", "cat", "/bricks/vol1/hello"]).await;
        assert_eq!(got, "gflab\n", "replica on {s}");
    }

    // Exit codes pass through.
    let (code, _, _) = run(&["exec", "--lab", LAB, "server1", "--", "sh", "-c", "exit 7"]).await;
    assert_eq!(code, 7);

    // status, ls, nodes and logs.
    let status: serde_json::Value =
        serde_json::from_str(&ok(&["status", LAB, "--json"]).await).expect("status json");
    let nodes = status["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 3, "{status}");
    assert!(nodes.iter().all(|n| n["state"] == "running"
        && n["agent"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1:"))));
    let ls: serde_json::Value =
        serde_json::from_str(&ok(&["ls", "--json"]).await).expect("ls json");
    let mine = ls
        .as_array()
        .and_then(|a| a.iter().find(|l| l["name"] == LAB))
        .cloned()
        .expect("lab listed");
    assert_eq!(
        (mine["nodes"].as_u64(), mine["running"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(ok(&["nodes", LAB]).await.trim(), list.display().to_string());
    let log = ok(&["logs", "--lab", LAB, "server1"]).await;
    assert!(
        log.contains("glusterd") || log.contains("management"),
        "glusterd log: {log}"
    );

    // Same topology again: nothing changes; a lost node list is written again.
    std::fs::remove_file(&list).expect("remove node list");
    let (code, _, err) = run(&["up", &topology("valid-docker-2x1.toml"), "--name", LAB]).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already up"), "{err}");
    assert!(list.is_file(), "node list written again");

    // Same name, another topology: refused with a hint, nothing touched.
    let before = count_objects(&d, LAB).await;
    let (code, _, err) = run(&["up", &topology("valid-minimal.toml"), "--name", LAB]).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("different topology") && err.contains("gflab down"),
        "{err}"
    );
    assert_eq!(count_objects(&d, LAB).await, before);

    ok(&["down", LAB]).await;
    assert_eq!(count_objects(&d, LAB).await, (0, 0, 0));
    assert!(!list.exists(), "state directory removed");
}

/// Waits for a stderr line starting with `prefix`, collecting every line read into `seen`.
async fn wait_line<R>(lines: &mut tokio::io::Lines<R>, prefix: &str, seen: &mut Vec<String>)
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    while let Ok(Some(l)) = lines.next_line().await {
        let hit = l.starts_with(prefix);
        seen.push(l);
        if hit {
            return;
        }
    }
    panic!("never saw {prefix:?}: {seen:#?}");
}

/// Sends `signal` to `up` at `trigger` and checks that it tears down and exits as a shell reports
/// that signal (128 + its number), saying so, with no object, state directory or lock file left.
async fn interrupt_up(d: &Docker, lab: &str, signal: Signal, trigger: Trigger) {
    let mut child = gflab()
        .args(["up", &topology("valid-docker-2x1.toml"), "--name", lab])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn up");
    let pid = nix::unistd::Pid::from_raw(child.id().expect("pid") as i32);
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    match trigger {
        Trigger::Line(prefix) => wait_line(&mut lines, prefix, &mut seen).await,
        Trigger::LineThen(prefix, ms) => {
            wait_line(&mut lines, prefix, &mut seen).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        Trigger::After(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
    }
    nix::sys::signal::kill(pid, signal).expect("send the signal");
    while let Ok(Some(l)) = lines.next_line().await {
        seen.push(l);
    }
    let status = tokio::time::timeout(Duration::from_secs(120), child.wait())
        .await
        .expect("up ends after the signal")
        .expect("wait");
    let objects = count_objects(d, lab).await;
    eprintln!(
        "{lab}: {signal} at {trigger:?}: exit {:?}, objects left {objects:?}",
        status.code()
    );
    assert_eq!(
        status.code(),
        Some(128 + signal as i32),
        "{lab}: exit code after {signal}: {seen:#?}"
    );
    let said = format!("interrupted by {signal}");
    assert!(
        seen.iter().any(|l| l.contains(&said)),
        "{lab}: says {said:?}: {seen:#?}"
    );
    assert_eq!(
        objects,
        (0, 0, 0),
        "{lab}: objects left after {signal} ({trigger:?}): {seen:#?}"
    );
    let root = state_home().join("gflab");
    assert!(!root.join(lab).exists(), "{lab}: state left");
    assert!(
        !root.join(format!("{lab}.lock")).exists(),
        "{lab}: lock file left"
    );
}

/// When to send the signal to `up`.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    /// When stderr shows a line starting with this.
    Line(&'static str),
    /// This many milliseconds after stderr shows a line starting with this.
    LineThen(&'static str, u64),
    /// After this many milliseconds.
    After(u64),
}

/// Points of `up` (2 servers, 1 client: 7 volumes, 3 containers) to interrupt: the start and end of
/// every step, inside the readiness wait, during pool formation, and by time alone.
const SWEEP: [Trigger; 14] = [
    Trigger::Line("images for"),
    Trigger::Line("==> creating network"),
    Trigger::Line("    creating network"),
    Trigger::Line("==> creating 7 volumes"),
    Trigger::Line("    creating 7 volumes"),
    Trigger::Line("==> creating 3 containers"),
    Trigger::Line("    creating 3 containers"),
    Trigger::Line("==> starting 3 nodes"),
    Trigger::Line("    starting 3 nodes"),
    Trigger::Line("==> waiting for"),
    Trigger::LineThen("==> waiting for", 800),
    Trigger::Line("    waiting for"),
    Trigger::Line("==> forming the trusted pool"),
    Trigger::After(700),
];

/// Runs `interrupt_up` with `signal` at each of `points`, one lab `t-sig-<tag><n>` per point.
async fn sweep(signal: Signal, tag: &str, points: &[Trigger]) {
    let Some(d) = engine().await else { return };
    for (i, &trigger) in points.iter().enumerate() {
        let lab = format!("t-sig-{tag}{}", i + 1);
        let _guard = Down(lab.clone());
        interrupt_up(&d, &lab, signal, trigger).await;
    }
}

#[tokio::test]
async fn sigint_during_up_leaves_nothing() {
    sweep(Signal::SIGINT, "int", &SWEEP).await;
}

#[tokio::test]
async fn sigterm_during_up_leaves_nothing() {
    sweep(Signal::SIGTERM, "term", &SWEEP).await;
}

#[tokio::test]
async fn sighup_during_up_leaves_nothing() {
    sweep(
        Signal::SIGHUP,
        "hup",
        &[SWEEP[1], SWEEP[6], SWEEP[10], SWEEP[12]],
    )
    .await;
}

#[tokio::test]
async fn two_labs_side_by_side_and_one_goes_down() {
    let Some(d) = engine().await else { return };
    const A: &str = "t-lab-side-a";
    const B: &str = "t-lab-side-b";
    let _ga = Down(A);
    let _gb = Down(B);
    let file = topology("valid-docker-2x1.toml");
    let args_a = ["up", file.as_str(), "--name", A];
    let args_b = ["up", file.as_str(), "--name", B];
    let (ra, rb) = tokio::join!(run(&args_a), run(&args_b));
    assert_eq!(ra.0, 0, "{}", ra.2);
    assert_eq!(rb.0, 0, "{}", rb.2);
    let subnet = |s: &str| {
        s.lines()
            .find_map(|l| {
                l.split(" is up on ")
                    .nth(1)
                    .map(|r| r.split(' ').next().unwrap_or("").to_string())
            })
            .unwrap_or_default()
    };
    assert_ne!(subnet(&ra.2), subnet(&rb.2), "each lab has its own subnet");
    for lab in [A, B] {
        let p = ok(&[
            "exec", "--lab", lab, "server1", "--", "gluster", "pool", "list",
        ])
        .await;
        assert_eq!(p.matches("Connected").count(), 2, "{lab}: {p}");
    }
    // Without --lab and with two labs up, exec names them.
    let (code, _, err) = run(&["exec", "server1", "--", "true"]).await;
    assert_ne!(code, 0);
    assert!(err.contains(A) && err.contains(B), "{err}");

    ok(&["down", A]).await;
    assert_eq!(count_objects(&d, A).await, (0, 0, 0));
    // B keeps serving: a volume and a mount still work.
    ok(&[
        "exec",
        "--lab",
        B,
        "server1",
        "--",
        "gluster",
        "--mode=script",
        "volume",
        "create",
        "v",
        "server1:/bricks/v",
        "server2:/bricks/v",
    ])
    .await;
    ok(&[
        "exec",
        "--lab",
        B,
        "server1",
        "--",
        "gluster",
        "--mode=script",
        "volume",
        "start",
        "v",
    ])
    .await;
    ok(&[
        "exec",
        "--lab",
        B,
        "client1",
        "--",
        "sh",
        "-c",
        "mkdir -p /mnt/v && mount -t glusterfs server2:/v /mnt/v && touch /mnt/v/x && ls /mnt/v/x",
    ])
    .await;
    let (c, n, v) = count_objects(&d, B).await;
    assert_eq!((c, n, v), (3, 1, 2 * 3 + 1));
    ok(&["down", B]).await;
    assert_eq!(count_objects(&d, B).await, (0, 0, 0));
}

#[tokio::test]
async fn invalid_topologies_are_located_and_create_nothing() {
    let Some(d) = engine().await else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("invalid-"))
        })
        .collect();
    files.sort();
    for f in &files {
        let (code, _, err) = run(&["up", &f.display().to_string(), "--name", "t-lab-inv"]).await;
        assert_ne!(code, 0, "{}", f.display());
        let located = format!("{}:", f.display());
        assert!(
            err.contains(&located),
            "{}: no location in {err}",
            f.display()
        );
    }
    assert_eq!(count_objects(&d, "t-lab-inv").await, (0, 0, 0));
    assert_eq!(count_objects(&d, "t-lab-x").await, (0, 0, 0));

    // A subnet overlapping an existing network: located, nothing created.
    let net = "t-lab-foreign-net";
    let _ = d.remove_network(net).await;
    d.create_network(bollard::models::NetworkCreateRequest {
        name: net.into(),
        ipam: Some(bollard::models::Ipam {
            config: Some(vec![bollard::models::IpamConfig {
                subnet: Some("10.233.0.0/16".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        labels: Some(HashMap::from([(
            "io.gflab.lab".into(),
            "t-lab-foreign".into(),
        )])),
        ..Default::default()
    })
    .await
    .expect("create foreign network");
    let dir = state_home().join("topologies");
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("overlap.toml");
    std::fs::write(
        &file,
        "version = 1\nname = \"t-lab-ovl\"\nsubnet = \"10.233.5.0/24\"\n[servers]\ncount = 1\n",
    )
    .expect("write");
    let (code, _, err) = run(&["up", &file.display().to_string()]).await;
    let _ = d.remove_network(net).await;
    assert_ne!(code, 0);
    let want = format!(
        "{}:3:10: subnet 10.233.5.0/24 overlaps Docker network {net}",
        file.display()
    );
    assert!(err.contains(&want), "expected {want}\n got {err}");
    assert_eq!(count_objects(&d, "t-lab-ovl").await, (0, 0, 0));
}

#[tokio::test]
async fn unreachable_engine_is_one_clear_line_with_a_hint() {
    let out = gflab()
        .args(["ls"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .await
        .expect("spawn");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.starts_with("error: failed to reach the engine"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
}

#[tokio::test]
async fn trixie_lab_runs_glusterfs_11() {
    let Some(d) = engine().await else { return };
    const LAB: &str = "t-lab-trixie";
    let _guard = Down(LAB);
    // `up` builds the trixie images itself when they are missing.
    ok(&["up", &topology("valid-docker-trixie.toml")]).await;
    let v = ok(&[
        "exec",
        "--lab",
        LAB,
        "server1",
        "--",
        "glusterfs",
        "--version",
    ])
    .await;
    assert!(v.starts_with("glusterfs 11.1"), "{v}");
    let peers = ok(&[
        "exec", "--lab", LAB, "server1", "--", "gluster", "peer", "status",
    ])
    .await;
    assert!(peers.contains("Peer in Cluster (Connected)"), "{peers}");
    ok(&[
        "exec", "--lab", LAB, "server1", "--", "sh", "-c",
        "gluster --mode=script volume create tv replica 2 server1:/bricks/tv server2:/bricks/tv && gluster --mode=script volume start tv",
    ])
    .await;
    let got = ok(&[
        "exec", "--lab", LAB, "client1", "--", "sh", "-c",
        "mkdir -p /mnt/tv && mount -t glusterfs server2:/tv /mnt/tv && echo eleven > /mnt/tv/f && cat /mnt/tv/f",
    ])
    .await;
    assert_eq!(got, "eleven\n");
    ok(&["down", LAB]).await;
    assert_eq!(count_objects(&d, LAB).await, (0, 0, 0));
}

#[tokio::test]
async fn a_second_up_of_the_same_lab_is_refused_while_the_first_runs() {
    let Some(d) = engine().await else { return };
    const LAB: &str = "t-lab-twice";
    let _guard = Down(LAB);
    let file = topology("valid-docker-2x1.toml");
    let mut first = gflab()
        .args(["up", &file, "--name", LAB])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn up");
    let mut lines = BufReader::new(first.stderr.take().expect("stderr")).lines();
    while let Ok(Some(l)) = lines.next_line().await {
        if l.starts_with("==> creating network") {
            break;
        }
    }
    let (code, _, err) = run(&["up", &file, "--name", LAB]).await;
    assert_ne!(code, 0);
    assert!(err.contains("another gflab up of lab t-lab-twice"), "{err}");
    while let Ok(Some(_)) = lines.next_line().await {}
    assert!(
        first.wait().await.expect("wait").success(),
        "the first up is unharmed"
    );
    let (c, n, v) = count_objects(&d, LAB).await;
    assert_eq!((c, n, v), (3, 1, 7));
    ok(&["down", LAB]).await;
    assert_eq!(count_objects(&d, LAB).await, (0, 0, 0));
}

/// The repository's own topology files.
fn repo_topology(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../topologies")
        .join(name)
        .display()
        .to_string()
}

/// The lab names from `making N lab(s) from FILE: a, b, c`.
fn pool_names(seen: &[String]) -> Vec<String> {
    seen.iter()
        .find_map(|l| l.strip_prefix("making "))
        .and_then(|l| l.split_once(": "))
        .map(|(_, names)| names.split(", ").map(str::to_string).collect())
        .unwrap_or_default()
}

/// Sends `signal` to a `gflab test -j 4 --topology` run at `trigger` and checks that it stops, exits
/// as a shell reports the signal, and leaves no object of the labs it made.
async fn interrupt_pool(d: &Docker, signal: Signal, trigger: Trigger) {
    let results = tempfile::tempdir().expect("tempdir");
    let mut child = gflab()
        .args(["test", "--topology", &topology("valid-docker-2x1.toml")])
        .args(["-j", "4", "-d", "example", "--results"])
        .arg(results.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn test");
    let pid = nix::unistd::Pid::from_raw(child.id().expect("pid") as i32);
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    match trigger {
        Trigger::Line(prefix) => wait_line(&mut lines, prefix, &mut seen).await,
        Trigger::LineThen(prefix, ms) => {
            wait_line(&mut lines, prefix, &mut seen).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        Trigger::After(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
    }
    nix::sys::signal::kill(pid, signal).expect("send the signal");
    while let Ok(Some(l)) = lines.next_line().await {
        seen.push(l);
    }
    let status = tokio::time::timeout(Duration::from_secs(300), child.wait())
        .await
        .expect("the run ends after the signal")
        .expect("wait");
    let labs = pool_names(&seen);
    assert_eq!(labs.len(), 4, "four labs made: {seen:#?}");
    for lab in &labs {
        let _guard = Down(lab.clone());
        let objects = count_objects(d, lab).await;
        eprintln!("{lab}: {signal} at {trigger:?}: objects left {objects:?}");
        assert_eq!(
            objects,
            (0, 0, 0),
            "{lab}: objects left after {signal} ({trigger:?}): {seen:#?}"
        );
        assert!(
            !state_home().join("gflab").join(lab).exists(),
            "{lab}: state left"
        );
    }
    assert_eq!(
        status.code(),
        Some(128 + signal as i32),
        "exit code after {signal}: {seen:#?}"
    );
}

#[tokio::test]
async fn signals_during_a_parallel_run_leave_nothing_of_its_labs() {
    let Some(d) = engine().await else { return };
    ensure_images().await;
    for (signal, trigger) in [
        // While the four labs are being made.
        (Signal::SIGTERM, Trigger::LineThen("making ", 1500)),
        // While cases run on them.
        (Signal::SIGINT, Trigger::LineThen("start ", 2000)),
        (Signal::SIGTERM, Trigger::LineThen("start ", 2000)),
        (Signal::SIGINT, Trigger::LineThen("making ", 3000)),
    ] {
        interrupt_pool(&d, signal, trigger).await;
    }
}

/// Forwards TCP connections on 127.0.0.1 to the local engine's socket, as a remote engine's
/// `tcp://` endpoint would be reached; counts the connections it carried.
async fn engine_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let addr = listener.local_addr().expect("proxy address");
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let carried = count.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            carried.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                if let Ok(mut unix) = tokio::net::UnixStream::connect("/var/run/docker.sock").await
                {
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                }
            });
        }
    });
    (format!("tcp://{addr}"), count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_on_an_engine_reached_over_tcp_runs_the_example_suite() {
    let Some(d) = engine().await else { return };
    ensure_images().await;
    let (endpoint, carried) = engine_proxy().await;
    let results = tempfile::tempdir().expect("tempdir");
    let junit = results.path().join("junit.xml");
    let out = gflab()
        .env("DOCKER_HOST", &endpoint)
        .args(["test", "--topology", &repo_topology("2x2.toml"), "-j", "2"])
        .args(["-d", "example", "--results"])
        .arg(results.path())
        .arg("--junit")
        .arg(&junit)
        .output()
        .await
        .expect("run gflab test");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let seen: Vec<String> = stderr.lines().map(str::to_string).collect();
    for lab in pool_names(&seen) {
        let _guard = Down(lab.clone());
        assert_eq!(
            count_objects(&d, &lab).await,
            (0, 0, 0),
            "{lab} left objects"
        );
    }
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("8 passed, 0 failed, 0 skipped"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("is up on {endpoint}")),
        "labs made on the tcp engine: {stderr}"
    );
    let n = carried.load(std::sync::atomic::Ordering::Relaxed);
    assert!(n > 0, "the engine was reached through the proxy");
    eprintln!("{n} engine connections went through {endpoint}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_spreads_over_the_engines_named_with_engine() {
    let Some(d) = engine().await else { return };
    ensure_images().await;
    // Two endpoints (here both lead to the local engine): one lab on each.
    let (first, first_carried) = engine_proxy().await;
    let (second, second_carried) = engine_proxy().await;
    let results = tempfile::tempdir().expect("tempdir");
    let out = gflab()
        .args([
            "test",
            "--topology",
            &topology("valid-docker-2x1.toml"),
            "-j",
            "2",
        ])
        .args(["--engine", &first, "--engine", &second])
        .args(["-t", "101 105", "--results"])
        .arg(results.path())
        .output()
        .await
        .expect("run gflab test");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let seen: Vec<String> = stderr.lines().map(str::to_string).collect();
    let labs = pool_names(&seen);
    assert_eq!(labs.len(), 2, "{stderr}");
    for lab in &labs {
        let _guard = Down(lab.clone());
        assert_eq!(
            count_objects(&d, lab).await,
            (0, 0, 0),
            "{lab} left objects"
        );
    }
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 passed, 0 failed, 0 skipped"), "{stdout}");
    for (lab, endpoint) in labs.iter().zip([&first, &second]) {
        assert!(
            stderr.contains(&format!("lab {lab} is up on {endpoint}")),
            "{lab} made on {endpoint}: {stderr}"
        );
    }
    for (endpoint, carried) in [(&first, &first_carried), (&second, &second_carried)] {
        let n = carried.load(std::sync::atomic::Ordering::Relaxed);
        assert!(n > 0, "nothing went through {endpoint}");
    }
}

#[tokio::test]
async fn an_interrupted_upgrade_says_where_it_stopped_and_a_second_run_finishes_it() {
    let Some(d) = engine().await else { return };
    ensure_images().await;
    ok(&["images", "--release", "trixie"]).await;
    let lab = "t-lab-upg";
    let _guard = Down(lab);
    ok(&["up", &topology("valid-docker-2x1.toml"), "--name", lab]).await;

    // A started pure distributed volume: the guide supports only an offline upgrade of it, so a
    // rolling one is refused before any node is touched, naming the volume and what to do.
    let gluster = |args: &'static [&'static str]| {
        let mut v = vec![
            "exec",
            "--lab",
            lab,
            "server1",
            "--",
            "gluster",
            "--mode=script",
        ];
        v.extend_from_slice(args);
        v
    };
    ok(&gluster(&[
        "volume",
        "create",
        "dist",
        "server1:/bricks/dist",
        "server2:/bricks/dist",
        "force",
    ]))
    .await;
    ok(&gluster(&["volume", "start", "dist"])).await;
    let (code, _, err) = run(&["upgrade", lab, "--to", "trixie"]).await;
    assert_ne!(
        code, 0,
        "a rolling upgrade of a started distribute volume: {err}"
    );
    assert!(
        err.contains("refusing a rolling upgrade: dist (Distribute) started")
            && err.contains("--offline"),
        "{err}"
    );
    assert!(
        err.contains("server1=bookworm")
            && err.contains("server2=bookworm")
            && !err.contains("run the same"),
        "says no node was touched, and no resume hint: {err}"
    );
    ok(&gluster(&["volume", "stop", "dist"])).await;

    let mut child = gflab()
        .args(["upgrade", lab, "--to", "trixie"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn upgrade");
    let pid = nix::unistd::Pid::from_raw(child.id().expect("pid") as i32);
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    // While the first server is being upgraded: it is finished, the rest is not started.
    wait_line(&mut lines, "==> upgrading server1", &mut seen).await;
    nix::sys::signal::kill(pid, Signal::SIGINT).expect("SIGINT");
    while let Ok(Some(l)) = lines.next_line().await {
        seen.push(l);
    }
    let status = tokio::time::timeout(Duration::from_secs(300), child.wait())
        .await
        .expect("upgrade stops after SIGINT")
        .expect("wait");
    assert_eq!(status.code(), Some(130), "{seen:#?}");
    let said = seen.join("\n");
    assert!(
        said.contains("server1=trixie") && said.contains("server2=bookworm"),
        "says which node runs which release: {said}"
    );
    assert!(said.contains("run the same gflab upgrade again"), "{said}");
    // The lab is consistent: every agent answers, the pool is whole.
    let out = ok(&[
        "exec", "--lab", lab, "server2", "--", "gluster", "peer", "status",
    ])
    .await;
    assert!(out.contains("Peer in Cluster (Connected)"), "{out}");

    let out = ok(&["upgrade", lab, "--to", "trixie"]).await;
    assert!(out.contains("server2    bookworm -> trixie"), "{out}");
    assert!(out.contains("already on trixie: server1"), "{out}");
    for node in ["server1", "server2", "client1"] {
        let v = ok(&["exec", "--lab", lab, node, "--", "glusterfs", "--version"]).await;
        assert!(v.starts_with("glusterfs 11."), "{node}: {v}");
    }
    ok(&["down", lab]).await;
    assert_eq!(count_objects(&d, lab).await, (0, 0, 0));
}
