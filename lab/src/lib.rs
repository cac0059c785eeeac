//! gflab: the lab manager (topology → plan → Docker) and the test runner.
//!
//! Modules, from the bottom up (each uses only those above it; `lab/tests/layering.rs` checks
//! there is no cycle):
//! - `topology`: the topology file (strict TOML, validated with locations).
//! - `runtime`: the one owner of the engine: the `Runtime` and `ImageStore` traits, the Docker
//!   backend (the only place that names bollard) and a fake for unit tests.
//! - `facts`: host facts (accelerator, /dev/kvm, dm-thin, engine), probed once.
//! - `progress`: user-facing progress (spinner on a terminal, plain lines in CI).
//! - `node`: a node as planned, and the steps and lifecycle actions its kind is made of (data).
//! - `thin`: thin-LVM bricks (the script and the steps that run it).
//! - `images`: offline images: base and roles (mmdebstrap + import + build), the kernel-VM image.
//! - `kind`: node kinds (`container`, `kernel-vm`, `host`) behind one small interface.
//! - `plan`: the pure (topology, facts) → plan step.
//! - `state`: per-lab state directory (node list, secret, lock).
//! - `control`: carries out node steps: waits, agent commands, engine operations, lifecycle.
//! - `lab`: `up` as one call, and `down`, over the engine.
//! - `upgrade`: `gflab upgrade`: a lab's nodes replaced by the next release's, rolling or offline.
//! - `signals`: SIGINT, SIGTERM and SIGHUP as an awaitable interrupt, and their exit codes.
//! - `doctor`: host and engine checks.
//! - `hosts`: real hosts: agent install and checks over ssh.
//! - `runner`: selection, ordering, timeouts, transcripts, JUnit.
//! - `cli`: one module per subcommand.

#![forbid(unsafe_code)]
#![warn(rust_2018_idioms)]
#![deny(missing_debug_implementations)]

pub mod build;
pub mod cli;
pub mod control;
pub mod doctor;
pub mod facts;
pub mod hosts;
pub mod images;
pub mod kind;
pub mod lab;
pub mod node;
pub mod plan;
pub mod progress;
pub mod reload;
pub mod runner;
pub mod runtime;
pub mod signals;
pub mod source;
pub mod state;
pub mod thin;
pub mod topology;
pub mod upgrade;
