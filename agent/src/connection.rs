//! One client connection: connect + handshake, a writer task fed by a channel, and a reader task that
//! routes each reply to the request waiting for it. When the connection ends, every request still
//! waiting sees its channel close (and reports [`Error::Dropped`]).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tracing::debug;

use crate::error::Error;
use crate::frame::{encode_msg, FrameError, FrameReader, FrameWriter};
use crate::handshake::HandshakeError;
use crate::proto::{ClientMsg, Reply, ServerMsg};
use crate::secret::Secret;

/// What the reader task and the requests share.
#[derive(Debug, Default)]
struct Pending {
    /// Set once the connection ended; nothing new is registered after that.
    closed: bool,
    /// Set when the agent said it is going away ([`ServerMsg::GoAway`]): nothing new is registered;
    /// requests already sent still get their answers.
    going_away: bool,
    /// The agent's error frame, if it sent one before closing.
    fatal: Option<String>,
    /// Request id → where its replies go.
    waiting: HashMap<u64, mpsc::UnboundedSender<Reply>>,
    /// Request id → the data window the agent granted it ([`Reply::Window`]), for requests sending data.
    windows: HashMap<u64, Arc<Semaphore>>,
}

impl Pending {
    /// Marks the connection ended and drops every waiting request's sender (closing its channel).
    fn close(&mut self) {
        self.closed = true;
        self.waiting.clear();
        for (_, w) in self.windows.drain() {
            w.close();
        }
    }
    /// Forgets request `id`'s window (its data sender stops).
    fn end_window(&mut self, id: u64) {
        if let Some(w) = self.windows.remove(&id) {
            w.close();
        }
    }
}

/// Why a message was not sent.
#[derive(Debug)]
pub(crate) enum Unsent {
    /// It cannot be encoded (larger than a frame may be).
    Encode(FrameError),
    /// The connection is gone.
    Closed,
}

/// An authenticated connection to one agent.
#[derive(Debug)]
pub(crate) struct Conn {
    /// The agent address, for errors.
    addr: String,
    /// Encoded frames for the writer task.
    tx: mpsc::UnboundedSender<BytesMut>,
    /// Shared with the reader task.
    pending: Arc<Mutex<Pending>>,
    /// A second handle on the socket, to see an end of stream the reader task has not processed yet.
    probe: std::net::TcpStream,
}

