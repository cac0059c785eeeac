//! No lockout and no crash from the network: a flood of connections that never authenticate does not
//! keep a client with the secret out; an absurd exec timeout is refused with a reply (and its id
//! released); a client that sends stdin nobody reads, or never reads its file replies, cannot grow the
//! daemon's memory; data beyond the granted window closes the connection.
mod common;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gflab_agent::proto::{self, ClientMsg, Reply, ServerMsg};
use gflab_agent::{Client, ClientOptions, Command, Error};
use tokio::io::AsyncReadExt;

/// Keeps `n` connections open from `source` (another loopback address: another host, as far as the
/// agent can tell) that never say a word, reopening each as soon as the agent closes it.
fn flood(
    addr: std::net::SocketAddr,
    source: std::net::IpAddr,
    n: usize,
    stop: Arc<AtomicBool>,
) -> Arc<AtomicU32> {
    let opened = Arc::new(AtomicU32::new(0));
    for _ in 0..n {
        let (stop, opened) = (stop.clone(), opened.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind((source, 0).into()).unwrap();
                let Ok(mut s) = socket.connect(addr).await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                opened.fetch_add(1, Ordering::Relaxed);
                let mut sink = [0u8; 512];
                // Read until the agent closes (evicted or timed out), then come straight back.
                while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
            }
        });
    }
    opened
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_unauthenticated_connections_keeps_no_client_out() {
    let agent = common::start().await;
    let steady = agent.client().await;
    let stop = Arc::new(AtomicBool::new(false));
    let opened = flood(agent.addr, [127, 0, 0, 2].into(), 300, stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut ok, mut failed) = (0, Vec::new());
    let started = Instant::now();
    // Like a runner starting up: a new connection each time, and pings on a long-lived one.
    for round in 0..20 {
        match Client::connect(
            &agent.addr.to_string(),
            agent.secret.clone(),
            common::opts(),
        )
        .await
        {
            Ok(c) => match c.ping().await {
                Ok(_) => ok += 1,
                Err(e) => failed.push(format!("round {round}: ping: {e}")),
            },
            Err(e) => failed.push(format!("round {round}: connect: {e}")),
        }
        if let Err(e) = steady.ping().await {
            failed.push(format!("round {round}: steady ping: {e}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let flooded = opened.load(Ordering::Relaxed);
    eprintln!(
        "flood: {flooded} unauthenticated connections opened; new clients {ok}/20 served, \
         {} failures, in {:.1} s",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        flooded >= 300,
        "the flood opened only {flooded} connections"
    );
    assert!(failed.is_empty(), "{failed:#?}");
}

#[tokio::test]
async fn a_client_refused_for_lack_of_slots_retries_with_backoff() {
    let agent = common::start_with(|c| c.max_connections = 1).await;
    let first = agent.client().await;
    let addr = agent.addr.to_string();
    let secret = agent.secret.clone();
    let opts = ClientOptions {
        max_reconnect_attempts: 8,
        initial_backoff: Duration::from_millis(50),
        ..common::opts()
    };
    let second = tokio::spawn(async move { Client::connect(&addr, secret, opts).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(first);
    let second = second
        .await
        .unwrap()
        .expect("served once the slot was free");
    second.ping().await.unwrap();
    // And with no slot ever freed: a clear error after the bound.
    let opts = ClientOptions {
        max_reconnect_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        ..common::opts()
    };
    let err = Client::connect(&agent.addr.to_string(), agent.secret.clone(), opts)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Busy { message, .. } if message.contains("too many connections")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_huge_exec_timeout_is_refused_with_a_reply_and_its_id_released() {
    let agent = common::start().await;
    let client = agent.client().await;
    let err = client
        .exec(Command::new("true").timeout(Duration::from_secs(u64::MAX)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Remote { message, .. } if message.contains("out of range")),
        "{err:?}"
    );
    assert!(client.exec(Command::new("true")).await.unwrap().success());

    // The same id again, on a raw connection: released, not a duplicate.
    let (mut reader, mut writer) = common::authed_raw(agent.addr, &agent.secret).await;
    let exec = |timeout| ClientMsg::Request {
        id: 5,
        request: proto::Request::Exec(proto::ExecRequest {
            argv: vec!["true".into()],
            timeout: Some(timeout),
            ..Default::default()
        }),
    };
    writer
        .send(&exec(Duration::new(u64::MAX, 999_999_999)))
        .await
        .unwrap();
    match reader.read::<ServerMsg>().await.unwrap() {
        Some(ServerMsg::Reply {
            id: 5,
            reply: Reply::Error(m),
        }) => assert!(m.contains("out of range"), "{m}"),
        other => panic!("expected an error reply, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    writer.send(&exec(Duration::from_secs(5))).await.unwrap();
    match reader.read::<ServerMsg>().await.unwrap() {
        Some(ServerMsg::Reply {
            id: 5,
            reply: Reply::Exit { status, .. },
        }) => assert_eq!(status, gflab_agent::ExitStatus::Code(0)),
        other => panic!("expected the exit, got {other:?}"),
    }
}

#[tokio::test]
async fn data_beyond_the_granted_window_closes_the_connection() {
    let agent = common::start().await;
    let (mut reader, mut writer) = common::authed_raw(agent.addr, &agent.secret).await;
    writer
        .send(&ClientMsg::Request {
            id: 1,
            request: proto::Request::Exec(proto::ExecRequest {
                argv: vec!["sleep".into(), "30".into()],
                stdin_size: Some(1 << 30),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    // Ignores the window and pushes 8 MiB.
    for _ in 0..8 {
        let chunk = vec![0u8; 1 << 20];
        if writer
            .send(&ClientMsg::Data { id: 1, chunk })
            .await
            .is_err()
        {
            break;
        }
    }
    let msg = common::fatal_of(&mut reader).await.expect("error frame");
    assert!(msg.contains("flow control violated"), "{msg}");
}

/// The daemon's peak RSS under a client that sends 256 MiB of stdin to a command that never reads it,
/// and one that asks for a 64 MiB file 64 times over and never reads a reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_bounded_under_clients_that_do_not_keep_up() {
    let dir = tempfile::tempdir().unwrap();
    let (secret_path, secret) = common::secret_file(dir.path());
    let (daemon, addr) = common::spawn(&[], "127.0.0.1:0", &secret_path, &[]);
    let pid = daemon.id();
    let client = Client::connect(&addr, secret.clone(), common::opts())
        .await
        .unwrap();
    client.ping().await.unwrap();
    let idle = common::peak_rss_kib(pid);

    // 1. Stdin nobody reads: the client sends only what the agent grants.
    let stdin = vec![7u8; 256 << 20];
    let cmd = Command::new("sleep")
        .arg("3")
        .stdin(stdin)
        .timeout(Duration::from_secs(30));
    let out = client.exec(cmd).await.unwrap();
    assert!(out.success(), "{out:?}");
    let after_stdin = common::peak_rss_kib(pid);

    // 2. File replies nobody reads.
    let big = dir.path().join("big");
    std::fs::write(&big, vec![1u8; 64 << 20]).unwrap();
    let sock: std::net::SocketAddr = addr.parse().unwrap();
    let (reader, mut writer) = common::authed_raw(sock, &secret).await;
    for id in 1..=64 {
        writer
            .send(&ClientMsg::Request {
                id,
                request: proto::Request::GetFile {
                    path: big.to_string_lossy().into_owned(),
                },
            })
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_get = common::peak_rss_kib(pid);
    // Still serving others meanwhile.
    client.ping().await.unwrap();
    drop((reader, writer));
    eprintln!(
        "daemon peak RSS: idle {idle} KiB; after 256 MiB of unread stdin {after_stdin} KiB; \
         after 64 unread 64 MiB file reads {after_get} KiB"
    );
    assert!(after_stdin < idle + 32 * 1024, "stdin: {after_stdin} KiB");
    assert!(after_get < idle + 64 * 1024, "get: {after_get} KiB");
}
