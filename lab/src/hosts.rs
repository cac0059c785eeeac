//! Real hosts: putting the static agent and its secret on hosts over ssh (`gflab hosts install`)
//! and checking them (`gflab hosts check`). A node list of real hosts is written by hand; each
//! entry's `ssh` field (`root@10.0.0.5`) says how to log in, `agent` where the agent will listen.
//!
//! - `ssh`: the system `ssh`/`scp` command lines (options, quoting, targets) and running them.
//! - `install`: the remote probe, the install decision (fresh, changed, unchanged), the upload and
//!   the agent's install mode, the readiness ping.
//! - `check`: per host, agent reachability (or why not), glusterd state, GlusterFS version.
//! - `rotate`: a new secret on every host through the agents, all or nothing.
use std::path::{Path, PathBuf};

use futures::StreamExt;
use gflab_agent::{NodeList, NodeListError, Secret};

pub mod check;
pub mod install;
pub mod rotate;
pub mod ssh;

pub use check::{check_host, CheckOptions, HostReport, Unreachable};
pub use install::{install_host, Action, Artifacts, InstallOptions, InstallReport, Reason};
pub use ssh::{Ssh, SSH_OPTIONS_ENV};

/// Everything `gflab hosts` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    /// The node list could not be loaded (its message already carries the cause).
    #[error("{0}")]
    NodeList(NodeListError),
    /// The node list's secret could not be read.
    #[error("failed to read secret {path}: {source}")]
    ReadSecret {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The agent binary could not be read.
    #[error("failed to read agent binary {path}: {source}\nhint: build it with `make build`, or pass --agent-bin PATH")]
    ReadAgent {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The agent binary is not something hosts can run.
    #[error(
        "failed to use agent binary {path}: {why}\nhint: build the static agent with `make build`"
    )]
    BadAgent { path: PathBuf, why: String },
    /// A node has no `ssh` field.
    #[error("failed to install on node {node}: it has no `ssh` target\nhint: add `ssh = \"root@HOST\"` to its [[node]] entry in the node list")]
    NoSshTarget { node: String },
    /// A node entry cannot be used.
    #[error("failed to use node {node}: {why}")]
    BadNode { node: String, why: String },
    /// An `--ssh-option` or `$GFLAB_SSH_OPTIONS` entry is malformed.
    #[error("invalid ssh option {option:?} in {origin}: expected KEY=VALUE as in ssh_config (e.g. IdentityFile=~/.ssh/lab, Port=2222)")]
    SshOption { option: String, origin: String },
    /// ssh or scp could not be started.
    #[error(
        "failed to run {program}: {source}\nhint: install the OpenSSH client (openssh-client)"
    )]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    /// ssh itself failed (connect, authentication, host key).
    #[error("failed to {step} on {target}: ssh could not log in: {stderr}\n{hint}")]
    SshConnect {
        target: String,
        step: String,
        stderr: String,
        hint: String,
    },
    /// A remote command ran and failed.
    #[error("failed to {step} on {target}: {status}: {output}")]
    Remote {
        target: String,
        step: String,
        status: String,
        output: String,
    },
    /// The probe printed something unexpected.
    #[error("failed to probe {target}: {why}; it printed: {output:?}\nhint: the login shell must be a POSIX shell with sha256sum and uname")]
    Probe {
        target: String,
        why: String,
        output: String,
    },
    /// The host's architecture does not match the agent binary.
    #[error("failed to install on node {node}: the host is {host_arch} but the agent binary is {agent_arch}\nhint: pass --agent-bin with an agent built for {host_arch}")]
    Arch {
        node: String,
        host_arch: String,
        agent_arch: String,
    },
    /// Staging the upload locally failed.
    #[error("failed to stage the upload in a temporary directory: {source}")]
    Stage { source: std::io::Error },
    /// The installed agent did not answer.
    #[error(
        "agent on node {node} at {addr} did not answer after install ({reason}): {detail}\n{hint}"
    )]
    NotAnswering {
        node: String,
        addr: String,
        reason: &'static str,
        detail: String,
        hint: &'static str,
    },
}

/// A node list with its secret, loaded.
#[derive(Debug)]
pub struct Hosts {
    /// The node list (its `secret_file` resolved).
    pub list: NodeList,
    /// The secret.
    pub secret: Secret,
}

impl Hosts {
    /// Loads a node list and its secret.
    pub fn load(path: &Path) -> Result<Hosts, HostsError> {
        let list = NodeList::load(path).map_err(HostsError::NodeList)?;
        let secret =
            Secret::read_file(&list.secret_file).map_err(|source| HostsError::ReadSecret {
                path: list.secret_file.clone(),
                source,
            })?;
        Ok(Hosts { list, secret })
    }

    /// Installs on every node, at most `jobs` at a time; one result per node, in node-list order.
    pub async fn install(
        &self,
        local: &Artifacts,
        opts: &InstallOptions,
        jobs: usize,
    ) -> Vec<(String, Result<InstallReport, HostsError>)> {
        let work = self.list.nodes.iter().map(|node| async move {
            let r = install_host(node, &self.secret, local, opts).await;
            (node.name.clone(), r)
        });
        futures::stream::iter(work)
            .buffered(jobs.max(1))
            .collect()
            .await
    }

    /// Checks every node, at most `jobs` at a time, in node-list order.
    pub async fn check(&self, opts: &CheckOptions, jobs: usize) -> Vec<HostReport> {
        let work = self
            .list
            .nodes
            .iter()
            .map(|node| check_host(node, &self.secret, opts));
        futures::stream::iter(work)
            .buffered(jobs.max(1))
            .collect()
            .await
    }
}
