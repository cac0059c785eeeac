//! The daemon: a listener with a connection limit, one handler per connection (handshake, then requests
//! dispatched to one task each), and shutdown by a cancellation token.
//!
//! Modules: `exec` (running commands), `files` (put/get), `service` (the supervisor and systemd),
//! `info` (ping facts).
mod exec;
mod files;
mod info;
pub mod service;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::frame::{FrameError, FrameReader, FrameWriter};
use crate::proto::{ClientMsg, Reply, Request, ServerMsg};
use crate::secret::Secret;
pub use service::{ServiceDef, Supervisor};

/// How the daemon behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The shared secret clients must prove.
    pub secret: Secret,
    /// Connections served at once; more are refused with an error frame.
    pub max_connections: usize,
    /// Time a new connection has to complete the handshake.
    pub handshake_timeout: Duration,
    /// Requests in flight per connection.
    pub max_requests_per_connection: usize,
    /// Services the agent supervises itself.
    pub services: Vec<ServiceDef>,
    /// Where supervised services' output goes (`NAME.log`).
    pub service_log_dir: PathBuf,
    /// Time a stopped service gets between SIGTERM and SIGKILL.
    pub stop_grace: Duration,
    /// The systemctl that controls services not defined in `services`, where the host runs systemd;
    /// `None` where it does not (such requests then fail with a hint).
    pub systemctl: Option<PathBuf>,
}

impl ServerConfig {
    /// Defaults for everything but the secret.
    pub fn new(secret: Secret) -> ServerConfig {
        ServerConfig {
            secret,
            max_connections: 256,
            handshake_timeout: Duration::from_secs(5),
            max_requests_per_connection: 4096,
            services: Vec::new(),
            service_log_dir: PathBuf::from("/var/log/gflab-agent"),
            stop_grace: Duration::from_secs(10),
            systemctl: info::host_runs_systemd().then(|| PathBuf::from("systemctl")),
        }
    }
}

/// What every connection handler shares.
#[derive(Debug)]
struct State {
    /// The configuration.
    config: ServerConfig,
    /// When the daemon started (for uptime).
    started: Instant,
    /// Supervised services.
    supervisor: Arc<Supervisor>,
}

/// A bound daemon, ready to run.
#[derive(Debug)]
pub struct Server {
    /// The listening socket.
    listener: TcpListener,
    /// Shared state.
    state: Arc<State>,
    /// Free connection slots.
    permits: Arc<Semaphore>,
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
        ));
        let permits = Arc::new(Semaphore::new(config.max_connections));
        Server {
            listener,
            state: Arc::new(State {
                config,
                started: Instant::now(),
                supervisor,
            }),
            permits,
        }
    }
    /// The bound address (port 0 resolved).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
    /// The service supervisor (to start services at boot and stop them at shutdown).
    pub fn supervisor(&self) -> Arc<Supervisor> {
        self.state.supervisor.clone()
    }
    /// Serves until `shutdown` is cancelled; open connections are closed then.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = shutdown.cancelled() => break,
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
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(async move {
                        handle_connection(stream, peer, state, token).await;
                        drop(permit);
                    });
                }
                Err(_) => {
                    let limit = self.state.config.max_connections;
                    warn!(%peer, limit, "refused connection: too many connections");
                    tokio::spawn(async move {
                        let (_, wr) = stream.into_split();
                        let message = format!(
                            "too many connections (limit {limit}); hint: raise --max-connections"
                        );
                        reject(FrameWriter::new(wr), message).await;
                    });
                }
            }
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

