//! `gflab hosts check` against real agents and real sockets on 127.0.0.1: each unreachable host is
//! named with its cause (refused, timed out, wrong secret), a reachable one is examined.
use std::path::Path;
use std::time::{Duration, Instant};

use gflab::hosts::check::{connect_and_ping, AgentState};
use gflab::hosts::{check_host, CheckOptions, Hosts, Unreachable};
use gflab_agent::server::{Server, ServerConfig};
use gflab_agent::{NodeEntry, NodeList, Role, Secret};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A port nothing listens on (bound, then released).
async fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    addr
}

/// A listener that accepts connections and never says a word; holds them until dropped.
async fn silent_listener(stop: CancellationToken) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                r = l.accept() => if let Ok((s, _)) = r { held.push(s) },
            }
        }
    });
    addr
}

/// A real agent with `secret`, on 127.0.0.1.
async fn agent(secret: Secret, stop: CancellationToken) -> String {
    Server::spawn_local(ServerConfig::new(secret), stop)
        .await
        .unwrap()
        .to_string()
}

fn node(name: &str, role: Role, agent: &str) -> NodeEntry {
    NodeEntry {
        name: name.into(),
        role,
        host: name.into(),
        agent: agent.into(),
        brick_root: None,
        ssh: None,
        capabilities: vec![],
        glusterfs: None,
    }
}

fn opts() -> CheckOptions {
    CheckOptions {
        timeout: Duration::from_secs(1),
    }
}

fn reason(state: &AgentState) -> Option<Unreachable> {
    match state {
        AgentState::Reachable { .. } => None,
        AgentState::Unreachable { reason, .. } => Some(*reason),
    }
}

#[tokio::test]
async fn closed_port_is_refused() {
    let addr = closed_port().await;
    let r = check_host(
        &node("n1", Role::Server, &addr),
        &Secret::generate(),
        &opts(),
    )
    .await;
    assert_eq!(reason(&r.agent), Some(Unreachable::Refused), "{r:?}");
    assert!(!r.ok());
    assert!(r.problems[0].contains(&addr) && r.problems[0].contains("refused"));
    assert!(r.problems[0].contains("hint: "));
    assert_eq!(
        r.glusterd_running, None,
        "nothing is examined without an agent"
    );
}

#[tokio::test]
async fn silent_peer_times_out_within_the_bound() {
    let stop = CancellationToken::new();
    let addr = silent_listener(stop.clone()).await;
    let started = Instant::now();
    let r = check_host(
        &node("n1", Role::Client, &addr),
        &Secret::generate(),
        &opts(),
    )
    .await;
    assert_eq!(reason(&r.agent), Some(Unreachable::TimedOut), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the check must not hang on a silent peer"
    );
    stop.cancel();
}

#[tokio::test]
async fn other_secret_is_a_wrong_secret() {
    let stop = CancellationToken::new();
    let addr = agent(Secret::generate(), stop.clone()).await;
    let r = check_host(
        &node("n1", Role::Server, &addr),
        &Secret::generate(),
        &opts(),
    )
    .await;
    assert_eq!(reason(&r.agent), Some(Unreachable::WrongSecret), "{r:?}");
    assert!(r.problems[0].contains("wrong secret"), "{:?}", r.problems);
    stop.cancel();
}

#[tokio::test]
async fn reachable_agent_is_examined() {
    let stop = CancellationToken::new();
    let secret = Secret::generate();
    let addr = agent(secret.clone(), stop.clone()).await;
    let (_, info) = connect_and_ping(&addr, &secret, Duration::from_secs(2))
        .await
        .unwrap();
    assert!(!info.agent_version.is_empty());

    // Whatever this machine runs, the check must see the same; a server needs glusterd.
    let glusterd_here = std::process::Command::new("pidof")
        .arg("glusterd")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let glusterfs_here = std::process::Command::new("glusterfs")
        .arg("--version")
        .output()
        .is_ok();
    for role in [Role::Client, Role::Server] {
        let r = check_host(&node("n1", role, &addr), &secret, &opts()).await;
        assert!(matches!(r.agent, AgentState::Reachable { .. }), "{r:?}");
        assert_eq!(r.glusterd_running, Some(glusterd_here), "{r:?}");
        let glusterd_problem = r
            .problems
            .iter()
            .any(|p| p.contains("glusterd is not running"));
        assert_eq!(
            glusterd_problem,
            role == Role::Server && !glusterd_here,
            "{r:?}"
        );
        let version_problem = r.problems.iter().any(|p| p.contains("glusterfs --version"));
        assert_eq!(version_problem, !glusterfs_here, "{r:?}");
        assert_eq!(r.glusterfs_version.is_some(), glusterfs_here, "{r:?}");
    }
    stop.cancel();
}

/// The whole command: every host named with its cause, exit code 1, JSON on request.
#[tokio::test]
async fn command_names_each_failing_host_and_why() {
    let stop = CancellationToken::new();
    let dir = tempfile::tempdir().unwrap();
    let secret = Secret::generate();
    secret.write_file(&dir.path().join("secret")).unwrap();
    let good = agent(secret.clone(), stop.clone()).await;
    let wrong = agent(Secret::generate(), stop.clone()).await;
    let silent = silent_listener(stop.clone()).await;
    let closed = closed_port().await;
    let list = NodeList {
        lab: "hosts-check".into(),
        secret_file: "secret".into(),
        nodes: vec![
            node("good", Role::Client, &good),
            node("wrongsecret", Role::Client, &wrong),
            node("silent", Role::Client, &silent),
            node("closed", Role::Client, &closed),
        ],
    };
    let path = dir.path().join("nodes.toml");
    list.save(&path).unwrap();

    let hosts = Hosts::load(&path).unwrap();
    let reports = hosts.check(&opts(), 16).await;
    let reasons: Vec<_> = reports.iter().map(|r| reason(&r.agent)).collect();
    assert_eq!(
        reasons,
        [
            None,
            Some(Unreachable::WrongSecret),
            Some(Unreachable::TimedOut),
            Some(Unreachable::Refused)
        ]
    );

    let out = run_gflab(&["hosts", "check", "--timeout", "1"], &path).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (name, why) in [
        ("wrongsecret", "wrong secret"),
        ("silent", "timed out"),
        ("closed", "refused"),
    ] {
        let row = stdout.lines().find(|l| l.starts_with(name)).unwrap_or("");
        assert!(
            row.contains(why),
            "row for {name} should say {why}:\n{stdout}"
        );
        assert!(
            stderr.contains(&format!("{name}: agent at")),
            "stderr names {name}:\n{stderr}"
        );
    }
    let good_row = stdout.lines().find(|l| l.starts_with("good")).unwrap_or("");
    assert!(good_row.contains("ok "), "{stdout}");

    let out = run_gflab(&["hosts", "check", "--timeout", "1", "--json"], &path).await;
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let states: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let a = &h["agent"];
            a["reason"]
                .as_str()
                .unwrap_or(a["state"].as_str().unwrap())
                .to_string()
        })
        .collect();
    assert_eq!(
        states,
        ["reachable", "wrong-secret", "timed-out", "refused"]
    );
    stop.cancel();
}

#[tokio::test]
async fn bad_node_list_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodes.toml");
    std::fs::write(
        &path,
        "lab = \"x\"\nsecret_file = \"secret\"\n[[node]]\nname = \"a\"\n",
    )
    .unwrap();
    let out = run_gflab(&["hosts", "check"], &path).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nodes.toml"), "{stderr}");
}

async fn run_gflab(args: &[&str], list: &Path) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_gflab"))
        .args(args)
        .arg(list)
        .output()
        .await
        .unwrap()
}
