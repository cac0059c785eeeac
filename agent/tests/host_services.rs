//! Service control on a host without systemd, against a fake root: a SysV init script, and a daemon
//! started outside any init system that the agent controls through its pid file and process name.
mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

use gflab_agent::server::hostsvc::{HostLayout, KnownDaemon};
use gflab_agent::{Error, ServiceAction};

/// A long-running daemon under a name unique to this test: a shell script, whose process name is
/// the script's own (a copy of `sleep` would not do where coreutils is one multi-call binary that
/// refuses to run under an unknown name).
fn daemon_binary(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, "#!/bin/sh\nwhile :; do sleep 1; done\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_string_lossy().into_owned()
}

/// A process name (at most 15 bytes, as the kernel keeps it) no other run of this test shares, so a
/// daemon left by an interrupted run is never taken for this run's.
fn unique_name(prefix: &str) -> String {
    format!("{prefix}{}", std::process::id())
}

/// Kills every process of a name when dropped, so a failing test leaves no daemon behind.
struct KillOnDrop(String);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for pid in common::pids_named(&self.0) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// A fake host: init.d and run directories under `root`, the real /proc.
fn layout(root: &Path, known: Vec<KnownDaemon>) -> HostLayout {
    std::fs::create_dir_all(root.join("etc/init.d")).unwrap();
    std::fs::create_dir_all(root.join("run")).unwrap();
    HostLayout {
        init_d: root.join("etc/init.d"),
        pid_dirs: vec![root.join("run")],
        proc_dir: "/proc".into(),
        openrc: false,
        known,
        log_dir: root.join("log"),
    }
}

#[tokio::test]
async fn a_sysv_init_script_controls_the_service() {
    let root = tempfile::tempdir().unwrap();
    let name = &unique_name("gfs");
    let _cleanup = KillOnDrop(name.clone());
    let bin = daemon_binary(root.path(), name);
    let host = layout(root.path(), vec![]);
    let pid_file = root.path().join(format!("run/{name}.pid"));
    let script = host.init_d.join(name);
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
PIDFILE={pid}
running() {{ [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }}
case "$1" in
start) running || {{ setsid {bin} 300 </dev/null >/dev/null 2>&1 & echo $! >"$PIDFILE"; }} ;;
stop) running && kill "$(cat "$PIDFILE")"; rm -f "$PIDFILE"; sleep 0.2 ;;
restart) "$0" stop; "$0" start ;;
status) running && {{ echo running; exit 0; }}; echo stopped; exit 3 ;;
*) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
"#,
            pid = pid_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let agent = common::start_with(|c| {
        c.systemctl = None;
        c.host = host;
    })
    .await;
    let client = agent.client().await;
    assert!(
        !client
            .service(name, ServiceAction::Status)
            .await
            .unwrap()
            .running
    );
    let started = client.service(name, ServiceAction::Start).await.unwrap();
    assert!(started.running, "{started:?}");
    let first = started.pid.expect("a pid");
    let restarted = client.service(name, ServiceAction::Restart).await.unwrap();
    assert!(
        restarted.running && restarted.pid != Some(first),
        "{restarted:?}"
    );
    assert!(
        common::wait_gone(first).await,
        "the old process survived the restart"
    );
    let status = client.service(name, ServiceAction::Status).await.unwrap();
    assert_eq!(status.pid, restarted.pid);
    let stopped = client.service(name, ServiceAction::Stop).await.unwrap();
    assert!(!stopped.running, "{stopped:?}");
    assert!(common::wait_gone(restarted.pid.unwrap()).await);
    // A failing script: its words come back.
    std::fs::write(&script, "#!/bin/sh\necho 'no config found' >&2\nexit 6\n").unwrap();
    let err = client
        .service(name, ServiceAction::Start)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Remote { message, .. }
            if message.contains("exited with 6") && message.contains("no config found")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_daemon_outside_any_init_is_controlled_by_pid_file_and_name() {
    let root = tempfile::tempdir().unwrap();
    let name = &unique_name("gfk");
    let _cleanup = KillOnDrop(name.clone());
    let bin = daemon_binary(root.path(), name);
    let known = KnownDaemon {
        name: name.clone(),
        pid_file: format!("{name}.pid"),
        command: vec![bin.clone(), "300".into()],
        daemonizes: false,
    };
    let agent = common::start_with(|c| {
        c.systemctl = None;
        c.host = layout(root.path(), vec![known]);
    })
    .await;
    let client = agent.client().await;
    // Started by someone else (as an init would): found by its name.
    let mut outside = std::process::Command::new(&bin)
        .arg("300")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_named(outside.id(), name).await;
    let status = client.service(name, ServiceAction::Status).await.unwrap();
    assert_eq!(status.pid, Some(outside.id()), "{status:?}");
    let restarted = client.service(name, ServiceAction::Restart).await.unwrap();
    assert!(restarted.running && restarted.pid != Some(outside.id()));
    let _ = outside.wait();
    let stopped = client.service(name, ServiceAction::Stop).await.unwrap();
    assert!(!stopped.running, "{stopped:?}");
    assert!(common::wait_gone(restarted.pid.unwrap()).await);
    let started = client.service(name, ServiceAction::Start).await.unwrap();
    assert!(started.running);
    client.service(name, ServiceAction::Stop).await.unwrap();

    let err = client
        .service("nosuchd", ServiceAction::Start)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("neither systemd nor OpenRC")
            && text.contains("no init script")
            && text.contains("hint: start the agent with --service nosuchd="),
        "{text}"
    );
}
