//! The eager-lock options of a disperse volume: `disperse.eager-lock` and
//! `disperse.other-eager-lock` are on by default with 1 s timeouts; they refuse anything that is
//! not a boolean (letters, punctuation, digits other than 0/1) and accept every boolean spelling
//! (1, 0, off, on, disable, enable), which `volume get` then shows; the timeouts accept 60.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_disperse_eager_lock.py` (non-boolean
//! values refused, boolean values accepted) and the defaults and timeout step of
//! `tests/functional/disperse/test_ec_eagerlock.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(560, "eager_lock_option_values", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Disperse.spec()).await?;
    for (key, want) in [
        ("disperse.eager-lock", "on"),
        ("disperse.other-eager-lock", "on"),
        ("disperse.eager-lock-timeout", "1"),
        ("disperse.other-eager-lock-timeout", "1"),
    ] {
        ensure_eq!(vol.get(&ctx, key).await?, want, "default of {key}");
    }
    for key in ["disperse.eager-lock", "disperse.other-eager-lock"] {
        for bad in ["abcXYZ", "!@#%", "on1", "12"] {
            let args = ["volume", "set", vol.name.as_str(), key, bad].map(String::from);
            let out = ctx
                .exec(
                    &vol.server,
                    Command::new("gluster").arg("--mode=script").args(args),
                )
                .await?;
            ensure!(!out.success(), "{key} accepted the non-boolean {bad:?}");
        }
        for (good, shown) in [
            ("1", "on"),
            ("0", "off"),
            ("off", "off"),
            ("on", "on"),
            ("disable", "off"),
            ("enable", "on"),
        ] {
            vol.set(&ctx, key, good).await?;
            let got = vol.get(&ctx, key).await?;
            ensure!(
                got == good || got == shown,
                "{key} set to {good} reads back as {got}"
            );
        }
    }
    for key in [
        "disperse.eager-lock-timeout",
        "disperse.other-eager-lock-timeout",
    ] {
        vol.set(&ctx, key, "60").await?;
        ensure_eq!(vol.get(&ctx, key).await?, "60", "{key}");
    }
    Ok(())
}
