//! glusterd's defaults on every server: `/etc/glusterfs/glusterd.vol` sets `ping-timeout 0`
//! (no ping timer between glusterds) and a freshly started glusterd, once its peers are
//! connected again, has exactly one epoll thread (threads named `glfs_epoll*`; 10.3 names its
//! event threads, so they are counted from `/proc/PID/task/*/comm` rather than from kernel
//! stacks as the source does). The source starts glusterd first and so does this test: on 10.3
//! a glusterd that has run through other scenarios was seen with a second `glfs_epoll000`
//! thread (started twice at the end of 782, a replace-brick refused without server quorum).
//!
//! Ported from glusto-tests
//! `tests/functional/glusterd/test_default_ping_timer_and_epoll_thread_count.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(778, "glusterd_ping_timeout_and_epoll_threads", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(1, 0))
.timeout_secs(300)
.disruptive();

/// The value of `option ping-timeout` in a glusterd volfile.
fn ping_timeout(volfile: &str) -> Option<&str> {
    volfile.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        match (w.next(), w.next(), w.next()) {
            (Some("option"), Some("transport.socket.ping-timeout" | "ping-timeout"), Some(v)) => {
                Some(v)
            }
            _ => None,
        }
    })
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    for s in ctx.servers() {
        glusterd::restart(&ctx, &s).await?;
        glusterd::wait(&ctx, &s, Duration::from_secs(60)).await?;
    }
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    for s in ctx.servers() {
        let volfile = ctx.sh(&s, "cat /etc/glusterfs/glusterd.vol").await?;
        ensure_eq!(
            ping_timeout(&volfile),
            Some("0"),
            "option ping-timeout in /etc/glusterfs/glusterd.vol on {}",
            s.name()
        );
        let pids = mgmt::pids(&ctx, &s, "glusterd").await?;
        ensure_eq!(pids.len(), 1, "glusterd processes on {}", s.name());
        let names = ctx
            .sh(&s, format!("cat /proc/{}/task/*/comm", pids[0]))
            .await?;
        let epoll: Vec<&str> = names
            .lines()
            .map(str::trim)
            .filter(|n| n.starts_with("glfs_epoll"))
            .collect();
        ensure_eq!(
            epoll.len(),
            1,
            "epoll threads of glusterd (pid {}) on {} (threads: {:?})",
            pids[0],
            s.name(),
            names.split_whitespace().collect::<Vec<_>>()
        );
    }
    Ok(())
}
