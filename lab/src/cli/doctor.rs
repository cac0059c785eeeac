//! `gflab doctor` (owned by the snapshot/doctor work).

/// Arguments of `gflab doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {}

/// Runs `gflab doctor`.
pub async fn run(_args: DoctorArgs) -> anyhow::Result<i32> {
    anyhow::bail!("gflab doctor is not implemented yet")
}
