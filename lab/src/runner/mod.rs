//! The test runner: connect to every agent, select and order cases, run each with markers, a timeout
//! and teardown, write transcripts, collect logs of failures, JUnit, and the summary line.
//!
//! - [`select`]: `-t`/`-d`/`-k` and ordering (`after`).
//! - [`needs`]: skip reasons.
//! - [`markers`]: per-node start/end scripts (log markers, error lines, cores, leftover processes).
//! - [`report`]: results directory, `runner.log`, log collection, JUnit XML.
//! - [`schedule`]: which lab the next case runs on (disruptive cases alone).
//! - [`shard`]: `--shard I/N`, balanced by a previous JUnit report's durations.
//! - [`merge`]: `gflab report merge`, shard reports joined into one.
//! - [`bench`]: per-test overhead measurement with no-op cases.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::future::{join_all, BoxFuture};
use gflab_agent::{ClientOptions, Command, NodeEntry, NodeList, Pool, PoolError, Secret};
use gflab_tests::{Ctx, CtxConfig, Node, Registered};
use tokio_util::sync::CancellationToken;

pub mod bench;
pub mod markers;
pub mod merge;
pub mod needs;
pub mod report;
pub mod schedule;
pub mod select;
pub mod shard;

/// Why a run could not be carried out (test failures are results, not errors).
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The node list could not be read.
    #[error(transparent)]
    NodeList(#[from] gflab_agent::NodeListError),
    /// The secret could not be read.
    #[error("failed to read the secret {}: {source}", .path.display())]
    Secret {
        /// The secret file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Some agents did not answer.
    #[error("{0}\nhint: is the lab up (gflab ls, gflab status)? on real hosts: gflab hosts check")]
    Connect(PoolError),
    /// The results directory or a file in it could not be written.
    #[error("failed to {op} {}: {source}", .path.display())]
    Results {
        /// `create`, `write`.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The overhead benchmark could not complete.
    #[error("benchmark failed: {0}")]
    Bench(String),
    /// The JUnit report could not be serialized.
    #[error("failed to write JUnit report {}: {message}", .path.display())]
    Junit {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The body returned `Ok`.
    Passed,
    /// The body failed, panicked or timed out: why.
    Failed(String),
    /// Not run: why.
    Skipped(String),
}

impl CaseResult {
    /// `301`, `301[disperse]`, or `301[disperse]@trixie` in a release matrix.
    pub fn key(&self) -> String {
        let key = select::variant_key(self.id, self.volume_type);
        match &self.release {
            None => key,
            Some(r) => format!("{key}@{r}"),
        }
    }
}

impl Status {
    /// `passed`, `FAILED`, `skipped`.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed(_) => "FAILED",
            Status::Skipped(_) => "skipped",
        }
    }
}

/// Everything known about one case after the run.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case id.
    pub id: u32,
    /// The variant's volume type, for matrix cases.
    pub volume_type: Option<gflab_tests::VolumeType>,
    /// Component (folder).
    pub component: String,
    /// Case name.
    pub name: String,
    /// The lab it ran on.
    pub lab: String,
    /// The release of that lab, in a release matrix.
    pub release: Option<String>,
    /// Outcome.
    pub status: Status,
    /// Whether the body was cancelled by its timeout.
    pub timed_out: bool,
    /// The health check after it found the lab unhealthy (the lab is then reset).
    pub unhealthy: bool,
    /// When it started and ended, from the start of the run.
    pub started_at: Duration,
    /// See `started_at`.
    pub ended_at: Duration,
    /// Wall time of the body plus teardown.
    pub duration: Duration,
    /// Wall time of everything the runner did for this case (markers, body, teardown, scan, files).
    pub wall: Duration,
    /// Where the wall time went: `health` (ping every agent), `start` (markers), `body`,
    /// `teardown`, `end` (scan), `files`.
    pub phases: Vec<(&'static str, Duration)>,
    /// The rendered transcript.
    pub transcript: String,
    /// (node, file, line) error-level log lines between the markers.
    pub log_errors: Vec<(String, String, String)>,
    /// (node, path) of new core files.
    pub cores: Vec<(String, String)>,
    /// (node, pid, command line) of processes left running and killed.
    pub killed: Vec<(String, String, String)>,
    /// Cleanups that failed.
    pub cleanup_failures: Vec<String>,
    /// Runner-side problems around the test (markers not written, ...).
    pub notes: Vec<String>,
    /// Where collected logs went (failed tests).
    pub collected_logs: Vec<String>,
    /// This case's directory in the results (empty for skipped cases).
    pub dir: PathBuf,
    /// Earlier attempts that failed (`--reruns`), oldest first. A case that passed after one is
    /// flaky: counted as passed and as flaky, never hidden.
    pub earlier: Vec<Attempt>,
}

/// A failed attempt of a case that was run again (`--reruns`).
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The lab it ran on.
    pub lab: String,
    /// Body plus teardown.
    pub duration: Duration,
    /// Why it failed.
    pub failure: String,
    /// Whether its body timed out.
    pub timed_out: bool,
    /// Its results directory (`<case dir>.attempt1`, ...).
    pub dir: PathBuf,
}

impl CaseResult {
    /// Passed after failing first.
    pub fn flaky(&self) -> bool {
        matches!(self.status, Status::Passed) && !self.earlier.is_empty()
    }
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Per case, in run order (cases not reached after an interruption are left out).
    pub results: Vec<CaseResult>,
    /// Whether the run was interrupted (SIGINT/SIGTERM).
    pub interrupted: bool,
    /// Wall time of the run.
    pub duration: Duration,
    /// The results directory.
    pub results_dir: PathBuf,
}

