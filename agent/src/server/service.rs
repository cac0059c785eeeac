//! Service control: services defined with `--service NAME=COMMAND_LINE` are supervised by the agent
//! (each in its own process group, output appended to `LOG_DIR/NAME.log`; stop = SIGTERM to the group,
//! SIGKILL after a grace period); any other name goes to systemctl where the host runs systemd, else
//! to OpenRC or its SysV init script, else, for the GlusterFS daemons, to their pid files and process
//! names (see `hostsvc`).
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::sync::{watch, Mutex};
use tracing::{info, warn};

use super::hostsvc::{self, HostLayout};
use crate::proto::{ServiceAction, ServiceStatus};

/// A service the agent supervises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDef {
    /// Its name (`glusterd`).
    pub name: String,
    /// The command line, run by `/bin/sh -c "exec ..."`.
    pub command_line: String,
}

impl std::str::FromStr for ServiceDef {
    type Err = String;
    /// `NAME=COMMAND_LINE`.
    fn from_str(s: &str) -> Result<ServiceDef, String> {
        let (name, cmd) = s
            .split_once('=')
            .ok_or_else(|| format!("invalid service {s:?}: expected NAME=COMMAND_LINE"))?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
        {
            return Err(format!(
                "invalid service {s:?}: the name must be non-empty letters, digits, '-', '_', '.', '@'"
            ));
        }
        if cmd.trim().is_empty() {
            return Err(format!("invalid service {s:?}: empty command line"));
        }
        Ok(ServiceDef {
            name: name.into(),
            command_line: cmd.trim().into(),
        })
    }
}

/// How long a freshly started service is watched for dying at once.
const START_CHECK: Duration = Duration::from_millis(100);

/// The last few lines of a log file (for error messages).
fn log_tail(path: &std::path::Path) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// A supervised process.
#[derive(Debug)]
struct Proc {
    /// Its pid, which is also its process group id.
    pid: u32,
    /// Becomes `true` once it exited (and was reaped).
    exited: watch::Receiver<bool>,
}

impl Proc {
    fn running(&self) -> bool {
        !*self.exited.borrow()
    }
}

/// The agent's own service supervisor.
#[derive(Debug)]
pub struct Supervisor {
    /// Services by name.
    defs: BTreeMap<String, ServiceDef>,
    /// Where output goes.
    log_dir: PathBuf,
    /// SIGTERM → SIGKILL grace.
    stop_grace: Duration,
    /// Started processes by service name (one operation at a time).
    procs: Mutex<BTreeMap<String, Proc>>,
    /// systemctl for other services, where the host runs systemd.
    systemctl: Option<PathBuf>,
    /// Where to look for init scripts, pid files and processes on hosts without systemd.
    host: HostLayout,
}

impl Supervisor {
    /// A supervisor for these services (none started yet).
    pub fn new(
        defs: Vec<ServiceDef>,
        log_dir: PathBuf,
        stop_grace: Duration,
        systemctl: Option<PathBuf>,
        host: HostLayout,
    ) -> Supervisor {
        Supervisor {
            defs: defs.into_iter().map(|d| (d.name.clone(), d)).collect(),
            log_dir,
            stop_grace,
            procs: Mutex::new(BTreeMap::new()),
            systemctl,
            host,
        }
    }

    /// Applies `action` to the named service.
    pub async fn control(
        &self,
        name: &str,
        action: ServiceAction,
    ) -> Result<ServiceStatus, String> {
        if self.defs.contains_key(name) {
            let mut procs = self.procs.lock().await;
            match action {
                ServiceAction::Start => self.start(name, &mut procs).await,
                ServiceAction::Stop => self.stop(name, &mut procs).await,
                ServiceAction::Restart => {
                    self.stop(name, &mut procs).await?;
                    self.start(name, &mut procs).await
                }
                ServiceAction::Status => Ok(status(name, &procs)),
            }
        } else if let Some(program) = &self.systemctl {
            systemctl(program, name, action).await
        } else if let Some(backend) = self.host.backend(name) {
            hostsvc::control(&self.host, &backend, name, action, self.stop_grace).await
        } else {
            let known = self.defs.keys().cloned().collect::<Vec<_>>().join(", ");
            Err(format!(
                "unknown service {name:?}: the agent supervises only [{known}], this host runs \
                 neither systemd nor OpenRC, there is no init script {}, and {name} is not a \
                 GlusterFS daemon the agent can start by itself; hint: start the agent with \
                 --service {name}=COMMAND_LINE",
                self.host.init_d.join(name).display()
            ))
        }
    }

