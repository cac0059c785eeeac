//! The facts a ping returns.
use std::time::Instant;

use crate::proto::Info;

/// Whether service control goes through systemd on this host.
pub(crate) fn host_runs_systemd() -> bool {
    std::path::Path::new("/run/systemd/system").is_dir()
}

/// PRETTY_NAME from os-release, or "unknown".
fn os_release() -> String {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Some(v) = text.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")) {
                return v.trim().trim_matches('"').to_string();
            }
        }
    }
    "unknown".into()
}

/// This node's facts.
pub(crate) fn collect(started: Instant, systemd: bool) -> Info {
    Info {
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "unknown".into()),
        os_release: os_release(),
        agent_version: env!("CARGO_PKG_VERSION").into(),
        uptime_secs: started.elapsed().as_secs(),
        systemd,
    }
}
