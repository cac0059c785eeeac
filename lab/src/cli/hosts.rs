//! `gflab hosts install|check|rotate-secret`: the agent on real hosts listed in a hand-written node
//! list.
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
    /// Replace the agent binary on every host in place and restart it (a connected runner
    /// reconnects). Refuses to install an older agent than a host runs, unless --force.
    Upgrade(InstallArgs),
    /// Give every host's agent a new secret (through the agents, all or nothing), then replace the
    /// node list's secret file. Open connections, e.g. a running test run's, are not interrupted.
    RotateSecret(RotateArgs),
}

/// How many hosts are worked on at once by default.
const DEFAULT_JOBS: usize = 16;

/// `gflab hosts rotate-secret`.
#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// The node list (its secret file is replaced on success).
    pub nodelist: PathBuf,
    /// Hosts worked on at once.
    #[arg(long, short = 'j', default_value_t = DEFAULT_JOBS, value_name = "N")]
    pub jobs: usize,
    /// Print the per-host results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Seconds each agent has to connect and answer.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub timeout: u64,
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
    /// Hosts worked on at once.
    #[arg(long, short = 'j', default_value_t = DEFAULT_JOBS, value_name = "N")]
    pub jobs: usize,
    /// Print the per-host results as JSON on stdout (the table goes to stderr then).
    #[arg(long)]
    pub json: bool,
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
    /// Hosts checked at once.
    #[arg(long, short = 'j', default_value_t = DEFAULT_JOBS, value_name = "N")]
    pub jobs: usize,
}

/// Runs a `gflab hosts` subcommand.
pub async fn run(c: HostsCommand) -> anyhow::Result<i32> {
    match c {
        HostsCommand::Install(a) => install(a).await,
        HostsCommand::Check(a) => check(a).await,
        HostsCommand::RotateSecret(a) => rotate_secret(a).await,
        HostsCommand::Upgrade(a) => upgrade(a).await,
    }
}

/// `x.y.z` as numbers, for ordering versions (missing or odd parts count as 0).
fn version_key(v: &str) -> Vec<u64> {
    v.trim()
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

/// The version an agent binary reports (`gflab-agent X.Y.Z`).
fn binary_version(bin: &std::path::Path) -> anyhow::Result<String> {
    let out = std::process::Command::new(bin)
        .arg("--version")
        .output()
        .with_context(|| format!("failed to run {} --version", bin.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(1)
        .map(str::to_string)
        .with_context(|| format!("failed to read the version of {}: {text:?}", bin.display()))
}

async fn upgrade(a: InstallArgs) -> anyhow::Result<i32> {
    let hosts = Hosts::load(&a.nodelist)?;
    let agent_bin = match &a.agent_bin {
        Some(p) => p.clone(),
        None => super::lab::agent_binary_path()?,
    };
    let local = binary_version(&agent_bin)?;
    let opts = CheckOptions {
        timeout: Duration::from_secs(5),
    };
    let reports = hosts.check(&opts, a.jobs).await;
    let newer: Vec<String> = reports
        .iter()
        .filter_map(|r| match &r.agent {
            AgentState::Reachable { info }
                if version_key(&info.agent_version) > version_key(&local) =>
            {
                Some(format!("{} runs {}", r.node, info.agent_version))
            }
            _ => None,
        })
        .collect();
    if !newer.is_empty() && !a.force {
        anyhow::bail!(
            "refusing to downgrade: {} is version {local} but {}\nhint: pass --force to install it \
             anyway",
            agent_bin.display(),
            newer.join(", ")
        );
    }
    eprintln!("upgrading the agent to {local} ({})", agent_bin.display());
    install(a).await
}

async fn rotate_secret(a: RotateArgs) -> anyhow::Result<i32> {
    let hosts = Hosts::load(&a.nodelist)?;
    let new = gflab_agent::Secret::generate();
    eprintln!(
        "rotating the secret of {} host(s), {} at a time",
        hosts.list.nodes.len(),
        a.jobs.max(1)
    );
    let opts = hosts::rotate::RotateOptions {
        secret_path: hosts::install::INSTALLED_SECRET.to_string(),
        jobs: a.jobs,
        timeout: Duration::from_secs(a.timeout.max(1)),
    };
    let reports = hosts::rotate::rotate(&hosts.list.nodes, &hosts.secret, &new, &opts).await;
    let all = reports.iter().all(|r| r.rotated);
    let stranded = !all && reports.iter().any(|r| r.rotated);
    if all {
        new.write_file(&hosts.list.secret_file)?;
    } else if stranded {
        // A host kept the new secret although the rotation as a whole failed: keep it reachable.
        let keep = hosts.list.secret_file.with_extension("new");
        new.write_file(&keep)?;
        eprintln!(
            "warning: some hosts could not be rolled back and answer only to the new secret, saved \
             in {}\nhint: fix the failed hosts, then move it over {} and rerun `gflab hosts \
             rotate-secret`",
            keep.display(),
            hosts.list.secret_file.display()
        );
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).context("failed to encode the results")?
        );
    } else {
        let width = name_width(reports.iter().map(|r| r.node.as_str()));
        println!("{:width$}  {:22}  RESULT", "NODE", "AGENT");
        for r in &reports {
            let result = match (&r.error, r.rotated, r.rolled_back) {
                (Some(e), _, _) => format!("failed: {e}"),
                (None, true, _) => "rotated".to_string(),
                (None, false, true) => "rolled back (another host failed)".to_string(),
                (None, false, false) => "unchanged".to_string(),
            };
            println!("{:width$}  {:22}  {result}", r.node, r.agent);
        }
    }
    if all {
        eprintln!(
            "all {} host(s) answer to the new secret; {} replaced",
            reports.len(),
            hosts.list.secret_file.display()
        );
        Ok(0)
    } else {
        eprintln!("the rotation failed; the node list keeps its secret");
        Ok(1)
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
    let results = hosts.install(&local, &opts, a.jobs).await;
    let width = name_width(results.iter().map(|(n, _)| n.as_str()));
    let mut failed = 0;
    if a.json {
        let json: Vec<serde_json::Value> = results
            .iter()
            .map(|(node, r)| match r {
                Ok(rep) => serde_json::json!({"node": node, "ok": true, "report": rep}),
                Err(e) => serde_json::json!({"node": node, "ok": false, "error": e.to_string()}),
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json).context("failed to encode the results")?
        );
    }
    for (node, r) in &results {
        match r {
            Ok(rep) => {
                let line = format!(
                    "{node:width$}  {}; agent {} on {} as a {}",
                    rep.summary, rep.agent_version, rep.hostname, rep.mode
                );
                if a.json {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
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
    let reports = hosts.check(&opts, a.jobs).await;
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

#[cfg(test)]
mod tests {
    use super::version_key;

    #[test]
    fn versions_order_by_number_not_text() {
        assert!(version_key("0.10.0") > version_key("0.9.9"));
        assert!(version_key("1.0.0") > version_key("0.99.0"));
        assert_eq!(version_key("0.1.0"), version_key("0.1.0"));
        assert!(version_key("0.2.0-rc1") > version_key("0.1.9"));
    }
}
