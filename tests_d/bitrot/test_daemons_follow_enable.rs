//! Enabling bitrot on a volume starts the signer (bitd) and the scrubber on every server holding
//! one of its bricks, both listed as clients of the bricks, and shows `features.bitrot on`, `features.scrub Active` in `volume info`;
//! pausing the scrubber shows `pause`, a second pause is refused, resuming shows `Active` again
//! and a second resume is refused; disabling stops both daemons on every server and shows the
//! scrubber `Inactive`.
//!
//! Ported from GlusterFS `tests/bitrot/br-state-check.t` (bitd and scrubber counted after enable,
//! both listed by `volume status VOL client-list`),
//! `tests/bugs/bitrot/1209818-vol-info-show-scrub-process-properly.t` (pause, resume, disable as
//! `volume info` shows them) and `tests/bugs/bitrot/bug-1210684-scrub-pause-resume-error-handling.t`
//! (pausing a paused scrubber, resuming a running one, refused). Disruptive: the daemons are
//! shared by every volume of the node, so no other volume may use bitrot meanwhile.
use crate::prelude::*;

pub const CASE: Case = Case::new(870, "daemons_follow_enable", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(300)
    .disruptive();

async fn info_option(ctx: &Ctx, vol: &Volume, key: &str) -> Result<Option<String>, TestError> {
    Ok(vol.info(ctx).await?.options.get(key).cloned())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    vol.start_and_wait(&ctx).await?;
    let servers = bitrot::brick_servers(&vol);
    ensure_eq!(servers.len(), 3, "servers holding the volume's bricks");
    let up = Duration::from_secs(60);

    for s in &servers {
        for d in [bitrot::Daemon::Bitd, bitrot::Daemon::Scrubber] {
            let pids = bitrot::daemon_pids(&ctx, s, d).await?;
            ensure!(
                pids.is_empty(),
                "{d:?} already runs on {} before bitrot is enabled: pids {pids:?}",
                s.name()
            );
        }
    }
    let a = bitrot::attempt(&ctx, &vol, &["scrub", "status"]).await?;
    ensure!(
        !a.ok && a.says("not enabled"),
        "scrub status with bitrot disabled should be refused as not enabled: {:?}",
        a.message
    );

    bitrot::enable_and_wait(&ctx, &vol, None).await?;
    bitrot::wait_daemon(&ctx, &servers, bitrot::Daemon::Bitd, true, up).await?;
    bitrot::wait_daemon(&ctx, &servers, bitrot::Daemon::Scrubber, true, up).await?;
    // Both are clients of the bricks.
    let clients = bitrot::client_counts(&ctx, &vol).await?;
    for kind in ["bitd", "scrub"] {
        ensure!(
            clients.get(kind).is_some_and(|&n| n >= 1),
            "volume status client-list does not list {kind} after enable: {clients:?}"
        );
    }
    ensure_eq!(
        info_option(&ctx, &vol, "features.bitrot").await?.as_deref(),
        Some("on"),
        "features.bitrot in volume info after enable"
    );
    ensure_eq!(
        info_option(&ctx, &vol, "features.scrub").await?.as_deref(),
        Some("Active"),
        "features.scrub in volume info after enable"
    );
    let st = bitrot::scrub_status(&ctx, &vol).await?;
    ensure_eq!(st.state, "Active", "scrub status state after enable");
    ensure_eq!(st.nodes.len(), 3, "nodes in scrub status: {:?}", st.nodes);
    for s in &servers {
        ensure!(
            st.node(s).is_some(),
            "scrub status has no row for {}: {:?}",
            s.name(),
            st.nodes
        );
    }
    let a = bitrot::attempt(&ctx, &vol, &["enable"]).await?;
    ensure!(
        !a.ok && a.says("already enabled"),
        "a second enable should be refused as already enabled: {:?}",
        a.message
    );

    bitrot::pause(&ctx, &vol).await?;
    ensure_eq!(
        info_option(&ctx, &vol, "features.scrub").await?.as_deref(),
        Some("pause"),
        "features.scrub in volume info after scrub pause"
    );
    let a = bitrot::attempt(&ctx, &vol, &["scrub", "pause"]).await?;
    ensure!(
        !a.ok && a.says("already"),
        "pausing a paused scrubber should be refused: ok {}, {:?}",
        a.ok,
        a.message
    );
    bitrot::resume(&ctx, &vol).await?;
    ensure_eq!(
        info_option(&ctx, &vol, "features.scrub").await?.as_deref(),
        Some("Active"),
        "features.scrub in volume info after scrub resume"
    );
    let a = bitrot::attempt(&ctx, &vol, &["scrub", "resume"]).await?;
    ensure!(
        !a.ok && a.says("already"),
        "resuming a running scrubber should be refused: ok {}, {:?}",
        a.ok,
        a.message
    );
    // The daemons survived the state changes.
    bitrot::wait_daemon(&ctx, &servers, bitrot::Daemon::Scrubber, true, up).await?;

    bitrot::disable(&ctx, &vol).await?;
    bitrot::wait_daemon(&ctx, &servers, bitrot::Daemon::Bitd, false, up).await?;
    bitrot::wait_daemon(&ctx, &servers, bitrot::Daemon::Scrubber, false, up).await?;
    ensure_eq!(
        info_option(&ctx, &vol, "features.bitrot").await?.as_deref(),
        Some("off"),
        "features.bitrot in volume info after disable"
    );
    ensure_eq!(
        info_option(&ctx, &vol, "features.scrub").await?.as_deref(),
        Some("Inactive"),
        "features.scrub in volume info after disable"
    );
    let a = bitrot::attempt(&ctx, &vol, &["scrub", "ondemand"]).await?;
    ensure!(
        !a.ok && a.says("not enabled"),
        "an on-demand scrub with bitrot disabled should be refused as not enabled: {:?}",
        a.message
    );
    Ok(())
}
