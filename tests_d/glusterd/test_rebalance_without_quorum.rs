//! `rebalance start` is refused while server quorum is not met: with server quorum on a
//! distribute volume over three servers, the ratio at 95% and glusterd stopped on the third,
//! starting a rebalance is refused ("volume rebalance: VOL: failed: Quorum not met. Volume
//! operation not allowed"), `volume status` lists no rebalance task, and once glusterd is back
//! (every brick online) `rebalance status` says none was started.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_rebalance_when_quorum_not_met.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(784, "rebalance_without_quorum", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(600)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, down) = (ctx.server(0)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::distribute(3)).await?;
    vol.start_and_wait(&ctx).await?;
    mgmt::lose_server_quorum(&ctx, &vol, &down).await?;

    let a = mgmt::attempt(&ctx, &s1, ["volume", "rebalance", vol.name.as_str(), "start"]).await?;
    ensure!(!a.ok, "rebalance start succeeded without server quorum: {}", a.message);
    let want = format!(
        "volume rebalance: {}: failed: Quorum not met. Volume operation not allowed",
        vol.name
    );
    ensure!(a.says(&want), "rebalance start refused without saying {want:?}: {}", a.message);
    let status = gluster(&ctx, &s1, ["volume", "status", vol.name.as_str()]).await?;
    ensure!(
        !status.to_lowercase().contains("rebalance"),
        "volume status lists a rebalance task after the refused start:\n{status}"
    );

    mgmt::regain_server_quorum(&ctx, &vol, &down).await?;
    let st = mgmt::attempt(&ctx, &s1, ["volume", "rebalance", vol.name.as_str(), "status"]).await?;
    ensure!(
        !st.ok && st.says("not started"),
        "rebalance status after the refused start: want \"not started\", got ok={} {:?}",
        st.ok,
        st.message
    );
    Ok(())
}
