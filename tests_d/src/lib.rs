//! gflab's test cases and the GlusterFS test library they use.
//!
//! A test case is one file, `tests_d/<component>/test_<name>.rs`, declaring `pub const CASE: Case`;
//! `build.rs` finds every such file and generates [`CASES`]. Tests never touch Docker: they talk to
//! nodes only through [`Ctx`], so the same test runs on a lab and on real hosts.
//!
//! Modules:
//! - [`case`]: `Case`, `Needs`, the registry entry `Registered` and its validation.
//! - [`control`]: `NodeControl`, the runner's handle for power actions on nodes (reboot, stop, start).
//! - [`ctx`]: `Ctx` (nodes, `run` with transcript, unique names, cleanup registry) and `Node`.
//! - [`error`]: `TestError` and the `ensure!`/`ensure_eq!` checks.
//! - [`fault`]: reboot, partition (both ways, one way), pause, slow links; lab health and repair.
//! - [`gluster`]: peer, volume, brick, glusterd, mount, auth, io, heal, replace, xattr, ec, tree,
//!   bgio, fileops, snapshot, quota, shard, glusterfind, bitrot and ctime operations.
//! - [`matrix`]: the volume types a case runs over (`runs_on`), one variant each.
//! - [`reset`]: bring a lab back to its just-formed state (the parallel runner's fast reset).
//! - [`transcript`]: the per-test record of remote commands.
//! - [`upgrade`]: GlusterFS versions, op-version, upgrading a node from a test.
//! - [`xml`]: a small reader for `gluster --xml` output.
//! - [`prelude`]: what a test file imports (`use crate::prelude::*;`).

#![forbid(unsafe_code)]
#![warn(rust_2018_idioms)]
#![deny(missing_debug_implementations)]

pub mod about;
pub mod case;
pub mod control;
pub mod ctx;
pub mod error;
pub mod fault;
pub mod gluster;
pub mod matrix;
pub mod reset;
pub mod transcript;
pub mod upgrade;
pub mod xml;

pub use case::{validate, Body, Case, Needs, Registered, RegistryError};
pub use control::{NodeControl, Power};
pub use ctx::{Cleanup, Ctx, CtxConfig, Node, TAG_ENV};
pub use error::TestError;
pub use matrix::VolumeType;

/// What a test file needs in scope.
pub mod prelude {
    pub use crate::ctx::{Cleanup, Ctx, Node};
    pub use crate::fault;
    pub use crate::gluster::brick::Select;
    pub use crate::gluster::heal::{FavoriteChild, Resolution};
    pub use crate::gluster::mount::{MountOutcome, RefusalReason};
    pub use crate::gluster::tree::Scope;
    pub use crate::gluster::volume::{Brick, Layout, Volume, VolumeSpec};
    pub use crate::gluster::{
        auth, bgio, bitrot, ctime, dht, fileops, hashing, quota, replace, shard, tree, xattr,
    };
    pub use crate::gluster::{
        brick, ec, glusterd, glusterfind, heal, io, mgmt, mount, peer, snapshot, volume, vstatus,
    };
    pub use crate::gluster::{gluster, gluster_xml, wait_for, Poll};
    pub use crate::matrix::VolumeType;
    pub use crate::upgrade;
    pub use crate::{ensure, ensure_eq, Case, Needs, TestError};
    pub use gflab_agent::{Capability, Command};
    pub use std::time::Duration;
}

include!(concat!(env!("OUT_DIR"), "/registry.rs"));
