//! The messages agent and client exchange.
//!
//! A connection starts in clear with the agent's [`ServerMsg::Hello`] (protocol version and a random
//! nonce). The client answers [`ClientMsg::Handshake`]: its version and the first message of a Noise
//! `NNpsk0` handshake keyed with the shared secret (see [`crate::secure`]); the agent checks the version,
//! reads that message (which fails without the secret) and answers [`ServerMsg::Welcome`] with the
//! second Noise message, whose payload is its version string. Each side contributes a fresh ephemeral
//! key, so the keys are new on every connection, and the secret never crosses the wire. Anything wrong
//! gets one [`ServerMsg::Fatal`] and the connection is closed.
//!
//! From then on every frame travels encrypted and authenticated (ChaCha20-Poly1305, one counter per
//! direction as the nonce): a frame altered, replayed, reordered or injected on the way fails to
//! decrypt and closes the connection. Every request carries a client-chosen id and every reply names it,
//! so one connection carries many concurrent requests.
//!
//! `Hello` and `Handshake` are variant 0 of their enums with the version first, so a peer of another
//! version (version 1 spoke an HMAC challenge–response and sent frames in clear) still decodes them and
//! can say which versions differ.
//!
//! Every type that crosses the wire lives here, next to the request it belongs to: `exec`
//! ([`ExecRequest`], [`ExitStatus`]), `ping` ([`Info`]), `service` ([`ServiceAction`], [`ServiceStatus`]),
//! and `handshake` (the nonce and the prologue).
mod exec;
mod handshake;
mod ping;
mod service;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use exec::{ExecRequest, ExitStatus};
pub use handshake::{nonce, prologue, NONCE_LEN};
pub use ping::Info;
pub use service::{ServiceAction, ServiceStatus};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 2;
/// How an agent's refusal for lack of connection slots begins; a client retries it with backoff.
pub const BUSY: &str = "too many connections";
/// Stdin up to this size travels inside the exec request; larger stdin follows in data messages.
pub const INLINE_STDIN: usize = 1024 * 1024;
/// Largest output chunk the agent sends in one frame.
pub const CHUNK_LEN: usize = 64 * 1024;
/// Output bytes the agent may send for one exec or file read before the client grants more credit.
pub const STREAM_WINDOW: u32 = 1024 * 1024;
/// Data bytes (a file being put, a large stdin) the agent grants one request at most at a time; the
/// client sends data only within what [`Reply::Window`] granted.
pub const DATA_WINDOW: u32 = 1024 * 1024;

/// Client → agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ClientMsg {
    /// Handshake answer.
    Handshake {
        /// The client's protocol version.
        version: u32,
        /// The first Noise handshake message (the client's ephemeral key, sealed with the secret).
        #[serde(with = "serde_bytes")]
        noise: Vec<u8>,
    },
    /// Starts a request.
    Request {
        /// Unique among this connection's requests in flight.
        id: u64,
        /// What to do.
        request: Request,
    },
    /// Content of a file being put (after [`Request::PutFile`]) or a large stdin, within the window
    /// the agent granted ([`Reply::Window`]); more is a protocol error.
    Data {
        /// The put request's id.
        id: u64,
        /// The next bytes.
        #[serde(with = "serde_bytes")]
        chunk: Vec<u8>,
    },
    /// The client consumed this many output bytes of an exec or file read: the agent may send that
    /// many more.
    Credit {
        /// The exec's id.
        id: u64,
        /// Bytes consumed.
        bytes: u32,
    },
    /// Stop this request (an exec's process group is killed).
    Cancel {
        /// The request's id.
        id: u64,
    },
    /// Answer to [`ServerMsg::GoAway`]: no request follows on this connection (only data, credit
    /// and cancels for requests already answered as admitted).
    GoAwayAck,
}

/// What a request asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Agent facts; answered with [`Reply::Info`].
    Ping,
    /// Run a command; answered with output chunks and one [`Reply::Exit`].
    Exec(ExecRequest),
    /// Write a file atomically: `size` bytes follow as [`ClientMsg::Data`]; answered with [`Reply::Written`].
    PutFile {
        /// Absolute path on the node.
        path: String,
        /// Permission bits.
        mode: u32,
        /// Total bytes that follow.
        size: u64,
    },
    /// Read a whole file; answered with [`Reply::FileChunk`]s and [`Reply::FileEnd`].
    GetFile {
        /// Absolute path on the node.
        path: String,
    },
    /// Control a service; answered with [`Reply::Service`].
    Service {
        /// Service name.
        name: String,
        /// What to do.
        action: ServiceAction,
    },
}

/// Agent → client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ServerMsg {
    /// First message on every connection.
    Hello {
        /// The agent's protocol version.
        version: u32,
        /// Random nonce the client must prove over.
        #[serde(with = "serde_bytes")]
        nonce: Vec<u8>,
    },
    /// Handshake accepted.
    Welcome {
        /// The second Noise handshake message; its payload is the agent's version string.
        #[serde(with = "serde_bytes")]
        noise: Vec<u8>,
    },
    /// Connection-level error; the agent closes the connection after sending it.
    Fatal {
        /// What was wrong.
        message: String,
    },
    /// Part of the answer to request `id`.
    Reply {
        /// The request's id.
        id: u64,
        /// The content.
        reply: Reply,
    },
    /// The agent is being replaced (an upgrade) and admits no new request on this connection: every
    /// request it reads from now on is answered with [`Reply::NotRun`]. The requests it admitted
    /// before run to their end; the agent closes the connection once they have and the client has
    /// sent [`ClientMsg::GoAwayAck`], so no request is ever lost in a closing socket.
    GoAway,
}

/// One piece of an answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
    /// Answer to ping.
    Info(Info),
    /// Output chunk.
    Stdout(#[serde(with = "serde_bytes")] Vec<u8>),
    /// Output chunk.
    Stderr(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The command ended (last reply of an exec).
    Exit {
        /// How.
        status: ExitStatus,
        /// Spawn to exit.
        duration: Duration,
    },
    /// Part of a file being read.
    FileChunk(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The file read is complete.
    FileEnd,
    /// The file put is complete.
    Written,
    /// Service state after a service request.
    Service(ServiceStatus),
    /// The client may send this many more data bytes for the request.
    Window(u32),
    /// The request failed (last reply).
    Error(String),
    /// The request was not run, and nothing of it happened, because the agent is going away
    /// ([`ServerMsg::GoAway`]); the client sends it again on a new connection (last reply).
    NotRun(String),
}

impl Reply {
    /// Whether this is the last reply of its request.
    pub fn is_final(&self) -> bool {
        !matches!(
            self,
            Reply::Stdout(_) | Reply::Stderr(_) | Reply::FileChunk(_) | Reply::Window(_)
        )
    }
}
