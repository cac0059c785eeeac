//! Profile with one glusterd down: `profile info` from a live server still answers, listing the
//! bricks of the servers whose glusterd runs with their WRITE counts (which count the writes made
//! while it was down); once glusterd is back every brick is listed again and profiling can be
//! stopped.
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
    // Each brick's WRITE calls with every glusterd up: at least one per file written.
    let prof = mgmt::profile_info(&ctx, &vol).await?;
    let mut first = Vec::new();
    for b in &vol.bricks {
        let n = prof.iter().find(|p| p.brick == b.spec()).map(|p| p.calls("WRITE"));
        ensure!(
            n.is_some_and(|n| n >= 4),
            "profile info after the first 4 files: brick {} has {n:?} WRITE calls (want >= 4)",
            b.spec()
        );
        first.push(n.unwrap_or_default());
    }

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
    for (b, before) in vol.bricks.iter().zip(&first) {
        let listed = prof.iter().find(|p| p.brick == b.spec());
        if b.node.name() == down.name() {
            ensure!(
                listed.is_none(),
                "profile info lists brick {} whose glusterd is down",
                b.spec()
            );
        } else {
            // The 4 files written while glusterd was down are counted too.
            ensure!(
                listed.is_some_and(|p| p.calls("WRITE") >= before + 4),
                "profile info with {} down: brick {} has {:?} WRITE calls (want >= {} + 4)",
                down.name(),
                b.spec(),
                listed.map(|p| p.calls("WRITE")),
                before
            );
        }
    }

    glusterd::start(&ctx, &down).await?;
    glusterd::wait(&ctx, &down, Duration::from_secs(60)).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    let prof = mgmt::profile_info(&ctx, &vol).await?;
    for (b, before) in vol.bricks.iter().zip(&first) {
        ensure!(
            prof.iter().any(|p| p.brick == b.spec() && p.calls("WRITE") >= before + 4),
            "after glusterd is back, brick {} is not listed with its WRITE calls: {:?}",
            b.spec(),
            prof.iter().map(|p| (&p.brick, p.calls("WRITE"))).collect::<Vec<_>>()
        );
    }
    mgmt::profile_stop(&ctx, &vol).await?;
    Ok(())
}
