//! glusterd's memory stays bounded over 20 volume create/start/stop/delete cycles: its resident
//! set after the cycles is at most 30 MiB above what it was after two warm-up cycles, on every
//! server; every volume is gone at the end.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_glusterd_memory_consumption_increase.py`
//! (repeated volume create/start/stop/delete, glusterd memory checked against a bound).
use crate::prelude::*;

pub const CASE: Case = Case::new(762, "glusterd_memory_cycles", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(900);

const CYCLES: usize = 20;
const WARMUP: usize = 2;
const BOUND_KIB: u64 = 30 * 1024;

async fn cycle(ctx: &Ctx) -> Result<String, TestError> {
    let vol = volume::create(ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(ctx).await?;
    vol.stop(ctx).await?;
    vol.delete(ctx).await?;
    Ok(vol.name)
}

async fn rss(ctx: &Ctx) -> Result<Vec<u64>, TestError> {
    let mut v = Vec::new();
    for s in ctx.servers() {
        v.push(mgmt::glusterd_rss_kib(ctx, &s).await?);
    }
    Ok(v)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let mut names = Vec::new();
    for _ in 0..WARMUP {
        names.push(cycle(&ctx).await?);
    }
    let base = rss(&ctx).await?;
    ctx.step(format!("glusterd RSS after warm-up (KiB): {base:?}"));
    for i in 0..CYCLES {
        names.push(cycle(&ctx).await?);
        if i % 5 == 4 {
            ctx.step(format!("after {} cycles RSS (KiB): {:?}", i + 1, rss(&ctx).await?));
        }
    }
    let end = rss(&ctx).await?;
    for ((s, b), e) in ctx.servers().iter().zip(&base).zip(&end) {
        ensure!(
            e.saturating_sub(*b) <= BOUND_KIB,
            "glusterd on {} grew from {b} KiB to {e} KiB over {CYCLES} cycles (bound {BOUND_KIB} KiB)",
            s.name()
        );
    }
    let left = volume::list(&ctx, &ctx.server(0)?).await?;
    ensure!(
        !names.iter().any(|n| left.contains(n)),
        "a cycled volume is still listed: {left:?}"
    );
    Ok(())
}
