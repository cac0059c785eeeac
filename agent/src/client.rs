//! The client side of one agent: a reconnecting [`Client`] and the streams of its running commands.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::command::{Command, Output};
use crate::connection::{Conn, Unsent};
use crate::error::Error;
use crate::proto::{
    ClientMsg, ExecRequest, ExitStatus, Info, Reply, Request, ServiceAction, ServiceStatus,
    INLINE_STDIN, STREAM_WINDOW,
};
use crate::secret::Secret;

/// Longest wait between two reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Bytes per data message (a file being put, a large stdin).
const DATA_CHUNK: usize = 1024 * 1024;
/// How often a request the agent did not run (it was going away) is sent again.
const MAX_RESENDS: u32 = 3;

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

/// One event of a streaming exec.
#[derive(Debug, Clone)]
pub enum ExecEvent {
    /// A chunk of stdout.
    Stdout(Vec<u8>),
    /// A chunk of stderr.
    Stderr(Vec<u8>),
    /// The command ended (last event).
    Exit {
        /// How it ended.
        status: ExitStatus,
        /// Wall time on the agent, spawn to exit.
        duration: Duration,
    },
}

/// A running command's events; dropping it cancels the command (its process group is killed).
///
/// Output arrives under flow control: the agent sends at most a window of bytes ahead of what was taken
/// with [`ExecStream::next`], so a slow reader never makes either side hold the whole output.
pub struct ExecStream {
    /// The client it was started through (to send it again if the agent did not run it).
    client: Client,
    /// The request, where it runs.
    started: Started,
    /// For errors.
    addr: String,
    /// Consumed bytes not yet granted back to the agent.
    unacked: u32,
    /// Whether the last event was delivered.
    done: bool,
}

impl std::fmt::Debug for ExecStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecStream")
            .field("addr", &self.addr)
            .field("op", &self.started.op)
            .field("id", &self.started.id)
            .field("done", &self.done)
            .finish()
    }
}

impl ExecStream {
    /// The next event; `None` after `Exit`.
    pub async fn next(&mut self) -> Option<Result<ExecEvent, Error>> {
        if self.done {
            return None;
        }
        let reply = match self.client.reply(&mut self.started).await {
            Ok(reply) => reply,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let event = match reply {
            Some(Reply::Stdout(b)) => {
                self.grant(b.len());
                Ok(ExecEvent::Stdout(b))
            }
            Some(Reply::Stderr(b)) => {
                self.grant(b.len());
                Ok(ExecEvent::Stderr(b))
            }
            Some(Reply::Exit { status, duration }) => {
                self.done = true;
                Ok(ExecEvent::Exit { status, duration })
            }
            Some(Reply::Error(message)) => {
                self.done = true;
                Err(Error::Remote {
                    addr: self.addr.clone(),
                    op: self.started.op.clone(),
                    message,
                })
            }
            Some(other) => {
                self.done = true;
                Err(Error::Protocol {
                    addr: self.addr.clone(),
                    message: format!("unexpected reply to {}: {other:?}", self.started.op),
                })
            }
            None => {
                self.done = true;
                Err(self.started.lost())
            }
        };
        Some(event)
    }

    /// Gives consumed bytes back to the agent, in batches.
    fn grant(&mut self, n: usize) {
        self.unacked = self.unacked.saturating_add(n as u32);
        if self.unacked >= STREAM_WINDOW / 4 {
            let bytes = std::mem::take(&mut self.unacked);
            let _ = self.started.credit(bytes);
        }
    }
}

impl Drop for ExecStream {
    fn drop(&mut self) {
        if !self.done {
            let (conn, id) = (&self.started.conn, self.started.id);
            let _ = conn.send(&ClientMsg::Cancel { id });
            conn.unregister(id);
        }
    }
}

/// One logical connection to one agent; cheap to clone; reconnects on drop.
///
/// Every request goes over one TCP connection, concurrently with the others. When the connection drops,
/// the next request reconnects (exponential backoff from [`ClientOptions::initial_backoff`], at most
/// [`ClientOptions::max_reconnect_attempts`] attempts). A request that was in flight when the connection
/// dropped fails with [`Error::Dropped`] and is never re-sent, except the idempotent [`Client::ping`]
/// and [`Client::get_file`], which are retried once automatically. An agent being replaced (an
/// upgrade) does not drop anything: it says it is going away, finishes what it admitted, and answers
/// what it did not admit "not run", which is sent again, to the agent that replaces it.
#[derive(Clone)]
pub struct Client {
    /// Shared by all clones.
    inner: Arc<Inner>,
}

/// The state behind a [`Client`].
struct Inner {
    /// Agent address (changed by [`Client::retarget`] when the agent moved).
    addr: std::sync::RwLock<String>,
    /// Shared secret.
    secret: Secret,
    /// Tuning.
    opts: ClientOptions,
    /// The current connection (replaced on reconnect; one reconnect at a time).
    conn: tokio::sync::Mutex<Link>,
    /// Next request id.
    next_id: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.addr())
            .finish_non_exhaustive()
    }
}

