//! The daemon: a listener with a connection limit, one handler per connection (handshake, then requests
//! dispatched to one task each), and shutdown by a cancellation token.
//!
//! Modules: `audit` (the audit log), `gate` (admission before authentication, rate-limited refusal lines), `exec` (running
//! commands), `files` (put/get), `service` (the supervisor and systemd), `hostsvc` (OpenRC, init
//! scripts, pid files), `info` (ping facts).
mod audit;
mod exec;
mod files;
mod gate;
pub mod hostsvc;
mod inflow;
mod info;
pub mod service;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::frame::{FrameError, FrameReader, FrameWriter};
use crate::proto::{ClientMsg, Reply, Request, ServerMsg, BUSY};
use crate::secret::Secret;
pub use service::{ServiceDef, Supervisor};

/// How the daemon behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The shared secret clients must prove.
    pub secret: Secret,
    /// Authenticated connections served at once; more are refused with an error frame (which the
    /// client retries with backoff).
    pub max_connections: usize,
    /// Connections still in their handshake at once; a new one evicts the oldest beyond this.
    pub max_handshakes: usize,
    /// Connections from one address still in their handshake at once; a new one from that address
    /// evicts its oldest beyond this.
    pub max_handshakes_per_source: usize,
    /// Time a new connection has to complete the handshake.
    pub handshake_timeout: Duration,
    /// Requests in flight per connection.
    pub max_requests_per_connection: usize,
    /// Services the agent supervises itself.
    pub services: Vec<ServiceDef>,
    /// Where supervised services' output goes (`NAME.log`).
    pub service_log_dir: PathBuf,
    /// The audit log, one line per request (default: `audit.log` in `service_log_dir`).
    pub audit_log: Option<PathBuf>,
    /// Size at which the audit log is rotated (3 generations are kept).
    pub audit_max_bytes: u64,
    /// Time a stopped service gets between SIGTERM and SIGKILL.
    pub stop_grace: Duration,
    /// The systemctl that controls services not defined in `services`, where the host runs systemd;
    /// `None` where it does not (OpenRC, init scripts and pid files are tried then).
    pub systemctl: Option<PathBuf>,
    /// Where init scripts, pid files and processes are looked for on hosts without systemd (its
    /// `log_dir` is replaced by `service_log_dir`).
    pub host: hostsvc::HostLayout,
}

impl ServerConfig {
    /// Defaults for everything but the secret.
    pub fn new(secret: Secret) -> ServerConfig {
        ServerConfig {
            secret,
            max_connections: 256,
            max_handshakes: 64,
            max_handshakes_per_source: 16,
            handshake_timeout: Duration::from_secs(3),
            max_requests_per_connection: 4096,
            services: Vec::new(),
            service_log_dir: PathBuf::from("/var/log/gflab-agent"),
            audit_log: None,
            audit_max_bytes: 10 * 1024 * 1024,
            stop_grace: Duration::from_secs(10),
            systemctl: info::host_runs_systemd().then(|| PathBuf::from("systemctl")),
            host: hostsvc::HostLayout::system(PathBuf::from("/var/log/gflab-agent")),
        }
    }
}

/// The secret new connections must prove, replaceable while the daemon runs (secret rotation).
/// Connections already open keep their keys.
#[derive(Debug, Clone)]
pub struct SecretSlot(Arc<std::sync::RwLock<Secret>>);

impl SecretSlot {
    /// The current secret.
    pub fn current(&self) -> Secret {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Replaces the secret for connections from now on.
    pub fn replace(&self, secret: Secret) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = secret;
    }
}

/// What every connection handler shares.
#[derive(Debug)]
struct State {
    /// The configuration (its `secret` is the one the daemon started with; see `secret`).
    config: ServerConfig,
    /// The secret new connections must prove.
    secret: SecretSlot,
    /// When the daemon started (for uptime).
    started: Instant,
    /// Supervised services.
    supervisor: Arc<Supervisor>,
    /// Handshake slots.
    gate: Arc<gate::Gate>,
    /// Free authenticated connection slots.
    permits: Arc<Semaphore>,
    /// Bounds the WARN lines refused connections write.
    refusals: gate::RateLimit,
    /// Where every request is recorded.
    audit: audit::Audit,
}

