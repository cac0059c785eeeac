//! gflab's node agent: the wire protocol, the client the runner uses, and the daemon (`gflab-agent`)
//! that runs on every node and executes commands for it.
//!
//! Modules, from the bottom up (each uses only modules above it in this list):
//! - [`secret`]: the shared secret (redacted `Debug`, 0600 files).
//! - [`shell`]: quoting words for a POSIX shell.
//! - [`nodelist`]: the node list file (which nodes, where their agents listen, what they offer).
//! - [`secure`]: the Noise handshake and the encrypted records every frame travels in after it.
//! - [`frame`]: length-prefixed frames on the wire (bounded size), sealed into records once keyed.
//! - `socket`: TCP socket tuning both sides apply.
//! - [`proto`]: every message and type that crosses the wire.
//! - [`handshake`]: both sides of the handshake (version exchange, Noise, switch to encryption).
//! - [`command`]: [`Command`] (what to run on a node) and [`Output`] (what it produced).
//! - [`error`]: [`Error`], what talking to an agent can fail with.
//! - `connection`: one encrypted client connection (handshake, writer and reader tasks).
//! - [`client`]: [`Client`] (one reconnecting connection per node) and [`ExecStream`].
//! - [`pool`]: [`Pool`], clients for every node of a node list.
//! - [`server`]: the daemon (listener, handshake, exec, files, service supervisor).
//! - [`reaper`]: the PID 1 mode that reaps orphans.
//! - [`install`]: installing the agent as a systemd service on a real host.
//!
//! The client side (`connection`, [`client`], [`pool`]) and the [`server`] share only [`proto`] and the
//! layers below it; neither uses the other.

#![forbid(unsafe_code)]
#![warn(rust_2018_idioms)]
#![deny(missing_debug_implementations)]

pub mod client;
pub mod command;
mod connection;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod install;
pub mod nodelist;
pub mod pool;
pub mod proto;
pub mod reaper;
pub mod secret;
pub mod secure;
pub mod server;
pub mod shell;
mod socket;

pub use client::{Client, ClientOptions, ExecEvent, ExecStream};
pub use command::{Command, Output};
pub use error::Error;
pub use nodelist::{Capability, NodeEntry, NodeList, NodeListError, Role, UnknownCapability};
pub use pool::{Pool, PoolError};
pub use proto::{ExitStatus, Info, ServiceAction, ServiceStatus};
pub use secret::Secret;
