//! `gflab-agent install`: puts the running binary at `/usr/local/bin/gflab-agent`, the secret at
//! `/etc/gflab/secret` (0600) and, where the host runs systemd, the unit at
//! `/etc/systemd/system/gflab-agent.service`, then `systemctl enable --now`s it (restarting it when
//! anything changed). Without systemd it starts the agent detached and says so. Running it again with
//! the same inputs changes nothing.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::secret::{write_atomic, Secret};

/// The systemd unit, with `@LISTEN@` for the listen address.
pub const UNIT_TEMPLATE: &str = include_str!("../dist/gflab-agent.service");
/// Where the agent listens by default when installed on a host.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:7411";

/// What to install where.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The secret to install.
    pub secret_file: PathBuf,
    /// The address the installed agent listens on (an IP literal and a port).
    pub listen: SocketAddr,
    /// The binary to install (normally the running one).
    pub binary: PathBuf,
    /// Prefix for every installed path (`/` on a real host; a scratch directory in tests).
    pub root: PathBuf,
    /// Whether to enable/start the agent afterwards (systemctl, or a detached process).
    pub start: bool,
    /// Extra arguments for the detached agent (`--service NAME=CMD`, `--start NAME`); under
    /// systemd, services go to systemctl and these are not used.
    pub daemon_args: Vec<String>,
}

/// Why installing failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A file operation failed.
    #[error("failed to {what} {path}: {source}")]
    File {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A command failed.
    #[error("failed to run `{command}`: {message}")]
    Command { command: String, message: String },
}

