//! The client side: one reconnecting connection per node, and a pool over a node list.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::{NodeEntry, NodeList, Secret};

/// Everything the client can fail with. A command's non-zero exit is NOT an error (see [`Output::status`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// TCP connect failed (refused, unreachable, timed out).
    #[error("failed to connect to agent at {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    /// The agent rejected the handshake (wrong secret, wrong version) with its reason.
    #[error("agent at {addr} refused the handshake: {reason}")]
    Handshake { addr: String, reason: String },
    /// The connection dropped while a request that may have run was in flight; it was not re-sent.
    #[error(
        "connection to agent at {addr} dropped during {op}; the request may or may not have run"
    )]
    Dropped { addr: String, op: String },
    /// The agent answered the request with an error (file not found, spawn failed, ...).
    #[error("agent at {addr} failed to {op}: {message}")]
    Remote {
        addr: String,
        op: String,
        message: String,
    },
    /// Reconnecting gave up after the bound.
    #[error("agent at {addr} unreachable after {attempts} attempts: {last}")]
    Unreachable {
        addr: String,
        attempts: u32,
        last: String,
    },
    /// Protocol violation (bad frame, unexpected message).
    #[error("protocol error talking to agent at {addr}: {message}")]
    Protocol { addr: String, message: String },
}

/// Client tuning; `Default` is sensible.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Per-attempt TCP connect + handshake deadline.
    pub connect_timeout: Duration,
    /// How many reconnect attempts before giving up.
    pub max_reconnect_attempts: u32,
    /// First backoff delay (doubles, capped).
    pub initial_backoff: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(5),
            max_reconnect_attempts: 10,
            initial_backoff: Duration::from_millis(100),
        }
    }
}

/// A command to run on a node.
#[derive(Debug, Clone, Default)]
pub struct Command {
    /// argv (argv[0] looked up in PATH), or empty when `shell` is used.
    pub argv: Vec<String>,
    /// A shell line run with `/bin/sh -c`, instead of argv.
    pub shell: Option<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Bytes fed to stdin (stdin is empty/closed otherwise).
    pub stdin: Option<Vec<u8>>,
    /// Kill the whole process group after this long.
    pub timeout: Option<Duration>,
}

impl Command {
    /// `Command::new("gluster").args(["volume", "info"])`.
    pub fn new(program: impl Into<String>) -> Command {
        Command {
            argv: vec![program.into()],
            ..Default::default()
        }
    }
    /// A shell line.
    pub fn shell(line: impl Into<String>) -> Command {
        Command {
            shell: Some(line.into()),
            ..Default::default()
        }
    }
    /// Appends one argument.
    pub fn arg(mut self, a: impl Into<String>) -> Command {
        self.argv.push(a.into());
        self
    }
    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }
    /// Sets an environment variable.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Command {
        self.env.insert(k.into(), v.into());
        self
    }
    /// Sets the working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Command {
        self.cwd = Some(dir.into());
        self
    }
    /// Sets stdin bytes.
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Command {
        self.stdin = Some(data.into());
        self
    }
    /// Sets the timeout.
    pub fn timeout(mut self, t: Duration) -> Command {
        self.timeout = Some(t);
        self
    }
    /// A human-readable rendering for transcripts and error messages (`gluster volume info`).
    pub fn display(&self) -> String {
        match &self.shell {
            Some(s) => s.clone(),
            None => self.argv.join(" "),
        }
    }
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExitStatus {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
    /// Killed (whole process group) because the timeout expired.
    TimedOut,
}

/// A finished command.
#[derive(Debug, Clone)]
pub struct Output {
    /// How it ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// Wall time on the agent, spawn to exit.
    pub duration: Duration,
}

impl Output {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.status == ExitStatus::Code(0)
    }
    /// stdout, lossily decoded.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// stderr, lossily decoded.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// One event of a streaming exec.
#[derive(Debug, Clone)]
pub enum ExecEvent {
    /// A chunk of stdout.
    Stdout(Vec<u8>),
    /// A chunk of stderr.
    Stderr(Vec<u8>),
    /// The command ended (last event).
    Exit {
        status: ExitStatus,
        duration: Duration,
    },
}

