//! Real `gflab-agent` daemons on 127.0.0.1 for the runner's own tests, a node list naming them, and
//! helpers to run an internal set of cases (kept out of tests_d/).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use gflab_agent::Secret;

/// The agent binary next to this test's target directory, built on first use.
pub fn agent_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        // target/<profile>/deps/<test> → target/<profile>/gflab-agent
        let dir = exe.parent().and_then(Path::parent).expect("target dir");
        let bin = dir.join("gflab-agent");
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "gflab-agent", "--bin", "gflab-agent"])
            .status()
            .expect("run cargo build for gflab-agent");
        assert!(status.success(), "failed to build gflab-agent");
        assert!(bin.is_file(), "gflab-agent not found at {}", bin.display());
        bin
    })
    .clone()
}

/// One agent process.
#[derive(Debug)]
pub struct LocalAgent {
    /// The process.
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl LocalAgent {
    /// Starts an agent on `listen` (`127.0.0.1:0` for any port) and waits for its address.
    pub fn start(secret_file: &Path, listen: &str, service_log_dir: &Path) -> LocalAgent {
        let mut child = Command::new(agent_binary())
            .args(["--listen", listen, "--secret-file"])
            .arg(secret_file)
            .arg("--service-log-dir")
            .arg(service_log_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn gflab-agent");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read agent stdout");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first agent line: {line:?}"))
            .to_string();
        LocalAgent { child, addr }
    }
    /// Kills the agent with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LocalAgent {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A temporary "cluster" of local agents: node list, secret and a gluster log directory stand-in.
#[derive(Debug)]
pub struct LocalNodes {
    /// Holds every file.
    pub dir: tempfile::TempDir,
    /// The agents, in node order.
    pub agents: Vec<LocalAgent>,
    /// The node list file.
    pub node_list: PathBuf,
    /// The secret file.
    pub secret_file: PathBuf,
    /// Log directory the runner treats as the gluster log directory.
    pub log_dir: PathBuf,
    /// Where results go.
    pub results: PathBuf,
}

impl LocalNodes {
    /// Starts one agent per (name, role) and writes the node list.
    pub fn start(nodes: &[(&str, &str)]) -> LocalNodes {
        let dir = tempfile::tempdir().expect("tempdir");
        let secret_file = dir.path().join("secret");
        Secret::generate()
            .write_file(&secret_file)
            .expect("write secret");
        let log_dir = dir.path().join("glusterfs");
        std::fs::create_dir_all(&log_dir).expect("log dir");
        std::fs::write(log_dir.join("glusterd.log"), "").expect("glusterd.log");
        let svc = dir.path().join("svc");
        let agents: Vec<LocalAgent> = nodes
            .iter()
            .map(|_| LocalAgent::start(&secret_file, "127.0.0.1:0", &svc))
            .collect();
        let mut toml = String::from("lab = \"runner-selftest\"\nsecret_file = \"secret\"\n");
        for ((name, role), a) in nodes.iter().zip(&agents) {
            toml.push_str(&format!(
                "[[node]]\nname = \"{name}\"\nrole = \"{role}\"\nhost = \"{name}\"\nagent = \"{}\"\n",
                a.addr
            ));
        }
        let node_list = dir.path().join("nodes.toml");
        std::fs::write(&node_list, toml).expect("write node list");
        let results = dir.path().join("results");
        LocalNodes {
            dir,
            agents,
            node_list,
            secret_file,
            log_dir,
            results,
        }
    }
    /// Kills agent `i` and starts a new one on the same address.
    pub fn restart_agent(&mut self, i: usize) {
        let addr = self.agents[i].addr.clone();
        self.agents[i].kill();
        let svc = self.dir.path().join("svc");
        self.agents[i] = LocalAgent::start(&self.secret_file, &addr, &svc);
    }
    /// Run options for these nodes.
    pub fn options(&self) -> gflab::runner::RunOptions {
        let mut o = gflab::runner::RunOptions::new(self.results.clone());
        o.log_dir = self.log_dir.display().to_string();
        o.progress = true;
        o.junit = Some(self.dir.path().join("junit.xml"));
        // No glusterd behind these agents: the lab health check is exercised on a real lab
        // (runner_faults.rs).
        o.check_health = false;
        o
    }
}

/// Whether any process has `needle` in its command line.
pub fn process_running(needle: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .map(|c| {
                let text = String::from_utf8_lossy(&c).replace('\0', " ");
                text.contains(needle)
            })
            .unwrap_or(false)
    })
}
