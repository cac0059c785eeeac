//! Service control on hosts whose services the agent does not supervise itself and that do not run
//! systemd: OpenRC (`rc-service`) where it runs, SysV init scripts (`/etc/init.d/NAME`), and, for the
//! GlusterFS daemons started outside any of these, their pid files and process names (stop: SIGTERM,
//! SIGKILL after the grace; start: the command line the packages run).
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tracing::info;

use crate::proto::{ServiceAction, ServiceStatus};

/// Where the host keeps what service control looks at (a fake root in tests).
#[derive(Debug, Clone)]
pub struct HostLayout {
    /// SysV/OpenRC scripts (`/etc/init.d`).
    pub init_d: PathBuf,
    /// Directories pid files are looked for in (`/run`, `/var/run`).
    pub pid_dirs: Vec<PathBuf>,
    /// `/proc`, for process names.
    pub proc_dir: PathBuf,
    /// Whether OpenRC runs on this host (`/run/openrc/softlevel`).
    pub openrc: bool,
    /// The GlusterFS daemons the agent can start and stop without an init system.
    pub known: Vec<KnownDaemon>,
    /// Where service control scripts' output goes while they run.
    pub log_dir: PathBuf,
}

impl HostLayout {
    /// The real host's layout.
    pub fn system(log_dir: PathBuf) -> HostLayout {
        HostLayout {
            init_d: PathBuf::from("/etc/init.d"),
            pid_dirs: vec![PathBuf::from("/run"), PathBuf::from("/var/run")],
            proc_dir: PathBuf::from("/proc"),
            openrc: Path::new("/run/openrc/softlevel").exists(),
            known: KnownDaemon::glusterfs(),
            log_dir,
        }
    }
    /// How `name` is controlled on this host, if at all.
    pub fn backend(&self, name: &str) -> Option<Backend> {
        let script = self.init_d.join(name);
        if is_executable(&script) {
            return Some(if self.openrc {
                Backend::OpenRc
            } else {
                Backend::SysV(script)
            });
        }
        self.known
            .iter()
            .find(|k| k.name == name)
            .cloned()
            .map(Backend::Process)
    }
}

/// A daemon the agent knows how to run: its pid file and the command line its package's service
/// runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDaemon {
    /// Service and process name (`glusterd`).
    pub name: String,
    /// Its pid file's name in the pid directories.
    pub pid_file: String,
    /// The command line (argv) that starts it.
    pub command: Vec<String>,
    /// Whether the command forks into the background by itself (else the agent detaches it).
    pub daemonizes: bool,
}

impl KnownDaemon {
    /// glusterd and glustereventsd, as their packaged units run them.
    pub fn glusterfs() -> Vec<KnownDaemon> {
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect();
        vec![
            KnownDaemon {
                name: "glusterd".into(),
                pid_file: "glusterd.pid".into(),
                command: argv(&[
                    "/usr/sbin/glusterd",
                    "-p",
                    "/var/run/glusterd.pid",
                    "--log-level",
                    "INFO",
                ]),
                daemonizes: true,
            },
            KnownDaemon {
                name: "glustereventsd".into(),
                pid_file: "glustereventsd.pid".into(),
                command: argv(&[
                    "/usr/sbin/glustereventsd",
                    "--pid-file",
                    "/var/run/glustereventsd.pid",
                ]),
                daemonizes: false,
            },
        ]
    }
}

/// What controls a service.
#[derive(Debug, Clone)]
pub enum Backend {
    /// `rc-service NAME VERB`.
    OpenRc,
    /// `/etc/init.d/NAME VERB`.
    SysV(PathBuf),
    /// Its pid file and process name; started with its packaged command line.
    Process(KnownDaemon),
}

impl Backend {
    /// Words for messages.
    pub fn describe(&self) -> String {
        match self {
            Backend::OpenRc => "OpenRC".into(),
            Backend::SysV(script) => format!("init script {}", script.display()),
            Backend::Process(k) => format!("pid file {} and process name", k.pid_file),
        }
    }
}

