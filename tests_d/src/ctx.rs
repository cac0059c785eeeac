//! `Ctx`: what a test body gets — the nodes, `run` with a transcript, unique names and a cleanup registry.
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use gflab_agent::{
    Client, Command, ExitStatus, NodeEntry, Output, Role, ServiceAction, ServiceStatus,
};

use crate::transcript::{Entry, Transcript};
use crate::TestError;

/// Every command a test runs carries this environment variable, so what it leaves running can be found.
pub const TAG_ENV: &str = "GFLAB_TEST_TAG";

/// Where bricks go when the node list names no `brick_root`.
pub const DEFAULT_BRICK_ROOT: &str = "/bricks";

/// One node: its node-list entry and its agent connection.
#[derive(Debug, Clone)]
pub struct Node {
    /// The node list entry.
    pub entry: NodeEntry,
    /// The agent connection (shared, reconnecting).
    pub client: Client,
}

impl Node {
    /// Node name (`server1`).
    pub fn name(&self) -> &str {
        &self.entry.name
    }
    /// The name gluster uses for it.
    pub fn host(&self) -> &str {
        &self.entry.host
    }
    /// Whether it is a server.
    pub fn is_server(&self) -> bool {
        self.entry.role == Role::Server
    }
    /// Where bricks go.
    pub fn brick_root(&self) -> &str {
        self.entry
            .brick_root
            .as_deref()
            .unwrap_or(DEFAULT_BRICK_ROOT)
    }
}

/// Something to undo at the end of a test, pass or fail (run in reverse order of registration).
#[derive(Debug, Clone)]
pub enum Cleanup {
    /// Unmount a FUSE mount and remove its directory.
    Unmount {
        /// The client.
        node: Node,
        /// The mount point.
        path: String,
    },
    /// Stop and delete a volume (and its snapshots), then remove its brick directories.
    Volume {
        /// A server to run the gluster CLI on.
        server: Node,
        /// The volume name.
        name: String,
        /// (server, directory) to remove after deletion.
        dirs: Vec<(Node, String)>,
        /// (server, shell line) run after deletion, before the directories go (small bricks:
        /// unmount their filesystems).
        unmount: Vec<(Node, String)>,
    },
    /// Start a service that the test stopped.
    Service {
        /// The node.
        node: Node,
        /// Service name.
        name: String,
    },
    /// Power a node on again (it was stopped with `fault::stop`).
    Power {
        /// The node.
        node: Node,
        /// What to do to it.
        action: crate::control::Power,
    },
    /// Run an arbitrary command.
    Command {
        /// The node.
        node: Node,
        /// The command.
        command: Command,
    },
}

/// What the runner gives a new context.
#[derive(Debug, Clone)]
pub struct CtxConfig {
    /// The case id.
    pub id: u32,
    /// The case name.
    pub name: String,
    /// A short token unique to this run (used in names and the process tag).
    pub run_token: String,
    /// All nodes, in node-list order.
    pub nodes: Vec<Node>,
    /// The runner's node control (`None`: power actions fail with a clear message).
    pub control: Option<std::sync::Arc<dyn crate::control::NodeControl>>,
    /// The volume type of this variant, for cases that run over the matrix.
    pub volume_type: Option<crate::matrix::VolumeType>,
}

/// The test-facing context; cheap to clone (all clones share one transcript and cleanup registry).
#[derive(Debug, Clone)]
pub struct Ctx {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Case id.
    id: u32,
    /// Run token.
    run_token: String,
    /// Value of [`TAG_ENV`] for this test's commands.
    tag: String,
    /// All nodes.
    nodes: Vec<Node>,
    /// The transcript.
    transcript: Mutex<Transcript>,
    /// Cleanups, in registration order.
    cleanups: Mutex<Vec<Cleanup>>,
    /// Counter for unique names.
    counter: AtomicU32,
    /// The runner's node control.
    control: Option<std::sync::Arc<dyn crate::control::NodeControl>>,
    /// This variant's volume type.
    volume_type: Option<crate::matrix::VolumeType>,
    /// `301` or `301x-ec`: the case id as it appears in names.
    name_id: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Renders an exit status for transcripts and errors.
pub fn status_text(s: ExitStatus) -> String {
    match s {
        ExitStatus::Code(c) => format!("exit {c}"),
        ExitStatus::Signal(n) => format!("killed by signal {n}"),
        ExitStatus::TimedOut => "timed out (process group killed)".to_string(),
    }
}

/// Records a request in the transcript when it finishes — or, if the future is dropped, as cancelled.
struct Pending<'a> {
    ctx: &'a Ctx,
    node: String,
    command: String,
    at: Instant,
    done: bool,
}

