//! Exec against the real daemon in-process: exit codes, stdout/stderr apart, stdin, env, cwd, timeouts
//! that kill the whole process group, cancel by drop, concurrency on one connection.
mod common;

use std::time::Duration;

use gflab_agent::{Command, Error, ExecEvent, ExitStatus};

#[tokio::test]
async fn exit_codes_are_data() {
    let agent = common::start().await;
    let c = agent.client().await;
    let ok = c.exec(Command::new("true")).await.unwrap();
    assert_eq!(ok.status, ExitStatus::Code(0));
    assert!(ok.success());
    let fail = c.exec(Command::shell("exit 42")).await.unwrap();
    assert_eq!(fail.status, ExitStatus::Code(42));
    assert!(!fail.success());
    let killed = c.exec(Command::shell("kill -TERM $$")).await.unwrap();
    assert_eq!(killed.status, ExitStatus::Signal(15));
}

#[tokio::test]
async fn stdout_and_stderr_are_kept_apart() {
    let agent = common::start().await;
    let c = agent.client().await;
    let out = c
        .exec(Command::shell(
            "echo out1; echo err1 >&2; echo out2; echo err2 >&2",
        ))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "out1\nout2\n");
    assert_eq!(out.stderr_str(), "err1\nerr2\n");
}

#[tokio::test]
async fn stdin_env_and_cwd() {
    let agent = common::start().await;
    let c = agent.client().await;
    let out = c
        .exec(Command::new("cat").stdin(b"fed through stdin\n".to_vec()))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "fed through stdin\n");
    let out = c
        .exec(
            Command::shell("echo \"$GFLAB_X-$GFLAB_Y\"")
                .env("GFLAB_X", "a b")
                .env("GFLAB_Y", "c"),
        )
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "a b-c\n");
    let dir = agent.dir.path().canonicalize().unwrap();
    let out = c.exec(Command::new("pwd").cwd(&dir)).await.unwrap();
    assert_eq!(out.stdout_str().trim_end(), dir.to_str().unwrap());
    // Without stdin data, stdin is empty (not the agent's own).
    let out = c.exec(Command::new("wc").arg("-c")).await.unwrap();
    assert_eq!(out.stdout_str().trim(), "0");
}

#[tokio::test]
async fn spawn_failures_name_the_command() {
    let agent = common::start().await;
    let c = agent.client().await;
    let err = c
        .exec(Command::new("/nonexistent/gflab-no-such-program"))
        .await
        .unwrap_err();
    match &err {
        Error::Remote { op, message, .. } => {
            assert!(op.contains("gflab-no-such-program"), "{err}");
            assert!(message.contains("No such file"), "{err}");
        }
        other => panic!("expected a remote error, got {other:?}"),
    }
    let err = c
        .exec(Command::new("true").cwd("/nonexistent-gflab-dir"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent-gflab-dir"), "{err}");
    let err = c.exec(Command::default()).await.unwrap_err();
    assert!(err.to_string().contains("empty argv"), "{err}");
    // The connection still serves.
    assert!(c.exec(Command::new("true")).await.unwrap().success());
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let agent = common::start().await;
    let c = agent.client().await;
    let out = c
        .exec(Command::shell("sleep 300 & echo $!; sleep 300").timeout(Duration::from_secs(2)))
        .await
        .unwrap();
    assert_eq!(out.status, ExitStatus::TimedOut);
    let grandchild: u32 = out
        .stdout_str()
        .trim()
        .parse()
        .expect("pid of the background sleep");
    assert!(
        common::wait_gone(grandchild).await,
        "background sleep {grandchild} survived the timeout"
    );
    assert!(out.duration < Duration::from_secs(10));
}

#[tokio::test]
async fn dropping_a_stream_cancels_the_command() {
    let agent = common::start().await;
    let c = agent.client().await;
    let mut stream = c
        .exec_stream(Command::shell("sleep 300 & echo $!; sleep 300"))
        .await
        .unwrap();
    let pid = common::first_pid(&mut stream).await;
    assert!(!common::process_gone(pid));
    drop(stream);
    assert!(
        common::wait_gone(pid).await,
        "background sleep {pid} survived the cancel"
    );
    assert!(c.exec(Command::new("true")).await.unwrap().success());
}

#[tokio::test]
async fn many_concurrent_requests_share_one_connection() {
    let agent = common::start().await;
    let c = agent.client().await;
    let runs = (0..64).map(|i| {
        let c = c.clone();
        async move { c.exec(Command::shell(format!("echo {i}"))).await }
    });
    let results = futures::future::join_all(runs).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap().stdout_str(), format!("{i}\n"));
    }
}

