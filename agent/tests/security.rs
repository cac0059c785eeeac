//! Bad input against the real daemon: each bad connection gets one error frame and is closed, and a
//! well-behaved client on another connection is served throughout.
mod common;

use std::time::Duration;

use bytes::BytesMut;
use gflab_agent::frame::{self, FrameReader, FrameWriter};
use gflab_agent::proto::{self, ClientMsg, ServerMsg, PROTOCOL_VERSION};
use gflab_agent::secure::Handshake;
use gflab_agent::{Client, Error, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DEADLINE: Duration = Duration::from_millis(800);

async fn agent() -> common::Agent {
    common::start_with(|c| {
        c.handshake_timeout = DEADLINE;
        c.max_connections = 8;
    })
    .await
}

/// Reads what the agent sends until it closes: (the Fatal message if any, whether it closed).
async fn read_until_closed(stream: TcpStream) -> Option<String> {
    let mut reader = FrameReader::new(stream);
    let mut fatal = None;
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match reader.read::<ServerMsg>().await {
                Ok(Some(ServerMsg::Fatal { message })) => fatal = Some(message),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the agent did not close the connection");
    fatal
}

/// Connects and reads the Hello.
async fn hello(agent: &common::Agent) -> (TcpStream, Vec<u8>) {
    let mut stream = TcpStream::connect(agent.addr).await.unwrap();
    let mut buf = BytesMut::new();
    loop {
        if let Some(p) = frame::decode(&mut buf).unwrap() {
            let msg: ServerMsg = frame::decode_msg(&p).unwrap();
            let ServerMsg::Hello { version, nonce } = msg else {
                panic!("expected hello, got {msg:?}")
            };
            assert_eq!(version, PROTOCOL_VERSION);
            return (stream, nonce);
        }
        assert!(stream.read_buf(&mut buf).await.unwrap() > 0);
    }
}

/// A well-behaved client pinging in the background; returns how many pings succeeded.
fn keep_pinging(
    client: Client,
) -> (
    tokio::task::JoinHandle<u32>,
    tokio_util::sync::CancellationToken,
) {
    let stop = tokio_util::sync::CancellationToken::new();
    let token = stop.clone();
    let task = tokio::spawn(async move {
        let mut n = 0;
        while !token.is_cancelled() {
            let info = client
                .ping()
                .await
                .expect("well-behaved client must be served");
            assert_eq!(info.agent_version, env!("CARGO_PKG_VERSION"));
            n += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        n
    });
    (task, stop)
}

#[tokio::test]
async fn bad_clients_are_rejected_while_a_good_one_is_served() {
    let agent = agent().await;
    let good = agent.client().await;
    let (pinger, stop) = keep_pinging(good.clone());

    // 1. No handshake at all: closed after the deadline.
    let (stream, _) = hello(&agent).await;
    let msg = read_until_closed(stream).await.expect("error frame");
    assert!(msg.contains("handshake not completed"), "{msg}");

    // 2. Wrong secret.
    let wrong = Client::connect(&agent.addr.to_string(), Secret::generate(), common::opts())
        .await
        .unwrap_err();
    match &wrong {
        Error::Handshake { reason, .. } => assert!(reason.contains("wrong secret"), "{wrong}"),
        other => panic!("expected a handshake error, got {other:?}"),
    }

    // 3. Wrong protocol version (with an otherwise valid first message).
    let (stream, nonce) = hello(&agent).await;
    let (rd, wr) = stream.into_split();
    let mut writer = FrameWriter::new(wr);
    writer
        .send(&ClientMsg::Handshake {
            version: PROTOCOL_VERSION + 41,
            noise: first_message(&agent, &nonce),
        })
        .await
        .unwrap();
    let msg = read_until_closed(rd.reunite(writer_into_inner(writer)).unwrap())
        .await
        .expect("error frame");
    assert!(msg.contains("protocol version mismatch"), "{msg}");
    assert!(
        msg.contains(&format!("version {}", PROTOCOL_VERSION + 41)),
        "{msg}"
    );

    // 3b. A version 1 client (HMAC proof, frames in clear): told which versions differ.
    let (stream, _) = hello(&agent).await;
    let (rd, wr) = stream.into_split();
    let mut writer = FrameWriter::new(wr);
    writer
        .send(&V1Auth::Auth(1, vec![7; 32], vec![9; 32]))
        .await
        .unwrap();
    let msg = read_until_closed(rd.reunite(writer_into_inner(writer)).unwrap())
        .await
        .expect("error frame");
    assert!(
        msg.contains("protocol version mismatch: client speaks version 1, agent speaks version 2"),
        "{msg}"
    );
    assert!(msg.contains("hint:"), "{msg}");

    // 4. Oversize frame header.
    let (mut stream, _) = hello(&agent).await;
    stream.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    let msg = read_until_closed(stream).await.expect("error frame");
    assert!(msg.contains("exceeds the limit"), "{msg}");

    // 4b. Oversize frame after authenticating (the 16 MiB limit), announced inside a valid record.
    let (mut reader, mut writer) = authed_raw(&agent).await;
    writer.queue_encoded(&((frame::MAX_FRAME_LEN as u32) + 1).to_be_bytes());
    writer.flush().await.unwrap();
    let msg = common::fatal_of(&mut reader).await.expect("error frame");
    assert!(msg.contains("exceeds the limit of 16777216"), "{msg}");

    // 5. Random bytes (a small fixed-seed generator: the same bytes every run).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..5 {
        let (mut stream, _) = hello(&agent).await;
        let junk: Vec<u8> = (0..64 + round * 100)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let _ = stream.write_all(&junk).await;
        let msg = read_until_closed(stream).await.expect("error frame");
        assert!(
            msg.contains("invalid handshake")
                || msg.contains("exceeds the limit")
                || msg.contains("handshake not completed"),
            "{msg}"
        );
    }

    // 6. One byte a second (a valid-looking frame trickled in): cut off at the deadline.
    let (mut stream, nonce) = hello(&agent).await;
    let mut frame = BytesMut::new();
    frame::encode_msg(
        &ClientMsg::Handshake {
            version: PROTOCOL_VERSION,
            noise: first_message(&agent, &nonce),
        },
        &mut frame,
    )
    .unwrap();
    let started = std::time::Instant::now();
    for byte in frame.iter().take(3) {
        if stream.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let msg = read_until_closed(stream).await.expect("error frame");
    assert!(msg.contains("handshake not completed"), "{msg}");
    assert!(started.elapsed() < DEADLINE * 4);

    // 7. A request before authenticating.
    let (stream, _) = hello(&agent).await;
    let (rd, wr) = stream.into_split();
    let mut writer = FrameWriter::new(wr);
    writer
        .send(&ClientMsg::Request {
            id: 1,
            request: proto::Request::Ping,
        })
        .await
        .unwrap();
    let msg = read_until_closed(rd.reunite(writer_into_inner(writer)).unwrap())
        .await
        .expect("error frame");
    assert!(msg.contains("expected authentication first"), "{msg}");

    stop.cancel();
    let served = pinger.await.expect("the good client was never refused");
    assert!(served >= 10, "only {served} pings went through");
    // And the good connection is still the same one, still working.
    good.ping().await.unwrap();
}

/// What a version 1 client sent first: variant 0 with the version, its nonce and an HMAC proof.
#[derive(serde::Serialize)]
enum V1Auth {
    /// version, client nonce, proof.
    Auth(
        u32,
        #[serde(with = "serde_bytes")] Vec<u8>,
        #[serde(with = "serde_bytes")] Vec<u8>,
    ),
}

/// A valid first Noise message for this agent's hello.
fn first_message(agent: &common::Agent, nonce: &[u8]) -> Vec<u8> {
    Handshake::initiator(&agent.secret, &proto::prologue(PROTOCOL_VERSION, nonce))
        .unwrap()
        .write(&[])
        .unwrap()
}

/// Gets the write half back out of a FrameWriter (the test keeps both halves to reunite them).
fn writer_into_inner(
    w: FrameWriter<tokio::net::tcp::OwnedWriteHalf>,
) -> tokio::net::tcp::OwnedWriteHalf {
    w.into_inner()
}

#[tokio::test]
async fn connections_beyond_the_limit_get_an_error_frame() {
    let agent = common::start_with(|c| c.max_connections = 2).await;
    let a = agent.client().await;
    let b = agent.client().await;
    let err = Client::connect(
        &agent.addr.to_string(),
        agent.secret.clone(),
        common::opts(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("too many connections"), "{err}");
    a.ping().await.unwrap();
    b.ping().await.unwrap();
    drop(a);
    // The slot frees once the first connection is gone.
    let mut ok = false;
    for _ in 0..50 {
        if let Ok(c) = Client::connect(
            &agent.addr.to_string(),
            agent.secret.clone(),
            common::opts(),
        )
        .await
        {
            c.ping().await.unwrap();
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "the freed slot was never reused");
}

/// A fake agent that says hello with `version` and, if asked, answers any authentication with a
/// welcome whose proof is made without the secret.
async fn fake_agent(version: u32, welcome: bool) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (rd, wr) = stream.into_split();
        let mut reader = FrameReader::new(rd);
        let mut writer = FrameWriter::new(wr);
        let hello = ServerMsg::Hello {
            version,
            nonce: proto::nonce(),
        };
        writer.send(&hello).await.unwrap();
        if welcome {
            let _ = reader.read::<ClientMsg>().await;
            let forged = ServerMsg::Welcome { noise: vec![0; 48] };
            writer.send(&forged).await.unwrap();
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    addr
}

#[tokio::test]
async fn an_impostor_agent_is_detected() {
    // A server that does not know the secret cannot produce the welcome proof.
    let addr = fake_agent(PROTOCOL_VERSION, true).await;
    let err = Client::connect(&addr.to_string(), Secret::generate(), common::opts())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("failed to prove"), "{err}");
}

#[tokio::test]
async fn a_version_1_agent_is_named() {
    let addr = fake_agent(1, false).await;
    let err = Client::connect(&addr.to_string(), Secret::generate(), common::opts())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("agent speaks version 1, client speaks version 2") && text.contains("hint:"),
        "{text}"
    );
}

#[tokio::test]
async fn an_agent_of_another_protocol_version_is_named() {
    let addr = fake_agent(PROTOCOL_VERSION + 1, false).await;
    let err = Client::connect(&addr.to_string(), Secret::generate(), common::opts())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Handshake { .. }), "{err:?}");
    assert!(
        text.contains("protocol version mismatch") && text.contains("hint:"),
        "{text}"
    );
}

/// Connects and authenticates by hand, returning the framed halves.
async fn authed_raw(
    agent: &common::Agent,
) -> (
    FrameReader<tokio::net::tcp::OwnedReadHalf>,
    FrameWriter<tokio::net::tcp::OwnedWriteHalf>,
) {
    common::authed_raw(agent.addr, &agent.secret).await
}

#[tokio::test]
async fn a_client_that_stops_reading_holds_up_nobody_else() {
    let agent = agent().await;
    let good = agent.client().await;
    let (reader, mut writer) = authed_raw(&agent).await;
    // Asks for a flood of output and never reads it.
    writer
        .send(&ClientMsg::Request {
            id: 7,
            request: proto::Request::Exec(proto::ExecRequest {
                shell: Some("head -c 268435456 /dev/zero".into()),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..20 {
        good.exec(gflab_agent::Command::new("true")).await.unwrap();
    }
    drop(reader);
    drop(writer);
}

#[tokio::test]
async fn a_duplicate_request_id_is_a_protocol_error() {
    let agent = agent().await;
    let (mut reader, mut writer) = authed_raw(&agent).await;
    let sleep = || ClientMsg::Request {
        id: 5,
        request: proto::Request::Exec(proto::ExecRequest {
            argv: vec!["sleep".into(), "5".into()],
            ..Default::default()
        }),
    };
    writer.send(&sleep()).await.unwrap();
    writer.send(&sleep()).await.unwrap();
    let msg = common::fatal_of(&mut reader).await.expect("error frame");
    assert!(msg.contains("duplicate request id 5"), "{msg}");
}