impl Pending<'_> {
    fn finish(&mut self, status: String, stdout: String, stderr: String) {
        self.done = true;
        let mut t = lock(&self.ctx.inner.transcript);
        let at = t.offset(self.at);
        t.push(Entry::Command {
            at,
            node: std::mem::take(&mut self.node),
            command: std::mem::take(&mut self.command),
            status,
            duration: self.at.elapsed(),
            stdout,
            stderr,
        });
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.finish(
                "cancelled before it finished (the agent kills its process group)".into(),
                String::new(),
                String::new(),
            );
        }
    }
}

impl Ctx {
    /// A fresh context for one test.
    pub fn new(cfg: CtxConfig) -> Ctx {
        Ctx {
            inner: Arc::new(Inner {
                id: cfg.id,
                tag: match cfg.volume_type {
                    None => format!("{}.{}", cfg.run_token, cfg.id),
                    Some(t) => format!("{}.{}.{}", cfg.run_token, cfg.id, t.short()),
                },
                name_id: match cfg.volume_type {
                    None => cfg.id.to_string(),
                    Some(t) => format!("{}{}", cfg.id, t.short()),
                },
                volume_type: cfg.volume_type,
                run_token: cfg.run_token,
                nodes: cfg.nodes,
                transcript: Mutex::new(Transcript::new()),
                cleanups: Mutex::new(Vec::new()),
                counter: AtomicU32::new(0),
                control: cfg.control,
            }),
        }
    }

    /// The runner's node control, or why there is none.
    pub fn control(&self) -> Result<&dyn crate::control::NodeControl, TestError> {
        self.inner.control.as_deref().ok_or_else(|| {
            TestError::Nodes("no node control: this run cannot reboot or power nodes".into())
        })
    }

    /// The case id.
    pub fn id(&self) -> u32 {
        self.inner.id
    }
    /// The volume type of this variant (cases that run over the matrix).
    pub fn volume_type(&self) -> Option<crate::matrix::VolumeType> {
        self.inner.volume_type
    }
    /// The process tag of this test's commands (value of [`TAG_ENV`]).
    pub fn tag(&self) -> &str {
        &self.inner.tag
    }
    /// All nodes in node-list order.
    pub fn nodes(&self) -> &[Node] {
        &self.inner.nodes
    }
    /// The servers in node-list order.
    pub fn servers(&self) -> Vec<Node> {
        self.with_role(Role::Server)
    }
    /// The clients in node-list order.
    pub fn clients(&self) -> Vec<Node> {
        self.with_role(Role::Client)
    }
    fn with_role(&self, role: Role) -> Vec<Node> {
        self.inner
            .nodes
            .iter()
            .filter(|n| n.entry.role == role)
            .cloned()
            .collect()
    }
    /// The `i`-th server (0-based).
    pub fn server(&self, i: usize) -> Result<Node, TestError> {
        self.servers().get(i).cloned().ok_or_else(|| {
            TestError::Nodes(format!(
                "the test needs server #{} but the node list has {}",
                i + 1,
                self.servers().len()
            ))
        })
    }
    /// The `i`-th client (0-based).
    pub fn client(&self, i: usize) -> Result<Node, TestError> {
        self.clients().get(i).cloned().ok_or_else(|| {
            TestError::Nodes(format!(
                "the test needs client #{} but the node list has {}",
                i + 1,
                self.clients().len()
            ))
        })
    }
    /// The node with this name.
    pub fn node(&self, name: &str) -> Result<Node, TestError> {
        self.inner
            .nodes
            .iter()
            .find(|n| n.entry.name == name)
            .cloned()
            .ok_or_else(|| TestError::Nodes(format!("no node named {name:?} in the node list")))
    }
    /// The server gluster knows as `host` (its `host` or its name).
    pub fn server_by_host(&self, host: &str) -> Result<Node, TestError> {
        self.servers()
            .into_iter()
            .find(|n| n.entry.host == host || n.entry.name == host)
            .ok_or_else(|| {
                TestError::Nodes(format!("no server with host {host:?} in the node list"))
            })
    }

    /// A name unique to this test and run (`t103-rep-k3x9-1`), safe for volumes, snapshots and paths.
    pub fn unique(&self, what: &str) -> String {
        let n = self.inner.counter.fetch_add(1, Ordering::Relaxed) + 1;
        format!(
            "t{}-{}-{}-{}",
            self.inner.name_id, what, self.inner.run_token, n
        )
    }

