//! Server quorum options are validated: the ratio is cluster-wide only (refused on one volume),
//! the type is per volume only (refused for `all`), an out-of-range or malformed ratio and an
//! unknown type are refused with gluster's reason, and nothing changes; valid values are shown
//! by `volume get`.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_glusterd_quorum_command.py` (server
//! quorum options set and read back with `volume get`) and
//! `test_setting_volume_level_option_to_cluster.py` (a volume-level option refused for `all`,
//! a cluster-level one refused for a volume).
use crate::prelude::*;

pub const CASE: Case = Case::new(766, "server_quorum_option_refusals", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0))
.timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    let ratio = "cluster.server-quorum-ratio";
    let qtype = "cluster.server-quorum-type";
    let ratio_before = mgmt::get(&ctx, &s1, "all", ratio).await?;
    let type_before = vol.get(&ctx, qtype).await?;

    let refused: &[(&str, &str, &str, &str)] = &[
        (vol.name.as_str(), ratio, "60", "Not a valid option for single volume"),
        ("all", qtype, "server", "Not a valid option for all volumes"),
        ("all", ratio, "120", "out of range"),
        ("all", ratio, "abc", "invalid percent format"),
        (vol.name.as_str(), qtype, "sometimes", "is not valid"),
    ];
    for (target, key, value, reason) in refused {
        let a = mgmt::set_attempt(&ctx, &s1, target, key, value).await?;
        ensure!(
            !a.ok && a.says(reason),
            "volume set {target} {key} {value} answered {:?}, not {reason:?}",
            a.message
        );
    }
    ensure_eq!(
        mgmt::get(&ctx, &s1, "all", ratio).await?,
        ratio_before,
        "{ratio} after the refusals"
    );
    ensure_eq!(vol.get(&ctx, qtype).await?, type_before, "{qtype} after the refusals");

    mgmt::server_quorum(&ctx, &vol).await?;
    for s in ctx.servers() {
        ensure_eq!(
            mgmt::get(&ctx, &s, &vol.name, qtype).await?.as_str(),
            "server",
            "{qtype} on {}",
            s.name()
        );
    }
    Ok(())
}
