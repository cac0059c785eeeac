//! Exec: spawns a command in its own process group, streams stdout and stderr back under the client's
//! credit (so a fast producer never piles output up in memory), and kills the whole group on timeout,
//! cancel or a lost connection.
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tracing::debug;

use super::{Control, Inbox};
use crate::proto::ExitStatus;
use crate::proto::{ExecRequest, Reply, ServerMsg, CHUNK_LEN, STREAM_WINDOW};

/// After the command exits, output still arriving is forwarded until the pipes have been quiet this long
/// (a backgrounded process may keep them open forever).
const DRAIN_GRACE: Duration = Duration::from_millis(200);

/// How long a timed-out command may take to die after SIGKILL before the timeout is reported anyway.
const UNKILLABLE_GRACE: Duration = Duration::from_secs(5);

/// The longest timeout an exec may ask for (a year); anything larger is refused, not clamped silently.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// Kills a process group when dropped, unless disarmed (the command exited on its own).
struct GroupGuard(Option<i32>);

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pgid) = self.0 {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A one-line rendering of the command for messages.
fn display(req: &ExecRequest) -> String {
    match &req.shell {
        Some(line) => line.clone(),
        None => req.argv.join(" "),
    }
}

fn build(req: &ExecRequest) -> Result<tokio::process::Command, String> {
    let mut cmd = match (&req.shell, req.argv.split_first()) {
        (Some(line), _) => {
            let mut c = tokio::process::Command::new("/bin/sh");
            c.arg("-c").arg(line);
            c
        }
        (None, Some((program, args))) => {
            let mut c = tokio::process::Command::new(program);
            c.args(args);
            c
        }
        (None, None) => return Err("failed to run command: empty argv and no shell line".into()),
    };
    cmd.envs(req.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &req.cwd {
        cmd.current_dir(dir);
    }
    cmd.stdin(if req.stdin.is_some() || req.stdin_size.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0)
    .kill_on_drop(false);
    Ok(cmd)
}

/// Reads into `buf` from the pipe, if it is still open.
async fn read_pipe<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    match pipe {
        Some(p) => p.read(buf).await,
        None => std::future::pending().await,
    }
}

fn convert(status: std::process::ExitStatus) -> ExitStatus {
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitStatus::Code(code),
        (None, Some(sig)) => ExitStatus::Signal(sig),
        (None, None) => ExitStatus::Code(-1),
    }
}