/// Locks the shared state; a panicked holder left it consistent, so poisoning is ignored.
fn lock(p: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

impl Conn {
    /// Connects and authenticates within `timeout`.
    pub(crate) async fn open(
        addr: &str,
        secret: &Secret,
        timeout: Duration,
    ) -> Result<Conn, Error> {
        let attempt = async {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|source| Error::Connect {
                    addr: addr.to_string(),
                    source,
                })?;
            crate::socket::tune(&stream);
            let io = |source| Error::Connect {
                addr: addr.to_string(),
                source,
            };
            let std_stream = stream.into_std().map_err(io)?;
            let probe = std_stream.try_clone().map_err(io)?;
            let stream = TcpStream::from_std(std_stream).map_err(io)?;
            let (rd, wr) = stream.into_split();
            let mut reader = FrameReader::new(rd);
            let mut writer = FrameWriter::new(wr);
            handshake(addr, secret, &mut reader, &mut writer).await?;
            Ok::<_, Error>((reader, writer, probe))
        };
        let (reader, writer, probe) = match tokio::time::timeout(timeout, attempt).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(Error::Connect {
                    addr: addr.to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "connect and handshake not done within {} ms",
                            timeout.as_millis()
                        ),
                    ),
                })
            }
        };
        let pending = Arc::new(Mutex::new(Pending::default()));
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(writer, rx, pending.clone()));
        tokio::spawn(read_loop(
            reader,
            pending.clone(),
            tx.downgrade(),
            addr.to_string(),
        ));
        Ok(Conn {
            addr: addr.to_string(),
            tx,
            pending,
            probe,
        })
    }

    /// Whether the connection has ended. Besides what the tasks noticed, this asks the socket itself:
    /// when the agent died a moment ago its end of stream may be there unprocessed, and a request sent
    /// now would be lost although it provably never ran.
    pub(crate) fn is_closed(&self) -> bool {
        let closing = {
            let p = lock(&self.pending);
            p.closed || p.going_away
        };
        closing || self.tx.is_closed() || self.peer_gone()
    }

    /// A non-blocking peek: end of stream or a socket error means the agent is gone.
    fn peer_gone(&self) -> bool {
        let mut byte = [0u8; 1];
        match self.probe.peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            ),
        }
    }

    /// Registers request `id` and queues its message, under one lock so that no request is queued
    /// after the acknowledgement of a [`ServerMsg::GoAway`]. Fails, with nothing sent, when the
    /// message cannot be encoded or the connection is ending.
    pub(crate) fn submit(
        &self,
        id: u64,
        msg: &ClientMsg,
    ) -> Result<mpsc::UnboundedReceiver<Reply>, Unsent> {
        let mut frame = BytesMut::new();
        encode_msg(msg, &mut frame).map_err(Unsent::Encode)?;
        let mut p = lock(&self.pending);
        if p.closed || p.going_away {
            return Err(Unsent::Closed);
        }
        self.tx.send(frame).map_err(|_| Unsent::Closed)?;
        let (tx, rx) = mpsc::unbounded_channel();
        p.waiting.insert(id, tx);
        Ok(rx)
    }

    /// Forgets request `id`.
    pub(crate) fn unregister(&self, id: u64) {
        let mut p = lock(&self.pending);
        p.waiting.remove(&id);
        p.end_window(id);
    }

    /// Sends `data` for request `id` as data messages, each within the window the agent granted, from
    /// a task of its own (the caller goes on to read replies). Stops when the request ends or the
    /// connection drops; a lost connection is reported by the reply channel.
    pub(crate) fn send_data(self: &Arc<Self>, id: u64, data: Bytes, chunk: usize) {
        let window = {
            let mut p = lock(&self.pending);
            if p.closed || !p.waiting.contains_key(&id) {
                return; // the request already ended
            }
            // The agent's first grant may have arrived already.
            p.windows
                .entry(id)
                .or_insert_with(|| Arc::new(Semaphore::new(0)))
                .clone()
        };
        let conn = self.clone();
        tokio::spawn(async move {
            let mut rest = &data[..];
            while !rest.is_empty() {
                // Whatever is granted now, at least one byte, at most a chunk.
                let Ok(first) = window.acquire().await else {
                    break;
                };
                first.forget();
                let more = window
                    .available_permits()
                    .min(chunk - 1)
                    .min(rest.len() - 1);
                if let Ok(p) = window.try_acquire_many(more as u32) {
                    p.forget();
                }
                let (now, later) = rest.split_at(1 + more);
                let msg = ClientMsg::Data {
                    id,
                    chunk: now.to_vec(),
                };
                if conn.send(&msg).is_err() {
                    break;
                }
                rest = later;
            }
            lock(&conn.pending).end_window(id);
        });
    }

    /// Queues a message. Fails, with nothing sent, when it cannot be encoded (too large) or the writer
    /// is gone.
    pub(crate) fn send(&self, msg: &ClientMsg) -> Result<(), Unsent> {
        let mut frame = BytesMut::new();
        encode_msg(msg, &mut frame).map_err(Unsent::Encode)?;
        self.tx.send(frame).map_err(|_| Unsent::Closed)
    }

    /// The error for a request whose reply channel closed: the agent's error frame if it sent one,
    /// else [`Error::Dropped`].
    pub(crate) fn lost(&self, op: &str) -> Error {
        match lock(&self.pending).fatal.clone() {
            Some(message) => Error::Protocol {
                addr: self.addr.clone(),
                message: format!("agent closed the connection during {op}: {message}"),
            },
            None => Error::Dropped {
                addr: self.addr.clone(),
                op: op.to_string(),
            },
        }
    }
}