/// A bound daemon, ready to run.
#[derive(Debug)]
pub struct Server {
    /// The listening socket.
    listener: TcpListener,
    /// Shared state.
    state: Arc<State>,
}

impl Server {
    /// Binds the listening socket.
    pub async fn bind(addr: SocketAddr, config: ServerConfig) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("failed to listen on {addr}: {e}"))
        })?;
        Ok(Server::from_listener(listener, config))
    }
    /// Uses an already bound listener.
    pub fn from_listener(listener: TcpListener, config: ServerConfig) -> Server {
        let supervisor = Arc::new(Supervisor::new(
            config.services.clone(),
            config.service_log_dir.clone(),
            config.stop_grace,
            config.systemctl.clone(),
            hostsvc::HostLayout {
                log_dir: config.service_log_dir.clone(),
                ..config.host.clone()
            },
        ));
        let audit = audit::Audit::start(audit::AuditConfig {
            path: config
                .audit_log
                .clone()
                .unwrap_or_else(|| config.service_log_dir.join("audit.log")),
            max_bytes: config.audit_max_bytes,
            keep: 3,
        });
        let permits = Arc::new(Semaphore::new(config.max_connections));
        let gate = Arc::new(gate::Gate::new(
            config.max_handshakes,
            config.max_handshakes_per_source,
        ));
        Server {
            listener,
            state: Arc::new(State {
                secret: SecretSlot(Arc::new(std::sync::RwLock::new(config.secret.clone()))),
                config,
                started: Instant::now(),
                supervisor,
                gate,
                permits,
                refusals: gate::RateLimit::new(20, Duration::from_secs(60)),
                audit,
            }),
        }
    }
    /// The bound address (port 0 resolved).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
    /// The secret slot (to rotate the secret while serving).
    pub fn secret(&self) -> SecretSlot {
        self.state.secret.clone()
    }
    /// The service supervisor (to start services at boot and stop them at shutdown).
    pub fn supervisor(&self) -> Arc<Supervisor> {
        self.state.supervisor.clone()
    }
    /// Serves until `shutdown` is cancelled; open connections are closed then.
    pub async fn run(self, shutdown: CancellationToken) {
        self.run_draining(shutdown, CancellationToken::new(), Duration::ZERO)
            .await
    }
    /// [`Server::run`], and when `drain` is cancelled (an upgrade replacing this agent): stops
    /// accepting at once (freeing the port for the new agent), tells every connection to go away
    /// ([`ServerMsg::GoAway`]: what it admitted runs to its end, what it reads later is answered
    /// [`Reply::NotRun`] and sent again by the client, to the new agent), closes each once its
    /// client acknowledged and nothing is in flight, and returns when all are closed, or after
    /// `deadline`, closing what is left.
    pub async fn run_draining(
        self,
        shutdown: CancellationToken,
        drain: CancellationToken,
        deadline: Duration,
    ) {
        let tracker = tokio_util::task::TaskTracker::new();
        loop {
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = shutdown.cancelled() => return,
                _ = drain.cancelled() => break,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!(error = %e, "failed to accept connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            crate::socket::tune(&stream);
            let state = self.state.clone();
            let token = shutdown.child_token();
            tracker.spawn(handle_connection(stream, peer, state, token, drain.clone()));
        }
        drop(self.listener);
        tracker.close();
        info!(
            connections = tracker.len(),
            "draining: no new connections; closing each open one once idle"
        );
        if tokio::time::timeout(deadline, tracker.wait())
            .await
            .is_err()
        {
            warn!(
                connections = tracker.len(),
                "drain deadline passed; closing the connections left"
            );
            shutdown.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(3), tracker.wait()).await;
        }
    }
    /// Binds `127.0.0.1:0` and runs in the background until the token is cancelled (for tests and
    /// benchmarks); returns the bound address.
    pub async fn spawn_local(
        config: ServerConfig,
        shutdown: CancellationToken,
    ) -> std::io::Result<SocketAddr> {
        let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config).await?;
        let addr = server.local_addr()?;
        tokio::spawn(server.run(shutdown));
        Ok(addr)
    }
}

/// Sends one error frame (bounded in time) and closes.
async fn reject(mut writer: FrameWriter<OwnedWriteHalf>, message: String) {
    let fatal = ServerMsg::Fatal { message };
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = writer.send(&fatal).await;
        let _ = writer.shutdown().await;
    })
    .await;
}

