//! The real `gflab-agent` binary as a subprocess: the command line contract, kill + restart on the same
//! port with the client reconnecting by itself, and PID 1 mode (orphans reaped, SIGTERM forwarded).
mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use gflab_agent::{Client, ClientOptions, Command, Error, Secret};

use common::{secret_file, spawn, BIN};

#[tokio::test]
async fn client_survives_a_daemon_restart_on_the_same_port() {
    let dir = tempfile::tempdir().unwrap();
    let (secret_path, secret) = secret_file(dir.path());
    let log_dir = dir.path().join("log");
    let extra = ["--service-log-dir", log_dir.to_str().unwrap()];
    let (mut daemon, addr) = spawn(&[], "127.0.0.1:0", &secret_path, &extra);
    assert!(!addr.ends_with(":0"), "port 0 not resolved: {addr}");
    let opts = ClientOptions {
        initial_backoff: Duration::from_millis(50),
        ..ClientOptions::default()
    };
    let client = Client::connect(&addr, secret, opts).await.unwrap();
    assert_eq!(client.addr(), addr);
    let out = client.exec(Command::shell("echo before")).await.unwrap();
    assert_eq!(out.stdout_str(), "before\n");

    // A request in flight when the daemon dies reports Dropped; it is not re-sent.
    let mut in_flight = client
        .exec_stream(Command::shell("echo $$; exec sleep 30"))
        .await
        .unwrap();
    let orphan = common::first_pid(&mut in_flight).await;
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    match in_flight.next().await {
        Some(Err(Error::Dropped { op, .. })) => assert!(op.contains("sleep 30"), "{op}"),
        other => panic!("expected Dropped, got {other:?}"),
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(orphan as i32),
        nix::sys::signal::Signal::SIGKILL,
    );

    // Restart on the same port, a moment later, while the client is already asking.
    let restart = {
        let secret_path = secret_path.clone();
        let addr = addr.clone();
        let log_dir = log_dir.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            spawn(
                &[],
                &addr,
                &secret_path,
                &["--service-log-dir", log_dir.to_str().unwrap()],
            )
        })
    };
    let started = Instant::now();
    let out = client.exec(Command::shell("echo after")).await.unwrap();
    assert_eq!(out.stdout_str(), "after\n");
    assert!(started.elapsed() >= Duration::from_millis(250));
    let (mut daemon, addr2) = restart.join().unwrap();
    assert_eq!(addr2, addr);
    client.ping().await.unwrap();
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    // With nothing listening, the bound on attempts ends it with a clear error.
    let bounded = Client::connect(&addr, Secret::generate(), ClientOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(bounded, Error::Connect { .. }), "{bounded:?}");
}

#[tokio::test]
async fn reconnect_gives_up_after_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let (secret_path, secret) = secret_file(dir.path());
    let (mut daemon, addr) = spawn(&[], "127.0.0.1:0", &secret_path, &[]);
    let opts = ClientOptions {
        connect_timeout: Duration::from_secs(1),
        max_reconnect_attempts: 3,
        initial_backoff: Duration::from_millis(10),
    };
    let client = Client::connect(&addr, secret, opts).await.unwrap();
    client.ping().await.unwrap();
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let err = client.exec(Command::new("true")).await.unwrap_err();
    match &err {
        Error::Unreachable { attempts, .. } => assert_eq!(*attempts, 3),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(err.to_string().contains(&addr), "{err}");
}

#[tokio::test]
async fn reconnect_backoff_doubles_up_to_its_cap() {
    let agent = common::start().await;
    let opts = ClientOptions {
        connect_timeout: Duration::from_secs(60),
        max_reconnect_attempts: 6,
        initial_backoff: Duration::from_secs(1),
    };
    let client = Client::connect(&agent.addr.to_string(), agent.secret.clone(), opts)
        .await
        .unwrap();
    client.ping().await.unwrap();
    drop(agent);
    // Let the client see the connection end, then run the backoff on a paused clock: the sleeps
    // between the 6 attempts are 1 + 2 + 4 + 5 + 5 s (doubling, capped at 5 s), skipped over.
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let err = client.exec(Command::new("true")).await.unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(err, Error::Unreachable { attempts: 6, .. }),
        "{err:?}"
    );
    assert!(
        waited >= Duration::from_secs(17) && waited < Duration::from_secs(17 + 6 * 60),
        "virtual time waited: {waited:?}"
    );
}

