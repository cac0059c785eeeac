//! `gflab test`: select test cases, connect to the nodes, run, report.
use std::path::PathBuf;
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
    /// Test ids to run (`-t "101 105"` or `-t 101 -t 105`).
    #[arg(short = 't', long = "test", value_name = "IDS")]
    pub tests: Vec<String>,
    /// Components (folders under tests_d/) to run.
    #[arg(short = 'd', long = "component", value_name = "COMPONENT")]
    pub components: Vec<String>,
    /// Only cases whose name contains this.
    #[arg(short = 'k', value_name = "NAME")]
    pub name: Option<String>,
    /// Print id, component and name of the selected cases and exit.
    #[arg(long)]
    pub list: bool,
    /// Node list file (written by `gflab up`, or by hand for real hosts).
    #[arg(long, value_name = "FILE", conflicts_with = "lab")]
    pub nodes: Option<PathBuf>,
    /// Lab name (default: the only running lab).
    #[arg(long, value_name = "NAME")]
    pub lab: Option<String>,
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
    /// peers up), nor repair it.
    #[arg(long)]
    pub no_health_check: bool,
    /// Measure the runner's overhead with this many no-op cases instead of running tests.
    #[arg(long, value_name = "N", hide = true)]
    pub bench_overhead: Option<usize>,
}

/// Runs `gflab test`.
pub async fn run(args: TestArgs) -> anyhow::Result<i32> {
    if let Err(errors) = gflab_tests::validate(gflab_tests::CASES) {
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        anyhow::bail!("invalid test registry:\n{}", text.join("\n"));
    }
    let selection = select::Selection {
        ids: select::parse_ids(&args.tests).map_err(anyhow::Error::msg)?,
        components: select::parse_words(&args.components),
        name: args.name.clone(),
    };
    if args.timeout == Some(0) {
        anyhow::bail!("--timeout 0: the per-test timeout must be at least 1 second");
    }
    let cases = if args.bench_overhead.is_some() {
        Vec::new()
    } else {
        select::select(gflab_tests::CASES, &selection)?
    };
    if args.list {
        for line in runner::list_lines(&cases) {
            println!("{line}");
        }
        return Ok(0);
    }

    let path = match &args.nodes {
        Some(p) => p.clone(),
        None => {
            let p = crate::state::resolve_node_list(args.lab.as_deref())?;
            if args.lab.is_none() {
                eprintln!("using the only running lab (node list {})", p.display());
            }
            p
        }
    };
    let list = NodeList::load(&path)?;
    let lab_agents = Arc::new(LabAgents {
        lab: list.lab.clone(),
        secret_file: list.secret_file.clone(),
    });
    let nodes = runner::connect_with(&list, Some(lab_agents.as_ref()))
        .await
        .with_context(|| format!("failed to connect to the nodes of {}", path.display()))?;
    let control = KindControl::new(&list).await;
    eprintln!("connected to {} node(s) of {}", nodes.len(), list.lab);

    if let Some(n) = args.bench_overhead {
        let figures = runner::bench::overhead(&nodes, n, "/var/log/glusterfs").await?;
        println!("{figures}");
        return Ok(0);
    }

    let mut opts = RunOptions::new(
        args.results
            .clone()
            .unwrap_or_else(runner::report::default_results_dir),
    );
    opts.junit = args.junit.clone();
    opts.timeout = args.timeout.map(Duration::from_secs);
    opts.relocate = Some(lab_agents);
    opts.control = Some(Arc::new(control));
    opts.check_health = !args.no_health_check;
    let cancel = opts.cancel.clone();
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        eprintln!("interrupted: cancelling the running test and tearing it down");
        cancel.cancel();
    });
    let summary = runner::run(&nodes, &cases, &opts).await?;
    eprintln!("results: {}", summary.results_dir.display());
    if let Some(j) = &opts.junit {
        eprintln!("junit: {}", j.display());
    }
    println!("{}", summary.line());
    Ok(if summary.interrupted {
        130
    } else if summary.failed() > 0 {
        1
    } else {
        0
    })
}

/// Finds a lab node's agent by its labels when its container came back on a new published port.
/// On real hosts (no such lab in the engine, or no engine) it finds nothing.
#[derive(Debug)]
struct LabAgents {
    /// Lab name (from the node list).
    lab: String,
    /// The node list's secret file.
    secret_file: PathBuf,
}

impl runner::Relocate for LabAgents {
    fn locate<'a>(&'a self, node: &'a NodeEntry) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            let rt = DockerRuntime::connect().await.map_err(|e| e.to_string())?;
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
}

impl KindControl {
    /// Looks the lab's containers up once (none when the engine or the lab is not there).
    async fn new(list: &NodeList) -> KindControl {
        let mut kinds = std::collections::HashMap::new();
        if let Ok(rt) = DockerRuntime::connect().await {
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
                Some(DockerRuntime::connect().await.map_err(|e| e.to_string())?)
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
}
