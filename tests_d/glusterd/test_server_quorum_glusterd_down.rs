//! Server quorum with glusterd stopped: with `cluster.server-quorum-type server` on a volume over
//! three servers, stopping glusterd on one leaves two of three (quorum met): every brick stays
//! up. Stopping a second leaves the last server alone without quorum: its glusterd stops its
//! brick. Once both glusterds are back, quorum returns and the brick is started again.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_brick_status_when_quorum_not_met.py`
//! (bricks go offline when server quorum is lost by stopping glusterd on nodes, come back when
//! glusterd starts) and glusterfs `tests/bugs/glusterd/quorum-validation.t`.
use crate::prelude::*;

pub const CASE: Case = Case::new(761, "server_quorum_glusterd_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(600)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2, s3) = (ctx.server(0)?, ctx.server(1)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    mgmt::server_quorum(&ctx, &vol).await?;
    vol.start_and_wait(&ctx).await?;
    ensure_eq!(
        vol.get(&ctx, "cluster.server-quorum-type").await?.as_str(),
        "server",
        "cluster.server-quorum-type"
    );

    glusterd::stop(&ctx, &s3).await?;
    // Give glusterd on s1 time to notice the peer gone and act (it would stop bricks at once).
    wait_for(
        &ctx,
        &format!("{} to see {} disconnected", s1.name(), s3.name()),
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            let peers = peer::status(&ctx, &s1).await?;
            Ok(match peers.iter().find(|p| p.is(s3.host())) {
                Some(p) if !p.connected => Poll::Ready(()),
                _ => Poll::Pending("still connected".into()),
            })
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    for s in [&s1, &s2, &s3] {
        ensure_eq!(
            brick::processes_on(&ctx, s, &vol).await?,
            1,
            "brick processes on {} with one glusterd of three down (quorum met)",
            s.name()
        );
    }

    glusterd::stop(&ctx, &s2).await?;
    wait_for(
        &ctx,
        &format!("glusterd on {} to stop its brick without quorum", s1.name()),
        Duration::from_secs(90),
        Duration::from_secs(1),
        || async {
            Ok(match brick::processes_on(&ctx, &s1, &vol).await? {
                0 => Poll::Ready(()),
                n => Poll::Pending(format!("{n} brick process(es) still running")),
            })
        },
    )
    .await?;
    let a = mgmt::set_attempt(&ctx, &s1, &vol.name, "performance.readdir-ahead", "off").await?;
    ensure!(!a.ok, "volume set accepted without server quorum: {}", a.message);

    glusterd::start(&ctx, &s2).await?;
    glusterd::start(&ctx, &s3).await?;
    for s in [&s2, &s3] {
        glusterd::wait(&ctx, s, Duration::from_secs(60)).await?;
    }
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    vol.wait_online(&ctx, Duration::from_secs(120)).await?;
    ensure_eq!(
        brick::processes_on(&ctx, &s1, &vol).await?,
        1,
        "brick processes on {} once quorum is back",
        s1.name()
    );
    Ok(())
}
