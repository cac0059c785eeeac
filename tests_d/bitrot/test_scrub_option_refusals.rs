//! The scrubber's options are only set through `volume bitrot`: `volume set` of `bitrot`,
//! `scrub-throttle`, `scrub-frequency` or `scrub` is refused and enables nothing; invalid values
//! (an unknown throttle or frequency, an unknown scrub command, a signing time below 1) are
//! refused and leave the values as they were; valid ones are shown by `scrub status` (throttle,
//! frequency, log locations) and the signing time as `features.expiry-time`.
//!
//! Ported from GlusterFS `tests/bugs/bitrot/bug-1229134-bitd-not-support-vol-set.t` (`volume
//! set` refused, `volume bitrot` accepted), `tests/bugs/bitrot/bug-1228680.t` (a negative
//! signing time refused, a positive one accepted) and `tests/bitrot/bug-1207627-bitrot-scrub-status.t`
//! (throttle, frequency and log locations in `scrub status`). Disruptive: enabling bitrot
//! restarts the signer and scrubber every volume of the node shares.
use crate::prelude::*;

pub const CASE: Case = Case::new(871, "scrub_option_refusals", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .timeout_secs(300)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;

    let through_set: &[(&str, &str)] = &[
        ("bitrot", "enable"),
        ("features.bitrot", "on"),
        ("scrub-throttle", "lazy"),
        ("features.scrub-freq", "daily"),
        ("scrub", "pause"),
    ];
    for (key, value) in through_set {
        let a = mgmt::set_attempt(&ctx, &s1, &vol.name, key, value).await?;
        ensure!(
            !a.ok && a.says("volume bitrot"),
            "volume set {key} {value} should be refused, pointing to `volume bitrot`: ok {}, {:?}",
            a.ok,
            a.message
        );
    }
    ensure_eq!(
        vol.get(&ctx, "features.bitrot").await?,
        "disable",
        "features.bitrot after the refused volume set commands"
    );
    for s in bitrot::brick_servers(&vol) {
        let pids = bitrot::daemon_pids(&ctx, &s, bitrot::Daemon::Bitd).await?;
        ensure!(
            pids.is_empty(),
            "the refused volume set started bitd on {}: pids {pids:?}",
            s.name()
        );
    }

    bitrot::enable(&ctx, &vol).await?;
    bitrot::set_throttle(&ctx, &vol, bitrot::Throttle::Aggressive).await?;
    bitrot::set_frequency(&ctx, &vol, bitrot::Frequency::Hourly).await?;
    bitrot::set_signing_time(&ctx, &vol, 7).await?;
    let expected = |st: &bitrot::ScrubStatus, when: &str| -> Result<(), TestError> {
        ensure_eq!(st.impact, "aggressive", "scrub impact {when}");
        ensure_eq!(st.frequency, "hourly", "scrub frequency {when}");
        ensure_eq!(st.state, "Active", "scrub state {when}");
        Ok(())
    };
    let st = bitrot::scrub_status(&ctx, &vol).await?;
    expected(&st, "after setting them")?;
    ensure_eq!(
        st.bitd_log,
        "/var/log/glusterfs/bitd.log",
        "bitrot error log location"
    );
    ensure_eq!(
        st.scrub_log,
        "/var/log/glusterfs/scrub.log",
        "scrubber error log location"
    );
    ensure_eq!(
        vol.get(&ctx, "features.expiry-time").await?,
        "7",
        "features.expiry-time after signing-time 7"
    );

    // (words, what the refusal says)
    let bad: &[(&[&str], &str)] = &[
        (&["scrub-throttle", "fast"], "Invalid scrub-throttle"),
        (&["scrub-frequency", "yearly"], "Invalid frequency"),
        (&["scrub", "restart"], "Invalid scrub option"),
        (&["signing-time", "-100"], "should not be less than 1"),
        (&["signing-time", "0"], "should not be less than 1"),
        (&["signing-time"], "Missing signing-time"),
    ];
    for (words, reason) in bad {
        let a = bitrot::attempt(&ctx, &vol, words).await?;
        ensure!(
            !a.ok && a.says(reason),
            "volume bitrot {} {} should be refused with {reason:?}: ok {}, {:?}",
            vol.name,
            words.join(" "),
            a.ok,
            a.message
        );
    }
    let st = bitrot::scrub_status(&ctx, &vol).await?;
    expected(&st, "after the refused values")?;
    ensure_eq!(
        vol.get(&ctx, "features.expiry-time").await?,
        "7",
        "features.expiry-time after the refused signing times"
    );

    bitrot::set_throttle(&ctx, &vol, bitrot::Throttle::Lazy).await?;
    bitrot::set_frequency(&ctx, &vol, bitrot::Frequency::Monthly).await?;
    let st = bitrot::scrub_status(&ctx, &vol).await?;
    ensure_eq!(st.impact, "lazy", "scrub impact after setting lazy");
    ensure_eq!(st.frequency, "monthly", "scrub frequency after setting monthly");
    Ok(())
}
