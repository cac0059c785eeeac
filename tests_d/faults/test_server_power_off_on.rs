//! One server of a replica 3 volume powered off and on again: while it is off the other servers see
//! it disconnected, `volume status` shows its brick offline, heal info records what it misses and
//! the client keeps reading and writing; once it is on again the pool reconnects, its brick comes
//! back, heal completes and every brick holds the same data. Port of the node-down part of GlusterFS
//! `tests/bugs/glusterd/mgmt-handshake-and-volume-sync-post-glusterd-restart.t` (bug-948686:
//! `kill_node 3`, the peers count it out, files are created through the mount, the node returns and
//! is counted in again); here the node is powered off instead of having its processes killed, and
//! the data is followed through heal.
use crate::prelude::*;

pub const CASE: Case = Case::new(313, "server_power_off_then_on", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1).with(&[Capability::Reboot]))
    .timeout_secs(600)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("before", 10, 200_000)).await?;

    // Not the server the client mounted from.
    let off = ctx.server(2)?;
    let on: Vec<Node> = ctx
        .servers()
        .into_iter()
        .filter(|s| s.name() != off.name())
        .collect();
    fault::stop(&ctx, &off).await?;

    // The others see it gone.
    for s in &on {
        let what = format!("{} to see {} disconnected", s.name(), off.name());
        wait_for(
            &ctx,
            &what,
            Duration::from_secs(60),
            Duration::from_millis(500),
            || async {
                let peers = peer::status(&ctx, s).await?;
                Ok(match peers.iter().find(|p| p.is(off.host())) {
                    Some(p) if !p.connected => Poll::Ready(()),
                    Some(p) => Poll::Pending(format!("connected, {:?}", p.state)),
                    None => Poll::Pending(format!("{} is not listed", off.host())),
                })
            },
        )
        .await?;
    }
    let status = vol.status(&ctx).await?;
    for b in &vol.bricks {
        let listed = status
            .iter()
            .find(|s| s.path == b.path && (s.host == b.node.host() || s.host == b.node.name()));
        let online = listed.is_some_and(|s| s.online);
        let want = b.node.name() != off.name();
        ensure!(
            online == want,
            "volume status shows brick {} {} while {} is powered off: {listed:?}",
            b.spec(),
            if online { "online" } else { "offline" },
            off.name()
        );
    }

    // The client goes on: reads what was there, writes more, overwrites one file.
    io::verify(&ctx, &client, &m.path, &before).await?;
    let during = io::write_files(&ctx, &client, &m.path, &io::files("during", 100, 20_000)).await?;
    let rewritten =
        io::write_files(&ctx, &client, &m.path, &[("before-0".to_string(), 300_000)]).await?;
    io::verify(&ctx, &client, &m.path, &during).await?;
    let pending = heal::info(&ctx, &vol).await?;
    ensure!(
        pending
            .iter()
            .filter(|b| b.brick.starts_with(&format!("{}:", off.host())))
            .all(|b| b.status != "Connected"),
        "heal info reports the brick of the powered-off {} connected: {pending:?}",
        off.name()
    );
    ensure!(
        pending.iter().any(|b| b.entries.unwrap_or(0) > 0),
        "heal info shows nothing pending while {} misses writes: {pending:?}",
        off.name()
    );

    fault::start(&ctx, &off).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    brick::wait_online(&ctx, &vol, Duration::from_secs(120)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;

    let all: Vec<io::FileSum> = before
        .into_iter()
        .filter(|f| f.name != "before-0")
        .chain(during)
        .chain(rewritten)
        .collect();
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &all).await?;
    }
    io::verify(&ctx, &client, &m.path, &all).await?;
    Ok(())
}
