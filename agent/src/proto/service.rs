//! Service control: the verbs and a service's state after one.
use serde::{Deserialize, Serialize};

/// Service control verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceAction {
    /// Start the service (a no-op when it runs).
    Start,
    /// Stop the service (a no-op when it is stopped).
    Stop,
    /// Stop the service if it runs, then start it.
    Restart,
    /// Change nothing; report the state.
    Status,
}

/// A service's state after the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// Service name (`glusterd`).
    pub name: String,
    /// Whether it is running now.
    pub running: bool,
    /// Its main PID when running.
    pub pid: Option<u32>,
}
