//! Profile with one glusterd down: `profile info` from a live server still answers, listing the
//! bricks of the servers whose glusterd runs with their WRITE counts; once glusterd is back every
//! brick is listed again and profiling can be stopped.
//!
//! Ported from glusto-tests
//! `tests/functional/glusterd/test_profile_operations_with_one_node_down.py` (profile start, I/O,
//! glusterd stopped on one node, profile info from the others, glusterd started, info again).
use crate::prelude::*;

pub const CASE: Case = Case::new(765, "profile_one_glusterd_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let down = ctx.server(2)?;
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let client = ctx.client(0)?;
    mgmt::profile_start(&ctx, &vol).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("a", 4, 128 << 10)).await?;

    glusterd::stop(&ctx, &down).await?;
    wait_for(
        &ctx,
        &format!("{} to see {} disconnected", vol.server.name(), down.name()),
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            let peers = peer::status(&ctx, &vol.server).await?;
            Ok(match peers.iter().find(|p| p.is(down.host())) {
                Some(p) if !p.connected => Poll::Ready(()),
                _ => Poll::Pending("still connected".into()),
            })
        },
    )
    .await?;
    io::write_files(&ctx, &client, &m.path, &io::files("b", 4, 128 << 10)).await?;
    let prof = mgmt::profile_info(&ctx, &vol).await?;
    for b in &vol.bricks {
        let listed = prof.iter().find(|p| p.brick == b.spec());
        if b.node.name() == down.name() {
            ensure!(
                listed.is_none(),
                "profile info lists brick {} whose glusterd is down",
                b.spec()
            );
        } else {
            ensure!(
                listed.is_some_and(|p| p.calls("WRITE") >= 8),
                "profile info with {} down: brick {} has {:?} WRITE calls (want >= 8)",
                down.name(),
                b.spec(),
                listed.map(|p| p.calls("WRITE"))
            );
        }
    }

    glusterd::start(&ctx, &down).await?;
    glusterd::wait(&ctx, &down, Duration::from_secs(60)).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    let prof = mgmt::profile_info(&ctx, &vol).await?;
    for b in &vol.bricks {
        ensure!(
            prof.iter().any(|p| p.brick == b.spec() && p.calls("WRITE") >= 8),
            "after glusterd is back, brick {} is not listed with its WRITE calls: {:?}",
            b.spec(),
            prof.iter().map(|p| (&p.brick, p.calls("WRITE"))).collect::<Vec<_>>()
        );
    }
    mgmt::profile_stop(&ctx, &vol).await?;
    Ok(())
}
