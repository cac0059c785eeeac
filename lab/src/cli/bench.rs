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
    /// The parallel runner: one fixed selection at each -j, from this binary, with pools made
    /// from the topology; wall times and ratios to -j1.
    Test {
        /// Topology of the pool's labs.
        #[arg(long, default_value = "topologies/3x2.toml")]
        topology: PathBuf,
        /// Job counts to compare (the first is the reference).
        #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
        jobs: Vec<usize>,
        /// Components to run (default: the fixed benchmark selection).
        #[arg(short = 'd', long = "component", value_name = "COMPONENT")]
        components: Vec<String>,
        /// Test ids to run besides (or instead of) components, as `gflab test -t` takes them.
        #[arg(short = 't', long = "test", value_name = "ID")]
        tests: Vec<String>,
        /// Where each run's results go (`<dir>/j<N>`); default a temporary directory.
        #[arg(long, value_name = "DIR")]
        results: Option<PathBuf>,
    },
    /// Fast reset of a used lab against recreating it (down + up to a formed pool).
    Reset {
        /// Topology of the lab.
        #[arg(long, default_value = "topologies/3x2.toml")]
        topology: PathBuf,
        /// Lab name used for the runs.
        #[arg(long, default_value = "bench-reset")]
        name: String,
        /// Runs of each.
        #[arg(long, default_value_t = 3)]
        runs: usize,
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
        BenchWhat::Test {
            topology,
            jobs,
            components,
            tests,
            results,
        } => bench_test(&topology, &jobs, &components, &tests, results).await,
        BenchWhat::Reset {
            topology,
            name,
            runs,
        } => bench_reset(&topology, &name, runs.max(1)).await,
    }
}

/// The fixed selection `gflab bench test` runs when no component is given.
pub const BENCH_COMPONENTS: &[&str] = &["example", "faults", "afr", "arbiter", "disperse"];

async fn bench_test(
    topology: &std::path::Path,
    jobs: &[usize],
    components: &[String],
    tests: &[String],
    results: Option<PathBuf>,
) -> anyhow::Result<i32> {
    if jobs.is_empty() || jobs.contains(&0) {
        bail!("--jobs: give job counts of at least 1, e.g. 1,2,4");
    }
    let known: Vec<&str> = gflab_tests::CASES.iter().map(|c| c.component).collect();
    let components: Vec<String> = if components.is_empty() && tests.is_empty() {
        BENCH_COMPONENTS
            .iter()
            .filter(|c| known.contains(c))
            .map(|c| c.to_string())
            .collect()
    } else {
        components.to_vec()
    };
    let exe = std::env::current_exe().context("failed to find the gflab executable")?;
    let tmp = tempfile::tempdir()?;
    let base = results.unwrap_or_else(|| tmp.path().to_path_buf());
    let selection: Vec<String> = components
        .iter()
        .flat_map(|c| ["-d".to_string(), c.clone()])
        .chain(tests.iter().flat_map(|t| ["-t".to_string(), t.clone()]))
        .collect();
    let listed = tokio::process::Command::new(&exe)
        .args(["test", "--list"])
        .args(&selection)
        .output()
        .await?;
    if !listed.status.success() {
        bail!(
            "gflab test --list failed: {}",
            String::from_utf8_lossy(&listed.stderr)
        );
    }
    let count = String::from_utf8_lossy(&listed.stdout).lines().count();
    println!(
        "test bench: {count} case runs ({}) on pools of {} at -j {}",
        selection.join(" "),
        topology.display(),
        jobs.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut rows: Vec<(usize, Duration, String)> = Vec::new();
    for &j in jobs {
        let dir = base.join(format!("j{j}"));
        eprintln!("==> -j {j}: {count} case runs (results {})", dir.display());
        let t = Instant::now();
        let out = tokio::process::Command::new(&exe)
            .arg("test")
            .arg("--topology")
            .arg(topology)
            .args(["-j", &j.to_string()])
            .args(&selection)
            .arg("--results")
            .arg(&dir)
            .stderr(std::process::Stdio::inherit())
            .output()
            .await?;
        let wall = t.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.contains(" passed, "))
            .unwrap_or("no summary line")
            .to_string();
        eprintln!("    -j {j}: {line} in {}", secs(wall));
        rows.push((j, wall, line));
    }
    let reference = rows[0].1.as_secs_f64().max(1e-9);
    for (j, wall, line) in &rows {
        println!(
            "  -j {j:<3} wall {:>9}  ratio to -j {} {:.2}  ({line})",
            secs(*wall),
            rows[0].0,
            wall.as_secs_f64() / reference
        );
    }
    let all_passed = rows
        .iter()
        .all(|(_, _, l)| l.starts_with(&format!("{count} passed, 0 failed")));
    if !all_passed {
        println!("  not every case passed at every -j: the ratios compare unequal work");
    }
    Ok(if all_passed { 0 } else { 1 })
}

