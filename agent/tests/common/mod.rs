//! Helpers shared by the integration tests: a real daemon in-process on 127.0.0.1:0.
#![allow(dead_code)]

pub mod procstat;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use gflab_agent::frame::{FrameReader, FrameWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

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

/// The pids of processes whose name (`/proc/PID/comm`) is `name`.
pub fn pids_named(name: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|pid: &u32| {
                    std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .is_ok_and(|c| c.trim() == name)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (up to 5 s) until process `pid` runs under `name`: a parent returns from spawning before
/// the kernel gives the new program its name.
pub async fn wait_named(pid: u32, name: &str) {
    for _ in 0..250 {
        if std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("process {pid} never took the name {name}");
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

pub const BIN: &str = env!("CARGO_BIN_EXE_gflab-agent");

/// A daemon subprocess, killed when dropped (so a failing test leaves nothing running).
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Starts the daemon (optionally wrapped, e.g. by unshare) and returns it with its `listening on` address.
pub fn spawn(wrapper: &[&str], listen: &str, secret: &Path, extra: &[&str]) -> (Daemon, String) {
    let mut argv: Vec<&str> = wrapper.to_vec();
    argv.push(BIN);
    argv.extend([
        "--listen",
        listen,
        "--secret-file",
        secret.to_str().unwrap(),
    ]);
    argv.extend(extra);
    let mut child = std::process::Command::new(argv[0])
        .args(&argv[1..])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gflab-agent");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line was {line:?}"))
        .to_string();
    (Daemon(child), addr)
}

pub fn secret_file(dir: &Path) -> (std::path::PathBuf, Secret) {
    let secret = Secret::generate();
    let path = dir.join("secret");
    secret.write_file(&path).unwrap();
    (path, secret)
}

/// Connects and runs the client's handshake by hand, returning the encrypted framed halves (for tests
/// that send what the client library never would).
pub async fn authed_raw(
    addr: SocketAddr,
    secret: &Secret,
) -> (FrameReader<OwnedReadHalf>, FrameWriter<OwnedWriteHalf>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (rd, wr) = stream.into_split();
    let mut reader = FrameReader::new(rd);
    let mut writer = FrameWriter::new(wr);
    let version = gflab_agent::handshake::client(&mut reader, &mut writer, secret)
        .await
        .unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert!(reader.is_encrypted());
    (reader, writer)
}

/// The peak resident set of a process, in KiB (VmHWM).
pub fn peak_rss_kib(pid: u32) -> u64 {
    procstat::status_kib(pid, "VmHWM")
}

/// Reads what the agent sends until the connection ends; returns its error frame's message, if any.
pub async fn fatal_of<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut FrameReader<R>,
) -> Option<String> {
    let mut fatal = None;
    while let Ok(Some(m)) = reader.read::<gflab_agent::proto::ServerMsg>().await {
        if let gflab_agent::proto::ServerMsg::Fatal { message } = m {
            fatal = Some(message);
        }
    }
    fatal
}

/// Waits (polling) for a child process to exit successfully within `limit`; panics with `what`
/// otherwise.
pub fn wait_clean_exit(child: &mut Child, limit: Duration, what: &str) {
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{what}: exited with {status:?}");
}