impl Summary {
    /// Number of cases with this outcome kind.
    fn count(&self, f: impl Fn(&Status) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.status)).count()
    }
    /// Passed cases.
    pub fn passed(&self) -> usize {
        self.count(|s| matches!(s, Status::Passed))
    }
    /// Failed cases.
    pub fn failed(&self) -> usize {
        self.count(|s| matches!(s, Status::Failed(_)))
    }
    /// Skipped cases.
    pub fn skipped(&self) -> usize {
        self.count(|s| matches!(s, Status::Skipped(_)))
    }
    /// Cases that passed on a rerun after failing.
    pub fn flaky(&self) -> Vec<&CaseResult> {
        self.results.iter().filter(|r| r.flaky()).collect()
    }
    /// One line per failed case, `FAILED KEY component/name on LAB: first line of why` (pytest's
    /// short summary), so the end of a long run's output says which cases failed and why.
    pub fn failure_lines(&self) -> Vec<String> {
        self.results
            .iter()
            .filter_map(|r| match &r.status {
                Status::Failed(why) => Some(format!(
                    "FAILED {} {}/{} on {}: {}",
                    r.key(),
                    r.component,
                    r.name,
                    r.lab,
                    first_line(why)
                )),
                _ => None,
            })
            .collect()
    }
    /// `N passed, N failed, N skipped`, then `, N flaky (KEY, …)` when a case passed only on a rerun.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        );
        let flaky = self.flaky();
        if !flaky.is_empty() {
            let keys: Vec<String> = flaky.iter().map(|r| r.key()).collect();
            line.push_str(&format!(", {} flaky ({})", flaky.len(), keys.join(", ")));
        }
        line
    }
}

/// Finds where a node's agent listens now, for agents that came back on another address (a lab node
/// container restarted and got a new published port). The runner itself never knows about Docker.
pub trait Relocate: std::fmt::Debug + Send + Sync {
    /// The node's agent address now, if it can be found.
    fn locate<'a>(&'a self, node: &'a NodeEntry) -> BoxFuture<'a, Result<Option<String>, String>>;
    /// Connects to an agent at `addr` (with the run's secret).
    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, Result<gflab_agent::Client, String>>;
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where results go (created).
    pub results_dir: PathBuf,
    /// Also write JUnit XML here.
    pub junit: Option<PathBuf>,
    /// Overrides every case's timeout.
    pub timeout: Option<Duration>,
    /// The gluster log directory on the nodes (markers, error lines, collection).
    pub log_dir: String,
    /// Bound on a test's teardown.
    pub teardown_timeout: Duration,
    /// Print progress to stderr.
    pub progress: bool,
    /// How long every agent gets to answer (reconnecting if needed) before each test.
    pub health_timeout: Duration,
    /// Cancelled on SIGINT/SIGTERM: the running test is cancelled and torn down, the rest not run.
    pub cancel: CancellationToken,
    /// Where to look for agents that moved (labs); `None` for fixed addresses (real hosts).
    /// Used by [`run`]; a pool's labs carry their own.
    pub relocate: Option<std::sync::Arc<dyn Relocate>>,
    /// Power actions on nodes for tests (reboot, stop, start); `None`: tests that need them fail
    /// saying so.
    pub control: Option<std::sync::Arc<dyn gflab_tests::NodeControl>>,
    /// After each test, check that it left the lab healthy (no fault left, every glusterd and
    /// peer up); a test that did not fails, and the lab is reset before the next.
    pub check_health: bool,
    /// Cases running at once over the pool.
    pub jobs: usize,
    /// Recreates labs the run made when their reset fails.
    pub rebuild: Option<Arc<dyn Rebuild>>,
    /// A failed case is run again up to this many times, on a lab reset first; it passes as flaky
    /// if a rerun passes.
    pub reruns: u32,
}

impl RunOptions {
    /// Defaults writing into `results_dir`.
    pub fn new(results_dir: PathBuf) -> RunOptions {
        RunOptions {
            results_dir,
            junit: None,
            timeout: None,
            log_dir: "/var/log/glusterfs".to_string(),
            teardown_timeout: Duration::from_secs(180),
            progress: true,
            health_timeout: Duration::from_secs(60),
            cancel: CancellationToken::new(),
            relocate: None,
            control: None,
            check_health: true,
            jobs: 1,
            rebuild: None,
            reruns: 0,
        }
    }
}

/// Client settings for runs: generous reconnecting, so a node whose agent restarts (a container
/// restart) is picked up again.
pub fn client_options() -> ClientOptions {
    ClientOptions {
        // 0.1 + 0.2 + ... doubling, capped at 5 s: about 40 s of retrying before giving up.
        max_reconnect_attempts: 12,
        ..ClientOptions::default()
    }
}

/// Loads a node list and connects to every agent; fails naming every unreachable node.
pub async fn connect(path: &Path) -> Result<(NodeList, Vec<Node>), RunnerError> {
    let list = NodeList::load(path)?;
    let nodes = connect_with(&list, None).await?;
    Ok((list, nodes))
}