    async fn start(
        &self,
        name: &str,
        procs: &mut BTreeMap<String, Proc>,
    ) -> Result<ServiceStatus, String> {
        if procs.get(name).is_some_and(Proc::running) {
            return Ok(status(name, procs));
        }
        let def = self
            .defs
            .get(name)
            .ok_or_else(|| format!("unknown service {name:?}"))?;
        let fail = |e: String| format!("failed to start service {name}: {e}");
        let (log_path, log, log_err) = hostsvc::service_log(&self.log_dir, name).map_err(fail)?;
        let mut child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("exec {}", def.command_line))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0)
            .kill_on_drop(false)
            .spawn()
            .map_err(|e| fail(format!("spawn `{}`: {e}", def.command_line)))?;
        let pid = child.id().ok_or_else(|| fail("no pid".into()))?;
        let (tx, rx) = watch::channel(false);
        let service = name.to_string();
        tokio::spawn(async move {
            match child.wait().await {
                Ok(s) => info!(%service, pid, status = %s, "service exited"),
                Err(e) => warn!(%service, pid, error = %e, "failed to wait for service"),
            }
            let _ = tx.send(true);
        });
        let mut proc = Proc { pid, exited: rx };
        // A command that cannot run at all (missing binary, bad option) dies at once: say so now,
        // with its last words, rather than report it running.
        let died = proc.exited.wait_for(|e| *e);
        if tokio::time::timeout(START_CHECK, died).await.is_ok() {
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            return Err(fail(format!(
                "`{}` exited at once; last output in {}: {}",
                def.command_line,
                log_path.display(),
                log_tail(&log_path)
            )));
        }
        info!(service = %name, pid, "service started");
        procs.insert(name.to_string(), proc);
        Ok(status(name, procs))
    }

    async fn stop(
        &self,
        name: &str,
        procs: &mut BTreeMap<String, Proc>,
    ) -> Result<ServiceStatus, String> {
        if let Some(mut proc) = procs.remove(name) {
            let group = Pid::from_raw(proc.pid as i32);
            // The group may outlive its leader: signal it even when the leader already exited.
            let _ = killpg(group, Signal::SIGTERM);
            let exited = proc.exited.wait_for(|e| *e);
            if tokio::time::timeout(self.stop_grace, exited).await.is_err() {
                warn!(service = %name, pid = proc.pid, "service ignored SIGTERM; killing it");
                let _ = killpg(group, Signal::SIGKILL);
                let exited = proc.exited.wait_for(|e| *e);
                if tokio::time::timeout(Duration::from_secs(5), exited)
                    .await
                    .is_err()
                {
                    return Err(format!(
                        "failed to stop service {name}: pid {} survived SIGKILL",
                        proc.pid
                    ));
                }
            }
            let _ = killpg(group, Signal::SIGKILL);
            info!(service = %name, "service stopped");
        }
        Ok(status(name, procs))
    }

    /// Stops every running service (at agent shutdown).
    pub async fn stop_all(&self) {
        let mut procs = self.procs.lock().await;
        let names: Vec<String> = procs.keys().cloned().collect();
        for name in names {
            if let Err(e) = self.stop(&name, &mut procs).await {
                warn!("{e}");
            }
        }
    }
}

fn status(name: &str, procs: &BTreeMap<String, Proc>) -> ServiceStatus {
    let running = procs.get(name).filter(|p| p.running());
    ServiceStatus {
        name: name.to_string(),
        running: running.is_some(),
        pid: running.map(|p| p.pid),
    }
}

/// Service control through systemctl.
async fn systemctl(
    program: &std::path::Path,
    name: &str,
    action: ServiceAction,
) -> Result<ServiceStatus, String> {
    let verb = match action {
        ServiceAction::Start => Some("start"),
        ServiceAction::Stop => Some("stop"),
        ServiceAction::Restart => Some("restart"),
        ServiceAction::Status => None,
    };
    if let Some(verb) = verb {
        let out = tokio::process::Command::new(program)
            .args([verb, name])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| {
                format!("failed to {verb} service {name}: failed to run systemctl: {e}")
            })?;
        if !out.status.success() {
            return Err(format!(
                "failed to {verb} service {name}: systemctl {verb} {name} exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    let out = tokio::process::Command::new(program)
        .args(["show", "--property=MainPID", "--property=ActiveState", name])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("failed to query service {name}: failed to run systemctl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "failed to query service {name}: systemctl show {name} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .map(str::trim)
            .unwrap_or("")
            .to_string()
    };
    let running = field("ActiveState") == "active";
    let pid = field("MainPID").parse::<u32>().ok().filter(|p| *p != 0);
    Ok(ServiceStatus {
        name: name.to_string(),
        running,
        pid: if running { pid } else { None },
    })
}
