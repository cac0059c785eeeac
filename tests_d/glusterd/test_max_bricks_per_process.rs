//! `cluster.max-bricks-per-process`: 250 by default on every server, still 250 after `volume
//! reset all all` and after brick multiplexing is enabled. On 10.3 it cannot be set while
//! multiplexing is off (refused: "Brick-multiplexing is not enabled"); with multiplexing on, a
//! new value (100) reaches every server and `volume reset all` of the key brings back 250.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_default_max_bricks_per_process.py`
//! (default kept over a reset and over enabling multiplexing); the refusal and the set are
//! what 10.3 adds around it.
use crate::prelude::*;

pub const CASE: Case = Case::new(786, "max_bricks_per_process_default", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 0))
.timeout_secs(300)
.disruptive();

const KEY: &str = "cluster.max-bricks-per-process";
const DEFAULT: &str = "250";

async fn ensure_everywhere(ctx: &Ctx, want: &str, when: &str) -> Result<(), TestError> {
    for s in ctx.servers() {
        ensure_eq!(
            mgmt::get(ctx, &s, "all", KEY).await?,
            want,
            "{KEY} on {} {when}",
            s.name()
        );
    }
    Ok(())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    // Registered first so it runs last, whatever the test set.
    ctx.defer(Cleanup::Command {
        node: s1.clone(),
        command: Command::new("gluster").args(["--mode=script", "volume", "reset", "all", KEY]),
    });
    ensure_everywhere(&ctx, DEFAULT, "at the start (its default)").await?;

    let a = mgmt::set_attempt(&ctx, &s1, "all", KEY, "100").await?;
    ensure!(
        !a.ok,
        "volume set all {KEY} 100 with brick multiplexing off should be refused but succeeded: {}",
        a.message
    );
    ensure!(
        a.says("Brick-multiplexing is not enabled"),
        "volume set all {KEY} refused without saying multiplexing is off: {}",
        a.message
    );
    ensure_everywhere(&ctx, DEFAULT, "after the refused set").await?;

    gluster(&ctx, &s1, ["volume", "reset", "all", "all"]).await?;
    ensure_everywhere(&ctx, DEFAULT, "after volume reset all all").await?;

    mgmt::brick_multiplex(&ctx, &s1, true).await?;
    ensure_everywhere(&ctx, DEFAULT, "with brick multiplexing enabled").await?;

    gluster(&ctx, &s1, ["volume", "set", "all", KEY, "100"]).await?;
    ensure_everywhere(&ctx, "100", "after setting it to 100 (multiplexing on)").await?;
    gluster(&ctx, &s1, ["volume", "reset", "all", KEY]).await?;
    ensure_everywhere(&ctx, DEFAULT, "after volume reset all of it").await
}
