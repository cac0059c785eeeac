//! Peer probe refusals: probing an invalid IP or a host that does not resolve fails with a
//! message and adds nothing to the pool; probing the server itself (by name, IP, `localhost`) is
//! "not needed"; probing a peer already in the pool makes no new peer (by a new address of it,
//! the address is added to that peer, and a second probe finds it "already in peer list").
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_probe_glusterd.py` (probe of
//! localhost, of a non-existing host, of an invalid IP) and `test_peer_probe.py` (probing a peer
//! already in the pool by name and by IP).
use crate::prelude::*;

pub const CASE: Case = Case::new(750, "probe_refusals", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2) = (ctx.server(0)?, ctx.server(1)?);
    let before = peer::pool_list(&ctx, &s1).await?;

    for bad in ["256.256.256.256", "gflab-no-such-host.invalid"] {
        ctx.step(format!("probe of {bad} must fail"));
        let a = mgmt::probe_attempt(&ctx, &s1, bad).await?;
        ensure!(!a.ok, "probe of {bad} was accepted: {}", a.message);
        ensure!(
            a.says("peer probe: failed"),
            "probe of {bad} failed without gluster's reason: {:?}",
            a.message
        );
    }

    let s1_ip = mgmt::ip_of(&ctx, &s1).await?;
    for me in [s1.host().to_string(), s1_ip, "localhost".to_string()] {
        ctx.step(format!("probe of the server itself as {me}"));
        let a = mgmt::probe_attempt(&ctx, &s1, &me).await?;
        ensure!(
            a.says("Probe on localhost not needed"),
            "probe of {me} (the server itself) answered {:?}, not \"Probe on localhost not needed\"",
            a.message
        );
    }

    ctx.step(format!("probe of {}, already in the pool", s2.host()));
    let a = mgmt::probe_attempt(&ctx, &s1, s2.host()).await?;
    ensure!(
        a.ok && a.says("already in peer list"),
        "probe of {} (already a peer) answered {:?}, not \"already in peer list\"",
        s2.host(),
        a.message
    );
    // By an address the pool does not know it by: glusterd recognises the peer (its UUID) and
    // adds the address to it instead of making a new peer.
    let s2_ip = mgmt::ip_of(&ctx, &s2).await?;
    let a = mgmt::probe_attempt(&ctx, &s1, &s2_ip).await?;
    ensure!(a.ok, "probe of {s2_ip} ({}) failed: {}", s2.name(), a.message);
    wait_for(
        &ctx,
        &format!("{} to know {} also as {s2_ip}", s1.name(), s2.host()),
        Duration::from_secs(30),
        Duration::from_millis(500),
        || async {
            let peers = peer::status(&ctx, &s1).await?;
            Ok(match peers.iter().find(|p| p.is(s2.host())) {
                Some(p) if p.is(&s2_ip) => Poll::Ready(()),
                Some(p) => Poll::Pending(format!("known as {:?}", p.hostnames)),
                None => Poll::Pending("not listed".into()),
            })
        },
    )
    .await?;
    let a = mgmt::probe_attempt(&ctx, &s1, &s2_ip).await?;
    ensure!(
        a.ok && a.says("already in peer list"),
        "probe of {s2_ip} again answered {:?}, not \"already in peer list\"",
        a.message
    );

    let after = peer::pool_list(&ctx, &s1).await?;
    let uuids = |l: &[peer::Peer]| {
        let mut v: Vec<String> = l.iter().map(|p| p.uuid.clone()).collect();
        v.sort();
        v
    };
    ensure_eq!(
        uuids(&after),
        uuids(&before),
        "the pool changed after refused and no-op probes"
    );
    ensure!(
        after
            .iter()
            .filter(|p| p.hostname != "localhost")
            .all(|p| p.healthy()),
        "a pool member is not connected after the probes: {after:?}"
    );
    Ok(())
}