async fn bench_reset(topology: &std::path::Path, name: &str, runs: usize) -> anyhow::Result<i32> {
    use gflab_tests::gluster::{io, mount, volume};
    let topo = Topology::load(topology)?;
    let rt = DockerRuntime::connect().await?;
    let facts = HostFacts::probe_here(&rt).await?;
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
    let quiet = Progress::silent();
    let (mut resets, mut recreates) = (Vec::new(), Vec::new());
    let mut out = lifecycle::up(&rt, &req, &facts, &quiet, std::future::pending()).await?;
    let measured = async {
        for run in 1..=runs {
            let list = gflab_agent::NodeList::load(&out.node_list)?;
            let nodes = crate::runner::connect_with(&list, None).await?;
            let ctx = gflab_tests::Ctx::new(gflab_tests::CtxConfig {
                id: 900,
                name: "bench reset".into(),
                run_token: crate::runner::run_token(),
                nodes,
                control: None,
                volume_type: None,
            });
            // What a disruptive case leaves: a started volume with data, a mount, a partition.
            let vol = volume::create(&ctx, gflab_tests::gluster::volume::VolumeSpec::replicate(3))
                .await?;
            vol.start_and_wait(&ctx).await?;
            let client = ctx.client(0)?;
            let m = mount::mount(&ctx, &client, &vol).await?;
            io::write_files(&ctx, &client, &m.path, &io::files("f", 20, 100_000)).await?;
            let (s1, rest) = (ctx.server(0)?, ctx.servers()[1..].to_vec());
            gflab_tests::fault::partition(&ctx, &[s1], &rest).await?;
            eprintln!("run {run}/{runs}: reset");
            let t = Instant::now();
            let report = gflab_tests::reset::reset(&ctx, Duration::from_secs(120))
                .await
                .map_err(|problems| anyhow::anyhow!("reset failed:\n{}", problems.join("\n")))?;
            resets.push(t.elapsed());
            if report.volumes != [vol.name.clone()] {
                bail!(
                    "reset removed {:?}, expected [{}]",
                    report.volumes,
                    vol.name
                );
            }
            eprintln!("run {run}/{runs}: recreate (down + up)");
            let t = Instant::now();
            lifecycle::down(&rt, name).await?;
            out = lifecycle::up(&rt, &req, &facts, &quiet, std::future::pending()).await?;
            recreates.push(t.elapsed());
        }
        Ok::<(), anyhow::Error>(())
    };
    let res = measured.await;
    lifecycle::down(&rt, name).await?;
    res?;
    let (reset, recreate) = (median(resets), median(recreates));
    println!(
        "reset bench: {runs} runs on {} (a started replica-3 volume, a mount with 20 files, a \
         partition)",
        topology.display()
    );
    println!("  fast reset                       median {}", secs(reset));
    println!(
        "  recreate (down + up, pool formed) median {}",
        secs(recreate)
    );
    println!(
        "  ratio recreate / reset: {:.1}x",
        recreate.as_secs_f64() / reset.as_secs_f64().max(1e-9)
    );
    Ok(0)
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
        "lab bench: {runs} runs of {} on {} {} ({execs} execs per path per run)",
        topology.display(),
        facts.engine.product,
        facts.engine.version
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
