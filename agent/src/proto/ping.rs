//! The answer to a ping: what the agent says about itself.
use serde::{Deserialize, Serialize};

/// What the agent says about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Info {
    /// Node hostname.
    pub hostname: String,
    /// PRETTY_NAME from /etc/os-release.
    pub os_release: String,
    /// gflab-agent version.
    pub agent_version: String,
    /// Seconds since the agent started.
    pub uptime_secs: u64,
    /// Whether service control goes through systemd (else the agent's own supervisor).
    pub systemd: bool,
}
