//! `volume set` validates values: out-of-range and malformed values are refused with a message
//! naming the option and leave the value as it was; valid values are shown by `volume get` (one
//! key and the `all` listing) and `volume info`.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_change_reserve_limit_to_wrong_values.py`
//! (storage.reserve refuses wrong values; here also time, size and range checks of other options) and `test_volume_get.py` (a set value is shown by
//! `volume get VOL KEY` and `volume get VOL all`, an unknown key is refused).
use crate::prelude::*;

pub const CASE: Case = Case::new(753, "set_invalid_values_refused", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;

    // (key, value, what gluster says about it)
    let bad: &[(&str, &str, &str)] = &[
        ("storage.reserve", "-5", "invalid number format"),
        ("storage.reserve", "abc", "invalid number format"),
        ("network.ping-timeout", "notanumber", "invalid time format"),
        ("performance.cache-size", "12zz", "invalid number format"),
        ("performance.io-thread-count", "100", "out of range"),
        ("performance.io-thread-count", "0", "out of range"),
    ];
    for (key, value, reason) in bad {
        let before = mgmt::get(&ctx, &s1, &vol.name, key).await?;
        let a = mgmt::set_attempt(&ctx, &s1, &vol.name, key, value).await?;
        ensure!(!a.ok, "volume set {key} {value} was accepted: {}", a.message);
        ensure!(
            a.says("volume set: failed") && a.says(reason) && a.says(value),
            "volume set {key} {value} refused without saying {reason:?} about the value: {:?}",
            a.message
        );
        let after = mgmt::get(&ctx, &s1, &vol.name, key).await?;
        ensure_eq!(after, before, "{key} changed after the refused value {value}");
    }
    let a = mgmt::set_attempt(&ctx, &s1, &vol.name, "gflab.no-such-option", "on").await?;
    ensure!(
        !a.ok && a.says("does not exist"),
        "an unknown option answered {:?}, not \"does not exist\"",
        a.message
    );
    let a = mgmt::attempt(&ctx, &s1, ["volume", "get", &vol.name, "gflab.no-such-option"]).await?;
    ensure!(!a.ok, "volume get of an unknown option succeeded: {}", a.message);

    let good: &[(&str, &str)] = &[
        ("storage.reserve", "7"),
        ("network.ping-timeout", "17"),
        ("performance.cache-size", "64MB"),
    ];
    for (key, value) in good {
        vol.set(&ctx, key, value).await?;
    }
    let all = mgmt::get_all(&ctx, &s1, &vol.name).await?;
    ensure!(all.len() > 100, "volume get all listed only {} options", all.len());
    let info = vol.info(&ctx).await?;
    for (key, value) in good {
        let one = mgmt::get(&ctx, &s1, &vol.name, key).await?;
        ensure_eq!(one.as_str(), *value, "volume get {key}");
        let listed = all.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        ensure_eq!(listed, Some(*value), "{key} in volume get all");
        ensure!(
            info.options.get(*key).map(String::as_str) == Some(*value),
            "volume info does not list {key}={value}: {:?}",
            info.options
        );
    }
    Ok(())
}
