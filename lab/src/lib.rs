//! gflab: the lab manager (topology → plan → Docker) and the test runner.
//!
//! Modules:
//! - `topology`: the topology file (strict TOML, validated with locations).
//! - `plan`: the pure topology → plan step (names, addresses, labels, specs).
//! - `runtime`: the `Runtime` trait and its Docker backend (bollard).
//! - `images`: offline base bootstrap (mmdebstrap) and role image builds.
//! - `state`: per-lab state directory (node list, secret).
//! - `lab`: the lab lifecycle (up, down, readiness, trusted pool) over a `Runtime`.
//! - `progress`: user-facing progress (spinner on a terminal, plain lines in CI).
//! - `signals`: SIGINT, SIGTERM and SIGHUP as an awaitable interrupt, and their exit codes.
//! - `vm`: kernel-VM server nodes (QEMU inside a node container).
//! - `doctor`: host and engine checks.
//! - `hosts`: real hosts: agent install and checks over ssh.
//! - `runner`: selection, ordering, timeouts, transcripts, JUnit.
//! - `cli`: one module per subcommand.

#![forbid(unsafe_code)]
#![warn(rust_2018_idioms)]
#![deny(missing_debug_implementations)]

pub mod cli;
pub mod doctor;
pub mod hosts;
pub mod images;
pub mod lab;
pub mod plan;
pub mod progress;
pub mod runner;
pub mod runtime;
pub mod signals;
pub mod state;
pub mod topology;
pub mod vm;
