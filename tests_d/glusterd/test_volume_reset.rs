//! `volume reset`: resetting one option puts it back to its default (`volume get` shows the
//! default, `volume info` no longer lists it) and leaves the other options set; `volume reset VOL`
//! with no key resets every option set on the volume. Each server's `volume info` agrees.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_glusterd_set_reset_reserve_limit.py`
//! (storage.reserve set, then reset to its default and checked with `volume get`) and
//! `test_volume_reset.py` (`volume reset VOL` of every option).
use crate::prelude::*;

pub const CASE: Case = Case::new(768, "volume_reset_options", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .timeout_secs(300);

/// Options set here, with a value that is not their default.
const SET: &[(&str, &str)] = &[
    ("storage.reserve", "50"),
    ("network.ping-timeout", "17"),
    ("performance.quick-read", "off"),
];

/// Checks that every server lists `key` among the volume's options with `want` (None: absent).
async fn ensure_info_everywhere(
    ctx: &Ctx,
    vol: &Volume,
    key: &str,
    want: Option<&str>,
) -> Result<(), TestError> {
    for s in ctx.servers() {
        let info = volume::info(ctx, &s, &vol.name).await?;
        ensure_eq!(
            info.options.get(key).map(String::as_str),
            want,
            "{key} in volume info of {} on {}",
            vol.name,
            s.name()
        );
    }
    Ok(())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    let mut defaults = Vec::new();
    for (key, value) in SET {
        let d = vol.get(&ctx, key).await?;
        ensure!(d != *value, "{key}'s default {d:?} is the value this test sets");
        defaults.push(d);
        vol.set(&ctx, key, value).await?;
        ensure_eq!(vol.get(&ctx, key).await?.as_str(), *value, "volume get {key} after set");
        ensure_info_everywhere(&ctx, &vol, key, Some(value)).await?;
    }

    ctx.step("reset of storage.reserve alone");
    vol.reset(&ctx, "storage.reserve").await?;
    ensure_eq!(
        vol.get(&ctx, "storage.reserve").await?,
        defaults[0],
        "storage.reserve after volume reset of it (its default)"
    );
    ensure_info_everywhere(&ctx, &vol, "storage.reserve", None).await?;
    for (key, value) in &SET[1..] {
        ensure_eq!(
            vol.get(&ctx, key).await?.as_str(),
            *value,
            "{key} after reset of storage.reserve only"
        );
        ensure_info_everywhere(&ctx, &vol, key, Some(value)).await?;
    }

    ctx.step("volume reset of every option");
    gluster(&ctx, &vol.server, ["volume", "reset", &vol.name]).await?;
    for ((key, _), default) in SET.iter().zip(&defaults) {
        ensure_eq!(
            &vol.get(&ctx, key).await?,
            default,
            "{key} after volume reset {} (its default)",
            vol.name
        );
        ensure_info_everywhere(&ctx, &vol, key, None).await?;
    }
    Ok(())
}