/// Messages routed to a running request.
#[derive(Debug)]
pub(crate) enum Control {
    /// More output may be sent.
    Credit(u32),
    /// Content for a file being put or a large stdin (within the granted window).
    Data(Vec<u8>),
}

/// Control messages queued per request at most: a request that does not take credit (ping, service)
/// gets no more; data is bounded by its window, and waits.
const CONTROL_QUEUE: usize = 64;

/// The connection's side of a running request.
#[derive(Debug)]
struct Route {
    /// Its control messages.
    tx: mpsc::Sender<Control>,
    /// Cancelled by the client's cancel, or when the connection ends.
    cancel: CancellationToken,
    /// Data granted and not yet received.
    allowance: Arc<AtomicI64>,
}

/// What a running request receives from its client.
#[derive(Debug)]
pub(crate) struct Inbox {
    /// Credits and data, in order; closed when the connection ends.
    pub(crate) rx: mpsc::Receiver<Control>,
    /// Cancelled by the client's cancel, or when the connection ends.
    pub(crate) cancel: CancellationToken,
    /// Data granted and not yet received (for an [`inflow::Inflow`]).
    allowance: Arc<AtomicI64>,
    /// The connection's data budget.
    budget: Arc<Semaphore>,
}

impl Inbox {
    /// Flow control for `size` bytes of data to come for request `id`.
    fn inflow(&self, id: u64, size: u64, out: &mpsc::Sender<ServerMsg>) -> inflow::Inflow {
        inflow::Inflow::new(
            id,
            size,
            self.budget.clone(),
            self.allowance.clone(),
            out.clone(),
        )
    }
}

/// What happens to a new request.
enum Admit {
    /// Run it.
    Run,
    /// Its id is already in flight: a protocol error.
    Duplicate,
    /// Too many in flight: an error reply.
    Busy,
}

/// Request id → its route.
type Routes = Arc<Mutex<HashMap<u64, Route>>>;

/// One connection, from handshake to close.
async fn handle_connection(
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
    drain: CancellationToken,
) {
    let (rd, wr) = stream.into_split();
    let mut reader = FrameReader::new(rd);
    let mut writer = FrameWriter::new(wr);
    let deadline = state.config.handshake_timeout;
    let (ticket, evicted) = state.gate.admit(peer.ip());
    if evicted && state.refusals.allow() {
        warn!(%peer, "too many connections in their handshake: evicted the oldest");
    }
    // An authenticated slot is taken after the client proved the secret and before the welcome, so a
    // full agent says so while the client can still retry.
    let admit = || {
        state.permits.clone().try_acquire_owned().map_err(|_| {
            format!(
                "{BUSY} (limit {}); hint: raise --max-connections",
                state.config.max_connections
            )
        })
    };
    let secret = &state.secret.current();
    let outcome = tokio::select! {
        r = tokio::time::timeout(
            deadline,
            crate::handshake::server(&mut reader, &mut writer, secret, admit),
        ) => match r {
            Ok(r) => r,
            Err(_) => Err(format!(
                "handshake not completed within {} ms",
                deadline.as_millis()
            )),
        },
        _ = ticket.evicted.cancelled() => Err(format!(
            "{BUSY} in their handshake from {}: this one's slot was reclaimed",
            peer.ip()
        )),
        _ = shutdown.cancelled() => Err("the agent is shutting down".to_string()),
    };
    drop(ticket);
    let permit = match outcome {
        Ok(permit) => permit,
        Err(message) => {
            if state.refusals.allow() {
                warn!(%peer, "rejected connection: {message}");
            } else {
                debug!(%peer, "rejected connection: {message}");
            }
            reject(writer, message).await;
            return;
        }
    };
    debug!(%peer, "client authenticated");
    serve(reader, writer, peer, state, shutdown, drain).await;
    drop(permit);
    debug!(%peer, "connection closed");
}