/// The client side of the handshake (see [`crate::handshake`]), its failures named for this agent.
async fn handshake(
    addr: &str,
    secret: &Secret,
    reader: &mut FrameReader<OwnedReadHalf>,
    writer: &mut FrameWriter<OwnedWriteHalf>,
) -> Result<(), Error> {
    match crate::handshake::client(reader, writer, secret).await {
        Ok(_) => Ok(()),
        Err(HandshakeError::Protocol(message)) => Err(Error::Protocol {
            addr: addr.to_string(),
            message,
        }),
        Err(HandshakeError::Refused(reason)) => Err(Error::Handshake {
            addr: addr.to_string(),
            reason,
        }),
        Err(HandshakeError::Busy(message)) => Err(Error::Busy {
            addr: addr.to_string(),
            message,
        }),
    }
}

/// Writes queued frames, batching whatever is queued before each flush; ends the connection when the
/// socket fails or every sender is gone.
async fn write_loop(
    mut writer: FrameWriter<OwnedWriteHalf>,
    mut rx: mpsc::UnboundedReceiver<BytesMut>,
    pending: Arc<Mutex<Pending>>,
) {
    while let Some(frame) = rx.recv().await {
        writer.queue_encoded(&frame);
        while writer.queued() < 256 * 1024 {
            match rx.try_recv() {
                Ok(f) => writer.queue_encoded(&f),
                Err(_) => break,
            }
        }
        if writer.flush().await.is_err() {
            break;
        }
    }
    lock(&pending).close();
    let _ = writer.shutdown().await;
}

/// Routes each reply to the request waiting for it until the connection ends, keeping the agent's
/// error frame for [`Conn::lost`].
async fn read_loop(
    mut reader: FrameReader<OwnedReadHalf>,
    pending: Arc<Mutex<Pending>>,
    writer: mpsc::WeakUnboundedSender<BytesMut>,
    addr: String,
) {
    loop {
        match reader.read::<ServerMsg>().await {
            Ok(Some(ServerMsg::Reply {
                id,
                reply: Reply::Window(n),
            })) => {
                let mut p = lock(&pending);
                if p.waiting.contains_key(&id) {
                    p.windows
                        .entry(id)
                        .or_insert_with(|| Arc::new(Semaphore::new(0)))
                        .add_permits(n as usize);
                }
            }
            Ok(Some(ServerMsg::Reply { id, reply })) => {
                let mut p = lock(&pending);
                let tx = if reply.is_final() {
                    p.end_window(id);
                    p.waiting.remove(&id)
                } else {
                    p.waiting.get(&id).cloned()
                };
                if let Some(tx) = tx {
                    let _ = tx.send(reply);
                }
            }
            Ok(Some(ServerMsg::GoAway)) => {
                debug!(%addr, "agent going away; new requests go to a new connection");
                // Under the lock, so no request registers after the acknowledgement is queued:
                // every request sent on this connection precedes it.
                let mut p = lock(&pending);
                p.going_away = true;
                let mut ack = BytesMut::new();
                if encode_msg(&ClientMsg::GoAwayAck, &mut ack).is_ok() {
                    if let Some(tx) = writer.upgrade() {
                        let _ = tx.send(ack);
                    }
                }
            }
            Ok(Some(ServerMsg::Fatal { message })) => {
                debug!(%addr, %message, "agent closed the connection");
                lock(&pending).fatal = Some(message);
                break;
            }
            Ok(Some(other)) => {
                lock(&pending).fatal = Some(format!("unexpected message {other:?}"));
                break;
            }
            Ok(None) => break,
            Err(e) => {
                debug!(%addr, error = %e, "connection lost");
                break;
            }
        }
    }
    lock(&pending).close();
}
