//! gflab's node agent: the wire protocol, the client the runner uses, and the daemon (`gflab-agent`)
//! that runs on every node and executes commands for it.
//!
//! Modules:
//! - [`secret`]: the shared secret (redacted `Debug`, 0600 files).
//! - [`nodelist`]: the node list file (which nodes, where their agents listen).
//! - [`frame`]: length-prefixed frames on the wire (bounded size).
//! - [`proto`]: the messages and the HMAC handshake proofs.
//! - [`client`]: [`Client`] (one reconnecting connection per node) and [`Pool`] (all nodes).
//! - [`server`]: the daemon (listener, handshake, exec, files, service supervisor).
//! - [`reaper`]: the PID 1 mode that reaps orphans.
//! - [`install`]: installing the agent as a systemd service on a real host.

#![forbid(unsafe_code)]
#![warn(rust_2018_idioms)]
#![deny(missing_debug_implementations)]

pub mod client;
mod connection;
pub mod frame;
pub mod install;
pub mod nodelist;
pub mod proto;
pub mod reaper;
pub mod secret;
pub mod server;
pub mod shell;
mod socket;

pub use client::{
    Client, ClientOptions, Command, Error, ExecEvent, ExecStream, ExitStatus, Info, Output, Pool,
    PoolError, ServiceAction, ServiceStatus,
};
pub use nodelist::{NodeEntry, NodeList, NodeListError, Role};
pub use secret::Secret;