/// A running command's events; dropping it cancels the command (its process group is killed).
#[derive(Debug)]
pub struct ExecStream {
    _private: (),
}

impl ExecStream {
    /// The next event; `None` after `Exit`.
    pub async fn next(&mut self) -> Option<Result<ExecEvent, Error>> {
        todo!("contract")
    }
}

/// What the agent says about itself.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Info {
    /// Node hostname.
    pub hostname: String,
    /// PRETTY_NAME from /etc/os-release.
    pub os_release: String,
    /// gflab-agent version.
    pub agent_version: String,
    /// Seconds since the agent started.
    pub uptime_secs: u64,
    /// Whether service control goes through systemd (else the agent's own supervisor).
    pub systemd: bool,
}

/// Service control verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ServiceAction {
    Start,
    Stop,
    Restart,
    Status,
}

/// A service's state after the action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceStatus {
    /// Service name (`glusterd`).
    pub name: String,
    /// Whether it is running now.
    pub running: bool,
    /// Its main PID when running.
    pub pid: Option<u32>,
}

/// One logical connection to one agent; cheap to clone; reconnects on drop.
#[derive(Debug, Clone)]
pub struct Client {
    _private: (),
}

impl Client {
    /// Connects and authenticates (fails if the first connection or handshake fails).
    pub async fn connect(
        _addr: &str,
        _secret: Secret,
        _opts: ClientOptions,
    ) -> Result<Client, Error> {
        todo!("contract")
    }
    /// The agent address.
    pub fn addr(&self) -> &str {
        todo!("contract")
    }
    /// Round trip + agent facts.
    pub async fn ping(&self) -> Result<Info, Error> {
        todo!("contract")
    }
    /// Runs a command to completion, collecting its output.
    pub async fn exec(&self, _cmd: Command) -> Result<Output, Error> {
        todo!("contract")
    }
    /// Runs a command, streaming its output.
    pub async fn exec_stream(&self, _cmd: Command) -> Result<ExecStream, Error> {
        todo!("contract")
    }
    /// Writes a file atomically (temp file + rename) with the given mode.
    pub async fn put_file(&self, _path: &str, _data: Vec<u8>, _mode: u32) -> Result<(), Error> {
        todo!("contract")
    }
    /// Reads a whole file.
    pub async fn get_file(&self, _path: &str) -> Result<Vec<u8>, Error> {
        todo!("contract")
    }
    /// Starts/stops/restarts/queries a service (systemd on hosts, the agent's supervisor in containers).
    pub async fn service(
        &self,
        _name: &str,
        _action: ServiceAction,
    ) -> Result<ServiceStatus, Error> {
        todo!("contract")
    }
}

/// Some nodes could not be reached; each is named with its error.
#[derive(Debug, thiserror::Error)]
#[error("failed to connect to {} node(s): {}", .unreachable.len(), .unreachable.iter().map(|(n, e)| format!("{n} ({e})")).collect::<Vec<_>>().join(", "))]
pub struct PoolError {
    /// (node name, why).
    pub unreachable: Vec<(String, Error)>,
}

/// Connections to every node of a node list.
#[derive(Debug, Clone)]
pub struct Pool {
    /// (node, its client), in node-list order.
    pub nodes: Vec<(NodeEntry, Client)>,
}

impl Pool {
    /// Connects to every node concurrently; fails naming every unreachable node.
    pub async fn connect(
        _list: &NodeList,
        _secret: Secret,
        _opts: ClientOptions,
    ) -> Result<Pool, PoolError> {
        todo!("contract")
    }
    /// The client of the named node.
    pub fn client(&self, name: &str) -> Option<&Client> {
        self.nodes
            .iter()
            .find(|(n, _)| n.name == name)
            .map(|(_, c)| c)
    }
    /// Runs the same command on every node in parallel; results in node order.
    pub async fn run_all(&self, _cmd: Command) -> Vec<(String, Result<Output, Error>)> {
        todo!("contract")
    }
}
