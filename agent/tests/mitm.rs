//! A man in the middle on loopback: a proxy this test controls sits between a real client and a real
//! agent, forwards frames, and on command flips one bit of a record, replays a record, or injects a frame
//! into an established connection. Each is detected, the connection is closed and nothing runs; and the
//! bytes the proxy saw never contain a command or its output in clear.
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use gflab_agent::frame;
use gflab_agent::proto::{self, ClientMsg};
use gflab_agent::{Client, ClientOptions, Command, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the next client → agent record.
#[derive(Debug, Clone)]
enum Attack {
    /// Forward unchanged.
    None,
    /// Flip one bit in the middle of the record.
    FlipBit,
    /// Send the previous record again before this one.
    Replay,
    /// Send these bytes (whole frames of the attacker's making) before this record.
    Inject(Vec<u8>),
}

/// The proxy's shared state.
#[derive(Debug)]
struct Mitm {
    /// What to do to the next client record (reset to `None` once done).
    attack: Attack,
    /// Every byte seen, both directions.
    capture: Vec<u8>,
    /// Set when the agent closed its side.
    agent_closed: bool,
}

/// Starts the proxy in front of `agent`; returns its address and its state.
async fn proxy(agent: std::net::SocketAddr) -> (std::net::SocketAddr, Arc<Mutex<Mitm>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(Mutex::new(Mitm {
        attack: Attack::None,
        capture: Vec::new(),
        agent_closed: false,
    }));
    let shared = state.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = TcpStream::connect(agent).await.unwrap();
            let (mut crd, mut cwr) = client.into_split();
            let (mut ard, mut awr) = upstream.into_split();
            // Agent → client: copied as is, captured.
            let st = shared.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match ard.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            st.lock().unwrap().capture.extend_from_slice(&buf[..n]);
                            if cwr.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                st.lock().unwrap().agent_closed = true;
                let _ = cwr.shutdown().await;
            });
            // Client → agent: split into length-prefixed frames/records, each subject to the attack.
            let st = shared.clone();
            tokio::spawn(async move {
                let mut buf = BytesMut::new();
                let mut previous: Option<Vec<u8>> = None;
                let mut seen = 0usize;
                loop {
                    while buf.len() >= 4 {
                        let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                        if buf.len() < 4 + len {
                            break;
                        }
                        let mut record = buf[..4 + len].to_vec();
                        buf.advance(4 + len);
                        seen += 1;
                        let attack = {
                            let mut s = st.lock().unwrap();
                            s.capture.extend_from_slice(&record);
                            // The first frame is the cleartext handshake: never touched.
                            if seen > 1 {
                                std::mem::replace(&mut s.attack, Attack::None)
                            } else {
                                Attack::None
                            }
                        };
                        match attack {
                            Attack::None => {}
                            Attack::FlipBit => {
                                let mid = 4 + len / 2;
                                record[mid] ^= 0x10;
                            }
                            Attack::Replay => {
                                let old = previous.clone().expect("a record to replay");
                                if awr.write_all(&old).await.is_err() {
                                    return;
                                }
                            }
                            Attack::Inject(bytes) => {
                                if awr.write_all(&bytes).await.is_err() {
                                    return;
                                }
                            }
                        }
                        if awr.write_all(&record).await.is_err() {
                            return;
                        }
                        previous = Some(record);
                    }
                    match crd.read_buf(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                let _ = awr.shutdown().await;
            });
        }
    });
    (addr, state)
}

/// A client that never reconnects (a dropped connection must stay visible).
fn no_retry() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(5),
        max_reconnect_attempts: 0,
        initial_backoff: Duration::from_millis(20),
    }
}

/// Waits (up to 5 s) for the agent to close the proxied connection.
async fn agent_closes(state: &Arc<Mutex<Mitm>>) -> bool {
    for _ in 0..250 {
        if state.lock().unwrap().agent_closed {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// One attack against a fresh connection: a first command runs (appending to a log), then `attack`
/// hits the record carrying a second one. Checks the connection is closed and only the first ran.
async fn attacked(attack: impl FnOnce(&common::Agent) -> Attack, what: &str) {
    let agent = common::start().await;
    let (addr, state) = proxy(agent.addr).await;
    let client = Client::connect(&addr.to_string(), agent.secret.clone(), no_retry())
        .await
        .unwrap();
    let log = agent.dir.path().join("ran.log");
    let append = |word: &str| {
        Command::shell(format!(
            "echo {word} >> {}",
            gflab_agent::shell::quote(&log.to_string_lossy())
        ))
    };
    let out = client.exec(append("first-run-marker")).await.unwrap();
    assert!(out.success(), "{out:?}");
    state.lock().unwrap().attack = attack(&agent);
    let err = client
        .exec(append("second-run-marker"))
        .await
        .expect_err("the attacked request must fail");
    assert!(
        matches!(err, Error::Protocol { .. } | Error::Dropped { .. }),
        "{what}: {err:?}"
    );
    assert!(
        agent_closes(&state).await,
        "{what}: the agent kept the connection open"
    );
    let ran = std::fs::read_to_string(&log).unwrap();
    assert_eq!(ran, "first-run-marker\n", "{what}: something ran");
    let capture = state.lock().unwrap().capture.clone();
    for text in ["run-marker", "echo", "ran.log"] {
        assert!(
            !capture.windows(text.len()).any(|w| w == text.as_bytes()),
            "{what}: `{text}` crossed the wire in clear"
        );
    }
    eprintln!("{what}: detected, connection closed: {err}");
}

#[tokio::test]
async fn a_flipped_bit_is_detected() {
    attacked(|_| Attack::FlipBit, "flipped bit").await;
}

#[tokio::test]
async fn a_replayed_record_is_detected() {
    attacked(|_| Attack::Replay, "replayed record").await;
}

#[tokio::test]
async fn an_injected_cleartext_request_is_detected() {
    let marker = |agent: &common::Agent| {
        let mut bytes = BytesMut::new();
        let request = ClientMsg::Request {
            id: 999,
            request: proto::Request::Exec(proto::ExecRequest {
                shell: Some(format!(
                    "echo injected-marker >> {}",
                    agent.dir.path().join("ran.log").display()
                )),
                ..Default::default()
            }),
        };
        frame::encode_msg(&request, &mut bytes).unwrap();
        Attack::Inject(bytes.to_vec())
    };
    attacked(marker, "injected cleartext request").await;
}

#[tokio::test]
async fn an_injected_record_is_detected() {
    // A well-formed record of the right size whose content is not sealed with this connection's keys.
    attacked(
        |_| {
            let mut bytes = 64u32.to_be_bytes().to_vec();
            bytes.extend((0..64u8).map(|i| i.wrapping_mul(37)));
            Attack::Inject(bytes)
        },
        "injected record",
    )
    .await;
}
