//! gflab's node agent.
//!
//! CONTRACT (skeleton, to be replaced by the real implementation): the public API below is what `lab` and
//! `tests_d` code against. Keep these names and signatures; add to them freely.

#![forbid(unsafe_code)]
#![warn(rust_2018_idioms)]
#![deny(missing_debug_implementations)]

pub mod client;
pub mod nodelist;
pub mod secret;

pub use client::{
    Client, ClientOptions, Command, Error, ExecEvent, ExecStream, ExitStatus, Info, Output, Pool,
    PoolError, ServiceAction, ServiceStatus,
};
pub use nodelist::{NodeEntry, NodeList, NodeListError, Role};
pub use secret::Secret;
