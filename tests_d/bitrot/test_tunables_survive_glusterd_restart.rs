//! The scrubber's tunables are kept by glusterd: after setting throttle `normal`, frequency
//! `monthly` and pausing the scrubber, a restart of glusterd on every server brings them back as
//! they were (`volume info`, `scrub status`), with the signer and scrubber running again; the
//! paused scrubber can then be resumed.
//!
//! Ported from GlusterFS `tests/bugs/bitrot/1209751-bitrot-scrub-tunable-reset.t`. Disruptive:
//! restarts glusterd.
use crate::prelude::*;

pub const CASE: Case = Case::new(872, "tunables_survive_glusterd_restart", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 0))
.timeout_secs(400)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let servers = bitrot::brick_servers(&vol);
    bitrot::enable(&ctx, &vol).await?;
    bitrot::set_throttle(&ctx, &vol, bitrot::Throttle::Normal).await?;
    bitrot::set_frequency(&ctx, &vol, bitrot::Frequency::Monthly).await?;
    bitrot::pause(&ctx, &vol).await?;

    for s in &servers {
        glusterd::restart(&ctx, s).await?;
        glusterd::wait(&ctx, s, Duration::from_secs(60)).await?;
    }
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;

    let info = vol.info(&ctx).await?;
    let want = [
        ("features.bitrot", "on"),
        ("features.scrub-throttle", "normal"),
        ("features.scrub-freq", "monthly"),
        ("features.scrub", "pause"),
    ];
    for (key, value) in want {
        ensure_eq!(
            info.options.get(key).map(String::as_str),
            Some(value),
            "{key} in volume info after glusterd restarted everywhere"
        );
    }
    let up = Duration::from_secs(60);
    bitrot::wait_daemon(&ctx, &servers, bitrot::Daemon::Bitd, true, up).await?;
    bitrot::wait_daemon(&ctx, &servers, bitrot::Daemon::Scrubber, true, up).await?;
    let st = bitrot::scrub_status(&ctx, &vol).await?;
    ensure_eq!(st.impact, "normal", "scrub impact after the restart");
    ensure_eq!(st.frequency, "monthly", "scrub frequency after the restart");
    ensure_eq!(st.state, "pause", "scrub state after the restart");

    let a = bitrot::attempt(&ctx, &vol, &["scrub", "pause"]).await?;
    ensure!(
        !a.ok && a.says("already paused"),
        "the scrubber should still be paused after the restart (pause refused): ok {}, {:?}",
        a.ok,
        a.message
    );
    bitrot::resume(&ctx, &vol).await?;
    let st = bitrot::scrub_status(&ctx, &vol).await?;
    ensure_eq!(st.state, "Active", "scrub state after resume");
    Ok(())
}
