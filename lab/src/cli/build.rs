//! `gflab build` and `gflab reload`: a GlusterFS built from a source tree, in images and in
//! running labs.
use std::path::PathBuf;

use anyhow::Context;
use gflab_agent::{Client, NodeList};

use crate::build::{self, Source};
use crate::cli::lab::agent_binary_path;
use crate::progress::Progress;
use crate::reload::{self, NodeOutcome};
use crate::runtime::docker::DockerRuntime;
use crate::signals::Interrupt;
use crate::state;
use crate::topology::Release;

/// `gflab build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The GlusterFS source tree: a git checkout or an unpacked release tarball
    /// (`images/builder/glusterfs-source.sh` fetches Debian's).
    #[arg(long = "glusterfs-src", value_name = "DIR")]
    pub src: PathBuf,
    /// The release whose images the build goes over (bookworm: GlusterFS 10.3's runtime).
    #[arg(long, default_value = "bookworm", value_parser = |s: &str| s.parse::<Release>())]
    pub release: Release,
}

/// Builds the server and client images of a source tree (nothing when they are up to date).
pub async fn build(a: BuildArgs) -> anyhow::Result<i32> {
    let mut interrupt = Interrupt::install()?;
    let src = Source::read(&a.src)?;
    let agent = std::fs::read(agent_binary_path()?).context("failed to read the agent binary")?;
    let rt = DockerRuntime::connect().await?;
    let progress = Progress::detect();
    let imgs = tokio::select! {
        sig = interrupt.recv() => {
            build::remove_builder(&rt, &src, a.release).await?;
            eprintln!("error: build interrupted by {sig}; the builder container is removed, its volume kept");
            return Ok(sig.exit_code());
        }
        r = build::ensure_images(&rt, &src, a.release, &agent, &progress) => r?,
    };
    println!("{}\n{}", imgs.server, imgs.client);
    Ok(0)
}

/// `gflab reload`.
#[derive(Debug, clap::Args)]
pub struct ReloadArgs {
    /// The lab (default: the only running lab).
    pub lab: Option<String>,
    /// The source tree (default: the lab topology's `[glusterfs] src`).
    #[arg(long = "glusterfs-src", value_name = "DIR")]
    pub src: Option<PathBuf>,
}

/// Builds the lab's source (incrementally) and puts the build into every node.
pub async fn reload(a: ReloadArgs) -> anyhow::Result<i32> {
    let started = std::time::Instant::now();
    let path = state::resolve_node_list(a.lab.as_deref())?;
    let list = NodeList::load(&path)?;
    let lab = list.lab.clone();
    let _lock = state::lock(&lab)?;
    let topo = state::read_topology(&lab)
        .with_context(|| format!("failed to read lab {lab}'s topology"))?;
    let dir = a.src.or(topo.glusterfs_src.clone()).with_context(|| {
        format!(
            "lab {lab} runs the release's packaged GlusterFS and no --glusterfs-src was given\n\
             hint: gflab reload {lab} --glusterfs-src DIR"
        )
    })?;
    let src = Source::read(&dir)?;
    let secret = state::read_secret(&lab)?;
    let agent = std::fs::read(agent_binary_path()?).context("failed to read the agent binary")?;
    let rt = DockerRuntime::connect().await?;
    let progress = Progress::detect();
    let built = build::compile(&rt, &src, topo.release, &agent, &progress).await?;
    let describe = built.describe();
    let mut targets = Vec::new();
    for n in &list.nodes {
        let client = Client::connect(&n.agent, secret.clone(), crate::runner::client_options())
            .await
            .with_context(|| format!("failed to reach {}'s agent", n.name))?;
        targets.push(reload::Target {
            name: n.name.clone(),
            role: n.role,
            client,
        });
    }
    let now: Vec<String> =
        futures::future::join_all(targets.iter().map(|t| reload::current_build(&t.client))).await;
    if now.iter().all(|b| *b == describe) {
        progress.note(format!(
            "lab {lab}: every node already runs glusterfs {describe}; nothing to reload"
        ));
        return Ok(0);
    }
    let step = progress.step(format!(
        "reloading {} node(s) of lab {lab} with glusterfs {describe}",
        targets.len()
    ));
    let reports = reload::reload(&targets, built.install, &describe).await;
    step.done("done");
    let mut code = 0;
    for r in &reports {
        match &r.outcome {
            NodeOutcome::Reloaded { was } => {
                println!("{:<10} reloaded: glusterfs {describe} (was {was})", r.node)
            }
            NodeOutcome::RolledBack { to, why } => {
                code = 1;
                println!(
                    "{:<10} ROLLED BACK to glusterfs {to}: the new build did not start: {why}",
                    r.node
                );
            }
            NodeOutcome::Failed(why) => {
                code = 1;
                println!("{:<10} FAILED: {why}", r.node);
            }
        }
    }
    let mut list = list;
    crate::reload::record_builds(&mut list, &secret).await;
    state::write(&lab, &list, &secret)?;
    progress.note(format!(
        "lab {lab}: reload took {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(code)
}