/// Control messages routed to a running request.
#[derive(Debug)]
pub(crate) enum Control {
    /// More output may be sent.
    Credit(u32),
    /// Stop now.
    Cancel,
    /// Content for a file being put.
    Data(Vec<u8>),
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

/// Request id → its control channel.
type Routes = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Control>>>>;

/// One connection, from handshake to close.
async fn handle_connection(
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
) {
    let (rd, wr) = stream.into_split();
    let mut reader = FrameReader::new(rd);
    let mut writer = FrameWriter::new(wr);
    let deadline = state.config.handshake_timeout;
    let secret = &state.config.secret;
    let outcome = tokio::time::timeout(
        deadline,
        crate::handshake::server(&mut reader, &mut writer, secret),
    )
    .await;
    let problem = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(message)) => Some(message),
        Err(_) => Some(format!(
            "handshake not completed within {} ms",
            deadline.as_millis()
        )),
    };
    if let Some(message) = problem {
        warn!(%peer, "rejected connection: {message}");
        reject(writer, message).await;
        return;
    }
    debug!(%peer, "client authenticated");
    serve(reader, writer, peer, state, shutdown).await;
    debug!(%peer, "connection closed");
}

/// Reads requests until the client leaves, a protocol error, or shutdown.
async fn serve(
    mut reader: FrameReader<OwnedReadHalf>,
    writer: FrameWriter<OwnedWriteHalf>,
    peer: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
) {
    let (out, out_rx) = mpsc::channel::<ServerMsg>(256);
    let writer_task = tokio::spawn(write_loop(writer, out_rx));
    let routes: Routes = Arc::default();
    loop {
        let msg = tokio::select! {
            m = reader.read::<ClientMsg>() => m,
            _ = shutdown.cancelled() => break,
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
            ClientMsg::Request { id, request } => {
                let (tx, rx) = mpsc::unbounded_channel();
                let admit = {
                    let mut map = routes.lock().unwrap_or_else(|p| p.into_inner());
                    if map.contains_key(&id) {
                        Admit::Duplicate
                    } else if map.len() >= state.config.max_requests_per_connection {
                        Admit::Busy
                    } else {
                        map.insert(id, tx);
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
                        tokio::spawn(async move {
                            dispatch(id, request, rx, &out, &state).await;
                            routes.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                        });
                    }
                }
            }
            ClientMsg::Credit { id, bytes } => route(&routes, id, Control::Credit(bytes)),
            ClientMsg::Cancel { id } => route(&routes, id, Control::Cancel),
            ClientMsg::Data { id, chunk } => route(&routes, id, Control::Data(chunk)),
            ClientMsg::Handshake { .. } => {
                let message = "unexpected authentication after the handshake".to_string();
                warn!(%peer, "closing connection: {message}");
                let _ = out.send(ServerMsg::Fatal { message }).await;
                break;
            }
        }
    }
    // Dropping the control channels stops every request still running (their processes are killed).
    routes.lock().unwrap_or_else(|p| p.into_inner()).clear();
    drop(out);
    let abort = writer_task.abort_handle();
    if tokio::time::timeout(Duration::from_secs(2), writer_task)
        .await
        .is_err()
    {
        abort.abort();
    }
}

/// Passes a control message to a running request (unknown ids are requests that just finished).
fn route(routes: &Routes, id: u64, control: Control) {
    if let Some(tx) = routes.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
        let _ = tx.send(control);
    }
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

/// Runs one request to its last reply.
async fn dispatch(
    id: u64,
    request: Request,
    mut ctl: mpsc::UnboundedReceiver<Control>,
    out: &mpsc::Sender<ServerMsg>,
    state: &State,
) {
    let reply = match request {
        Request::Ping => Some(Reply::Info(info::collect(
            state.started,
            state.config.systemctl.is_some(),
        ))),
        Request::Exec(req) => {
            exec::run(id, req, &mut ctl, out).await;
            None
        }
        Request::PutFile { path, mode, size } => {
            Some(match files::put(&path, mode, size, &mut ctl).await {
                Ok(()) => Reply::Written,
                Err(e) => Reply::Error(e),
            })
        }
        Request::GetFile { path } => files::get(id, &path, out).await.err().map(Reply::Error),
        Request::Service { name, action } => {
            info!(service = %name, ?action, "service request");
            Some(match state.supervisor.control(&name, action).await {
                Ok(status) => Reply::Service(status),
                Err(e) => Reply::Error(e),
            })
        }
    };
    if let Some(reply) = reply {
        let _ = out.send(ServerMsg::Reply { id, reply }).await;
    }
}
