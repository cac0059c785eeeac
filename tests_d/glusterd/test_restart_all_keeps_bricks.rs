//! Restarting glusterd on every server, one after another, leaves the volume's brick processes
//! alone (same pids, still online) and the self-heal daemon running on every server; the pool
//! reconnects and the mount keeps serving.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_self_heal_quota_daemon_after_reboot.py`
//! (bricks online and the self-heal daemon running on every node after a node comes back; here
//! glusterd is restarted instead of the node rebooted) and
//! `test_brick_port_after_stop_glusterd_modify_volume.py` (a brick keeps its process across
//! glusterd stop/start).
use crate::prelude::*;

pub const CASE: Case = Case::new(759, "glusterd_restart_all_keeps_bricks", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(600)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let client = ctx.client(0)?;
    let before = vol.status(&ctx).await?;
    ensure!(
        before.iter().all(|b| b.pid.is_some()),
        "a brick has no pid before the restarts: {before:?}"
    );
    let mut shd = Vec::new();
    for s in ctx.servers() {
        let pid = wait_for(
            &ctx,
            &format!("the self-heal daemon on {}", s.name()),
            Duration::from_secs(60),
            Duration::from_secs(1),
            || async {
                Ok(match mgmt::shd_pid(&ctx, &s).await? {
                    Some(p) => Poll::Ready(p),
                    None => Poll::Pending("no glustershd process".into()),
                })
            },
        )
        .await?;
        shd.push((s, pid));
    }
    let first = io::write_files(&ctx, &client, &m.path, &io::files("a", 4, 64 << 10)).await?;

    for s in ctx.servers() {
        let old = mgmt::pids(&ctx, &s, "glusterd").await?;
        glusterd::restart(&ctx, &s).await?;
        glusterd::wait(&ctx, &s, Duration::from_secs(60)).await?;
        let new = mgmt::pids(&ctx, &s, "glusterd").await?;
        ensure!(
            !new.is_empty() && new.iter().all(|p| !old.contains(p)),
            "glusterd on {} was not restarted: pids {old:?} -> {new:?}",
            s.name()
        );
        peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    }
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let after = vol.status(&ctx).await?;
    for b in &before {
        let now = after.iter().find(|a| a.path == b.path && a.host == b.host);
        ensure!(
            now.is_some_and(|a| a.pid == b.pid),
            "brick {} changed pid across the glusterd restarts: {:?} -> {:?}",
            b.spec(),
            b.pid,
            now.and_then(|a| a.pid)
        );
    }
    for (s, _) in &shd {
        wait_for(
            &ctx,
            &format!("the self-heal daemon on {} after the restarts", s.name()),
            Duration::from_secs(60),
            Duration::from_secs(1),
            || async {
                Ok(match mgmt::shd_pid(&ctx, s).await? {
                    Some(p) => Poll::Ready(p),
                    None => Poll::Pending("no glustershd process".into()),
                })
            },
        )
        .await?;
    }
    let second = io::write_files(&ctx, &client, &m.path, &io::files("b", 4, 64 << 10)).await?;
    let all: Vec<io::FileSum> = first.into_iter().chain(second).collect();
    io::verify(&ctx, &client, &m.path, &all).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    Ok(())
}