fn file_err(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> InstallError {
    let path = path.to_path_buf();
    move |source| InstallError::File { what, path, source }
}

/// Writes `data` with `mode` unless the file already holds exactly that; returns whether it changed.
fn put_if_changed(path: &Path, data: &[u8], mode: u32) -> Result<bool, InstallError> {
    use std::os::unix::fs::PermissionsExt;
    if let (Ok(old), Ok(meta)) = (std::fs::read(path), std::fs::metadata(path)) {
        if old == data && meta.permissions().mode() & 0o7777 == mode {
            return Ok(false);
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(file_err("create directory", dir))?;
    }
    write_atomic(path, data, mode).map_err(file_err("write", path))?;
    Ok(true)
}

/// The unit text for this listen address.
pub fn unit_text(listen: SocketAddr) -> String {
    UNIT_TEMPLATE.replace("@LISTEN@", &listen.to_string())
}

/// Installs; returns what it did, one line per step, for the user.
pub fn install(opts: &InstallOptions) -> Result<Vec<String>, InstallError> {
    let mut report = Vec::new();
    let at = |p: &str| opts.root.join(p.trim_start_matches('/'));
    let secret = Secret::read_file(&opts.secret_file)
        .map_err(file_err("read secret file", &opts.secret_file))?;
    let binary = std::fs::read(&opts.binary).map_err(file_err("read binary", &opts.binary))?;

    let bin_path = at("/usr/local/bin/gflab-agent");
    let mut changed = put_if_changed(&bin_path, &binary, 0o755)?;
    report.push(format!(
        "{} {}",
        if changed { "installed" } else { "unchanged:" },
        bin_path.display()
    ));
    let secret_dir = at("/etc/gflab");
    std::fs::create_dir_all(&secret_dir).map_err(file_err("create directory", &secret_dir))?;
    let secret_path = secret_dir.join("secret");
    let secret_changed = put_if_changed(&secret_path, secret.expose(), 0o600)?;
    report.push(format!(
        "{} {} (mode 0600)",
        if secret_changed {
            "wrote"
        } else {
            "unchanged:"
        },
        secret_path.display()
    ));
    changed |= secret_changed;

    let systemd = at("/run/systemd/system").is_dir();
    if systemd {
        let unit_path = at("/etc/systemd/system/gflab-agent.service");
        let unit = unit_text(opts.listen);
        let unit_changed = put_if_changed(&unit_path, unit.as_bytes(), 0o644)?;
        report.push(format!(
            "{} {}",
            if unit_changed { "wrote" } else { "unchanged:" },
            unit_path.display()
        ));
        changed |= unit_changed;
        if opts.start {
            run("systemctl", &["daemon-reload"])?;
            run("systemctl", &["enable", "gflab-agent.service"])?;
            let verb = if changed { "restart" } else { "start" };
            run("systemctl", &[verb, "gflab-agent.service"])?;
            report.push(format!(
                "systemctl enable + {verb} gflab-agent.service: agent listening on {}",
                opts.listen
            ));
        }
    } else {
        // The arguments of the detached agent, recorded so that a change is noticed (and restarts it).
        let args_path = at("/etc/gflab/agent.args");
        let mut args = vec![opts.listen.to_string()];
        args.extend(opts.daemon_args.iter().cloned());
        let args_changed = put_if_changed(&args_path, (args.join("\n") + "\n").as_bytes(), 0o644)?;
        report.push(format!(
            "{} {}",
            if args_changed { "wrote" } else { "unchanged:" },
            args_path.display()
        ));
        changed |= args_changed;
        if opts.start {
            report.push(start_detached(opts, &at, &bin_path, &secret_path, changed)?);
        }
    }
    if systemd && !opts.daemon_args.is_empty() {
        report.push("not used: --service/--start (systemd controls services on this host)".into());
    }
    Ok(report)
}

fn run(program: &str, args: &[&str]) -> Result<(), InstallError> {
    let command = format!("{program} {}", args.join(" "));
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| InstallError::Command {
            command: command.clone(),
            message: e.to_string(),
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(InstallError::Command {
            command,
            message: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}

/// Without systemd: (re)starts the agent as a detached process recorded in a pid file.
fn start_detached(
    opts: &InstallOptions,
    at: &dyn Fn(&str) -> PathBuf,
    bin_path: &Path,
    secret_path: &Path,
    changed: bool,
) -> Result<String, InstallError> {
    let pid_path = at("/run/gflab-agent.pid");
    let old = std::fs::read_to_string(&pid_path)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|pid| Path::new(&format!("/proc/{pid}")).exists());
    if let Some(pid) = old {
        if !changed {
            return Ok(format!(
                "agent already running (pid {pid}); this host does not run systemd, so it was \
                 started detached and will not start again at boot"
            ));
        }
        // SIGUSR2: the old agent frees the port at once and closes each connection once idle, so
        // a connected runner reconnects to the new one between requests (an agent too old to
        // drain just exits: that is SIGUSR2's default).
        let pid = nix::unistd::Pid::from_raw(pid);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR2);
        for _ in 0..50 {
            if nix::sys::signal::kill(pid, None).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let log_dir = at("/var/log/gflab-agent");
    std::fs::create_dir_all(&log_dir).map_err(file_err("create directory", &log_dir))?;
    let log_path = log_dir.join("agent.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(file_err("open", &log_path))?;
    let log_err = log.try_clone().map_err(file_err("open", &log_path))?;
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new(bin_path)
        .arg("--listen")
        .arg(opts.listen.to_string())
        .arg("--secret-file")
        .arg(secret_path)
        .args(&opts.daemon_args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(|e| InstallError::Command {
            command: bin_path.display().to_string(),
            message: e.to_string(),
        })?;
    std::thread::sleep(Duration::from_millis(300));
    if let Ok(Some(status)) = child.try_wait() {
        return Err(InstallError::Command {
            command: bin_path.display().to_string(),
            message: format!("exited at once with {status}; see {}", log_path.display()),
        });
    }
    let pid = child.id();
    put_if_changed(&pid_path, format!("{pid}\n").as_bytes(), 0o644)?;
    Ok(format!(
        "started the agent detached (pid {pid}, log {}), listening on {}; this host does not run \
         systemd, so it will not start again at boot",
        log_path.display(),
        opts.listen
    ))
}