/// Reads requests until the client leaves, a protocol error, or shutdown.
async fn serve(
    mut reader: FrameReader<OwnedReadHalf>,
    writer: FrameWriter<OwnedWriteHalf>,
    peer: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
    drain: CancellationToken,
) {
    let (out, out_rx) = mpsc::channel::<ServerMsg>(256);
    // Signalled whenever a request ends, so a draining connection closes once idle.
    let ended = Arc::new(tokio::sync::Notify::new());
    // Draining: GoAway was sent, and nothing new is admitted. Acked: the client promised to send no
    // more requests, so once nothing is in flight the connection can close without losing any.
    let mut draining = false;
    let mut acked = false;
    let writer_task = tokio::spawn(write_loop(writer, out_rx));
    let routes: Routes = Arc::default();
    let budget = Arc::new(Semaphore::new(inflow::CONNECTION_BUDGET));
    loop {
        let msg = tokio::select! {
            m = reader.read::<ClientMsg>() => m,
            _ = shutdown.cancelled() => break,
            _ = drain.cancelled(), if !draining => {
                draining = true;
                let _ = out.send(ServerMsg::GoAway).await;
                continue;
            }
            _ = ended.notified(), if acked => {
                if lock(&routes).is_empty() {
                    break;
                }
                continue;
            }
        };
        let msg = match msg {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(FrameError::Io(e)) => {
                debug!(%peer, error = %e, "connection failed");
                break;
            }
            Err(e) => {
                warn!(%peer, "closing connection: {e}");
                let _ = out
                    .send(ServerMsg::Fatal {
                        message: e.to_string(),
                    })
                    .await;
                break;
            }
        };
        match msg {
            ClientMsg::Request { id, .. } if draining => {
                let reply = Reply::NotRun(
                    "the agent is going away (being replaced); the request was not run".into(),
                );
                let _ = out.send(ServerMsg::Reply { id, reply }).await;
            }
            ClientMsg::GoAwayAck if draining => {
                acked = true;
                if lock(&routes).is_empty() {
                    break;
                }
            }
            ClientMsg::GoAwayAck => {
                let message = "GoAwayAck without GoAway".to_string();
                warn!(%peer, "closing connection: {message}");
                let _ = out.send(ServerMsg::Fatal { message }).await;
                break;
            }
            ClientMsg::Request { id, request } => {
                let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
                let inbox = Inbox {
                    rx,
                    cancel: CancellationToken::new(),
                    allowance: Arc::default(),
                    budget: budget.clone(),
                };
                let route = Route {
                    tx,
                    cancel: inbox.cancel.clone(),
                    allowance: inbox.allowance.clone(),
                };
                let admit = {
                    let mut map = lock(&routes);
                    if map.contains_key(&id) {
                        Admit::Duplicate
                    } else if map.len() >= state.config.max_requests_per_connection {
                        Admit::Busy
                    } else {
                        map.insert(id, route);
                        Admit::Run
                    }
                };
                match admit {
                    Admit::Duplicate => {
                        let message = format!("duplicate request id {id}");
                        warn!(%peer, "closing connection: {message}");
                        let _ = out.send(ServerMsg::Fatal { message }).await;
                        break;
                    }
                    Admit::Busy => {
                        let reply = Reply::Error(format!(
                            "too many requests in flight on this connection (limit {})",
                            state.config.max_requests_per_connection
                        ));
                        let _ = out.send(ServerMsg::Reply { id, reply }).await;
                    }
                    Admit::Run => {
                        let state = state.clone();
                        let out = out.clone();
                        let routes = routes.clone();
                        let ended = ended.clone();
                        tokio::spawn(async move {
                            dispatch(id, peer, request, inbox, &out, &state).await;
                            lock(&routes).remove(&id);
                            ended.notify_one();
                        });
                    }
                }
            }
            ClientMsg::Credit { id, bytes } => {
                if let Some(r) = lock(&routes).get(&id) {
                    // Full only for a request that takes no credit: nothing is lost.
                    let _ = r.tx.try_send(Control::Credit(bytes));
                }
            }
            ClientMsg::Cancel { id } => {
                if let Some(r) = lock(&routes).get(&id) {
                    r.cancel.cancel();
                }
            }
            ClientMsg::Data { id, chunk } => {
                // Unknown ids are requests that just ended: their data has nowhere to go.
                let Some((tx, allowance)) = lock(&routes)
                    .get(&id)
                    .map(|r| (r.tx.clone(), r.allowance.clone()))
                else {
                    continue;
                };
                let len = chunk.len() as i64;
                if allowance.fetch_sub(len, Ordering::AcqRel) < len {
                    let message = format!(
                        "flow control violated: {len} data bytes for request {id} beyond the \
                         granted window"
                    );
                    warn!(%peer, "closing connection: {message}");
                    let _ = out.send(ServerMsg::Fatal { message }).await;
                    break;
                }
                let _ = tx.send(Control::Data(chunk)).await;
            }
            ClientMsg::Handshake { .. } => {
                let message = "unexpected authentication after the handshake".to_string();
                warn!(%peer, "closing connection: {message}");
                let _ = out.send(ServerMsg::Fatal { message }).await;
                break;
            }
        }
    }
    // Dropping the control channels stops every request still running (their processes are killed).
    for (_, r) in lock(&routes).drain() {
        r.cancel.cancel();
    }
    drop(out);
    let abort = writer_task.abort_handle();
    if tokio::time::timeout(Duration::from_secs(2), writer_task)
        .await
        .is_err()
    {
        abort.abort();
    }
}

