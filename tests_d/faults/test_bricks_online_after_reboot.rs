//! Volumes of every redundant type (disperse, replicate, arbiter, distributed-replicate) survive a
//! server reboot: the server's brick processes die with it and glusterd brings new ones up on its
//! own, so every brick is online again without `volume start force`; the same holds with brick
//! multiplexing on, where its bricks then share processes. Port of glusto-tests
//! `tests/functional/glusterd/test_bricks_online_after_node_reboot.py`.
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::prelude::*;

pub const CASE: Case = Case::new(316, "bricks_online_after_server_reboot", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 0).with(&[Capability::Reboot]))
.timeout_secs(600)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let cli = ctx.server(0)?;
    // Registered first so that it runs last, after the volumes are gone.
    ctx.defer(Cleanup::Command {
        node: cli.clone(),
        command: Command::new("gluster").args([
            "--mode=script",
            "volume",
            "set",
            "all",
            "cluster.brick-multiplex",
            "disable",
        ]),
    });
    let mut vols = Vec::new();
    for spec in [
        VolumeSpec::disperse(6, 2),
        VolumeSpec::replicate(3),
        VolumeSpec::arbiter(1),
        VolumeSpec::distributed_replicate(3, 2),
    ] {
        let v = volume::create(&ctx, spec).await?;
        v.start_and_wait(&ctx).await?;
        vols.push(v);
    }
    // The source reboots a random server; here the second, never the one the CLI runs on.
    let target = ctx.server(1)?;

    reboot_and_check(&ctx, &vols, &target).await?;

    ctx.step("brick multiplexing on; volumes restarted to take it");
    gluster(
        &ctx,
        &cli,
        ["volume", "set", "all", "cluster.brick-multiplex", "enable"],
    )
    .await?;
    for v in &vols {
        v.stop(&ctx).await?;
    }
    for v in &vols {
        v.start_and_wait(&ctx).await?;
    }
    let pids = brick_pids(&ctx, &vols, &target).await?;
    let processes: BTreeSet<u32> = pids.values().copied().collect();
    ensure!(
        processes.len() < pids.len(),
        "with brick multiplexing on, the {} bricks on {} still run in {} processes: {pids:?}",
        pids.len(),
        target.name(),
        processes.len()
    );

    reboot_and_check(&ctx, &vols, &target).await
}

/// Reboots `target`, then checks that the pool reconnects, every brick of every volume comes back
/// online, and `target`'s bricks run in processes started since the reboot began (a container's
/// PIDs start over, so the age of the process tells, not its PID).
async fn reboot_and_check(ctx: &Ctx, vols: &[Volume], target: &Node) -> Result<(), TestError> {
    let before = brick_pids(ctx, vols, target).await?;
    ensure!(
        !before.is_empty(),
        "no brick of the test's volumes runs on {}",
        target.name()
    );
    // Every brick at least a few seconds old first, so that old and new processes tell apart.
    let list = pid_list(before.values());
    wait_for(
        ctx,
        &format!("the brick processes on {} to be 3s old", target.name()),
        Duration::from_secs(30),
        Duration::from_secs(1),
        || async {
            let ages = ctx.sh(target, format!("ps -o etimes= -p {list}")).await?;
            let young = ages
                .split_whitespace()
                .filter_map(|a| a.parse::<u64>().ok())
                .min()
                .unwrap_or(0);
            Ok(if young >= 3 {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("youngest {young}s"))
            })
        },
    )
    .await?;
    let began = Instant::now();
    fault::reboot(ctx, target).await?;
    glusterd::wait(ctx, target, Duration::from_secs(120)).await?;
    peer::wait_connected(ctx, Duration::from_secs(120)).await?;
    for v in vols {
        brick::wait_online(ctx, v, Duration::from_secs(180)).await?;
    }
    let after = brick_pids(ctx, vols, target).await?;
    ensure_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "bricks of {} listed online after its reboot",
        target.name()
    );
    let pids: BTreeSet<u32> = after.values().copied().collect();
    let list = pid_list(pids.iter());
    let ages = ctx
        .sh(target, format!("ps -o pid=,etimes= -p {list}"))
        .await?;
    let since = began.elapsed().as_secs() + 1;
    let old: Vec<&str> = ages
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|s| s.parse::<u64>().ok())
                .is_none_or(|age| age > since)
        })
        .collect();
    ensure!(
        old.is_empty() && ages.lines().count() == pids.len(),
        "brick processes on {} are older than its reboot ({since}s ago), so they never went \
         down: pid, age in s: {}",
        target.name(),
        ages.trim()
    );
    Ok(())
}

/// PIDs as `ps -p` takes them, each once.
fn pid_list<'a>(pids: impl Iterator<Item = &'a u32>) -> String {
    let set: BTreeSet<u32> = pids.copied().collect();
    set.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// The PID of every online brick of `vols` on `node`, by `host:/path`.
async fn brick_pids(
    ctx: &Ctx,
    vols: &[Volume],
    node: &Node,
) -> Result<BTreeMap<String, u32>, TestError> {
    let mut pids = BTreeMap::new();
    for v in vols {
        for b in v.status(ctx).await? {
            if b.host != node.host() && b.host != node.name() {
                continue;
            }
            if let Some(pid) = b.pid {
                pids.insert(b.spec(), pid);
            }
        }
    }
    Ok(pids)
}
