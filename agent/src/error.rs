//! What talking to an agent can fail with, shared by the connection layer and the client above it.

/// Everything the client can fail with. A command's non-zero exit is NOT an error (see
/// [`Output::status`](crate::command::Output::status)).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// TCP connect failed (refused, unreachable, timed out).
    #[error("failed to connect to agent at {addr}: {source}")]
    Connect {
        /// The agent address.
        addr: String,
        /// Why the connection failed.
        source: std::io::Error,
    },
    /// The agent rejected the handshake (wrong secret, wrong version) with its reason.
    #[error("agent at {addr} refused the handshake: {reason}")]
    Handshake {
        /// The agent address.
        addr: String,
        /// What the agent (or the client's check of the agent's proof) said.
        reason: String,
    },
    /// The agent had no free connection slot (retried with backoff before this is returned).
    #[error("agent at {addr} is busy: {message}")]
    Busy {
        /// The agent address.
        addr: String,
        /// What the agent said.
        message: String,
    },
    /// The connection dropped while a request that may have run was in flight; it was not re-sent.
    #[error(
        "connection to agent at {addr} dropped during {op}; the request may or may not have run"
    )]
    Dropped {
        /// The agent address.
        addr: String,
        /// The request in flight (`exec `ls -l``).
        op: String,
    },
    /// The agent answered the request with an error (file not found, spawn failed, ...).
    #[error("agent at {addr} failed to {op}: {message}")]
    Remote {
        /// The agent address.
        addr: String,
        /// The request (`put file /etc/x`).
        op: String,
        /// The agent's error message.
        message: String,
    },
    /// Reconnecting gave up after the bound.
    #[error("agent at {addr} unreachable after {attempts} attempts: {last}")]
    Unreachable {
        /// The agent address.
        addr: String,
        /// Connect attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: String,
    },
    /// Protocol violation (bad frame, unexpected message).
    #[error("protocol error talking to agent at {addr}: {message}")]
    Protocol {
        /// The agent address.
        addr: String,
        /// What was wrong.
        message: String,
    },
}
