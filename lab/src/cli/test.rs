//! `gflab test`: select test cases, connect to the nodes, run, report.
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::Arc;

use anyhow::Context as _;
use futures::future::BoxFuture;
use gflab_agent::{Client, NodeEntry, NodeList, Secret};

use crate::runtime::docker::DockerRuntime;
use crate::runtime::Runtime as _;

use crate::runner::{self, select, RunOptions};

/// Arguments of `gflab test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Test ids to run (`-t "101 105"`, `-t 101 -t 105`; one variant: `-t '301[disperse]'`).
    #[arg(short = 't', long = "test", value_name = "IDS")]
    pub tests: Vec<String>,
    /// Components (folders under tests_d/) to run.
    #[arg(short = 'd', long = "component", value_name = "COMPONENT")]
    pub components: Vec<String>,
    /// Only cases whose name contains this.
    #[arg(short = 'k', value_name = "NAME")]
    pub name: Option<String>,
    /// Runs to leave out of the selection (`--deselect 601`, one variant: `--deselect '401[arbiter]'`).
    #[arg(long, value_name = "IDS")]
    pub deselect: Vec<String>,
    /// Print the selected runs (id or id[type], component, name, disruptive) and exit.
    #[arg(long)]
    pub list: bool,
    /// Node list file (written by `gflab up`, or by hand for real hosts).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["lab", "topology"])]
    pub nodes: Option<PathBuf>,
    /// Running labs to use (`--lab a,b`; default: the only running lab). They are reset, never
    /// removed.
    #[arg(
        long,
        value_name = "NAME",
        value_delimiter = ',',
        conflicts_with = "topology"
    )]
    pub lab: Vec<String>,
    /// Make a pool of labs from this topology for the run, and remove them afterwards.
    #[arg(long, value_name = "FILE")]
    pub topology: Option<PathBuf>,
    /// Cases run at once (`auto`: from cores and memory). Disruptive cases get a lab to
    /// themselves; others share.
    #[arg(short = 'j', long = "jobs", value_name = "N|auto")]
    pub jobs: Option<String>,
    /// Labs to make with --topology (default: as many as jobs).
    #[arg(long = "labs", value_name = "N", requires = "topology")]
    pub labs: Option<usize>,
    /// Engines to make the pool's labs on, in turn (default: `DOCKER_HOST` or the local socket).
    #[arg(long = "engine", value_name = "URL", requires = "topology")]
    pub engines: Vec<String>,
    /// Make the pool's labs on each of these releases (bookworm: GlusterFS 10.3, trixie: 11.1) and
    /// run every case on each (`101@trixie`).
    #[arg(long = "release", value_name = "RELEASE", requires = "topology",
          value_parser = |s: &str| s.parse::<crate::topology::Release>())]
    pub releases: Vec<crate::topology::Release>,
    /// Keep the labs made with --topology after the run.
    #[arg(long, requires = "topology")]
    pub keep_labs: bool,
    /// Run only share I of N of the selection (`--shard 2/3`), for spreading a suite over machines.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<runner::shard::Shard>,
    /// Balance shards by the test times of this JUnit report (a previous run's).
    #[arg(long, value_name = "FILE", requires = "shard")]
    pub durations: Option<PathBuf>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Results directory (default results/<timestamp>).
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Per-test timeout in seconds, overriding each case's own.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Do not check, after each test, that it left the lab healthy (faults undone, glusterd and
    /// peers up), nor reset it.
    #[arg(long)]
    pub no_health_check: bool,
    /// Run a failed case again, up to N times, on a lab reset first. A case that passes on a rerun
    /// counts as passed and is reported flaky (the summary line, `report.txt`, JUnit
    /// `flakyFailure`), with every failed attempt's results kept (`<case>.attempt1`).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub reruns: u32,
    /// Measure the runner's overhead with this many no-op cases instead of running tests.
    #[arg(long, value_name = "N", hide = true)]
    pub bench_overhead: Option<usize>,
}

/// `-j auto`: two cases per core (cases mostly wait on GlusterFS timers), bounded by memory at
/// about 1.5 GiB per lab.
pub fn auto_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(4.0, |kb| kb as f64 / (1024.0 * 1024.0));
    let by_mem = (mem_gib / 1.5).floor() as usize;
    (2 * cores).min(by_mem).clamp(1, 16)
}

