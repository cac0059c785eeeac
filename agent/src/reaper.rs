//! PID 1 mode. In a container or a minimal VM the agent is PID 1, and every daemon that detaches
//! (glusterd's bricks, mount helpers) is re-parented to it when its parent exits. So when the agent
//! starts as PID 1 it re-executes itself as a child that runs the real daemon, and stays behind as a
//! plain reaper: it waits for any child (`waitpid(-1)`), forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to the
//! daemon, and exits with the daemon's status. The daemon itself (tokio) only ever waits for its own
//! children by pid.
//!
//! Signals are handled without handlers: the reaper blocks them and takes them with `sigwait`; the
//! daemon unblocks them first thing ([`unblock_signals`]), since a blocked mask is inherited across exec.
use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Set in the daemon's environment by the reaper, so the daemon does not become a reaper again.
pub const CHILD_ENV: &str = "GFLAB_AGENT_UNDER_REAPER";

fn handled() -> SigSet {
    let mut set = SigSet::empty();
    for sig in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        set.add(sig);
    }
    set
}

/// Whether this process should become the reaper (it is PID 1 and not already the reaper's child).
pub fn needed() -> bool {
    nix::unistd::getpid().as_raw() == 1 && std::env::var_os(CHILD_ENV).is_none()
}

/// Undoes the reaper's signal mask in the daemon.
pub fn unblock_signals() {
    let _ = handled().thread_unblock();
}

/// Runs the daemon as a child with these arguments and reaps until it exits; returns its exit code
/// (128 + signal if it was killed).
pub fn run(args: Vec<OsString>) -> i32 {
    let set = handled();
    if let Err(e) = set.thread_block() {
        eprintln!("error: failed to block signals in the reaper: {e}");
        return 1;
    }
    let arg0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| "gflab-agent".into());
    // The binary's own path (so `ps` shows its name); /proc/self/exe if it was replaced meanwhile.
    let exe = std::env::current_exe()
        .ok()
        .filter(|p| p.exists())
        .unwrap_or_else(|| "/proc/self/exe".into());
    let daemon = match std::process::Command::new(exe)
        .arg0(arg0)
        .args(args.iter().skip(1))
        .env(CHILD_ENV, "1")
        .spawn()
    {
        Ok(c) => Pid::from_raw(c.id() as i32),
        Err(e) => {
            eprintln!("error: failed to start the agent daemon under the reaper: {e}");
            return 1;
        }
    };
    loop {
        match set.wait() {
            Ok(Signal::SIGCHLD) => {
                if let Some(code) = reap(daemon) {
                    return code;
                }
            }
            Ok(sig) => {
                let _ = kill(daemon, sig);
            }
            Err(_) => continue,
        }
    }
}

/// Reaps every exited child; `Some(code)` once the daemon is among them.
fn reap(daemon: Pid) -> Option<i32> {
    let mut daemon_code = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == daemon => daemon_code = Some(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == daemon => {
                daemon_code = Some(128 + sig as i32)
            }
            Ok(WaitStatus::StillAlive) => break,
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(_) => break, // ECHILD: no children left
        }
    }
    daemon_code
}
