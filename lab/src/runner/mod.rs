//! The test runner: connect to every agent, select and order cases, run each with markers, a timeout
//! and teardown, write transcripts, collect logs of failures, JUnit, and the summary line.
//!
//! - [`select`]: `-t`/`-d`/`-k` and ordering (`after`).
//! - [`needs`]: skip reasons.
//! - [`markers`]: per-node start/end scripts (log markers, error lines, cores, leftover processes).
//! - [`report`]: results directory, `runner.log`, log collection, JUnit XML.
//! - [`bench`]: per-test overhead measurement with no-op cases.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use futures::future::{join_all, BoxFuture};
use gflab_agent::{ClientOptions, Command, NodeEntry, NodeList, Pool, PoolError, Secret};
use gflab_tests::{Ctx, CtxConfig, Node, Registered};
use tokio_util::sync::CancellationToken;

pub mod bench;
pub mod markers;
pub mod needs;
pub mod report;
pub mod select;

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
    /// Component (folder).
    pub component: String,
    /// Case name.
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// Whether the body was cancelled by its timeout.
    pub timed_out: bool,
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
    /// `N passed, N failed, N skipped`.
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        )
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
    pub relocate: Option<std::sync::Arc<dyn Relocate>>,
    /// Power actions on nodes for tests (reboot, stop, start); `None`: tests that need them fail
    /// saying so.
    pub control: Option<std::sync::Arc<dyn gflab_tests::NodeControl>>,
    /// After each test, check that it left the lab healthy (no fault left, every glusterd and
    /// peer up); a test that did not fails, and the lab is repaired before the next.
    pub check_health: bool,
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

/// Runs `cases` (already selected and ordered) on `nodes`.
pub async fn run(
    nodes: &[Node],
    cases: &[&Registered],
    opts: &RunOptions,
) -> Result<Summary, RunnerError> {
    let started = Instant::now();
    std::fs::create_dir_all(&opts.results_dir).map_err(|source| RunnerError::Results {
        op: "create",
        path: opts.results_dir.clone(),
        source,
    })?;
    let log = report::RunLog::create(&opts.results_dir, opts.progress)?;
    let token = run_token();
    let entries: Vec<NodeEntry> = nodes.iter().map(|n| n.entry.clone()).collect();
    log.quiet(&format!(
        "run {token}: {} case(s) on {} node(s): {}",
        cases.len(),
        nodes.len(),
        entries
            .iter()
            .map(|n| format!("{}={}", n.name, n.agent))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let mut nodes: Vec<Node> = nodes.to_vec();
    let mut results = Vec::with_capacity(cases.len());
    for (i, reg) in cases.iter().enumerate() {
        if opts.cancel.is_cancelled() {
            log.line(&format!("interrupted: {} case(s) not run", cases.len() - i));
            break;
        }
        let checked = Instant::now();
        let down = if needs::unmet(&reg.case.needs, &entries).is_none() {
            ensure_reachable(&mut nodes, opts, &log).await
        } else {
            Vec::new()
        };
        let title = format!("{} {}/{}", reg.case.id, reg.component, reg.case.name);
        let progress = format!("[{}/{}] {title}", i + 1, cases.len());
        let result = match needs::unmet(&reg.case.needs, &entries) {
            Some(reason) => CaseResult {
                status: Status::Skipped(reason),
                ..blank(reg)
            },
            None => {
                log.line(&format!("{progress} ..."));
                let health = checked.elapsed();
                let mut r = run_case(&nodes, reg, &token, opts, &log, &down).await;
                r.phases.insert(0, ("health", health));
                r.wall += health;
                r
            }
        };
        let detail = match &result.status {
            Status::Passed => String::new(),
            Status::Failed(e) => format!("\n{}", indent(&gflab_tests::transcript::clip(e, 2000))),
            Status::Skipped(r) => format!(": {r}"),
        };
        log.line(&format!(
            "{progress} {} ({:.1}s){detail}",
            result.status.word(),
            result.duration.as_secs_f64()
        ));
        results.push(result);
    }
    let summary = Summary {
        results,
        interrupted: opts.cancel.is_cancelled(),
        duration: started.elapsed(),
        results_dir: opts.results_dir.clone(),
    };
    if let Some(path) = &opts.junit {
        report::write_junit(path, &summary)?;
        log.quiet(&format!("junit report: {}", path.display()));
    }
    log.quiet(&format!("results: {}", opts.results_dir.display()));
    log.quiet(&summary.line());
    Ok(summary)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn blank(reg: &Registered) -> CaseResult {
    CaseResult {
        id: reg.case.id,
        component: reg.component.to_string(),
        name: reg.case.name.to_string(),
        status: Status::Passed,
        timed_out: false,
        duration: Duration::ZERO,
        wall: Duration::ZERO,
        phases: Vec::new(),
        transcript: String::new(),
        log_errors: Vec::new(),
        cores: Vec::new(),
        killed: Vec::new(),
        cleanup_failures: Vec::new(),
        notes: Vec::new(),
        collected_logs: Vec::new(),
        dir: PathBuf::new(),
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
    nodes: &[Node],
    reg: &Registered,
    token: &str,
    opts: &RunOptions,
    log: &report::RunLog,
    down: &[String],
) -> CaseResult {
    let case = reg.case;
    let wall = Instant::now();
    let mut r = blank(reg);
    r.dir = opts
        .results_dir
        .join(report::case_dir_name(case.id, case.name));
    let ctx = Ctx::new(CtxConfig {
        id: case.id,
        name: case.name.to_string(),
        run_token: token.to_string(),
        nodes: nodes.to_vec(),
        control: opts.control.clone(),
        volume_type: None,
    });
    let title = format!("test {} {}/{}", case.id, reg.component, case.name);
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
                "the lab is unhealthy after the test: {}",
                unhealthy.join("; ")
            ));
            let left = gflab_tests::fault::repair(&ctx, opts.health_timeout).await;
            if left.is_empty() {
                r.notes.push("the lab was repaired after the test".into());
            } else {
                r.notes.push(format!(
                    "the lab could not be repaired after the test: {}",
                    left.join("; ")
                ));
            }
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
    opts: &RunOptions,
    log: &report::RunLog,
) -> Vec<String> {
    let grace = opts.health_timeout.min(Duration::from_secs(5));
    let down = unreachable(nodes, grace).await;
    if down.is_empty() {
        return Vec::new();
    }
    if let Some(rel) = &opts.relocate {
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

/// Prints `--list` lines: id, component and name, aligned.
pub fn list_lines(cases: &[&Registered]) -> Vec<String> {
    let w = cases.iter().map(|c| c.component.len()).max().unwrap_or(0);
    cases
        .iter()
        .map(|c| format!("{:>5}  {:<w$}  {}", c.case.id, c.component, c.case.name))
        .collect()
}