#[test]
fn bad_command_lines_are_refused_clearly() {
    let out = std::process::Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--secret-file"));
    let out = std::process::Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--secret-file",
            "/nonexistent/gflab-secret",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/gflab-secret"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let (secret_path, _) = secret_file(dir.path());
    let out = std::process::Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--secret-file"])
        .arg(&secret_path)
        .args(["--start", "glusterd"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--service glusterd="), "{err}");
    let out = std::process::Command::new(BIN)
        .args(["--listen", "localhost:1", "--secret-file"])
        .arg(&secret_path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("localhost:1"));
}

/// Whether this machine lets us make a PID namespace (root with CAP_SYS_ADMIN).
fn can_unshare() -> bool {
    std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[tokio::test]
async fn as_pid_1_it_reaps_orphans_and_forwards_sigterm() {
    // Not a silent pass: without a PID namespace the reaper cannot be exercised, so say so and fail.
    assert!(
        can_unshare(),
        "cannot create a PID namespace here (needs root and util-linux unshare); \
         run as root, or deselect with `-- --skip as_pid_1`"
    );
    let dir = tempfile::tempdir().unwrap();
    let (secret_path, secret) = secret_file(dir.path());
    let log_dir = dir.path().join("log");
    let (mut ns, addr) = spawn(
        &["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"],
        "127.0.0.1:0",
        &secret_path,
        &[
            "--service-log-dir",
            log_dir.to_str().unwrap(),
            "--service",
            "sleeper=sleep 300",
            "--start",
            "sleeper",
        ],
    );
    let client = Client::connect(&addr, secret, ClientOptions::default())
        .await
        .unwrap();
    // PID 1 is the reaper, the daemon its child.
    let out = client
        .exec(Command::shell(
            "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $PPID",
        ))
        .await
        .unwrap();
    let text = out.stdout_str();
    assert!(
        text.lines().next().unwrap().contains("gflab-agent"),
        "{text}"
    );
    assert_eq!(text.lines().nth(1), Some("2"), "{text}");
    // Orphans (a detaching daemon's child) re-parent to PID 1 and must not stay zombies.
    for _ in 0..3 {
        client
            .exec(Command::shell("(sleep 0.1 &) ; (true &) ; exit 0"))
            .await
            .unwrap();
    }
    // They exit within 0.1 s; the reaper must collect them (without it they stay zombies forever).
    let mut zombies = String::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        zombies = client
            .exec(Command::shell(
                "for s in /proc/[0-9]*/stat; do awk '$3 == \"Z\" {print $1, $2}' $s 2>/dev/null; done",
            ))
            .await
            .unwrap()
            .stdout_str();
        if zombies.is_empty() {
            break;
        }
    }
    assert_eq!(zombies, "", "zombies left unreaped");
    let st = client
        .service("sleeper", gflab_agent::ServiceAction::Status)
        .await
        .unwrap();
    assert!(st.running, "{st:?}");
    // SIGTERM to PID 1 (from outside: the namespace's init is unshare's child) stops everything.
    let unshare_pid = ns.id();
    let init = std::fs::read_to_string(format!("/proc/{unshare_pid}/task/{unshare_pid}/children"))
        .unwrap();
    let init: i32 = init.split_whitespace().next().unwrap().parse().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(init),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    common::wait_clean_exit(
        &mut ns,
        Duration::from_secs(20),
        "the agent did not stop on SIGTERM",
    );
}

/// A daemon on 127.0.0.1 with a fresh secret: (its directory, secret file, secret, process, address).
fn agent_process() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Secret,
    common::Daemon,
    String,
) {
    let dir = tempfile::tempdir().unwrap();
    let (secret_path, secret) = secret_file(dir.path());
    let (daemon, addr) = spawn(&[], "127.0.0.1:0", &secret_path, &[]);
    (dir, secret_path, secret, daemon, addr)
}

#[tokio::test]
async fn sighup_reloads_the_secret_and_sigterm_stops_it_cleanly() {
    let (_dir, secret_path, secret, mut daemon, addr) = agent_process();
    let client = Client::connect(&addr, secret.clone(), ClientOptions::default())
        .await
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(daemon.id() as i32);
    let hup = || nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    // A bad file: the old secret stays.
    std::fs::set_permissions(&secret_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    hup();
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.ping().await.expect("the agent survives SIGHUP");
    Client::connect(&addr, secret.clone(), common::opts())
        .await
        .expect("the old secret still works after a refused reload");
    // A new secret: new connections need it, the open one keeps working.
    std::fs::set_permissions(&secret_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let new = Secret::generate();
    new.write_file(&secret_path).unwrap();
    hup();
    tokio::time::sleep(Duration::from_millis(200)).await;
    client
        .ping()
        .await
        .expect("an open connection survives the rotation");
    let err = Client::connect(&addr, secret, common::opts())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("wrong secret"), "{err}");
    Client::connect(&addr, new, common::opts())
        .await
        .unwrap()
        .ping()
        .await
        .unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    common::wait_clean_exit(
        &mut daemon,
        Duration::from_secs(10),
        "the agent did not stop on SIGTERM",
    );
}

#[tokio::test]
async fn sigusr2_drains_for_a_replacement_that_a_connected_client_reconnects_to() {
    let (_dir, secret_path, secret, mut old, addr) = agent_process();
    let client = Client::connect(&addr, secret, common::opts())
        .await
        .unwrap();
    client.ping().await.unwrap();
    // A command in flight when the upgrade starts.
    let running = {
        let c = client.clone();
        tokio::spawn(async move { c.exec(Command::shell("sleep 1; echo done")).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = nix::unistd::Pid::from_raw(old.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR2).unwrap();
    // The port is free at once: the replacement binds it while the old agent drains.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_new, new_addr) = spawn(&[], &addr, &secret_path, &[]);
    assert_eq!(new_addr, addr);
    let out = running
        .await
        .unwrap()
        .expect("the command in flight finished");
    assert_eq!(out.stdout_str().trim(), "done");
    // The old agent closed the now idle connection and exited by itself.
    common::wait_clean_exit(
        &mut old,
        Duration::from_secs(10),
        "the old agent did not exit after draining",
    );
    // The same client goes on, on the new agent.
    for _ in 0..5 {
        assert!(client.exec(Command::new("true")).await.unwrap().success());
    }
}

/// Clients that keep sending while the agent is replaced: the old agent says it is going away, runs
/// what it admitted, answers what came later "not run", and the client sends that again to the new
/// agent. No request fails and every one runs exactly once (each appends its name to a file).
#[tokio::test]
async fn requests_sent_during_a_replacement_run_exactly_once() {
    let (dir, secret_path, secret, mut old, addr) = agent_process();
    let ran = dir.path().join("ran");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut senders = Vec::new();
    // Several clients (one connection each) and, on one of them, several concurrent senders.
    let shared = Client::connect(&addr, secret.clone(), common::opts())
        .await
        .unwrap();
    for s in 0..6 {
        let client = if s < 3 {
            shared.clone()
        } else {
            Client::connect(&addr, secret.clone(), common::opts())
                .await
                .unwrap()
        };
        let (stop, ran) = (stop.clone(), ran.clone());
        senders.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let name = format!("{s}-{i}");
                let cmd = Command::shell(format!("echo {name} >> {}", ran.display()));
                match client.exec(cmd).await {
                    Ok(out) if out.success() => sent.push(name),
                    Ok(out) => return Err(format!("{name}: {:?}", out.status)),
                    Err(e) => return Err(format!("{name}: {e}")),
                }
            }
            Ok(sent)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = nix::unistd::Pid::from_raw(old.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR2).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_new, new_addr) = spawn(&[], &addr, &secret_path, &[]);
    assert_eq!(new_addr, addr);
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sent = Vec::new();
    for s in senders {
        sent.extend(
            s.await
                .unwrap()
                .expect("no request failed during the replacement"),
        );
    }
    common::wait_clean_exit(
        &mut old,
        Duration::from_secs(10),
        "the old agent did not exit after draining",
    );
    let mut ran: Vec<String> = std::fs::read_to_string(&ran)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    ran.sort();
    sent.sort();
    assert!(
        sent.len() > 50,
        "too few requests to mean anything: {}",
        sent.len()
    );
    assert_eq!(ran, sent, "every request ran exactly once");
}