#[tokio::test]
async fn streaming_delivers_events_as_produced() {
    let agent = common::start().await;
    let c = agent.client().await;
    let mut stream = c
        .exec_stream(Command::shell(
            "echo first; sleep 0.3; echo second >&2; exit 3",
        ))
        .await
        .unwrap();
    let mut events = Vec::new();
    while let Some(e) = stream.next().await {
        events.push(e.unwrap());
    }
    assert!(
        matches!(&events[0], ExecEvent::Stdout(b) if b == b"first\n"),
        "{events:?}"
    );
    assert!(
        matches!(&events[1], ExecEvent::Stderr(b) if b == b"second\n"),
        "{events:?}"
    );
    assert!(
        matches!(events[2], ExecEvent::Exit { status: ExitStatus::Code(3), duration } if duration >= Duration::from_millis(300)),
        "{events:?}"
    );
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn large_stdin_streams_in_and_oversize_requests_are_refused() {
    let agent = common::start().await;
    let c = agent.client().await;
    // Larger than a frame: it follows the request in chunks.
    let big: Vec<u8> = (0..gflab_agent::frame::MAX_FRAME_LEN + 12345)
        .map(|i| (i % 253) as u8)
        .collect();
    let out = c
        .exec(Command::shell("wc -c; exit 0").stdin(big.clone()))
        .await
        .unwrap();
    assert_eq!(out.stdout_str().trim(), big.len().to_string());
    let out = c
        .exec(Command::new("md5sum").stdin(big.clone()))
        .await
        .unwrap();
    let local = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut p| {
            use std::io::Write;
            p.stdin.take().unwrap().write_all(&big)?;
            p.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.stdout, local.stdout);
    // A command that ignores its stdin is fine too.
    assert!(c
        .exec(Command::new("true").stdin(big))
        .await
        .unwrap()
        .success());
    // A request that cannot fit a frame (a huge argument) is refused before anything is sent.
    let huge = "x".repeat(gflab_agent::frame::MAX_FRAME_LEN + 1);
    let err = c.exec(Command::new("echo").arg(huge)).await.unwrap_err();
    assert!(err.to_string().contains("exceeds the limit"), "{err}");
    assert!(c.exec(Command::new("true")).await.unwrap().success());
}

#[tokio::test]
async fn agent_shutdown_kills_running_commands_and_reports_dropped() {
    let agent = common::start().await;
    let c = agent.client().await;
    let mut stream = c
        .exec_stream(Command::shell("echo $$; exec sleep 300"))
        .await
        .unwrap();
    let pid = common::first_pid(&mut stream).await;
    drop(agent); // cancels the server
    match stream.next().await {
        Some(Err(Error::Dropped { .. })) => {}
        other => panic!("expected Dropped, got {other:?}"),
    }
    assert!(
        common::wait_gone(pid).await,
        "sleep {pid} survived the agent's shutdown"
    );
}

#[tokio::test]
async fn abandoning_an_exec_future_kills_the_command() {
    // A caller's own timeout (the runner's per-test timeout) drops the exec future: the command must
    // not live on.
    let agent = common::start().await;
    let c = agent.client().await;
    let pid_file = agent.dir.path().join("pid");
    let line = format!("echo $$ > {}; exec sleep 300", pid_file.display());
    let r = tokio::time::timeout(Duration::from_millis(1500), c.exec(Command::shell(line))).await;
    assert!(r.is_err(), "sleep 300 finished early: {r:?}");
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        common::wait_gone(pid).await,
        "sleep {pid} outlived its abandoned exec"
    );
    assert!(c.exec(Command::new("true")).await.unwrap().success());
}
