//! `gflab bench`: timings of the lab lifecycle, each a median of several runs.
//!
//! - `gflab bench lab --topology topologies/2x2.toml --runs 3`: warm `up` to a formed pool,
//!   `down`, and `gflab exec server1 -- true` against the engine's exec API (create_exec +
//!   start_exec, what `docker exec` does) on the same container.
//! - `gflab bench images --release bookworm --runs 3`: cold `gflab images` (into a disposable,
//!   salted image set, removed afterwards) against bare mmdebstrap of the same packages to /dev/null.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::facts::HostFacts;
use crate::images::{ImageSet, Need};
use crate::lab::{self as lifecycle, UpRequest};
use crate::progress::Progress;
use crate::runtime::docker::DockerRuntime;
use crate::topology::{Release, Topology};

/// `gflab bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub what: BenchWhat,
}

/// Benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum BenchWhat {
    /// Warm up, down, and exec through the agent vs the engine's exec API.
    Lab {
        /// Topology to bring up.
        #[arg(long, default_value = "topologies/2x2.toml")]
        topology: PathBuf,
        /// Lab name used for the runs (torn down after each).
        #[arg(long, default_value = "bench")]
        name: String,
        /// Runs of up/down.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Exec calls per run and path.
        #[arg(long, default_value_t = 20)]
        execs: usize,
    },
    /// Cold image build vs bare mmdebstrap.
    Images {
        /// Release.
        #[arg(long, default_value = "bookworm", value_parser = |s: &str| s.parse::<Release>())]
        release: Release,
        /// Runs of each.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

/// Median of durations (runs sorted; the upper middle for an even count).
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Runs a benchmark and prints a table on stdout.
pub async fn run(a: BenchArgs) -> anyhow::Result<i32> {
    match a.what {
        BenchWhat::Lab {
            topology,
            name,
            runs,
            execs,
        } => bench_lab(&topology, &name, runs.max(1), execs.max(1)).await,
        BenchWhat::Images { release, runs } => bench_images(release, runs.max(1)).await,
    }
}

async fn bench_lab(
    topology: &std::path::Path,
    name: &str,
    runs: usize,
    execs: usize,
) -> anyhow::Result<i32> {
    let topo = Topology::load(topology)?;
    let rt = DockerRuntime::connect().await?;
    let facts = HostFacts::probe_here(&rt).await?;
    let progress = Progress::detect();
    let agent_path = super::lab::agent_binary_path()?;
    let agent_binary = std::fs::read(&agent_path)?;
    if !lifecycle::labs(&rt).await?.iter().all(|(l, _)| l != name) {
        bail!("lab {name} exists already\nhint: gflab down {name}, or pass --name");
    }
    let req = UpRequest {
        topology: topo,
        name: name.to_string(),
        agent_binary,
        keep_on_failure: false,
        deadlines: Default::default(),
    };
    // Images first, so the first run's `up` is as warm as the others.
    let first = crate::plan::plan(
        &req.topology,
        &crate::plan::PlanInput {
            lab: name,
            subnet: crate::plan::pick_subnet(&[]).context("no subnet")?,
            facts: &facts,
            deadlines: req.deadlines,
        },
    )?;
    crate::images::ensure(&rt, &first.images, &progress).await?;
    let exe = std::env::current_exe().context("failed to find the gflab executable")?;
    let (mut ups, mut downs, mut cli_execs, mut agent_execs, mut api_execs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let quiet = Progress::silent();
    for run in 1..=runs {
        progress.note(format!("run {run}/{runs}: up"));
        let t = Instant::now();
        let out = lifecycle::up(&rt, &req, &facts, &quiet, std::future::pending()).await?;
        ups.push(t.elapsed());
        let measured = async {
            let server1 = crate::plan::container_name(name, "server1");
            // 1. The whole CLI process: `gflab exec --lab NAME server1 -- true`.
            for _ in 0..execs {
                let t = Instant::now();
                let st = tokio::process::Command::new(&exe)
                    .args(["exec", "--lab", name, "server1", "--", "true"])
                    .env(
                        "XDG_STATE_HOME",
                        std::env::var_os("XDG_STATE_HOME").unwrap_or_default(),
                    )
                    .status()
                    .await?;
                cli_execs.push(t.elapsed());
                if !st.success() {
                    bail!("gflab exec server1 -- true failed: {st}");
                }
            }
            // 2. The agent round trip from a connected client (what the runner pays per command).
            let list = gflab_agent::NodeList::load(&out.node_list)?;
            let secret = crate::state::read_secret(name)?;
            let entry = list
                .nodes
                .iter()
                .find(|n| n.name == "server1")
                .context("server1 missing from the node list")?;
            let client =
                gflab_agent::Client::connect(&entry.agent, secret, Default::default()).await?;
            for _ in 0..execs {
                let t = Instant::now();
                let o = client.exec(gflab_agent::Command::new("true")).await?;
                agent_execs.push(t.elapsed());
                if !o.success() {
                    bail!("true failed through the agent: {:?}", o.status);
                }
            }
            // 3. The engine's exec API on the same container (create_exec + start_exec + inspect).
            for _ in 0..execs {
                let t = Instant::now();
                let code = rt.exec_via_engine(&server1, &["true"]).await?;
                api_execs.push(t.elapsed());
                if code != 0 {
                    bail!("true failed through the exec API: exit {code}");
                }
            }
            Ok(())
        };
        let res = measured.await;
        progress.note(format!("run {run}/{runs}: down"));
        let t = Instant::now();
        lifecycle::down(&rt, name).await?;
        downs.push(t.elapsed());
        res?;
    }
    let (up, down) = (median(ups), median(downs));
    let (cli, agent, api) = (median(cli_execs), median(agent_execs), median(api_execs));
    println!(
        "lab bench: {runs} runs of {} ({execs} execs per path per run)",
        topology.display()
    );
    println!("  warm up to a formed pool     median {}", secs(up));
    println!("  down                         median {}", secs(down));
    println!(
        "  gflab exec server1 -- true   median {} (whole process)",
        ms(cli)
    );
    println!("  agent exec true (connected)  median {}", ms(agent));
    println!(
        "  engine exec API true         median {} (create_exec + start_exec + inspect)",
        ms(api)
    );
    println!(
        "  ratios: engine API / agent = {:.1}x, engine API / gflab exec process = {:.1}x",
        api.as_secs_f64() / agent.as_secs_f64().max(1e-9),
        api.as_secs_f64() / cli.as_secs_f64().max(1e-9)
    );
    Ok(0)
}

async fn bench_images(release: Release, runs: usize) -> anyhow::Result<i32> {
    let rt = DockerRuntime::connect().await?;
    let progress = Progress::detect();
    let (mut cold, mut bare) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        // A disposable image set of its own: images that labs use are never touched.
        let set = ImageSet::salted(release, &format!("-bench-{}-{run}", std::process::id()));
        progress.note(format!(
            "run {run}/{runs}: cold gflab images --release {release} ({})",
            set.base
        ));
        let t = Instant::now();
        let built =
            crate::images::ensure(&rt, &[Need::Roles(set.clone())], &Progress::silent()).await;
        cold.push(t.elapsed());
        crate::images::remove_set(&rt, &set).await?;
        built?;
        progress.note(format!("run {run}/{runs}: bare mmdebstrap to /dev/null"));
        let t = Instant::now();
        let st = tokio::process::Command::new("mmdebstrap")
            .args(crate::images::mmdebstrap_args(release, "/dev/null"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .await
            .context("failed to run mmdebstrap\nhint: apt-get install mmdebstrap")?;
        bare.push(t.elapsed());
        if !st.success() {
            bail!("bare mmdebstrap failed: {st}");
        }
    }
    let (c, b) = (median(cold), median(bare));
    println!("images bench: {runs} runs, release {release}");
    println!(
        "  cold gflab images (bootstrap + import + role builds)  median {}",
        secs(c)
    );
    println!(
        "  bare mmdebstrap of the same packages to /dev/null      median {}",
        secs(b)
    );
    println!(
        "  ratio: {:.2}x (target at most 1.5x)",
        c.as_secs_f64() / b.as_secs_f64().max(1e-9)
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_runs() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(median(vec![d(5), d(1), d(3)]), d(3));
        assert_eq!(median(vec![d(4), d(1)]), d(4));
        assert_eq!(median(vec![]), d(0));
    }
}