/// Locks the routes (a panicked holder left them consistent).
fn lock(routes: &Routes) -> std::sync::MutexGuard<'_, HashMap<u64, Route>> {
    routes.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes queued messages, batching whatever is ready into one write.
async fn write_loop(mut writer: FrameWriter<OwnedWriteHalf>, mut rx: mpsc::Receiver<ServerMsg>) {
    while let Some(msg) = rx.recv().await {
        let mut fatal = matches!(msg, ServerMsg::Fatal { .. });
        if writer.queue(&msg).is_err() {
            break;
        }
        while writer.queued() < 256 * 1024 && !fatal {
            match rx.try_recv() {
                Ok(m) => {
                    fatal = matches!(m, ServerMsg::Fatal { .. });
                    if writer.queue(&m).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        if writer.flush().await.is_err() || fatal {
            break;
        }
    }
    let _ = writer.shutdown().await;
}

/// Runs one request to its last reply, and records it in the audit log.
async fn dispatch(
    id: u64,
    peer: SocketAddr,
    request: Request,
    mut inbox: Inbox,
    out: &mpsc::Sender<ServerMsg>,
    state: &State,
) {
    let started = Instant::now();
    let what = describe(&request);
    let (reply, outcome) = match request {
        Request::Ping => (
            Some(Reply::Info(info::collect(
                state.started,
                state.config.systemctl.is_some(),
            ))),
            "ok".to_string(),
        ),
        Request::Exec(req) => (None, exec::run(id, req, &mut inbox, out).await),
        Request::PutFile { path, mode, size } => {
            let inflow = inbox.inflow(id, size, out);
            match files::put(&path, mode, size, inflow, &mut inbox).await {
                Ok(()) => (Some(Reply::Written), format!("wrote {size} bytes")),
                Err(e) => (Some(Reply::Error(e.clone())), format!("error: {e}")),
            }
        }
        Request::GetFile { path } => match files::get(id, &path, out, &mut inbox).await {
            Ok(()) => (None, "ok".to_string()),
            Err(e) => (Some(Reply::Error(e.clone())), format!("error: {e}")),
        },
        Request::Service { name, action } => {
            info!(service = %name, ?action, "service request");
            match state.supervisor.control(&name, action).await {
                Ok(status) => {
                    let words = match status.pid {
                        Some(pid) => format!("running (pid {pid})"),
                        None if status.running => "running".to_string(),
                        None => "not running".to_string(),
                    };
                    (Some(Reply::Service(status)), words)
                }
                Err(e) => (Some(Reply::Error(e.clone())), format!("error: {e}")),
            }
        }
    };
    if let Some(reply) = reply {
        let _ = out.send(ServerMsg::Reply { id, reply }).await;
    }
    state.audit.record(audit::Entry {
        peer,
        id,
        what,
        outcome,
        duration: started.elapsed(),
    });
}

/// A request in words for the audit log (never file contents or stdin).
fn describe(request: &Request) -> String {
    match request {
        Request::Ping => "ping".into(),
        Request::Exec(req) => match &req.shell {
            Some(line) => format!("exec sh -c {line}"),
            None => format!("exec {}", req.argv.join(" ")),
        },
        Request::PutFile { path, mode, size } => {
            format!("put file {path} mode {mode:o} ({size} bytes)")
        }
        Request::GetFile { path } => format!("get file {path}"),
        Request::Service { name, action } => format!("service {name} {action:?}"),
    }
}