    /// Adds a step line to the transcript (and the debug log).
    pub fn step(&self, text: impl Into<String>) {
        let text = text.into();
        tracing::debug!(test = self.inner.id, "{text}");
        lock(&self.inner.transcript).step(text);
    }

    /// Runs a command and returns its output whatever its exit status; only agent failures are errors.
    pub async fn exec(&self, node: &Node, cmd: Command) -> Result<Output, TestError> {
        let command = cmd.display();
        let cmd = cmd.env(TAG_ENV, self.inner.tag.clone());
        let mut pending = self.pending(node, &command);
        match node.client.exec(cmd).await {
            Ok(out) => {
                pending.finish(status_text(out.status), out.stdout_str(), out.stderr_str());
                Ok(out)
            }
            Err(e) => {
                pending.finish(format!("agent error: {e}"), String::new(), String::new());
                Err(TestError::Agent {
                    node: node.name().to_string(),
                    command,
                    source: e,
                })
            }
        }
    }

    /// Runs a command; a non-zero exit is an error carrying the node, command and output.
    pub async fn run(&self, node: &Node, cmd: Command) -> Result<Output, TestError> {
        let command = cmd.display();
        let out = self.exec(node, cmd).await?;
        if out.success() {
            Ok(out)
        } else {
            Err(TestError::Command {
                node: node.name().to_string(),
                command,
                status: status_text(out.status),
                stdout: out.stdout_str(),
                stderr: out.stderr_str(),
            })
        }
    }

    /// Runs a shell line (`/bin/sh -c`), fails on non-zero exit, returns stdout.
    pub async fn sh(&self, node: &Node, line: impl Into<String>) -> Result<String, TestError> {
        Ok(self.run(node, Command::shell(line)).await?.stdout_str())
    }

    /// Starts/stops/restarts/queries a service through the agent (systemd or the agent's supervisor).
    pub async fn service(
        &self,
        node: &Node,
        name: &str,
        action: ServiceAction,
    ) -> Result<ServiceStatus, TestError> {
        let command = format!("service {name} {}", format!("{action:?}").to_lowercase());
        let fut = node.client.service(name, action);
        self.request(node, command, fut, |st| match st.pid {
            Some(pid) => format!("running={} pid={pid}", st.running),
            None => format!("running={}", st.running),
        })
        .await
    }

    /// Writes a file on a node (atomically, with `mode`).
    pub async fn put_file(
        &self,
        node: &Node,
        path: &str,
        data: Vec<u8>,
        mode: u32,
    ) -> Result<(), TestError> {
        let command = format!("put {path} ({} bytes, mode {mode:o})", data.len());
        let fut = node.client.put_file(path, data, mode);
        self.request(node, command, fut, |_| "ok".to_string()).await
    }

    /// Reads a whole file from a node.
    pub async fn get_file(&self, node: &Node, path: &str) -> Result<Vec<u8>, TestError> {
        let fut = node.client.get_file(path);
        self.request(node, format!("get {path}"), fut, |d| {
            format!("ok ({} bytes)", d.len())
        })
        .await
    }

    /// Awaits a non-exec agent request, recording it in the transcript.
    async fn request<T>(
        &self,
        node: &Node,
        command: String,
        fut: impl std::future::Future<Output = Result<T, gflab_agent::Error>>,
        describe: impl FnOnce(&T) -> String,
    ) -> Result<T, TestError> {
        let mut pending = self.pending(node, &command);
        let res = fut.await;
        let status = match &res {
            Ok(v) => describe(v),
            Err(e) => format!("agent error: {e}"),
        };
        pending.finish(status, String::new(), String::new());
        res.map_err(|source| TestError::Agent {
            node: node.name().to_string(),
            command,
            source,
        })
    }

    fn pending(&self, node: &Node, command: &str) -> Pending<'_> {
        Pending {
            ctx: self,
            node: node.name().to_string(),
            command: command.to_string(),
            at: Instant::now(),
            done: false,
        }
    }

    /// Registers something to undo at the end of the test (runs even when the test fails or times out).
    pub fn defer(&self, c: Cleanup) {
        lock(&self.inner.cleanups).push(c);
    }

    /// Takes every registered cleanup, in registration order (`gluster::teardown` runs them).
    pub(crate) fn take_cleanups(&self) -> Vec<Cleanup> {
        std::mem::take(&mut *lock(&self.inner.cleanups))
    }

    /// The transcript rendered as text.
    pub fn transcript(&self) -> String {
        lock(&self.inner.transcript).render()
    }
    /// Number of remote commands recorded so far.
    pub fn command_count(&self) -> usize {
        lock(&self.inner.transcript).command_count()
    }
}
