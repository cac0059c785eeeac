//! Server quorum ratio: with `cluster.server-quorum-ratio 95` every server is needed, so
//! stopping glusterd on one server makes the two others stop their bricks of a volume with
//! server quorum; once it starts again quorum is met and every brick is back online.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_glusterd_quorum.py` (server quorum
//! ratio set to 95, one node's glusterd stopped, bricks on the others go offline, back after
//! glusterd starts) and glusterfs `tests/bugs/glusterd/quorum-validation.t`.
use crate::prelude::*;

pub const CASE: Case = Case::new(767, "server_quorum_ratio_all_needed", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 0))
.timeout_secs(600)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2, s3) = (ctx.server(0)?, ctx.server(1)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    mgmt::server_quorum(&ctx, &vol).await?;
    mgmt::server_quorum_ratio(&ctx, &s1, 95).await?;
    vol.start_and_wait(&ctx).await?;
    ensure_eq!(
        mgmt::get(&ctx, &s2, "all", "cluster.server-quorum-ratio").await?.as_str(),
        "95",
        "the ratio on {}",
        s2.name()
    );

    glusterd::stop(&ctx, &s3).await?;
    for s in [&s1, &s2] {
        wait_for(
            &ctx,
            &format!("glusterd on {} to stop its brick (2 of 3 < 95%)", s.name()),
            Duration::from_secs(90),
            Duration::from_secs(1),
            || async {
                Ok(match brick::processes_on(&ctx, s, &vol).await? {
                    0 => Poll::Ready(()),
                    n => Poll::Pending(format!("{n} brick process(es) still running")),
                })
            },
        )
        .await?;
    }

    glusterd::start(&ctx, &s3).await?;
    glusterd::wait(&ctx, &s3, Duration::from_secs(60)).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    vol.wait_online(&ctx, Duration::from_secs(120)).await?;
    for s in [&s1, &s2, &s3] {
        ensure_eq!(
            brick::processes_on(&ctx, s, &vol).await?,
            1,
            "brick processes on {} once quorum is back",
            s.name()
        );
    }
    Ok(())
}
