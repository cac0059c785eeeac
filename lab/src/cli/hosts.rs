//! `gflab hosts install|check`: the agent on real hosts listed in a hand-written node list.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::hosts::{
    self, check::AgentState, Action, Artifacts, CheckOptions, Hosts, InstallOptions, Ssh,
};

/// `gflab hosts` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum HostsCommand {
    /// Install (or update) the agent and the node list's secret on every host over ssh, then ping
    /// every agent. Idempotent: unchanged hosts are left alone.
    Install(InstallArgs),
    /// Check every host: agent reachable (or why not), glusterd running, GlusterFS version.
    /// Exits non-zero if any host fails.
    Check(CheckArgs),
}

/// `gflab hosts install`.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The node list (every node needs `ssh = "user@host"`).
    pub nodelist: PathBuf,
    /// The agent binary to install (default: $GFLAB_AGENT_BIN, else the static build beside gflab).
    #[arg(long, value_name = "PATH")]
    pub agent_bin: Option<PathBuf>,
    /// A service the agent supervises on server nodes, for hosts without systemd (repeatable).
    #[arg(long = "service", value_name = "NAME=CMDLINE")]
    pub services: Vec<String>,
    /// A supervised service the agent starts on server nodes (repeatable).
    #[arg(long = "start", value_name = "NAME")]
    pub start: Vec<String>,
    /// Upload, reinstall and restart even where the binary and secret are unchanged.
    #[arg(long)]
    pub force: bool,
    /// Seconds a freshly installed agent has to answer.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub ready_timeout: u64,
    #[command(flatten)]
    pub ssh: SshArgs,
}

/// ssh settings shared by the subcommands that log in.
#[derive(Debug, clap::Args)]
pub struct SshArgs {
    /// An extra ssh option, as in ssh_config (repeatable); $GFLAB_SSH_OPTIONS adds more,
    /// whitespace separated.
    #[arg(long = "ssh-option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// Seconds ssh waits for a connection.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub ssh_timeout: u32,
}

/// `gflab hosts check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The node list.
    pub nodelist: PathBuf,
    /// Print the per-host reports as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Seconds each agent has to connect, authenticate and answer.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub timeout: u64,
}

/// Runs a `gflab hosts` subcommand.
pub async fn run(c: HostsCommand) -> anyhow::Result<i32> {
    match c {
        HostsCommand::Install(a) => install(a).await,
        HostsCommand::Check(a) => check(a).await,
    }
}

async fn install(a: InstallArgs) -> anyhow::Result<i32> {
    let hosts = Hosts::load(&a.nodelist)?;
    let env = std::env::var(hosts::SSH_OPTIONS_ENV).ok();
    let mut ssh = Ssh::with_options(&a.ssh.options, env.as_deref())?;
    ssh.connect_timeout_secs = a.ssh.ssh_timeout;
    let agent_bin = match a.agent_bin {
        Some(p) => p,
        None => super::lab::agent_binary_path()?,
    };
    let local = Artifacts::load(&agent_bin, &hosts.list.secret_file)?;
    if !local.agent_static {
        eprintln!(
            "warning: agent binary {} is dynamically linked; it runs only on hosts with a \
             compatible C library\nhint: build the static agent with `make build`",
            agent_bin.display()
        );
    }
    let opts = InstallOptions {
        ssh,
        services: a.services,
        start: a.start,
        force: a.force,
        ready_timeout: Duration::from_secs(a.ready_timeout),
    };
    eprintln!(
        "installing {} (sha256 {}) on {} host(s)",
        agent_bin.display(),
        &local.agent_sha256[..12],
        hosts.list.nodes.len()
    );
    let results = hosts.install(&local, &opts).await;
    let width = name_width(results.iter().map(|(n, _)| n.as_str()));
    let mut failed = 0;
    for (node, r) in &results {
        match r {
            Ok(rep) => {
                println!(
                    "{node:width$}  {}; agent {} on {} as a {}",
                    rep.summary, rep.agent_version, rep.hostname, rep.mode
                );
                // The install mode's own lines, unless it only confirmed that nothing changed.
                let quiet = rep.action == Action::InPlace && rep.summary.starts_with("already");
                if !quiet {
                    for line in rep.output.lines() {
                        eprintln!("{node:width$}  | {line}");
                    }
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{node:width$}  error: {e}");
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} host(s) failed", results.len());
        return Ok(1);
    }
    eprintln!("all {} agent(s) answer", results.len());
    Ok(0)
}

async fn check(a: CheckArgs) -> anyhow::Result<i32> {
    let hosts = Hosts::load(&a.nodelist)?;
    let opts = CheckOptions {
        timeout: Duration::from_secs(a.timeout.max(1)),
    };
    let reports = hosts.check(&opts).await;
    let failed = reports.iter().filter(|r| !r.ok()).count();
    if a.json {
        let text =
            serde_json::to_string_pretty(&reports).context("failed to encode the reports")?;
        println!("{text}");
    } else {
        let width = name_width(reports.iter().map(|r| r.node.as_str()));
        println!(
            "{:width$}  {:6}  {:22}  {:14}  {:18}  GLUSTERFS",
            "NODE", "ROLE", "AGENT", "STATUS", "GLUSTERD"
        );
        for r in &reports {
            let status = match &r.agent {
                AgentState::Reachable { info } => format!("ok {}", info.agent_version),
                AgentState::Unreachable { reason, .. } => reason.label().to_string(),
            };
            let glusterd = match (r.glusterd_running, r.glusterd_pid) {
                (Some(true), Some(pid)) => format!("running ({pid})"),
                (Some(true), None) => "running".to_string(),
                (Some(false), _) => "not running".to_string(),
                (None, _) => "-".to_string(),
            };
            let role = format!("{:?}", r.role).to_lowercase();
            println!(
                "{:width$}  {:6}  {:22}  {:14}  {:18}  {}",
                r.node,
                role,
                r.agent_addr,
                status,
                glusterd,
                r.glusterfs_version.as_deref().unwrap_or("-")
            );
        }
    }
    for r in &reports {
        for p in &r.problems {
            eprintln!("{}: {p}", r.node);
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} host(s) failed", reports.len());
        Ok(1)
    } else {
        eprintln!("all {} host(s) ok", reports.len());
        Ok(0)
    }
}

fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(str::len).max().unwrap_or(4).max(4)
}
