//! gflab: the lab manager (topology → plan → Docker) and the test runner.
//!
//! Modules:
//! - `cli`: one module per subcommand; each parses into plain values and calls the library.

#![forbid(unsafe_code)]
#![warn(rust_2018_idioms)]
#![deny(missing_debug_implementations)]

pub mod cli;
