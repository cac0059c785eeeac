//! Brick multiplexing: with `cluster.brick-multiplex on`, the bricks of two volumes started
//! afterwards share one `glusterfsd` per server (each volume's bricks report that pid); turned
//! off and the volumes restarted, every brick has a process of its own again.
//!
//! Ported from glusto-tests
//! `tests/functional/glusterd/test_enable_brickmux_create_and_stop_three_volumes.py` (with brick
//! multiplexing on, one brick process per node for several volumes) and
//! `test_brickmux_brick_process.py` (bricks of different volumes share the pid).
use crate::prelude::*;

pub const CASE: Case = Case::new(760, "brick_multiplex_one_process", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(600)
    .disruptive();

async fn count_all(ctx: &Ctx) -> Result<Vec<usize>, TestError> {
    let mut v = Vec::new();
    for s in ctx.servers() {
        v.push(mgmt::glusterfsd_count(ctx, &s).await?);
    }
    Ok(v)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    ensure!(
        count_all(&ctx).await?.iter().all(|n| *n == 0),
        "brick processes run before the test; the count below would be wrong"
    );
    mgmt::brick_multiplex(&ctx, &s1, true).await?;
    ensure_eq!(
        mgmt::get(&ctx, &s1, "all", "cluster.brick-multiplex").await?.as_str(),
        "on",
        "cluster.brick-multiplex after setting it"
    );
    let a = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    let b = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    a.start_and_wait(&ctx).await?;
    b.start_and_wait(&ctx).await?;
    let counts = count_all(&ctx).await?;
    ensure!(
        counts.iter().all(|n| *n == 1),
        "with brick multiplexing on, glusterfsd processes per server: {counts:?} (want 1 each)"
    );
    let (sa, sb) = (a.status(&ctx).await?, b.status(&ctx).await?);
    for x in &sa {
        let y = sb.iter().find(|y| y.host == x.host).ok_or_else(|| {
            TestError::Check(format!("{} has no brick on {}", b.name, x.host))
        })?;
        ensure!(
            x.pid.is_some() && x.pid == y.pid,
            "bricks {} and {} on one server do not share a process: {:?} vs {:?}",
            x.spec(),
            y.spec(),
            x.pid,
            y.pid
        );
    }

    ctx.step("multiplexing off; restart the volumes");
    gluster(&ctx, &s1, ["volume", "set", "all", "cluster.brick-multiplex", "off"]).await?;
    for v in [&a, &b] {
        v.stop(&ctx).await?;
        v.start_and_wait(&ctx).await?;
    }
    let counts = count_all(&ctx).await?;
    ensure!(
        counts.iter().all(|n| *n == 2),
        "with brick multiplexing off, glusterfsd processes per server: {counts:?} (want 2 each)"
    );
    Ok(())
}