/// Connects to every agent of a loaded node list (its `secret_file` already resolved, as
/// [`NodeList::load`] leaves it); agents not at their listed address are looked up with `relocate`
/// (a lab node whose container restarted on another port) before giving up.
pub async fn connect_with(
    list: &NodeList,
    relocate: Option<&dyn Relocate>,
) -> Result<Vec<Node>, RunnerError> {
    let secret = Secret::read_file(&list.secret_file).map_err(|source| RunnerError::Secret {
        path: list.secret_file.clone(),
        source,
    })?;
    let pool = match Pool::connect(list, secret.clone(), client_options()).await {
        Ok(pool) => pool,
        Err(e) => {
            let Some(rel) = relocate else {
                return Err(RunnerError::Connect(e));
            };
            let mut moved = list.clone();
            for node in moved.nodes.iter_mut() {
                if e.unreachable.iter().any(|(n, _)| *n == node.name) {
                    if let Ok(Some(addr)) = rel.locate(node).await {
                        tracing::info!(node = %node.name, from = %node.agent, to = %addr, "agent moved");
                        node.agent = addr;
                    }
                }
            }
            Pool::connect(&moved, secret, client_options())
                .await
                .map_err(RunnerError::Connect)?
        }
    };
    Ok(pool
        .nodes
        .into_iter()
        .map(|(entry, client)| Node { entry, client })
        .collect())
}

/// A short random token identifying one run (in names, markers and process tags).
pub fn run_token() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..4)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// One lab of a run's pool: its nodes, and how to find moved agents and power its nodes.
#[derive(Debug, Clone)]
pub struct PoolLab {
    /// Lab name (reports name it for every case).
    pub name: String,
    /// Its nodes, connected.
    pub nodes: Vec<Node>,
    /// Where to look for agents that moved; `None` for fixed addresses (real hosts).
    pub relocate: Option<Arc<dyn Relocate>>,
    /// Power actions for tests on its nodes.
    pub control: Option<Arc<dyn gflab_tests::NodeControl>>,
    /// The run made this lab (it may be recreated, and it is removed after the run); labs given
    /// to the run are only reset.
    pub owned: bool,
    /// The release the lab was made on, when the pool is a release matrix (runs are matched to
    /// labs of their release).
    pub release: Option<String>,
    /// The GlusterFS version of each node (read at the start of the run; empty: unknown).
    pub versions: Vec<(String, gflab_tests::upgrade::Version)>,
}

impl PoolLab {
    /// The oldest GlusterFS version the servers run, when known.
    pub fn version(&self) -> Option<gflab_tests::upgrade::Version> {
        self.nodes
            .iter()
            .filter(|n| n.is_server())
            .map(|n| {
                self.versions
                    .iter()
                    .find(|(name, _)| name == n.name())
                    .map(|(_, v)| *v)
            })
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.into_iter().min())
    }
}

/// The GlusterFS version of each node that answers `glusterfs --version`.
pub async fn read_versions(nodes: &[Node]) -> Vec<(String, gflab_tests::upgrade::Version)> {
    let reads = nodes.iter().map(|n| async move {
        let cmd = Command::new("glusterfs")
            .arg("--version")
            .timeout(Duration::from_secs(30));
        match n.client.exec(cmd).await {
            Ok(out) if out.success() => gflab_tests::upgrade::parse_version(&out.stdout_str())
                .map(|v| (n.name().to_string(), v)),
            _ => None,
        }
    });
    join_all(reads).await.into_iter().flatten().collect()
}

/// One run of the scheduler: a case variant on labs of one release.
#[derive(Debug, Clone)]
struct Run<'a> {
    /// The case variant.
    item: select::Item<'a>,
    /// The release of the labs it runs on (a release matrix), or any lab.
    release: Option<String>,
}

impl Run<'_> {
    /// `301[disperse]`, or `301[disperse]@trixie` in a release matrix.
    fn key(&self) -> String {
        match &self.release {
            None => self.item.key(),
            Some(r) => format!("{}@{r}", self.item.key()),
        }
    }
}

/// Recreates a lab the run made, when a reset cannot bring it back to its just-formed state.
pub trait Rebuild: std::fmt::Debug + Send + Sync {
    /// Removes the lab and makes it again from its topology; returns it connected.
    fn rebuild<'a>(&'a self, lab: &'a str) -> BoxFuture<'a, Result<PoolLab, String>>;
}

/// Runs `cases` (already selected and ordered; every variant of matrix cases) on one lab of
/// `nodes`, one at a time, with `opts.relocate` and `opts.control`.
pub async fn run(
    nodes: &[Node],
    cases: &[&Registered],
    opts: &RunOptions,
) -> Result<Summary, RunnerError> {
    let items: Vec<select::Item<'_>> = cases
        .iter()
        .flat_map(|reg| {
            let types: Vec<Option<gflab_tests::VolumeType>> = if reg.case.runs_on.is_empty() {
                vec![None]
            } else {
                reg.case.runs_on.iter().copied().map(Some).collect()
            };
            types
                .into_iter()
                .map(move |volume_type| select::Item { reg, volume_type })
        })
        .collect();
    let lab = PoolLab {
        name: nodes.first().map(|_| "lab".to_string()).unwrap_or_default(),
        nodes: nodes.to_vec(),
        relocate: opts.relocate.clone(),
        control: opts.control.clone(),
        owned: false,
        release: None,
        versions: Vec::new(),
    };
    let mut opts = opts.clone();
    opts.jobs = 1;
    run_pool(vec![lab], &items, &opts).await
}

/// What a finished piece of work reports to the scheduler.
enum Event {
    /// A case ended on a lab; the lab's nodes as they are now (agents may have moved).
    Case {
        item: usize,
        lab: usize,
        result: Box<CaseResult>,
        nodes: Vec<Node>,
    },
    /// A reset (or recreation) ended.
    Reset {
        lab: usize,
        outcome: Result<(String, Option<PoolLab>), String>,
    },
}

/// The scheduler's view of one lab.
struct Slot {
    lab: PoolLab,
    load: schedule::LabLoad,
    /// A case left it needing a reset; started once it is idle.
    dirty: Option<String>,
}