/// Whether `path` is an executable file.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The verb for an action.
fn verb(action: ServiceAction) -> &'static str {
    match action {
        ServiceAction::Start => "start",
        ServiceAction::Stop => "stop",
        ServiceAction::Restart => "restart",
        ServiceAction::Status => "status",
    }
}

/// How long a control script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs a control command to its end with output to a file (a daemon it starts may keep inherited
/// pipes open forever); returns (exit code, output).
async fn run_script(
    layout: &HostLayout,
    name: &str,
    argv: &[String],
) -> Result<(Option<i32>, String), String> {
    std::fs::create_dir_all(&layout.log_dir)
        .map_err(|e| format!("failed to create {}: {e}", layout.log_dir.display()))?;
    let log_path = layout.log_dir.join(format!("{name}.control.log"));
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("failed to create {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("failed to run `{}`: {e}", argv.join(" ")))?;
    let status = match tokio::time::timeout(SCRIPT_TIMEOUT, child.wait()).await {
        Ok(s) => s.map_err(|e| e.to_string())?,
        Err(_) => {
            let _ = child.start_kill();
            return Err(format!(
                "`{}` did not finish within {} s",
                argv.join(" "),
                SCRIPT_TIMEOUT.as_secs()
            ));
        }
    };
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    Ok((status.code(), output.trim().to_string()))
}

/// Opens `DIR/NAME.log` for appending (creating the directory): its path, and a handle each for a
/// service's stdout and stderr.
pub(crate) fn service_log(
    dir: &Path,
    name: &str,
) -> Result<(PathBuf, std::fs::File, std::fs::File), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.log"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("open {}: {e}", path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    Ok((path, log, log_err))
}

/// The pid of a running process named `name`: from its pid file when that names a live process of
/// that name, else the oldest process of that name.
pub fn find_pid(layout: &HostLayout, name: &str, pid_file: Option<&str>) -> Option<u32> {
    let comm = |pid: u32| {
        std::fs::read_to_string(layout.proc_dir.join(pid.to_string()).join("comm"))
            .ok()
            .map(|c| c.trim().to_string())
    };
    let alive = |pid: u32| {
        std::fs::read_to_string(layout.proc_dir.join(pid.to_string()).join("stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, r)| !r.trim_start().starts_with(['Z', 'X']))
            })
            .unwrap_or(false)
    };
    let file = pid_file
        .map(str::to_string)
        .unwrap_or(format!("{name}.pid"));
    for dir in &layout.pid_dirs {
        if let Some(pid) = std::fs::read_to_string(dir.join(&file))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            if comm(pid).as_deref() == Some(name) && alive(pid) {
                return Some(pid);
            }
        }
    }
    let mut pids: Vec<u32> = std::fs::read_dir(&layout.proc_dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.into_iter()
        .find(|&p| comm(p).as_deref() == Some(name) && alive(p))
}

/// The status from the process table.
fn observed(layout: &HostLayout, name: &str, pid_file: Option<&str>) -> ServiceStatus {
    let pid = find_pid(layout, name, pid_file);
    ServiceStatus {
        name: name.to_string(),
        running: pid.is_some(),
        pid,
    }
}

/// Applies `action` through `backend`.
pub async fn control(
    layout: &HostLayout,
    backend: &Backend,
    name: &str,
    action: ServiceAction,
    stop_grace: Duration,
) -> Result<ServiceStatus, String> {
    let v = verb(action);
    match backend {
        Backend::OpenRc | Backend::SysV(_) => {
            let argv: Vec<String> = match backend {
                Backend::OpenRc => vec!["rc-service".into(), name.into(), v.into()],
                Backend::SysV(script) => vec![script.to_string_lossy().into_owned(), v.into()],
                Backend::Process(_) => unreachable!("handled below"),
            };
            let (code, output) = run_script(layout, name, &argv).await?;
            let starts = matches!(action, ServiceAction::Start | ServiceAction::Restart);
            let seen = if starts && code == Some(0) {
                // A script may return before the daemon it forked has exec'd into its own name.
                appeared(layout, name, None).await
            } else {
                observed(layout, name, None)
            };
            match action {
                // LSB: 0 running, 3 not running; anything else: trust the process table.
                ServiceAction::Status => Ok(match code {
                    Some(0) => seen,
                    Some(3) if !seen.running => seen,
                    _ => seen,
                }),
                _ if code == Some(0) => {
                    info!(service = %name, backend = %backend.describe(), action = v, "service control");
                    Ok(seen)
                }
                _ => Err(format!(
                    "failed to {v} service {name}: `{}` exited with {}: {}",
                    argv.join(" "),
                    code.map(|c| c.to_string()).unwrap_or("a signal".into()),
                    output
                )),
            }
        }
        Backend::Process(known) => {
            let pid_file = Some(known.pid_file.as_str());
            match action {
                ServiceAction::Status => Ok(observed(layout, name, pid_file)),
                ServiceAction::Stop => stop_process(layout, known, stop_grace).await,
                ServiceAction::Start => start_process(layout, known).await,
                ServiceAction::Restart => {
                    stop_process(layout, known, stop_grace).await?;
                    start_process(layout, known).await
                }
            }
        }
    }
}