/// The connection state behind the lock.
#[derive(Default)]
struct Link {
    /// The live (or last) connection.
    conn: Option<Arc<Conn>>,
    /// When reconnecting last gave up, and why: callers that were queued behind that attempt share
    /// its outcome instead of each starting a full new round.
    gave_up: Option<(tokio::time::Instant, u32, String)>,
}

/// A request that was sent, and what it takes to send it again.
struct Started {
    /// Where it went.
    conn: Arc<Conn>,
    /// Its id.
    id: u64,
    /// Its replies.
    rx: mpsc::UnboundedReceiver<Reply>,
    /// What was asked.
    request: Request,
    /// What follows the request as data messages (a file's content, a large stdin).
    data: Option<Bytes>,
    /// For errors (`exec `ls -l``).
    op: String,
    /// How often it was sent again because the agent did not run it.
    resent: u32,
}

impl Started {
    /// Gives `bytes` of consumed output back to the agent (flow control).
    fn credit(&self, bytes: u32) -> Result<(), Unsent> {
        self.conn.send(&ClientMsg::Credit { id: self.id, bytes })
    }
    /// The error for a request whose replies stopped: the connection was lost.
    fn lost(&self) -> Error {
        self.conn.lost(&self.op)
    }
}

impl Client {
    /// Connects and authenticates (fails if the first connection or handshake fails; an agent that
    /// is out of connection slots is asked again with backoff, within the reconnect bound).
    pub async fn connect(addr: &str, secret: Secret, opts: ClientOptions) -> Result<Client, Error> {
        let mut delay = opts.initial_backoff;
        let mut attempt = 1;
        let conn = loop {
            match Conn::open(addr, &secret, opts.connect_timeout).await {
                Err(Error::Busy { .. }) if attempt < opts.max_reconnect_attempts.max(1) => {
                    tracing::debug!(%addr, attempt, "agent busy; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
                other => break other?,
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                addr: std::sync::RwLock::new(addr.to_string()),
                secret,
                opts,
                conn: tokio::sync::Mutex::new(Link {
                    conn: Some(Arc::new(conn)),
                    gave_up: None,
                }),
                next_id: AtomicU64::new(1),
            }),
        })
    }
    /// The agent address.
    pub fn addr(&self) -> String {
        self.inner
            .addr
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Points this client (and every clone) at the agent's new address, for an agent that moved
    /// (a container restarted on a new published port). The next request connects there; requests
    /// in flight on the old connection end as they would on a drop.
    pub async fn retarget(&self, addr: &str) {
        *self.inner.addr.write().unwrap_or_else(|p| p.into_inner()) = addr.to_string();
        let mut link = self.inner.conn.lock().await;
        link.conn = None;
        link.gave_up = None;
    }

    /// The live connection, reconnecting with backoff if it dropped.
    async fn conn(&self) -> Result<Arc<Conn>, Error> {
        let asked = tokio::time::Instant::now();
        let mut link = self.inner.conn.lock().await;
        if let Some(c) = link.conn.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        if let Some((when, attempts, last)) = &link.gave_up {
            if *when >= asked {
                return Err(Error::Unreachable {
                    addr: self.addr(),
                    attempts: *attempts,
                    last: last.clone(),
                });
            }
        }
        link.conn = None;
        let addr = self.addr();
        tracing::info!(%addr, "connection to agent lost; reconnecting");
        let opts = &self.inner.opts;
        let attempts = opts.max_reconnect_attempts.max(1);
        let mut delay = opts.initial_backoff;
        let mut last = String::new();
        for attempt in 1..=attempts {
            match Conn::open(&addr, &self.inner.secret, opts.connect_timeout).await {
                Ok(c) => {
                    tracing::debug!(%addr, attempt, "reconnected");
                    let c = Arc::new(c);
                    link.conn = Some(c.clone());
                    link.gave_up = None;
                    return Ok(c);
                }
                // A refused handshake will not get better by retrying.
                Err(e @ Error::Handshake { .. }) => return Err(e),
                Err(e) => last = e.to_string(),
            }
            if attempt < attempts {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_BACKOFF);
            }
        }
        link.gave_up = Some((tokio::time::Instant::now(), attempts, last.clone()));
        Err(Error::Unreachable {
            addr: self.addr(),
            attempts,
            last,
        })
    }

