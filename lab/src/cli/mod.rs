//! Command-line interface: one module per subcommand, each owning its `Args` and `run`.
//! Every `run` returns the process exit code; errors are printed here with their causes.

use clap::{Parser, Subcommand};

pub mod bench;
pub mod build;
pub mod doctor;
pub mod hosts;
pub mod lab;
pub mod rebuild;
pub mod report;
pub mod test;

/// GlusterFS test lab: simulated clusters in containers, and the runner that drives them.
#[derive(Debug, Parser)]
#[command(name = "gflab", version, about)]
pub struct Cli {
    /// More logging (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the base and role images offline (mmdebstrap + import + build).
    Images(lab::ImagesArgs),
    /// Build GlusterFS from a source tree into server and client images (offline, incremental).
    Build(build::BuildArgs),
    /// Put a new GlusterFS build into a running lab's nodes (no recreation; volumes and data kept).
    Reload(build::ReloadArgs),
    /// Bring up a lab from a topology file.
    Up(lab::UpArgs),
    /// Tear down a lab (or all labs) and everything it created.
    Down(lab::DownArgs),
    /// Upgrade a lab's nodes to another release (GlusterFS's rolling or offline upgrade).
    Upgrade(lab::UpgradeArgs),
    /// List labs.
    Ls(lab::LsArgs),
    /// Show a lab's nodes and their state.
    Status(lab::StatusArgs),
    /// Run a command on a node through its agent.
    Exec(lab::ExecArgs),
    /// Show a node's glusterd log.
    Logs(lab::LogsArgs),
    /// Print the path of a lab's node list.
    Nodes(lab::NodesArgs),
    /// Run test cases against a lab or a node list.
    Test(Box<test::TestArgs>),
    /// Check the host and engine for what gflab needs.
    Doctor(doctor::DoctorArgs),
    /// Time the lab lifecycle and image builds (medians of several runs).
    Bench(bench::BenchArgs),
    /// Install and check the agent on real hosts.
    #[command(subcommand)]
    Hosts(hosts::HostsCommand),
    /// Work with JUnit reports (merge shards).
    #[command(subcommand)]
    Report(report::ReportCommand),
}

/// Runs the parsed command line; returns the exit code.
pub fn main(cli: Cli) -> i32 {
    init_tracing(cli.verbose);
    // Tests are compiled in: from a checkout, run the tests as they are now.
    if matches!(cli.command, Command::Test(_)) {
        if let Err(e) = rebuild::maybe_rebuild() {
            eprintln!("error: {e:#}");
            return 1;
        }
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return 1;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Images(a) => lab::images(a).await,
            Command::Build(a) => build::build(a).await,
            Command::Reload(a) => build::reload(a).await,
            Command::Up(a) => lab::up(a).await,
            Command::Down(a) => lab::down(a).await,
            Command::Upgrade(a) => lab::upgrade(a).await,
            Command::Ls(a) => lab::ls(a).await,
            Command::Status(a) => lab::status(a).await,
            Command::Exec(a) => lab::exec(a).await,
            Command::Logs(a) => lab::logs(a).await,
            Command::Nodes(a) => lab::nodes(a).await,
            Command::Test(a) => test::run(*a).await,
            Command::Doctor(a) => doctor::run(a).await,
            Command::Bench(a) => bench::run(a).await,
            Command::Hosts(c) => hosts::run(c).await,
            Command::Report(c) => report::run(c),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", render_error(&e));
            1
        }
    }
}

/// Renders an error with its causes as `error: cause: cause` (like `{:#}`), leaving out every
/// cause whose text is already in the line. Library errors often both embed their `source` in
/// their message and expose it as `source`; printed naively, such a cause appears twice. Causes
/// that add something are kept.
fn render_error(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::render_error;
    use crate::topology::{Topology, TopologyError};

    /// An error that says what it was doing, and chains (without repeating) why.
    #[derive(Debug, thiserror::Error)]
    #[error("failed to write lab state")]
    struct Write {
        /// Why.
        source: std::io::Error,
    }

    /// An error that both embeds its source in its message and exposes it.
    #[derive(Debug, thiserror::Error)]
    #[error("failed to up lab t: {source}")]
    struct Up {
        /// Why.
        source: Write,
    }

    #[test]
    fn a_cause_embedded_in_the_message_is_printed_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Topology::load(dir.path()).expect_err("a directory is not a topology");
        assert!(matches!(err, TopologyError::Read { .. }), "{err}");
        let shown = render_error(&anyhow::Error::new(err));
        assert_eq!(
            shown,
            format!(
                "failed to read topology {}: Is a directory (os error 21)",
                dir.path().display()
            )
        );
    }

    #[test]
    fn new_causes_are_all_shown() {
        let err = anyhow::anyhow!("connection refused")
            .context("failed to reach server1")
            .context("failed to connect to the nodes");
        assert_eq!(
            render_error(&err),
            "failed to connect to the nodes: failed to reach server1: connection refused"
        );
        assert_eq!(render_error(&err), format!("{err:#}"));
    }

    #[test]
    fn a_repeated_middle_cause_is_dropped_and_the_next_kept() {
        let err = anyhow::Error::new(Up {
            source: Write {
                source: std::io::Error::other("disk quota exceeded"),
            },
        });
        assert_eq!(
            format!("{err:#}"),
            "failed to up lab t: failed to write lab state: failed to write lab state: disk quota exceeded"
        );
        assert_eq!(
            render_error(&err),
            "failed to up lab t: failed to write lab state: disk quota exceeded"
        );
    }
}