/// The status once a process named `name` shows and stays (polled for up to 5 s), else as it is
/// then. Staying matters: until they exec, the script and the shells it forks carry the script's
/// name, which is the service's.
async fn appeared(layout: &HostLayout, name: &str, pid_file: Option<&str>) -> ServiceStatus {
    let mut last = None;
    for _ in 0..100 {
        let now = find_pid(layout, name, pid_file);
        if now.is_some() && now == last {
            break;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    observed(layout, name, pid_file)
}

/// SIGTERM to the daemon (found by pid file or name), SIGKILL after the grace.
async fn stop_process(
    layout: &HostLayout,
    known: &KnownDaemon,
    grace: Duration,
) -> Result<ServiceStatus, String> {
    let name = &known.name;
    let pid_file = Some(known.pid_file.as_str());
    let Some(pid) = find_pid(layout, name, pid_file) else {
        return Ok(observed(layout, name, pid_file));
    };
    let target = Pid::from_raw(pid as i32);
    let _ = kill(target, Signal::SIGTERM);
    let gone = |layout: &HostLayout| find_pid(layout, name, pid_file) != Some(pid);
    let deadline = tokio::time::Instant::now() + grace;
    while !gone(layout) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !gone(layout) {
        let _ = kill(target, Signal::SIGKILL);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !gone(layout) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if !gone(layout) {
            return Err(format!(
                "failed to stop service {name}: pid {pid} survived SIGKILL"
            ));
        }
    }
    info!(service = %name, pid, "stopped by signal");
    Ok(observed(layout, name, pid_file))
}

/// Starts the daemon with its packaged command line, unless it runs already.
async fn start_process(layout: &HostLayout, known: &KnownDaemon) -> Result<ServiceStatus, String> {
    let name = &known.name;
    let pid_file = Some(known.pid_file.as_str());
    if find_pid(layout, name, pid_file).is_some() {
        return Ok(observed(layout, name, pid_file));
    }
    let fail = |e: String| format!("failed to start service {name}: {e}");
    if known.daemonizes {
        let (code, output) = run_script(layout, name, &known.command)
            .await
            .map_err(fail)?;
        if code != Some(0) {
            return Err(fail(format!(
                "`{}` exited with {}: {output}",
                known.command.join(" "),
                code.map(|c| c.to_string()).unwrap_or("a signal".into())
            )));
        }
    } else {
        let (_, log, log_err) = service_log(&layout.log_dir, name).map_err(fail)?;
        let (program, args) = known.command.split_first().ok_or("empty command")?;
        // Detached: its own session, reaped by the runtime when it ends.
        tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0)
            .spawn()
            .map_err(|e| fail(format!("spawn `{}`: {e}", known.command.join(" "))))?;
    }
    // It may take a moment to write its pid file or show up under its name.
    let seen = appeared(layout, name, pid_file).await;
    if seen.running {
        info!(service = %name, "started with its packaged command line");
        return Ok(seen);
    }
    Err(fail(format!(
        "`{}` ran but no process named {name} appeared within 5 s",
        known.command.join(" ")
    )))
}
