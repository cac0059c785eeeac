//! `TestError`: why a test (or a library call) failed, with the node, the command and its output.
use std::time::Duration;

/// Why a test failed. Every variant that involves a remote command names the node and the command.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// A command ran and ended unsuccessfully.
    #[error("failed to run `{command}` on {node}: {status}{}", show_output(.stdout, .stderr))]
    Command {
        /// Node name.
        node: String,
        /// The command as displayed in the transcript.
        command: String,
        /// How it ended (`exit 1`, `signal 9`, `timed out`).
        status: String,
        /// Its stdout.
        stdout: String,
        /// Its stderr.
        stderr: String,
    },
    /// The agent could not run the request (connection dropped, agent-side error).
    #[error("failed to run `{command}` on {node}: {source}")]
    Agent {
        /// Node name.
        node: String,
        /// The command or request.
        command: String,
        /// The client's error.
        source: gflab_agent::Error,
    },
    /// A command succeeded but its output was not what the library could read.
    #[error("failed to parse the output of `{command}` on {node}: {message}")]
    Parse {
        /// Node name.
        node: String,
        /// The command.
        command: String,
        /// What was wrong.
        message: String,
    },
    /// A condition was not reached in time.
    #[error("timed out after {:.0?} waiting for {what}; last state: {last}", .after)]
    Wait {
        /// What was awaited.
        what: String,
        /// How long it waited.
        after: Duration,
        /// The last observed state.
        last: String,
    },
    /// The nodes cannot serve what the test asked for (missing node, too few servers).
    #[error("{0}")]
    Nodes(String),
    /// A check in the test failed.
    #[error("check failed: {0}")]
    Check(String),
    /// The nodes lack something the test needs that only shows when it runs (a kernel without
    /// netem): the runner reports the test as skipped with this reason, never as passed.
    #[error("skipped: {0}")]
    Skip(String),
}

fn show_output(stdout: &str, stderr: &str) -> String {
    let mut s = String::new();
    for (label, text) in [("stdout", stdout), ("stderr", stderr)] {
        let t = text.trim_end();
        if !t.is_empty() {
            s.push_str(&format!("\n{label}:\n{}", crate::transcript::clip(t, 4000)));
        }
    }
    s
}

/// Fails the test with a message unless the condition holds: `ensure!(n > 0, "no files on {brick}")`.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::TestError::Check(format!($($fmt)+)));
        }
    };
}

/// Fails the test unless both sides are equal, showing both: `ensure_eq!(got, want, "file count")`.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($fmt:tt)+) => {
        match (&$left, &$right) {
            (l, r) => {
                if l != r {
                    return Err($crate::TestError::Check(format!(
                        "{}\n  left:  {:?}\n  right: {:?}",
                        format!($($fmt)+),
                        l,
                        r
                    )));
                }
            }
        }
    };
}
