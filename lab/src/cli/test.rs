//! `gflab test` (owned by the runner work).

/// Arguments of `gflab test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {}

/// Runs `gflab test`.
pub async fn run(_args: TestArgs) -> anyhow::Result<i32> {
    anyhow::bail!("gflab test is not implemented yet")
}
