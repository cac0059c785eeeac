//! The self-heal daemon in `volume status`: a started replicated volume lists a Self-heal Daemon
//! on every server holding one of its bricks, online with a pid that is a running glustershd;
//! with `cluster.self-heal-daemon off` it is no longer listed for the volume, and back on it is
//! listed online again. `volume status VOL shd` answers for the daemons alone. A distribute volume
//! lists none. Runs on every replicated type.
//!
//! Ported from glusto-tests `tests/functional/afr/heal/test_self_heal_daemon_process.py`
//! (glustershd running on every node, gone when disabled, back when enabled) and
//! `tests/functional/afr/heal/test_no_glustershd_with_distribute.py` (no daemon listed for a
//! distribute volume).
use crate::prelude::*;

pub const CASE: Case = Case::new(427, "shd_in_volume_status", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::REPLICATED)
    .timeout_secs(300);

/// (hostname, online, pid) of the Self-heal Daemon entries of `volume status VOL [shd]`.
async fn daemons(ctx: &Ctx, vol: &Volume, only_shd: bool) -> Result<Vec<(String, bool, Option<u32>)>, TestError> {
    let mut args = vec!["volume", "status", vol.name.as_str()];
    if only_shd {
        args.push("shd");
    }
    let root = gluster_xml(ctx, &vol.server, args).await?;
    let Some(v) = root.find("volStatus").and_then(|s| s.find("volume")) else {
        return Ok(Vec::new());
    };
    Ok(v.children("node")
        .filter(|n| n.child_text("hostname") == Some("Self-heal Daemon"))
        .map(|n| {
            (
                n.child_text("path").unwrap_or_default().to_string(),
                n.child_text("status") == Some("1"),
                n.child_text("pid").and_then(|p| p.parse().ok()).filter(|p| *p > 0),
            )
        })
        .collect())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let mut hosts: Vec<String> = vol.bricks.iter().map(|b| b.node.host().to_string()).collect();
    hosts.sort();
    hosts.dedup();
    let listed = wait_for(&ctx, "a self-heal daemon online for every brick server", Duration::from_secs(60), Duration::from_secs(2), || async {
        let d = daemons(&ctx, &vol, false).await?;
        Ok(if d.len() == hosts.len() && d.iter().all(|(_, on, pid)| *on && pid.is_some()) {
            Poll::Ready(d)
        } else {
            Poll::Pending(format!("{d:?}"))
        })
    })
    .await?;
    for (host, _, pid) in &listed {
        // Gluster names the daemon of the node asked `localhost`.
        let node = if host == "localhost" {
            vol.server.clone()
        } else {
            ctx.server_by_host(host)?
        };
        let pid = pid.unwrap_or_default();
        let cmd = ctx.sh(&node, format!("cat /proc/{pid}/cmdline | tr '\\0' ' '")).await?;
        ensure!(cmd.contains("glustershd"), "pid {pid} on {host} listed as the self-heal daemon runs {cmd:?}");
    }
    let shd_only = daemons(&ctx, &vol, true).await?;
    ensure_eq!(shd_only.len(), hosts.len(), "daemons in `volume status VOL shd`: {shd_only:?}");

    vol.set(&ctx, "cluster.self-heal-daemon", "off").await?;
    wait_for(&ctx, "no self-heal daemon listed for the volume", Duration::from_secs(60), Duration::from_secs(2), || async {
        let d = daemons(&ctx, &vol, false).await?;
        Ok(if d.iter().all(|(_, on, _)| !on) { Poll::Ready(()) } else { Poll::Pending(format!("{d:?}")) })
    })
    .await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    wait_for(&ctx, "the self-heal daemons listed online again", Duration::from_secs(60), Duration::from_secs(2), || async {
        let d = daemons(&ctx, &vol, false).await?;
        Ok(if d.len() == hosts.len() && d.iter().all(|(_, on, _)| *on) { Poll::Ready(()) } else { Poll::Pending(format!("{d:?}")) })
    })
    .await?;

    let plain = volume::create(&ctx, VolumeSpec::distribute(3)).await?;
    plain.start_and_wait(&ctx).await?;
    let d = daemons(&ctx, &plain, false).await?;
    ensure!(d.is_empty(), "a distribute volume lists self-heal daemons: {d:?}");
    Ok(())
}
