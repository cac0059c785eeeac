//! `gflab hosts install|check` (owned by the real-hosts work).

/// `gflab hosts` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum HostsCommand {}

/// Runs a `gflab hosts` subcommand.
pub async fn run(c: HostsCommand) -> anyhow::Result<i32> {
    match c {}
}
