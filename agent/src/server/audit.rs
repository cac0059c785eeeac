//! The audit log: one line per request (time, peer, request id, what, outcome, duration) appended to
//! a file by a task of its own, rotated by size (`audit.log` → `audit.log.1` …, a few generations
//! kept). Requests never wait for it: when it falls behind, lines are dropped and counted.
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tracing::warn;

/// Where the log goes and when it rotates.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// The log file (`/var/log/gflab-agent/audit.log`).
    pub path: PathBuf,
    /// Rotate when the file is larger than this.
    pub max_bytes: u64,
    /// Rotated generations kept (`.1` is the newest).
    pub keep: u32,
}

/// One request, audited.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Who asked.
    pub(crate) peer: SocketAddr,
    /// The request id on its connection.
    pub(crate) id: u64,
    /// What was asked (`exec `ls -l``).
    pub(crate) what: String,
    /// How it ended (`exit 0`, `error: …`).
    pub(crate) outcome: String,
    /// How long it took.
    pub(crate) duration: Duration,
}

/// Sends entries to the writer task.
#[derive(Debug, Clone)]
pub(crate) struct Audit {
    /// The writer task's queue.
    tx: mpsc::Sender<Entry>,
}

impl Audit {
    /// Starts the writer task (inside a runtime).
    pub(crate) fn start(config: AuditConfig) -> Audit {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(write_loop(config, rx));
        Audit { tx }
    }
    /// Records an entry (dropped if the writer is behind).
    pub(crate) fn record(&self, entry: Entry) {
        let _ = self.tx.try_send(entry);
    }
}

/// Seconds since the epoch with milliseconds (no time zone database needed).
fn timestamp() -> String {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

/// One line, fields `key=value`, the request quoted.
fn line(e: &Entry) -> String {
    format!(
        "{} peer={} id={} duration_ms={} outcome={:?} request={:?}\n",
        timestamp(),
        e.peer,
        e.id,
        e.duration.as_millis(),
        e.outcome,
        e.what
    )
}

/// Renames `path` → `.1` → `.2` …, dropping the oldest.
fn rotate(config: &AuditConfig) {
    let generation = |n: u32| PathBuf::from(format!("{}.{n}", config.path.display()));
    for n in (1..config.keep).rev() {
        let _ = std::fs::rename(generation(n), generation(n + 1));
    }
    if config.keep > 0 {
        let _ = std::fs::rename(&config.path, generation(1));
    } else {
        let _ = std::fs::remove_file(&config.path);
    }
}

async fn write_loop(config: AuditConfig, mut rx: mpsc::Receiver<Entry>) {
    let config = std::sync::Arc::new(config);
    while let Some(first) = rx.recv().await {
        let mut text = line(&first);
        while let Ok(e) = rx.try_recv() {
            text.push_str(&line(&e));
        }
        let config = config.clone();
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(dir) = config.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let size = std::fs::metadata(&config.path)
                .map(|m| m.len())
                .unwrap_or(0);
            if size > 0 && size + text.len() as u64 > config.max_bytes {
                rotate(&config);
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&config.path)?;
            f.write_all(text.as_bytes())
        })
        .await;
        if let Ok(Err(e)) = written {
            warn!(error = %e, "failed to write the audit log");
        }
    }
}
