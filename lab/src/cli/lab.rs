//! Lab lifecycle subcommands: images, up, down, ls, status, exec, logs, nodes.
use anyhow::Context;

use crate::progress::Progress;
use crate::runtime::docker::DockerRuntime;
use crate::topology::Release;

/// `gflab images`.
#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Debian release (bookworm = GlusterFS 10.3, trixie = 11.1).
    #[arg(long, default_value = "bookworm", value_parser = parse_release)]
    pub release: Release,
}

fn parse_release(s: &str) -> Result<Release, String> {
    s.parse()
}

/// Builds missing images for a release.
pub async fn images(a: ImagesArgs) -> anyhow::Result<i32> {
    let rt = DockerRuntime::connect().await?;
    let progress = Progress::detect();
    let (set, built) = crate::images::ensure(rt.client(), a.release, &progress)
        .await
        .context("failed to build images")?;
    if !built.built.is_empty() {
        progress.note(format!("built: {}", built.built.join(", ")));
    }
    println!("{}\n{}\n{}", set.base, set.server, set.client);
    Ok(0)
}

macro_rules! pending {
    ($($args:ident => $f:ident),*) => {$(
        /// Arguments (pending).
        #[derive(Debug, clap::Args)]
        pub struct $args {}
        /// Runs the subcommand (pending).
        pub async fn $f(_a: $args) -> anyhow::Result<i32> {
            anyhow::bail!(concat!("gflab ", stringify!($f), " is not implemented yet"))
        }
    )*};
}
pending!(UpArgs => up, DownArgs => down, LsArgs => ls, StatusArgs => status,
         ExecArgs => exec, LogsArgs => logs, NodesArgs => nodes);
