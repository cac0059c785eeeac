//! `volume get`: refused for a volume that does not exist (one key or `all`: "Volume X does not
//! exist"), refused with the usage line when the volume or the key is missing, refused for an
//! unknown key with a suggestion ("Did you mean ..."); on a volume, `performance.io-cache` is
//! `off` by default, and a value set (`performance.low-prio-threads 14`) shows in `volume get
//! VOL all` on every server.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_volume_get.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(775, "volume_get_refusals_and_values", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0))
.timeout_secs(300);

const USAGE: &str = "get <VOLNAME|all> <key|all>";

async fn refused(
    ctx: &Ctx,
    server: &Node,
    args: &[&str],
    says: &str,
) -> Result<(), TestError> {
    let a = mgmt::attempt(ctx, server, args.iter().copied()).await?;
    ensure!(
        !a.ok,
        "`gluster {}` should be refused but succeeded: {}",
        args.join(" "),
        a.message
    );
    ensure!(
        a.says(says),
        "`gluster {}` was refused without saying {says:?}: {}",
        args.join(" "),
        a.message
    );
    Ok(())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let absent = ctx.unique("absent");
    let gone = format!("Volume {absent} does not exist");
    refused(&ctx, &s1, &["volume", "get", &absent, "io-cache"], &gone).await?;
    refused(&ctx, &s1, &["volume", "get", &absent, "all"], &gone).await?;
    refused(&ctx, &s1, &["volume", "get", &absent], USAGE).await?;
    refused(&ctx, &s1, &["volume", "get"], USAGE).await?;
    refused(&ctx, &s1, &["volume", "get", "io-cache"], USAGE).await?;

    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    refused(&ctx, &s1, &["volume", "get", &vol.name, "temp.key"], "Did you mean").await?;
    ensure_eq!(
        mgmt::get(&ctx, &s1, &vol.name, "io-cache").await?.as_str(),
        "off",
        "performance.io-cache by default (volume get VOL io-cache)"
    );
    let all = mgmt::get_all(&ctx, &s1, &vol.name).await?;
    ensure!(
        all.len() > 100,
        "volume get {} all listed only {} options",
        vol.name,
        all.len()
    );
    let key = "performance.low-prio-threads";
    ensure!(
        all.iter().any(|(k, v)| k == key && v != "14"),
        "{key} before the set: {:?}",
        all.iter().find(|(k, _)| k == key)
    );

    vol.set(&ctx, key, "14").await?;
    for s in ctx.servers() {
        let all = mgmt::get_all(&ctx, &s, &vol.name).await?;
        ensure_eq!(
            all.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            Some("14"),
            "{key} in volume get {} all on {} after setting it to 14",
            vol.name,
            s.name()
        );
    }
    Ok(())
}