    /// Sends a request, and the data that follows it, on the live connection. Only a request known
    /// NOT to have been sent is sent again here (the connection was found ending before it was
    /// queued); see [`Client::reply`] for one the agent did not run.
    async fn start(
        &self,
        request: Request,
        op: &str,
        data: Option<Bytes>,
    ) -> Result<Started, Error> {
        for _ in 0..3 {
            let conn = self.conn().await?;
            let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
            let msg = ClientMsg::Request {
                id,
                request: request.clone(),
            };
            match conn.submit(id, &msg) {
                Ok(rx) => {
                    if let Some(data) = &data {
                        conn.send_data(id, data.clone(), DATA_CHUNK);
                    }
                    return Ok(Started {
                        conn,
                        id,
                        rx,
                        request,
                        data,
                        op: op.to_string(),
                        resent: 0,
                    });
                }
                Err(Unsent::Closed) => continue,
                Err(Unsent::Encode(e)) => {
                    return Err(Error::Protocol {
                        addr: self.addr(),
                        message: format!(
                            "failed to send {op}: {e}; hint: move large inputs with put_file"
                        ),
                    });
                }
            }
        }
        Err(Error::Dropped {
            addr: self.addr(),
            op: op.to_string(),
        })
    }

    /// The next reply to a request; `None` when the connection was lost. A request the agent
    /// answered [`Reply::NotRun`] (it is going away: an upgrade replacing it) provably had no
    /// effect, so it is sent again on a new connection, to the agent that replaces it.
    async fn reply(&self, started: &mut Started) -> Result<Option<Reply>, Error> {
        loop {
            match started.rx.recv().await {
                Some(Reply::NotRun(why)) if started.resent < MAX_RESENDS => {
                    tracing::debug!(addr = %self.addr(), op = %started.op, %why, "sending again");
                    let again = self
                        .start(started.request.clone(), &started.op, started.data.clone())
                        .await?;
                    let resent = started.resent + 1;
                    *started = Started { resent, ..again };
                }
                Some(Reply::NotRun(why)) => return Err(self.remote(&started.op, why)),
                other => return Ok(other),
            }
        }
    }

    /// Waits for the single final reply of a request.
    async fn finish(&self, mut started: Started) -> Result<Reply, Error> {
        match self.reply(&mut started).await? {
            Some(Reply::Error(message)) => Err(self.remote(&started.op, message)),
            Some(reply) => Ok(reply),
            None => Err(started.lost()),
        }
    }

    /// The agent's error answer to `op`.
    fn remote(&self, op: &str, message: String) -> Error {
        Error::Remote {
            addr: self.addr(),
            op: op.to_string(),
            message,
        }
    }

    /// A reply that does not answer `op`.
    fn unexpected(&self, op: &str, reply: &Reply) -> Error {
        Error::Protocol {
            addr: self.addr(),
            message: format!("unexpected reply to {op}: {reply:?}"),
        }
    }

    /// Round trip + agent facts. Idempotent: retried once if the connection dropped during it.
    pub async fn ping(&self) -> Result<Info, Error> {
        self.retry_once(|| async {
            let op = "ping";
            let started = self.start(Request::Ping, op, None).await?;
            match self.finish(started).await? {
                Reply::Info(info) => Ok(info),
                other => Err(self.unexpected(op, &other)),
            }
        })
        .await
    }

