//! Helpers shared by the integration tests: a real daemon in-process on 127.0.0.1:0.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use gflab_agent::server::{Server, ServerConfig};
use gflab_agent::{Client, ClientOptions, Secret};
use tokio_util::sync::CancellationToken;

/// A daemon running in this process; stopped on drop.
pub struct Agent {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its secret.
    pub secret: Secret,
    /// Scratch space (service logs, files).
    pub dir: tempfile::TempDir,
    /// Stops it.
    shutdown: CancellationToken,
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts a daemon with default settings.
pub async fn start() -> Agent {
    start_with(|_| {}).await
}

/// Starts a daemon after `tune` adjusted its configuration.
pub async fn start_with(tune: impl FnOnce(&mut ServerConfig)) -> Agent {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = Secret::generate();
    let mut config = ServerConfig::new(secret.clone());
    config.service_log_dir = dir.path().join("log");
    tune(&mut config);
    let shutdown = CancellationToken::new();
    let addr = Server::spawn_local(config, shutdown.clone())
        .await
        .expect("start agent");
    Agent {
        addr,
        secret,
        dir,
        shutdown,
    }
}

/// Fast-failing client options for tests.
pub fn opts() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(5),
        max_reconnect_attempts: 5,
        initial_backoff: Duration::from_millis(20),
    }
}

impl Agent {
    /// A connected client.
    pub async fn client(&self) -> Client {
        Client::connect(&self.addr.to_string(), self.secret.clone(), opts())
            .await
            .expect("connect")
    }
}

/// Whether a process is gone (absent, or a zombie awaiting its reaper).
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| {
                rest.trim_start().starts_with('Z') || rest.trim_start().starts_with('X')
            })
            .unwrap_or(false),
    }
}

/// Waits (up to 5 s) for a process to be gone.
pub async fn wait_gone(pid: u32) -> bool {
    for _ in 0..250 {
        if process_gone(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Reads the first event of a stream, which must be a pid printed on stdout.
pub async fn first_pid(stream: &mut gflab_agent::ExecStream) -> u32 {
    match stream.next().await {
        Some(Ok(gflab_agent::ExecEvent::Stdout(b))) => String::from_utf8(b)
            .expect("utf-8")
            .trim()
            .parse()
            .expect("a pid"),
        other => panic!("expected a pid on stdout, got {other:?}"),
    }
}
