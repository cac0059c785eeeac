//! The per-test transcript: every remote command (node, command, exit, duration, output) and every step.
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Output longer than this (per stream) is clipped in the transcript, keeping head and tail.
pub const MAX_STREAM: usize = 64 * 1024;

/// One transcript line.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A step the test (or library) announced.
    Step {
        /// Time since the test started.
        at: Duration,
        /// The text.
        text: String,
    },
    /// A remote command or request.
    Command {
        /// Time since the test started when it was sent.
        at: Duration,
        /// Node name.
        node: String,
        /// The command as displayed.
        command: String,
        /// `exit 0`, `signal 9`, `timed out`, or the agent error.
        status: String,
        /// Round-trip wall time.
        duration: Duration,
        /// stdout (lossy UTF-8).
        stdout: String,
        /// stderr (lossy UTF-8).
        stderr: String,
    },
}

/// An ordered record of a test's remote activity.
#[derive(Debug)]
pub struct Transcript {
    /// When the test started.
    started: Instant,
    /// Entries in the order they finished.
    entries: Vec<Entry>,
}

impl Default for Transcript {
    fn default() -> Self {
        Transcript::new()
    }
}

impl Transcript {
    /// An empty transcript starting now.
    pub fn new() -> Transcript {
        Transcript {
            started: Instant::now(),
            entries: Vec::new(),
        }
    }
    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
    /// Converts an instant into an offset from the start.
    pub fn offset(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.started)
    }
    /// Records a step.
    pub fn step(&mut self, text: impl Into<String>) {
        let at = self.elapsed();
        self.entries.push(Entry::Step {
            at,
            text: text.into(),
        });
    }
    /// Records a finished entry.
    pub fn push(&mut self, entry: Entry) {
        self.entries.push(entry);
    }
    /// All entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// Number of remote commands recorded.
    pub fn command_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e, Entry::Command { .. }))
            .count()
    }
    /// Renders the transcript as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            match e {
                Entry::Step { at, text } => {
                    let _ = writeln!(out, "[{:>9.3}s] # {text}", at.as_secs_f64());
                }
                Entry::Command {
                    at,
                    node,
                    command,
                    status,
                    duration,
                    stdout,
                    stderr,
                } => {
                    let _ = writeln!(
                        out,
                        "[{:>9.3}s] {node}$ {command}\n            -> {status} in {:.3}s",
                        at.as_secs_f64(),
                        duration.as_secs_f64()
                    );
                    for (label, text) in [("stdout", stdout), ("stderr", stderr)] {
                        let t = text.trim_end();
                        if t.is_empty() {
                            continue;
                        }
                        let _ = writeln!(out, "            {label}:");
                        for line in clip(t, MAX_STREAM).lines() {
                            let _ = writeln!(out, "            | {line}");
                        }
                    }
                }
            }
        }
        out
    }
}

/// Clips `text` to about `max` bytes keeping its head and tail, marking what was cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let half = max / 2;
    let mut head_end = half;
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = text.len() - half;
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    format!(
        "{}\n[... {} bytes clipped ...]\n{}",
        &text[..head_end],
        tail_start - head_end,
        &text[tail_start..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_commands_and_steps() {
        let mut t = Transcript::new();
        t.step("create volume");
        t.push(Entry::Command {
            at: Duration::from_millis(5),
            node: "server1".into(),
            command: "gluster volume list".into(),
            status: "exit 0".into(),
            duration: Duration::from_millis(12),
            stdout: "v1\nv2\n".into(),
            stderr: String::new(),
        });
        let r = t.render();
        assert!(r.contains("# create volume"), "{r}");
        assert!(r.contains("server1$ gluster volume list"), "{r}");
        assert!(r.contains("-> exit 0 in 0.012s"), "{r}");
        assert!(r.contains("| v2"), "{r}");
        assert!(!r.contains("stderr"), "{r}");
        assert_eq!(t.command_count(), 1);
    }

    #[test]
    fn clips_long_output() {
        let long = "x".repeat(1000);
        let c = clip(&long, 100);
        assert!(c.len() < 200, "{}", c.len());
        assert!(c.contains("900 bytes clipped"), "{c}");
        assert_eq!(clip("short", 100), "short");
    }
}