fn parse_jobs(value: Option<&str>) -> anyhow::Result<usize> {
    match value {
        None => Ok(1),
        Some("auto") => Ok(auto_jobs()),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => anyhow::bail!("-j {v}: expected a number of jobs (at least 1) or `auto`"),
        },
    }
}

/// The selected runs, after `--shard`.
fn selection(args: &TestArgs) -> anyhow::Result<Vec<select::Item<'static>>> {
    let selection = select::Selection {
        ids: select::parse_ids(&args.tests).map_err(anyhow::Error::msg)?,
        components: select::parse_words(&args.components),
        name: args.name.clone(),
        deselect: select::parse_ids(&args.deselect).map_err(anyhow::Error::msg)?,
    };
    let items = select::select(gflab_tests::CASES, &selection)?;
    let Some(shard) = args.shard else {
        return Ok(items);
    };
    let durations = match &args.durations {
        Some(p) => runner::shard::durations(p).map_err(anyhow::Error::msg)?,
        None => Default::default(),
    };
    Ok(runner::shard::pick(&items, shard, &durations))
}

/// Prints one line each to stdout. A reader that stopped reading (`gflab test --list | head`) ends
/// the output quietly, as it does for other Unix listing tools.
fn print_lines(lines: impl IntoIterator<Item = String>) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for line in lines {
        match writeln!(out, "{line}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            other => other?,
        }
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Runs `gflab test`.
pub async fn run(args: TestArgs) -> anyhow::Result<i32> {
    if let Err(errors) = gflab_tests::validate(gflab_tests::CASES) {
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        anyhow::bail!("invalid test registry:\n{}", text.join("\n"));
    }
    if args.timeout == Some(0) {
        anyhow::bail!("--timeout 0: the per-test timeout must be at least 1 second");
    }
    let jobs = parse_jobs(args.jobs.as_deref())?;
    if args.labs == Some(0) {
        anyhow::bail!("--labs 0: a pool needs at least one lab");
    }
    let items = if args.bench_overhead.is_some() {
        Vec::new()
    } else {
        selection(&args)?
    };
    if args.list {
        print_lines(runner::list_lines(&items))?;
        // The cases go to stdout, one per line, for scripts; the overview to stderr, for people.
        eprint!("{}", runner::list_summary(&items));
        return Ok(0);
    }
    if items.is_empty() && args.bench_overhead.is_none() {
        // Only a shard can be empty (a selection that matches nothing is an error).
        eprintln!("this shard has no case to run");
        println!("0 passed, 0 failed, 0 skipped");
        return Ok(0);
    }

    // Ctrl-C, SIGTERM, SIGHUP: cancel the labs being made and the cases running.
    let cancel = tokio_util::sync::CancellationToken::new();
    let signal = Arc::new(std::sync::Mutex::new(None));
    {
        let mut interrupt = crate::signals::Interrupt::install()?;
        let (cancel, signal) = (cancel.clone(), signal.clone());
        tokio::spawn(async move {
            let sig = interrupt.recv().await;
            *signal.lock().unwrap_or_else(|p| p.into_inner()) = Some(sig);
            eprintln!("interrupted by {sig}: stopping the running cases and tearing them down");
            cancel.cancel();
        });
    }
    let received = || *signal.lock().unwrap_or_else(|p| p.into_inner());

    let (labs, maker) = match &args.topology {
        Some(topology) => {
            let count = args.labs.unwrap_or(jobs);
            let maker = Arc::new(PoolMaker::new(topology, &args.engines, &args.releases).await?);
            match maker.make(count, &cancel).await {
                Ok(labs) => (labs, Some(maker)),
                Err(e) => {
                    if let Some(sig) = received() {
                        eprintln!("error: {e:#}");
                        return Ok(sig.exit_code());
                    }
                    return Err(e);
                }
            }
        }
        None => (given_labs(&args).await?, None),
    };
    let names: Vec<String> = labs.iter().map(|l| l.name.clone()).collect();
    eprintln!(
        "{} case run(s), {jobs} at a time, on {} lab(s): {}",
        items.len(),
        labs.len(),
        names.join(", ")
    );

    if let Some(n) = args.bench_overhead {
        let figures = runner::bench::overhead(&labs[0].nodes, n, "/var/log/glusterfs").await;
        remove_labs(maker.as_deref(), &args).await;
        println!("{}", figures?);
        return Ok(0);
    }

    let mut opts = RunOptions::new(
        args.results
            .clone()
            .unwrap_or_else(runner::report::default_results_dir),
    );
    opts.junit = args.junit.clone();
    opts.timeout = args.timeout.map(Duration::from_secs);
    opts.check_health = !args.no_health_check;
    opts.jobs = jobs;
    opts.reruns = args.reruns;
    opts.cancel = cancel.clone();
    opts.rebuild = maker.clone().map(|m| m as Arc<dyn runner::Rebuild>);
    let summary = runner::run_pool(labs, &items, &opts).await;
    remove_labs(maker.as_deref(), &args).await;
    let summary = summary?;
    eprintln!("results: {}", summary.results_dir.display());
    if let Some(j) = &opts.junit {
        eprintln!("junit: {}", j.display());
    }
    for failure in summary.failure_lines() {
        eprintln!("{failure}");
    }
    println!("{}", summary.line());
    Ok(match received() {
        Some(sig) => sig.exit_code(),
        None if summary.interrupted => 130,
        None if summary.failed() > 0 => 1,
        None => 0,
    })
}

/// Removes the labs the run made (unless `--keep-labs`).
async fn remove_labs(maker: Option<&PoolMaker>, args: &TestArgs) {
    let Some(maker) = maker else { return };
    if args.keep_labs {
        eprintln!("keeping labs {}", maker.made().join(", "));
        return;
    }
    maker.remove_all().await;
}

/// The labs named with `--lab`, the node list of `--nodes`, or the only running lab.
async fn given_labs(args: &TestArgs) -> anyhow::Result<Vec<runner::PoolLab>> {
    let paths: Vec<PathBuf> = match (&args.nodes, args.lab.as_slice()) {
        (Some(p), _) => vec![p.clone()],
        (None, []) => {
            let p = crate::state::resolve_node_list(None)?;
            eprintln!("using the only running lab (node list {})", p.display());
            vec![p]
        }
        (None, names) => names
            .iter()
            .map(|n| crate::state::resolve_node_list(Some(n)))
            .collect::<Result<_, _>>()?,
    };
    let mut labs = Vec::new();
    for path in paths {
        labs.push(connect_lab(&path, &crate::runtime::docker::default_engine(), false).await?);
    }
    Ok(labs)
}

/// Connects to the nodes of a node list, with the lab's agent lookup and node control.
async fn connect_lab(path: &Path, engine: &str, owned: bool) -> anyhow::Result<runner::PoolLab> {
    let list = NodeList::load(path)?;
    let lab_agents = Arc::new(LabAgents {
        lab: list.lab.clone(),
        secret_file: list.secret_file.clone(),
        engine: engine.to_string(),
    });
    let nodes = runner::connect_with(&list, Some(lab_agents.as_ref()))
        .await
        .with_context(|| format!("failed to connect to the nodes of {}", path.display()))?;
    let control = KindControl::new(&list, engine).await;
    Ok(runner::PoolLab {
        name: list.lab.clone(),
        nodes,
        relocate: Some(lab_agents),
        control: Some(Arc::new(control)),
        owned,
        release: None,
        versions: Vec::new(),
    })
}

/// Makes the pool's labs from a topology (on the engines in turn), recreates one when its reset
/// fails, and removes them all at the end.
#[derive(Debug)]
struct PoolMaker {
    /// The topology every lab is made from.
    topology: crate::topology::Topology,
    /// The agent binary injected into every node.
    agent_binary: Vec<u8>,
    /// Engines, used in turn.
    engines: Vec<String>,
    /// `<topology>-<token>`: the labs are `<prefix>-1`, `<prefix>-2`, ... (`<prefix>-trixie-1` in a
    /// release matrix).
    prefix: String,
    /// The releases of a release matrix (empty: the topology's own, no matrix).
    releases: Vec<crate::topology::Release>,
    /// (lab, engine, matrix release) of every lab made.
    made: std::sync::Mutex<Vec<(String, String, Option<crate::topology::Release>)>>,
}

impl PoolMaker {
    async fn new(
        topology: &Path,
        engines: &[String],
        releases: &[crate::topology::Release],
    ) -> anyhow::Result<PoolMaker> {
        let topology = crate::topology::Topology::load(topology)?;
        let agent_path = super::lab::agent_binary_path()?;
        let agent_binary = std::fs::read(&agent_path)
            .with_context(|| format!("failed to read the agent binary {}", agent_path.display()))?;
        let engines = if engines.is_empty() {
            vec![crate::runtime::docker::default_engine()]
        } else {
            engines.to_vec()
        };
        let mut base: String = topology.name.chars().take(20).collect();
        base = base.trim_end_matches(['-', '_']).to_string();
        let prefix = format!("{base}-{}", runner::run_token());
        crate::topology::check_name(&format!("{prefix}-bookworm-99"))
            .map_err(anyhow::Error::msg)?;
        let mut unique = Vec::new();
        for r in releases {
            if !unique.contains(r) {
                unique.push(*r);
            }
        }
        Ok(PoolMaker {
            topology,
            agent_binary,
            engines,
            prefix,
            releases: unique,
            made: Default::default(),
        })
    }

    fn made(&self) -> Vec<String> {
        self.made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(n, ..)| n.clone())
            .collect()
    }

    fn made_as(&self, lab: &str) -> Option<(String, Option<crate::topology::Release>)> {
        self.made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(n, ..)| n == lab)
            .map(|(_, e, r)| (e.clone(), *r))
    }

    /// Brings up one lab on `engine` and connects to it.
    async fn up_one(
        &self,
        name: &str,
        engine: &str,
        release: Option<crate::topology::Release>,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<runner::PoolLab> {
        use crate::runtime::docker::DockerRuntime;
        let rt = DockerRuntime::connect_to(engine).await?;
        let facts = crate::facts::HostFacts::probe_here(&rt).await?;
        let mut topology = self.topology.clone();
        if let Some(r) = release {
            topology.release = r;
        }
        let req = crate::lab::UpRequest {
            topology,
            name: name.to_string(),
            agent_binary: self.agent_binary.clone(),
            keep_on_failure: false,
            deadlines: Default::default(),
        };
        let started = std::time::Instant::now();
        let _lock = crate::state::lock(name)?;
        self.made.lock().unwrap_or_else(|p| p.into_inner()).push((
            name.to_string(),
            engine.to_string(),
            release,
        ));
        let progress = crate::progress::Progress::silent();
        let out = crate::lab::up(
            &rt,
            &req,
            &facts,
            &progress,
            cancel.clone().cancelled_owned(),
        )
        .await
        .with_context(|| format!("failed to bring up lab {name} on {engine}"))?;
        eprintln!(
            "lab {name} is up on {engine} ({:.1}s)",
            started.elapsed().as_secs_f64()
        );
        let mut lab = connect_lab(&out.node_list, engine, true).await?;
        lab.release = release.map(|r| r.as_str().to_string());
        Ok(lab)
    }

    /// Makes `count` labs at once.
    async fn make(
        &self,
        count: usize,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<Vec<runner::PoolLab>> {
        let releases: Vec<Option<crate::topology::Release>> = if self.releases.is_empty() {
            vec![None]
        } else {
            self.releases.iter().copied().map(Some).collect()
        };
        let mut names: Vec<(String, String, Option<crate::topology::Release>)> = Vec::new();
        // The jobs' labs are shared out over the releases, at least one each.
        let per = count.div_ceil(releases.len()).max(1);
        for r in &releases {
            for i in 1..=per {
                let name = match r {
                    None => format!("{}-{i}", self.prefix),
                    Some(r) => format!("{}-{r}-{i}", self.prefix),
                };
                let engine = self.engines[names.len() % self.engines.len()].clone();
                names.push((name, engine, *r));
            }
        }
        eprintln!(
            "making {} lab(s) from {}: {}",
            names.len(),
            self.topology.source.display(),
            names
                .iter()
                .map(|(n, ..)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let results =
            futures::future::join_all(names.iter().map(|(n, e, r)| self.up_one(n, e, *r, cancel)))
                .await;
        let mut labs = Vec::new();
        let mut errors = Vec::new();
        for r in results {
            match r {
                Ok(l) => labs.push(l),
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
        if !errors.is_empty() {
            self.remove_all().await;
            anyhow::bail!("{}", errors.join("\n"));
        }
        Ok(labs)
    }

    /// Removes every lab made (concurrently); reports each.
    async fn remove_all(&self) {
        use crate::runtime::docker::DockerRuntime;
        let made: Vec<(String, String, Option<crate::topology::Release>)> =
            std::mem::take(&mut *self.made.lock().unwrap_or_else(|p| p.into_inner()));
        let downs = made.iter().map(|(name, engine, _)| async move {
            let r = match DockerRuntime::connect_to(engine).await {
                Ok(rt) => crate::lab::down(&rt, name).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match r {
                Ok(n) => eprintln!("lab {name}: {n} objects removed"),
                Err(e) => eprintln!("warning: failed to remove lab {name}: {e}"),
            }
        });
        futures::future::join_all(downs).await;
    }
}

impl runner::Rebuild for PoolMaker {
    fn rebuild<'a>(&'a self, lab: &'a str) -> BoxFuture<'a, Result<runner::PoolLab, String>> {
        Box::pin(async move {
            use crate::runtime::docker::DockerRuntime;
            let (engine, release) = self
                .made_as(lab)
                .ok_or_else(|| format!("lab {lab} was not made by this run"))?;
            let rt = DockerRuntime::connect_to(&engine)
                .await
                .map_err(|e| e.to_string())?;
            crate::lab::down(&rt, lab)
                .await
                .map_err(|e| format!("failed to remove lab {lab}: {e}"))?;
            self.made
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|(n, ..)| n != lab);
            self.up_one(
                lab,
                &engine,
                release,
                &tokio_util::sync::CancellationToken::new(),
            )
            .await
            .map_err(|e| format!("{e:#}"))
        })
    }
}

/// Finds a lab node's agent by its labels when its container came back on a new published port.
/// On real hosts (no such lab in the engine, or no engine) it finds nothing.
#[derive(Debug)]
struct LabAgents {
    /// Lab name (from the node list).
    lab: String,
    /// The node list's secret file.
    secret_file: PathBuf,
    /// The engine the lab is on.
    engine: String,
}

impl runner::Relocate for LabAgents {
    fn locate<'a>(&'a self, node: &'a NodeEntry) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            let rt = DockerRuntime::connect_to(&self.engine)
                .await
                .map_err(|e| e.to_string())?;
            let objects = rt.list(Some(&self.lab)).await.map_err(|e| e.to_string())?;
            Ok(crate::lab::node_rows(&objects)
                .into_iter()
                .find(|r| r.name == node.name && r.state == "running" && !r.agent.is_empty())
                .map(|r| r.agent))
        })
    }
    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, Result<Client, String>> {
        Box::pin(async move {
            let secret = Secret::read_file(&self.secret_file).map_err(|e| e.to_string())?;
            Client::connect(addr, secret, runner::client_options())
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// Power actions for tests, by node kind: a lab's containers (and kernel-VM nodes) through the
/// engine, found by their labels; every other node is a real host, rebooted through its agent.
#[derive(Debug)]
struct KindControl {
    /// Lab name (from the node list).
    lab: String,
    /// The node list's secret file.
    secret_file: PathBuf,
    /// The kind of each node that is a container of the lab; missing: a real host.
    kinds: std::collections::HashMap<String, crate::topology::NodeKind>,
    /// The engine the lab is on.
    engine: String,
}

impl KindControl {
    /// Looks the lab's containers up once (none when the engine or the lab is not there).
    async fn new(list: &NodeList, engine: &str) -> KindControl {
        let mut kinds = std::collections::HashMap::new();
        if let Ok(rt) = DockerRuntime::connect_to(engine).await {
            if let Ok(objects) = rt.list(Some(&list.lab)).await {
                for o in objects
                    .iter()
                    .filter(|o| o.kind == crate::runtime::ObjectKind::Container)
                {
                    kinds.insert(
                        o.label(crate::runtime::LABEL_NODE).to_string(),
                        crate::kind::of_labels(&o.labels).kind(),
                    );
                }
            }
        }
        KindControl {
            lab: list.lab.clone(),
            secret_file: list.secret_file.clone(),
            kinds,
            engine: engine.to_string(),
        }
    }

    fn kind_of(&self, node: &str) -> crate::topology::NodeKind {
        self.kinds
            .get(node)
            .copied()
            .unwrap_or(crate::topology::NodeKind::Host)
    }
}

impl gflab_tests::NodeControl for KindControl {
    fn power<'a>(
        &'a self,
        entry: &'a NodeEntry,
        client: &'a Client,
        action: gflab_tests::Power,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            use crate::node::Lifecycle;
            let secret = Secret::read_file(&self.secret_file).map_err(|e| e.to_string())?;
            let kind = self.kind_of(&entry.name);
            let is_container = kind != crate::topology::NodeKind::Host;
            // A real machine is rebooted only when its owner said it may be.
            if !is_container
                && action != gflab_tests::Power::Start
                && !entry
                    .capabilities
                    .contains(&gflab_agent::Capability::Reboot)
            {
                return Err(format!(
                    "refusing to {action} real host {}: its node list entry does not offer the \
                     `reboot` capability (add capabilities = [\"reboot\"] to allow it)",
                    entry.name
                ));
            }
            let rt = if is_container {
                Some(
                    DockerRuntime::connect_to(&self.engine)
                        .await
                        .map_err(|e| e.to_string())?,
                )
            } else {
                None
            };
            let mut target = crate::control::Target::new(
                &entry.name,
                entry.role,
                is_container.then_some(self.lab.as_str()),
                &client.addr(),
            );
            let action = match action {
                gflab_tests::Power::Restart => Lifecycle::Restart,
                gflab_tests::Power::Stop => Lifecycle::Stop,
                gflab_tests::Power::Start => Lifecycle::Start,
            };
            crate::control::lifecycle(
                rt.as_ref(),
                &secret,
                crate::kind::of(kind),
                &mut target,
                action,
                &crate::kind::Deadlines::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
            // The test's connection follows the agent to where it is now.
            client.retarget(&target.agent).await;
            Ok(())
        })
    }

    fn kind(&self, entry: &NodeEntry) -> &'static str {
        self.kind_of(&entry.name).as_str()
    }

    fn upgrade<'a>(
        &'a self,
        entry: &'a NodeEntry,
        client: &'a Client,
        release: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let to: crate::topology::Release = release.parse()?;
            if self.kind_of(&entry.name) != crate::topology::NodeKind::Container {
                return Err(format!(
                    "{} is a {} node: only container nodes are upgraded by replacing their image",
                    entry.name,
                    self.kind_of(&entry.name).as_str()
                ));
            }
            let agent_path = super::lab::agent_binary_path().map_err(|e| format!("{e:#}"))?;
            let agent_binary = std::fs::read(&agent_path)
                .map_err(|e| format!("failed to read {}: {e}", agent_path.display()))?;
            let rt = DockerRuntime::connect_to(&self.engine)
                .await
                .map_err(|e| e.to_string())?;
            let facts = crate::facts::HostFacts::probe_here(&rt)
                .await
                .map_err(|e| e.to_string())?;
            let result = crate::upgrade::upgrade_node(
                &rt,
                &self.lab,
                &entry.name,
                to,
                agent_binary,
                &facts,
                Duration::from_secs(300),
            )
            .await;
            // Whatever happened, the test's connection follows the node's agent to where it is
            // now (a node replaced but not settled has moved all the same).
            let now = match &result {
                Ok(agent) => Some(agent.clone()),
                Err(_) => rt.list(Some(&self.lab)).await.ok().and_then(|objects| {
                    crate::lab::node_rows(&objects)
                        .into_iter()
                        .find(|r| r.name == entry.name && !r.agent.is_empty())
                        .map(|r| r.agent)
                }),
            };
            if let Some(agent) = now {
                client.retarget(&agent).await;
            }
            result.map(drop)
        })
    }
}
