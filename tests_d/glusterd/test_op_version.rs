//! op-version: on a formed pool every server reports `cluster.op-version` equal to
//! `cluster.max-op-version`; lowering the op-version, a malformed one and one above what the
//! servers support are refused with a message and change nothing.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_op_version.py` (op-version equals
//! max-op-version, set it to the max) and `test_lower_gluster_op_version.py` (setting a lower
//! op-version fails with "Required op-version ... should not be equal or lower than current
//! cluster op-version").
use crate::prelude::*;

pub const CASE: Case = Case::new(755, "op_version_refusals", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(300)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let cur = upgrade::op_version(&ctx, &s1).await?;
    for s in ctx.servers() {
        let (op, max) = (
            upgrade::op_version(&ctx, &s).await?,
            upgrade::max_op_version(&ctx, &s).await?,
        );
        ensure_eq!(op, max, "op-version vs max-op-version on {}", s.name());
        ensure_eq!(op, cur, "op-version on {} vs {}", s.name(), s1.name());
    }
    ensure!(cur >= 30000, "op-version {cur} is implausibly low");

    // The same op-version again: glusterd says it is already that.
    let a = mgmt::set_attempt(&ctx, &s1, "all", "cluster.op-version", &cur.to_string()).await?;
    ensure!(!a.ok, "setting the current op-version again was accepted: {}", a.message);

    let lower = "30000".to_string();
    let a = mgmt::set_attempt(&ctx, &s1, "all", "cluster.op-version", &lower).await?;
    ensure!(!a.ok, "lowering the op-version to {lower} was accepted: {}", a.message);
    ensure!(
        a.says("lower than current cluster op-version"),
        "lowering refused without the reason: {:?}",
        a.message
    );

    let above = (cur + 100_000).to_string();
    let a = mgmt::set_attempt(&ctx, &s1, "all", "cluster.op-version", &above).await?;
    ensure!(!a.ok, "op-version {above} above the max was accepted: {}", a.message);

    let a = mgmt::set_attempt(&ctx, &s1, "all", "cluster.op-version", "abc").await?;
    ensure!(!a.ok, "op-version \"abc\" was accepted: {}", a.message);

    for s in ctx.servers() {
        ensure_eq!(
            upgrade::op_version(&ctx, &s).await?,
            cur,
            "op-version on {} after the refused sets",
            s.name()
        );
    }
    Ok(())
}