/// Runs the command and sends its output and exit (or one error) as replies to `id`; returns how it
/// ended, in words (for the audit log).
pub(crate) async fn run(
    id: u64,
    req: ExecRequest,
    inbox: &mut Inbox,
    out: &mpsc::Sender<ServerMsg>,
) -> String {
    let send = |reply: Reply| out.send(ServerMsg::Reply { id, reply });
    let what = display(&req);
    if let Some(t) = req.timeout.filter(|t| *t > MAX_TIMEOUT) {
        let message = format!(
            "refused to run `{what}`: timeout of {} s is out of range (at most {} s)",
            t.as_secs(),
            MAX_TIMEOUT.as_secs()
        );
        let _ = send(Reply::Error(message.clone())).await;
        return format!("error: {message}");
    }
    let mut child = match build(&req).and_then(|mut c| {
        c.spawn().map_err(|e| {
            let cwd = req
                .cwd
                .as_deref()
                .map(|d| format!(" in {d}"))
                .unwrap_or_default();
            format!("failed to spawn `{what}`{cwd}: {e}")
        })
    }) {
        Ok(c) => c,
        Err(message) => {
            let _ = send(Reply::Error(message.clone())).await;
            return format!("error: {message}");
        }
    };
    let started = Instant::now();
    let mut group = GroupGuard(child.id().map(|p| p as i32));
    debug!(command = %what, pid = ?child.id(), "spawned");
    // Stdin is fed by its own task: the inline bytes, or `stdin_size` bytes of data messages passed
    // on by the loop below, granted to the client a window at a time as they are written. A command
    // that does not read its stdin closes the pipe: not an error.
    let mut stdin_feed: Option<mpsc::UnboundedSender<Vec<u8>>> = None;
    let mut _stdin_task: Option<AbortOnDrop> = None;
    if let Some(mut stdin) = child.stdin.take() {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        let (inline, mut left) = (req.stdin, req.stdin_size.unwrap_or(0));
        if req.stdin_size.is_some() {
            stdin_feed = Some(tx);
        }
        let mut inflow = inbox.inflow(id, left, out);
        // Stopped when the exec ends: what is left of stdin has no reader that matters any more.
        _stdin_task = Some(AbortOnDrop(tokio::spawn(async move {
            if let Some(data) = inline {
                let _ = stdin.write_all(&data).await;
            }
            while left > 0 {
                if !inflow.top_up().await {
                    break;
                }
                let Some(chunk) = rx.recv().await else { break };
                left = left.saturating_sub(chunk.len() as u64);
                if stdin.write_all(&chunk).await.is_err() {
                    break;
                }
                inflow.consumed(chunk.len());
            }
        })));
    }
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut buf_out = vec![0u8; CHUNK_LEN];
    let mut buf_err = vec![0u8; CHUNK_LEN];
    let mut credit = i64::from(STREAM_WINDOW);
    let deadline = req.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut status: Option<ExitStatus> = None;
    let mut ended_after = Duration::ZERO;
    let mut timed_out = false;
    let mut drain_until: Option<tokio::time::Instant> = None;
    let mut kill_deadline: Option<tokio::time::Instant> = None;
    let mut cancelled = false;
    loop {
        if status.is_some() && stdout.is_none() && stderr.is_none() {
            break;
        }
        let want = credit.clamp(0, CHUNK_LEN as i64) as usize;
        let can_read = want > 0;
        let mut read: Option<Reply> = None;
        tokio::select! {
            r = read_pipe(&mut stdout, &mut buf_out[..want]), if can_read && stdout.is_some() => {
                match r {
                    Ok(n) if n > 0 => read = Some(Reply::Stdout(buf_out[..n].to_vec())),
                    _ => stdout = None,
                }
            }
            r = read_pipe(&mut stderr, &mut buf_err[..want]), if can_read && stderr.is_some() => {
                match r {
                    Ok(n) if n > 0 => read = Some(Reply::Stderr(buf_err[..n].to_vec())),
                    _ => stderr = None,
                }
            }
            w = child.wait(), if status.is_none() => {
                ended_after = started.elapsed();
                status = Some(match w {
                    _ if timed_out => ExitStatus::TimedOut,
                    Ok(s) => convert(s),
                    Err(_) => ExitStatus::Code(-1),
                });
                drain_until = Some(tokio::time::Instant::now() + DRAIN_GRACE);
            }
            _ = inbox.cancel.cancelled(), if !cancelled => {
                debug!(command = %what, "cancelled");
                cancelled = true;
                group.kill();
            }
            c = inbox.rx.recv() => match c {
                Some(Control::Credit(n)) => credit += i64::from(n),
                Some(Control::Data(chunk)) => {
                    if let Some(feed) = &stdin_feed {
                        let _ = feed.send(chunk);
                    }
                }
                None => {
                    // The connection is gone: nobody will read the result.
                    group.kill();
                    return "killed: the connection ended".into();
                }
            },
            _ = sleep_until_opt(deadline), if deadline.is_some() && !timed_out && status.is_none() => {
                debug!(command = %what, "timed out");
                timed_out = true;
                group.kill();
                kill_deadline = Some(tokio::time::Instant::now() + UNKILLABLE_GRACE);
            }
            _ = sleep_until_opt(kill_deadline), if kill_deadline.is_some() && status.is_none() => {
                // Stuck in the kernel (a hung mount): SIGKILL takes effect only when the system call
                // returns. Report the timeout now; the runtime reaps the process whenever it dies.
                tracing::warn!(command = %what, pid = ?child.id(), "process survived SIGKILL; reporting the timeout without it");
                status = Some(ExitStatus::TimedOut);
                ended_after = started.elapsed();
                break;
            }
            _ = sleep_until_opt(drain_until), if drain_until.is_some() && can_read => break,
        }
        if let Some(reply) = read {
            if let Reply::Stdout(b) | Reply::Stderr(b) = &reply {
                credit -= b.len() as i64;
            }
            if status.is_some() {
                drain_until = Some(tokio::time::Instant::now() + DRAIN_GRACE);
            }
            if send(reply).await.is_err() {
                return "killed: the connection ended".into(); // the guard kills the group
            }
        }
    }
    if !timed_out {
        // It exited by itself: what it left running in the background is its business.
        group.0 = None;
    } else {
        group.kill();
        group.0 = None;
    }
    let status = status.unwrap_or(ExitStatus::Code(-1));
    let _ = send(Reply::Exit {
        status,
        duration: ended_after,
    })
    .await;
    match status {
        ExitStatus::Code(c) => format!("exit {c}"),
        ExitStatus::Signal(s) => format!("signal {s}"),
        ExitStatus::TimedOut => "timed out".into(),
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