    /// Runs `f` again once if it failed with [`Error::Dropped`] (for idempotent requests only).
    async fn retry_once<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        match f().await {
            Err(Error::Dropped { .. }) => f().await,
            other => other,
        }
    }

    /// Runs a command to completion, collecting its output. Never retried (it may have run).
    /// Dropping the future before it completes (a caller's own timeout) kills the command's process
    /// group, like dropping an [`ExecStream`].
    pub async fn exec(&self, cmd: Command) -> Result<Output, Error> {
        let mut stream = self.exec_stream(cmd).await?;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        while let Some(event) = stream.next().await {
            match event? {
                ExecEvent::Stdout(b) => stdout.extend_from_slice(&b),
                ExecEvent::Stderr(b) => stderr.extend_from_slice(&b),
                ExecEvent::Exit { status, duration } => {
                    return Ok(Output {
                        status,
                        stdout,
                        stderr,
                        duration,
                    })
                }
            }
        }
        Err(stream.started.lost())
    }
    /// Runs a command, streaming its output; dropping the stream cancels it. Never retried.
    pub async fn exec_stream(&self, cmd: Command) -> Result<ExecStream, Error> {
        let op = format!("exec `{}`", cmd.display());
        // Small stdin rides in the request; large stdin follows it in chunks.
        let (stdin, large_stdin) = match cmd.stdin {
            Some(data) if data.len() > INLINE_STDIN => (None, Some(data)),
            small => (small, None),
        };
        let request = Request::Exec(ExecRequest {
            argv: cmd.argv,
            shell: cmd.shell,
            env: cmd.env.into_iter().collect(),
            cwd: cmd.cwd.map(|p| p.to_string_lossy().into_owned()),
            stdin,
            stdin_size: large_stdin.as_ref().map(|d| d.len() as u64),
            timeout: cmd.timeout,
        });
        let started = self
            .start(request, &op, large_stdin.map(Bytes::from))
            .await?;
        Ok(ExecStream {
            client: self.clone(),
            started,
            addr: self.addr(),
            unacked: 0,
            done: false,
        })
    }
    /// Writes a file atomically (temp file + rename) with the given mode. Never retried.
    pub async fn put_file(&self, path: &str, data: Vec<u8>, mode: u32) -> Result<(), Error> {
        let op = format!("put file {path}");
        let request = Request::PutFile {
            path: path.to_string(),
            mode,
            size: data.len() as u64,
        };
        let started = self.start(request, &op, Some(Bytes::from(data))).await?;
        match self.finish(started).await? {
            Reply::Written => Ok(()),
            other => Err(self.unexpected(&op, &other)),
        }
    }
    /// Reads a whole file. Idempotent: retried once if the connection dropped during it.
    pub async fn get_file(&self, path: &str) -> Result<Vec<u8>, Error> {
        self.retry_once(|| async {
            let op = format!("get file {path}");
            let request = Request::GetFile {
                path: path.to_string(),
            };
            let mut started = self.start(request, &op, None).await?;
            let mut data = Vec::new();
            let mut unacked: u32 = 0;
            loop {
                match self.reply(&mut started).await? {
                    Some(Reply::FileChunk(b)) => {
                        data.extend_from_slice(&b);
                        // Gives consumed bytes back to the agent, in batches (flow control).
                        unacked = unacked.saturating_add(b.len() as u32);
                        if unacked >= STREAM_WINDOW / 4 {
                            let bytes = std::mem::take(&mut unacked);
                            let _ = started.credit(bytes);
                        }
                    }
                    Some(Reply::FileEnd) => return Ok(data),
                    Some(Reply::Error(message)) => return Err(self.remote(&op, message)),
                    Some(other) => return Err(self.unexpected(&op, &other)),
                    None => return Err(started.lost()),
                }
            }
        })
        .await
    }
    /// Starts/stops/restarts/queries a service (systemd on hosts, the agent's supervisor in containers).
    /// Never retried.
    pub async fn service(&self, name: &str, action: ServiceAction) -> Result<ServiceStatus, Error> {
        let verb = match action {
            ServiceAction::Start => "start",
            ServiceAction::Stop => "stop",
            ServiceAction::Restart => "restart",
            ServiceAction::Status => "query",
        };
        let op = format!("{verb} service {name}");
        let request = Request::Service {
            name: name.to_string(),
            action,
        };
        let started = self.start(request, &op, None).await?;
        match self.finish(started).await? {
            Reply::Service(status) => Ok(status),
            other => Err(self.unexpected(&op, &other)),
        }
    }
}
