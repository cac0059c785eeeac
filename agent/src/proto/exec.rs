//! Running a command: the request as sent on the wire and how the command ended.
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A command to run, as sent on the wire.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExecRequest {
    /// argv, or empty when `shell` is set.
    pub argv: Vec<String>,
    /// A `/bin/sh -c` line.
    pub shell: Option<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<String>,
    /// Bytes for stdin, when small (stdin is /dev/null when this and `stdin_size` are absent).
    #[serde(with = "serde_bytes")]
    pub stdin: Option<Vec<u8>>,
    /// Size of a large stdin that follows as [`ClientMsg::Data`](super::ClientMsg::Data) messages.
    pub stdin_size: Option<u64>,
    /// Kill the process group after this long.
    pub timeout: Option<Duration>,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitStatus {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
    /// Killed (whole process group) because the timeout expired.
    TimedOut,
}
