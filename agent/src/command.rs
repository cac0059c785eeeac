//! A command to run on a node, and what it produced.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::proto::ExitStatus;

/// A command to run on a node.
#[derive(Debug, Clone, Default)]
pub struct Command {
    /// argv (`argv[0]` looked up in PATH), or empty when `shell` is used.
    pub argv: Vec<String>,
    /// A shell line run with `/bin/sh -c`, instead of argv.
    pub shell: Option<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Bytes fed to stdin (stdin is empty/closed otherwise).
    pub stdin: Option<Vec<u8>>,
    /// Kill the whole process group after this long.
    pub timeout: Option<Duration>,
}

impl Command {
    /// `Command::new("gluster").args(["volume", "info"])`.
    pub fn new(program: impl Into<String>) -> Command {
        Command {
            argv: vec![program.into()],
            ..Default::default()
        }
    }
    /// A shell line.
    pub fn shell(line: impl Into<String>) -> Command {
        Command {
            shell: Some(line.into()),
            ..Default::default()
        }
    }
    /// Appends one argument.
    pub fn arg(mut self, a: impl Into<String>) -> Command {
        self.argv.push(a.into());
        self
    }
    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }
    /// Sets an environment variable.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Command {
        self.env.insert(k.into(), v.into());
        self
    }
    /// Sets the working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Command {
        self.cwd = Some(dir.into());
        self
    }
    /// Sets stdin bytes.
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Command {
        self.stdin = Some(data.into());
        self
    }
    /// Sets the timeout.
    pub fn timeout(mut self, t: Duration) -> Command {
        self.timeout = Some(t);
        self
    }
    /// A human-readable rendering for transcripts and error messages (`gluster volume info`).
    pub fn display(&self) -> String {
        match &self.shell {
            Some(s) => s.clone(),
            None => self.argv.join(" "),
        }
    }
}

/// A finished command.
#[derive(Debug, Clone)]
pub struct Output {
    /// How it ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// Wall time on the agent, spawn to exit.
    pub duration: Duration,
}

impl Output {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.status == ExitStatus::Code(0)
    }
    /// stdout, lossily decoded.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// stderr, lossily decoded.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}