/// Runs `items` over the pool `labs`, at most `opts.jobs` at once: a disruptive case alone on its
/// lab, which is reset afterwards (or recreated when the reset cannot bring it back and the run
/// made it); other cases share labs. One results directory, one JUnit file, one summary.
pub async fn run_pool(
    labs: Vec<PoolLab>,
    selected_items: &[select::Item<'_>],
    opts: &RunOptions,
) -> Result<Summary, RunnerError> {
    use futures::stream::{FuturesUnordered, StreamExt};
    let started = Instant::now();
    // A pool of labs of several releases runs every case on each (`101@trixie`).
    let mut releases: Vec<Option<String>> = Vec::new();
    for l in &labs {
        if !releases.contains(&l.release) {
            releases.push(l.release.clone());
        }
    }
    let items: Vec<Run<'_>> = releases
        .iter()
        .flat_map(|rel| {
            selected_items.iter().map(move |item| Run {
                item: *item,
                release: rel.clone(),
            })
        })
        .collect();
    std::fs::create_dir_all(&opts.results_dir).map_err(|source| RunnerError::Results {
        op: "create",
        path: opts.results_dir.clone(),
        source,
    })?;
    let log = report::RunLog::create(&opts.results_dir, opts.progress)?;
    let token = run_token();
    let jobs = opts.jobs.max(1);
    log.quiet(&format!(
        "run {token}: {} case run(s), {jobs} at a time, on {} lab(s)",
        items.len(),
        labs.len()
    ));
    for l in &labs {
        log.quiet(&format!(
            "lab {}: {}",
            l.name,
            l.nodes
                .iter()
                .map(|n| format!("{}={}", n.name(), n.client.addr()))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let mut labs = labs;
    let read = join_all(labs.iter().map(|l| read_versions(&l.nodes))).await;
    for (lab, versions) in labs.iter_mut().zip(read) {
        if lab.versions.is_empty() {
            lab.versions = versions;
        }
    }
    let mut slots: Vec<Slot> = labs
        .into_iter()
        .map(|lab| Slot {
            lab,
            load: schedule::LabLoad::default(),
            dirty: None,
        })
        .collect();
    let mut results: Vec<Option<CaseResult>> = vec![None; items.len()];
    // Failed attempts of cases waiting for a rerun.
    let mut earlier: std::collections::HashMap<usize, Vec<Attempt>> = Default::default();
    let mut pending: Vec<usize> = (0..items.len()).collect();
    let mut drained: std::collections::HashMap<usize, usize> = Default::default();
    let mut running: FuturesUnordered<BoxFuture<'_, Event>> = FuturesUnordered::new();
    let mut active = 0usize;
    let mut finished = 0usize;
    let mut walls: Vec<Duration> = Vec::new();
    let total = items.len();
    let selected: std::collections::BTreeSet<u32> =
        items.iter().map(|i| i.item.reg.case.id).collect();
    let done_ids = |results: &[Option<CaseResult>], id: u32, release: &Option<String>| {
        items
            .iter()
            .zip(results)
            .all(|(i, r)| i.item.reg.case.id != id || i.release != *release || r.is_some())
    };
    loop {
        // Start resets of idle dirty labs.
        for (li, slot) in slots.iter_mut().enumerate() {
            if slot.load.running == 0 && !slot.load.resetting && !slot.load.broken {
                if let Some(why) = slot.dirty.take() {
                    if opts.cancel.is_cancelled() {
                        continue;
                    }
                    slot.load.resetting = true;
                    log.line(&format!("lab {}: resetting ({why})", slot.lab.name));
                    running.push(Box::pin(reset_lab(li, slot.lab.clone(), opts)));
                }
            }
        }
        // Place every case that can start now, in order.
        let mut i = 0;
        while i < pending.len() && active < jobs && !opts.cancel.is_cancelled() {
            let idx = pending[i];
            let run = items[idx].clone();
            let item = run.item;
            let case = item.reg.case;
            let ready = case
                .after
                .iter()
                .all(|a| !selected.contains(a) || done_ids(&results, *a, &run.release));
            if !ready {
                i += 1;
                continue;
            }
            for slot in slots.iter_mut() {
                slot.load.fits = slot.lab.release == run.release
                    && needs::unmet_with(&case.needs, &entries_of(&slot.lab), slot.lab.version())
                        .is_none();
            }
            let loads: Vec<schedule::LabLoad> = slots.iter().map(|s| s.load).collect();
            match schedule::place(case.disruptive, &loads, drained.get(&idx).copied()) {
                schedule::Placement::Run(li) => {
                    pending.remove(i);
                    if let Some(d) = drained.remove(&idx) {
                        slots[d].load.draining = false;
                    }
                    let slot = &mut slots[li];
                    slot.load.running += 1;
                    slot.load.held = case.disruptive;
                    active += 1;
                    log.line(&format!(
                        "start {} {}/{} on {} ...",
                        run.key(),
                        item.reg.component,
                        case.name,
                        slot.lab.name
                    ));
                    let lab = slot.lab.clone();
                    let token = token.clone();
                    let log = &log;
                    let t0 = started.elapsed();
                    running.push(Box::pin(async move {
                        let mut nodes = lab.nodes.clone();
                        let down =
                            ensure_reachable(&mut nodes, lab.relocate.as_deref(), opts, log).await;
                        let lab_run = PoolLab {
                            nodes: nodes.clone(),
                            ..lab
                        };
                        let mut r = run_case(&lab_run, item, &token, opts, log, &down).await;
                        r.started_at = t0;
                        r.release = run.release.clone();
                        Event::Case {
                            item: idx,
                            lab: li,
                            result: Box::new(r),
                            nodes,
                        }
                    }));
                }
                schedule::Placement::Drain(li) => {
                    slots[li].load.draining = true;
                    drained.insert(idx, li);
                    i += 1;
                }
                schedule::Placement::Wait => i += 1,
                schedule::Placement::Never => {
                    pending.remove(i);
                    let reason = slots
                        .iter()
                        .filter(|s| s.lab.release == run.release)
                        .find_map(|s| {
                            needs::unmet_with(&case.needs, &entries_of(&s.lab), s.lab.version())
                        })
                        .unwrap_or_else(|| {
                            "every lab that fits it could not be brought back".to_string()
                        });
                    let r = CaseResult {
                        status: Status::Skipped(reason.clone()),
                        release: run.release.clone(),
                        ..blank(item)
                    };
                    finished += 1;
                    log.line(&format!(
                        "[{finished}/{total}] {} {}/{} skipped: {reason}",
                        run.key(),
                        item.reg.component,
                        case.name
                    ));
                    results[idx] = Some(r);
                }
            }
        }
        if running.is_empty() {
            if pending.is_empty() || opts.cancel.is_cancelled() {
                break;
            }
            // Nothing runs and nothing can start: only `after` on a case that cannot run.
            for idx in std::mem::take(&mut pending) {
                results[idx] = Some(CaseResult {
                    status: Status::Skipped("a case it runs after could not be run".into()),
                    release: items[idx].release.clone(),
                    ..blank(items[idx].item)
                });
            }
            break;
        }
        log.status(format!(
            "{finished}/{total} finished, {active} running{}",
            eta(&walls, total - finished, jobs)
        ));
        let event = tokio::select! {
            biased;
            e = running.next() => e,
            () = opts.cancel.cancelled(), if !pending.is_empty() => {
                log.line(&format!(
                    "interrupted: stopping {active} running case(s); {} not started",
                    pending.len()
                ));
                pending.clear();
                continue;
            }
        };
        let Some(event) = event else { continue };
        match event {
            Event::Case {
                item,
                lab,
                result,
                nodes,
            } => {
                let mut r = *result;
                active -= 1;
                let slot = &mut slots[lab];
                slot.load.running -= 1;
                slot.load.held = false;
                slot.lab.nodes = nodes;
                r.lab = slot.lab.name.clone();
                r.ended_at = started.elapsed();
                r.earlier = earlier.remove(&item).unwrap_or_default();
                if let Status::Failed(e) = &r.status {
                    if r.earlier.len() < opts.reruns as usize && !opts.cancel.is_cancelled() {
                        let attempt = retire_attempt(&r, e);
                        let mut attempts = std::mem::take(&mut r.earlier);
                        attempts.push(attempt);
                        log.line(&format!(
                            "{} {}/{} FAILED ({:.1}s on {}); running it again on a reset lab \
                             (rerun {} of {}):\n{}",
                            items[item].key(),
                            r.component,
                            r.name,
                            r.duration.as_secs_f64(),
                            r.lab,
                            attempts.len(),
                            opts.reruns,
                            indent(&gflab_tests::transcript::clip(e, 2000))
                        ));
                        earlier.insert(item, attempts);
                        if opts.check_health {
                            slot.dirty = Some(format!("after failed {}", items[item].key()));
                            slot.load.draining = true;
                        }
                        pending.insert(0, item);
                        continue;
                    }
                }
                finished += 1;
                if !r.earlier.is_empty() && !r.dir.as_os_str().is_empty() {
                    // Its report was written before its earlier attempts were attached.
                    if let Err(e) = report::write_case(&r.dir, &r) {
                        r.notes.push(e.to_string());
                    }
                }
                if !opts.check_health {
                    // Told not to check or touch the lab: no reset either.
                } else if items[item].item.reg.case.disruptive {
                    slot.dirty = Some(format!("after disruptive {}", items[item].key()));
                } else if r.unhealthy {
                    slot.dirty = Some(format!("{} left it unhealthy", items[item].key()));
                    slot.load.draining = true;
                }
                walls.push(r.wall);
                let detail = match &r.status {
                    Status::Passed if r.flaky() => format!(
                        " on rerun {} after failing: {}",
                        r.earlier.len(),
                        r.earlier
                            .iter()
                            .map(|a| a.failure.lines().next().unwrap_or("failed"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    Status::Passed => String::new(),
                    Status::Failed(e) => {
                        format!("\n{}", indent(&gflab_tests::transcript::clip(e, 2000)))
                    }
                    Status::Skipped(why) => format!(": {why}"),
                };
                let eta = eta(&walls, total - finished, jobs);
                log.line(&format!(
                    "[{finished}/{total}] {} {}/{} {} ({:.1}s on {}; {active} running{eta}){detail}",
                    items[item].key(),
                    r.component,
                    r.name,
                    r.status.word(),
                    r.duration.as_secs_f64(),
                    r.lab,
                ));
                results[item] = Some(r);
            }
            Event::Reset { lab, outcome } => {
                let slot = &mut slots[lab];
                slot.load.resetting = false;
                slot.load.draining = drained.values().any(|&d| d == lab);
                match outcome {
                    Ok((what, rebuilt)) => {
                        if let Some(new) = rebuilt {
                            slot.lab = new;
                        }
                        log.line(&format!("lab {}: {what}", slot.lab.name));
                    }
                    Err(why) => {
                        slot.load.broken = true;
                        log.line(&format!(
                            "lab {}: could not be brought back; no more cases run on it:\n{}",
                            slot.lab.name,
                            indent(&why)
                        ));
                    }
                }
            }
        }
    }
    log.finish();
    let not_run = results.iter().filter(|r| r.is_none()).count();
    if not_run > 0 {
        log.line(&format!("interrupted: {not_run} case(s) not run"));
    }
    let summary = Summary {
        results: results.into_iter().flatten().collect(),
        interrupted: opts.cancel.is_cancelled(),
        duration: started.elapsed(),
        results_dir: opts.results_dir.clone(),
    };
    if let Some(path) = &opts.junit {
        report::write_junit(path, &summary)?;
        log.quiet(&format!("junit report: {}", path.display()));
    }
    log.quiet(&format!("results: {}", opts.results_dir.display()));
    for failure in summary.failure_lines() {
        log.quiet(&failure);
    }
    log.quiet(&summary.line());
    Ok(summary)
}

/// Keeps a failed attempt's results apart (`<case dir>.attempt1`) before its rerun writes the case's
/// directory again.
fn retire_attempt(r: &CaseResult, failure: &str) -> Attempt {
    let n = r.earlier.len() + 1;
    let mut dir = r.dir.clone();
    if !r.dir.as_os_str().is_empty() {
        let moved = PathBuf::from(format!("{}.attempt{n}", r.dir.display()));
        if std::fs::rename(&r.dir, &moved).is_ok() {
            dir = moved;
        }
    }
    Attempt {
        lab: r.lab.clone(),
        duration: r.duration,
        failure: failure.to_string(),
        timed_out: r.timed_out,
        dir,
    }
}

/// `; ETA 1m05s` from the median wall time of finished cases, or nothing before the first.
fn eta(walls: &[Duration], left: usize, jobs: usize) -> String {
    if walls.is_empty() || left == 0 {
        return String::new();
    }
    let mut w = walls.to_vec();
    w.sort();
    let median = w[w.len() / 2];
    let secs = (median.as_secs_f64() * left as f64 / jobs as f64).round() as u64;
    format!("; ETA {}m{:02}s", secs / 60, secs % 60)
}

fn entries_of(lab: &PoolLab) -> Vec<NodeEntry> {
    lab.nodes.iter().map(|n| n.entry.clone()).collect()
}

/// Resets a lab to its just-formed state; when that fails and the run made it, recreates it.
async fn reset_lab(li: usize, lab: PoolLab, opts: &RunOptions) -> Event {
    let ctx = Ctx::new(CtxConfig {
        id: 0,
        name: "reset".into(),
        run_token: "reset".into(),
        nodes: lab.nodes.clone(),
        control: lab.control.clone(),
        volume_type: None,
    });
    let began = Instant::now();
    let reset = match gflab_tests::reset::reset(&ctx, opts.health_timeout).await {
        // A case that upgraded nodes leaves a lab that no reset brings back.
        Ok(r) => {
            let now = read_versions(&lab.nodes).await;
            let changed: Vec<String> = lab
                .versions
                .iter()
                .filter_map(|(node, was)| match now.iter().find(|(n, _)| n == node) {
                    Some((_, v)) if v != was => Some(format!(
                        "{node} runs GlusterFS {v}, the lab was made with {was}"
                    )),
                    _ => None,
                })
                .collect();
            if changed.is_empty() {
                Ok(r)
            } else {
                Err(changed)
            }
        }
        Err(problems) => Err(problems),
    };
    let outcome = match reset {
        Ok(r) => Ok((
            format!(
                "reset in {:.1}s ({} test volume(s) removed)",
                began.elapsed().as_secs_f64(),
                r.volumes.len()
            ),
            None,
        )),
        Err(problems) => {
            let why = problems.join("\n");
            match (&opts.rebuild, lab.owned) {
                (Some(rebuild), true) => {
                    let again = Instant::now();
                    match rebuild.rebuild(&lab.name).await {
                        Ok(mut new) => Ok((
                            format!(
                                "reset failed ({}); recreated in {:.1}s",
                                problems.first().cloned().unwrap_or_default(),
                                again.elapsed().as_secs_f64()
                            ),
                            {
                                new.versions = read_versions(&new.nodes).await;
                                Some(new)
                            },
                        )),
                        Err(e) => Err(format!("{why}\nand recreating it failed: {e}")),
                    }
                }
                _ => Err(why),
            }
        }
    };
    Event::Reset { lab: li, outcome }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn blank(item: select::Item<'_>) -> CaseResult {
    let reg = item.reg;
    CaseResult {
        id: reg.case.id,
        volume_type: item.volume_type,
        component: reg.component.to_string(),
        name: reg.case.name.to_string(),
        lab: String::new(),
        release: None,
        status: Status::Passed,
        timed_out: false,
        unhealthy: false,
        duration: Duration::ZERO,
        wall: Duration::ZERO,
        started_at: Duration::ZERO,
        ended_at: Duration::ZERO,
        phases: Vec::new(),
        transcript: String::new(),
        log_errors: Vec::new(),
        cores: Vec::new(),
        killed: Vec::new(),
        cleanup_failures: Vec::new(),
        notes: Vec::new(),
        collected_logs: Vec::new(),
        dir: PathBuf::new(),
        earlier: Vec::new(),
    }
}

/// Runs a per-node shell script on every node concurrently; (node, stdout or error text).
async fn on_all(
    nodes: &[Node],
    script: impl Fn(&str) -> String,
) -> Vec<(String, Result<String, String>)> {
    let runs = nodes.iter().map(|n| {
        let cmd = Command::shell(script(n.name())).timeout(Duration::from_secs(60));
        async move {
            let r = match n.client.exec(cmd).await {
                Ok(out) if out.success() => Ok(out.stdout_str()),
                Ok(out) => Err(format!(
                    "{}: {}",
                    gflab_tests::ctx::status_text(out.status),
                    out.stderr_str().trim()
                )),
                Err(e) => Err(e.to_string()),
            };
            (n.name().to_string(), r)
        }
    });
    join_all(runs).await
}

async fn run_case(
    lab: &PoolLab,
    item: select::Item<'_>,
    token: &str,
    opts: &RunOptions,
    log: &report::RunLog,
    down: &[String],
) -> CaseResult {
    let nodes = &lab.nodes[..];
    let reg = item.reg;
    let case = reg.case;
    let wall = Instant::now();
    let mut r = blank(item);
    r.lab = lab.name.clone();
    r.dir = opts
        .results_dir
        .join(report::case_dir_name(case.id, item.volume_type, case.name));
    let ctx = Ctx::new(CtxConfig {
        id: case.id,
        name: case.name.to_string(),
        run_token: token.to_string(),
        nodes: nodes.to_vec(),
        control: lab.control.clone(),
        volume_type: item.volume_type,
    });
    let title = format!("test {} {}/{}", item.key(), reg.component, case.name);
    if !down.is_empty() {
        r.status = Status::Failed(format!(
            "not started: {}\nhint: an agent that restarted on another address needs a fresh node list",
            down.join("; ")
        ));
        r.wall = wall.elapsed();
        if let Err(e) = report::write_case(&r.dir, &r) {
            log.line(&format!("warning: {e}"));
        }
        return r;
    }
    let stamp = report::log_timestamp(SystemTime::now());
    let start = |node: &str| markers::start_script(&opts.log_dir, ctx.tag(), node, &title, &stamp);
    for (node, res) in on_all(nodes, start).await {
        if let Err(e) = res {
            r.notes
                .push(format!("failed to write the start marker on {node}: {e}"));
        }
    }

    r.phases.push(("start", wall.elapsed()));
    let began = Instant::now();
    let timeout = opts.timeout.unwrap_or(case.timeout);
    let mut task = tokio::spawn((case.body)(ctx.clone()));
    let finished = tokio::select! {
        r = tokio::time::timeout(timeout, &mut task) => r.map_err(|_| false),
        _ = opts.cancel.cancelled() => Err(true),
    };
    let mut skipped = None;
    let outcome: Result<(), String> = match finished {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(gflab_tests::TestError::Skip(reason)))) => {
            skipped = Some(reason);
            Ok(())
        }
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(join)) if join.is_panic() => Err(format!("the test panicked: {}", panic_text(join))),
        Ok(Err(join)) => Err(format!("the test task ended abnormally: {join}")),
        Err(true) => {
            task.abort();
            let _ = task.await;
            ctx.step("interrupted: body cancelled");
            Err("interrupted (SIGINT/SIGTERM): the body was cancelled and torn down".to_string())
        }
        Err(false) => {
            task.abort();
            let _ = task.await;
            r.timed_out = true;
            ctx.step(format!(
                "timed out after {}s: body cancelled",
                timeout.as_secs()
            ));
            Err(format!(
                "timed out after {}s (the body was cancelled; its running commands were killed)",
                timeout.as_secs()
            ))
        }
    };

    r.phases.push(("body", began.elapsed()));
    let torn = Instant::now();
    match tokio::time::timeout(opts.teardown_timeout, gflab_tests::gluster::teardown(&ctx)).await {
        Ok(failures) => r.cleanup_failures = failures,
        Err(_) => r.cleanup_failures.push(format!(
            "teardown did not finish within {}s",
            opts.teardown_timeout.as_secs()
        )),
    }
    r.duration = began.elapsed();
    r.phases.push(("teardown", torn.elapsed()));
    let checking = Instant::now();
    let mut unhealthy = Vec::new();
    if opts.check_health && !opts.cancel.is_cancelled() {
        // `health` gives peers that a teardown restarted time to reconnect.
        unhealthy = gflab_tests::fault::health(&ctx).await;
        if !unhealthy.is_empty() {
            ctx.step(format!(
                "the lab is unhealthy after the test: {}; it is reset before the next",
                unhealthy.join("; ")
            ));
            r.unhealthy = true;
            r.notes.push(
                "the lab was unhealthy after the test: it is reset before the next case".into(),
            );
        }
    }
    r.phases.push(("health", checking.elapsed()));
    let ending = Instant::now();

    let stamp = report::log_timestamp(SystemTime::now());
    let end = |node: &str| {
        markers::end_script(
            &opts.log_dir,
            ctx.tag(),
            node,
            &title,
            &stamp,
            gflab_tests::TAG_ENV,
        )
    };
    for (node, res) in on_all(nodes, end).await {
        match res {
            Ok(out) => {
                let found = markers::parse_end(&out);
                r.log_errors
                    .extend(found.errors.into_iter().map(|(f, l)| (node.clone(), f, l)));
                r.cores
                    .extend(found.cores.into_iter().map(|p| (node.clone(), p)));
                r.killed
                    .extend(found.killed.into_iter().map(|(p, c)| (node.clone(), p, c)));
            }
            Err(e) => r
                .notes
                .push(format!("failed to scan logs / end the test on {node}: {e}")),
        }
    }

    // Like a fixture teardown error: a test whose cleanup failed leaves debris behind, so it fails.
    r.status = match outcome {
        Ok(()) if !unhealthy.is_empty() => Status::Failed(format!(
            "the test left the lab unhealthy:\n{}",
            unhealthy.join("\n")
        )),
        Ok(()) if r.cleanup_failures.is_empty() => match skipped {
            Some(reason) => Status::Skipped(reason),
            None => Status::Passed,
        },
        Ok(()) => Status::Failed(format!(
            "the body passed but its teardown failed:\n{}",
            r.cleanup_failures.join("\n")
        )),
        Err(e) if unhealthy.is_empty() => Status::Failed(e),
        Err(e) => Status::Failed(format!(
            "{e}\nand it left the lab unhealthy:\n{}",
            unhealthy.join("\n")
        )),
    };
    r.phases.push(("end", ending.elapsed()));
    let writing = Instant::now();
    r.transcript = ctx.transcript();
    if matches!(r.status, Status::Failed(_)) {
        r.collected_logs = report::collect_logs(nodes, &opts.log_dir, &r.dir.join("logs")).await;
    }
    if let Err(e) = report::write_case(&r.dir, &r) {
        log.line(&format!("warning: {e}"));
    }
    r.phases.push(("files", writing.elapsed()));
    r.wall = wall.elapsed();
    r
}

/// Pings every agent (reconnecting if needed) within `limit`; (index, why) of each that did not answer.
async fn unreachable(nodes: &[Node], limit: Duration) -> Vec<(usize, String)> {
    let pings = nodes.iter().enumerate().map(|(i, n)| async move {
        match tokio::time::timeout(limit, n.client.ping()).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some((i, format!("{} unreachable: {e}", n.name()))),
            Err(_) => Some((
                i,
                format!(
                    "{} ({}) did not answer within {}s",
                    n.name(),
                    n.client.addr(),
                    limit.as_secs()
                ),
            )),
        }
    });
    join_all(pings).await.into_iter().flatten().collect()
}

/// Before a test: every agent must answer. One that does not gets a short grace; then, where agents
/// can move (labs), its new address is looked up and connected to; then a last, longer wait. Returns
/// why nodes are still unreachable (empty when all answer).
async fn ensure_reachable(
    nodes: &mut [Node],
    relocate: Option<&dyn Relocate>,
    opts: &RunOptions,
    log: &report::RunLog,
) -> Vec<String> {
    let grace = opts.health_timeout.min(Duration::from_secs(5));
    let down = unreachable(nodes, grace).await;
    if down.is_empty() {
        return Vec::new();
    }
    if let Some(rel) = relocate {
        for (i, why) in &down {
            log.line(&format!("{why}; looking for its agent"));
            let node = &mut nodes[*i];
            match rel.locate(&node.entry).await {
                Ok(Some(addr)) if addr != node.entry.agent => match rel.connect(&addr).await {
                    Ok(client) => {
                        log.line(&format!(
                            "{}: agent moved from {} to {addr}; reconnected",
                            node.name(),
                            node.entry.agent
                        ));
                        node.entry.agent = addr;
                        node.client = client;
                    }
                    Err(e) => log.line(&format!(
                        "{}: failed to connect to {addr}: {e}",
                        node.name()
                    )),
                },
                Ok(_) => {}
                Err(e) => log.line(&format!(
                    "{}: failed to look up its agent: {e}",
                    node.name()
                )),
            }
        }
    }
    unreachable(nodes, opts.health_timeout)
        .await
        .into_iter()
        .map(|(_, why)| why)
        .collect()
}

fn panic_text(e: tokio::task::JoinError) -> String {
    let p = e.into_panic();
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-text panic payload)".to_string())
}

/// The overview under `gflab test --list`: per component of the selection, its scenarios and
/// runs and what it covers (from `tests_d/README.md`), then the totals.
pub fn list_summary(items: &[select::Item<'_>]) -> String {
    let mut per: BTreeMap<&str, (BTreeSet<u32>, usize)> = BTreeMap::new();
    for item in items {
        let e = per.entry(item.reg.component).or_default();
        e.0.insert(item.reg.case.id);
        e.1 += 1;
    }
    let width = per.keys().map(|c| c.len()).max().unwrap_or(0);
    let mut out = String::from("\n");
    for (comp, (ids, runs)) in &per {
        let covers = gflab_tests::about::covers(comp).unwrap_or_default();
        let _ = writeln!(
            out,
            "{comp:<width$}  {:>3} scenarios  {runs:>3} runs  {covers}",
            ids.len()
        );
    }
    let scenarios: usize = per.values().map(|(ids, _)| ids.len()).sum();
    let _ = writeln!(
        out,
        "{} runs of {scenarios} scenarios in {} components",
        items.len(),
        per.len()
    );
    out
}

/// Prints `--list` lines: run key (`301[disperse]`), component, name, and `disruptive`, aligned.
pub fn list_lines(items: &[select::Item<'_>]) -> Vec<String> {
    let keys: Vec<String> = items.iter().map(select::Item::key).collect();
    let kw = keys.iter().map(String::len).max().unwrap_or(0).max(5);
    let cw = items
        .iter()
        .map(|c| c.reg.component.len())
        .max()
        .unwrap_or(0);
    let nw = items
        .iter()
        .map(|c| c.reg.case.name.len())
        .max()
        .unwrap_or(0);
    items
        .iter()
        .zip(&keys)
        .map(|(c, k)| {
            let line = format!(
                "{k:<kw$}  {:<cw$}  {:<nw$}  {}",
                c.reg.component,
                c.reg.case.name,
                if c.reg.case.disruptive {
                    "disruptive"
                } else {
                    ""
                }
            );
            line.trim_end().to_string()
        })
        .collect()
}

/// The first non-empty line of a failure message, clipped to 300 characters.
fn first_line(why: &str) -> String {
    let line = why
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed")
        .trim();
    match line.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
    }
}
