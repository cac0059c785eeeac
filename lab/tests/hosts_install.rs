//! `gflab hosts install` failing the ways users meet first: every failing host is named with the
//! cause and a hint, and bad input is refused before any host is touched. (The successful path, over
//! ssh onto namespace hosts, is `.ci/realhosts/run.sh`.)
use std::path::Path;

use gflab_agent::{NodeEntry, NodeList, Role, Secret};

fn node(name: &str, ssh: Option<&str>) -> NodeEntry {
    NodeEntry {
        name: name.into(),
        role: Role::Server,
        host: name.into(),
        agent: "127.0.0.1:7070".into(),
        brick_root: Some("/bricks".into()),
        ssh: ssh.map(String::from),
        capabilities: vec![],
        glusterfs: None,
    }
}

fn write_list(dir: &Path, nodes: Vec<NodeEntry>) -> std::path::PathBuf {
    Secret::generate().write_file(&dir.join("secret")).unwrap();
    let list = NodeList {
        lab: "hosts-install".into(),
        secret_file: "secret".into(),
        nodes,
    };
    let path = dir.join("nodes.toml");
    list.save(&path).unwrap();
    path
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn gflab(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gflab"));
    cmd.args(args).env_remove("GFLAB_SSH_OPTIONS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_failing_host_is_named_with_cause_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let list = write_list(
        dir.path(),
        vec![node("nossh", None), node("closed", Some("root@127.0.0.1"))],
    );
    let port_opt = format!("Port={port}");
    let (code, stderr) = gflab(
        &[
            "hosts",
            "install",
            "--agent-bin",
            "/bin/sh",
            "--ssh-option",
            &port_opt,
            list.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    // The host's error line and what follows it (hint lines).
    let line = |name: &str| -> String {
        let lines: Vec<&str> = stderr.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with(name) && l.contains(" error: "))
            .unwrap_or_else(|| panic!("no error for {name}:\n{stderr}"));
        lines[at..(at + 2).min(lines.len())].join("\n")
    };
    let nossh = line("nossh");
    assert!(nossh.contains("no `ssh` target"), "{nossh}");
    assert!(nossh.contains("hint: add `ssh = "), "{nossh}");
    let closed = line("closed");
    assert!(closed.contains("ssh could not log in"), "{closed}");
    assert!(closed.contains("refused"), "{closed}");
    assert!(
        closed.contains("hint: nothing listens on the ssh port"),
        "{closed}"
    );
    assert!(stderr.contains("2 of 2 host(s) failed"), "{stderr}");
    // /bin/sh is a dynamically linked ELF: accepted, with a warning.
    assert!(stderr.contains("dynamically linked"), "{stderr}");
}

#[test]
fn bad_input_is_refused_before_any_host_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let list = write_list(dir.path(), vec![node("n1", Some("root@127.0.0.1"))]);
    let list = list.to_str().unwrap();

    let (code, stderr) = gflab(
        &[
            "hosts",
            "install",
            "--agent-bin",
            "/bin/sh",
            "--ssh-option=-p",
            list,
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("invalid ssh option \"-p\" in --ssh-option"),
        "{stderr}"
    );

    let env = [("GFLAB_SSH_OPTIONS", "Port=22 oops")];
    let (code, stderr) = gflab(&["hosts", "install", "--agent-bin", "/bin/sh", list], &env);
    assert_eq!(code, 1);
    assert!(stderr.contains("\"oops\" in GFLAB_SSH_OPTIONS"), "{stderr}");

    let script = dir.path().join("agent.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let (code, stderr) = gflab(
        &[
            "hosts",
            "install",
            "--agent-bin",
            script.to_str().unwrap(),
            list,
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("not an ELF executable"), "{stderr}");

    let missing = dir.path().join("nope");
    let (code, stderr) = gflab(
        &[
            "hosts",
            "install",
            "--agent-bin",
            missing.to_str().unwrap(),
            list,
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("failed to read agent binary"), "{stderr}");
    assert!(!stderr.contains("n1  error"), "no host was tried: {stderr}");
}
