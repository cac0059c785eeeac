//! Delete by name, by volume and all: each removes exactly what it names, and the snapshots' thin
//! LVs go with them (GlusterFS `volume-snapshot.t`, bug-1232430).
use crate::prelude::*;

pub const CASE: Case = Case::new(206, "snapshot_delete_by_name_volume_all", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0).with(&[Capability::ThinLvm]))
.timeout_secs(900)
.disruptive();

async fn snap_lvs(ctx: &Ctx, node: &Node) -> Result<usize, TestError> {
    // Snapshot LVs are thin LVs with an origin.
    let out = ctx.sh(node, "lvs --noheadings -o lv_name,origin").await?;
    Ok(out
        .lines()
        .filter(|l| l.split_whitespace().count() == 2)
        .count())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let server = ctx.server(0)?;
    let a = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    a.start_and_wait(&ctx).await?;
    let b = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    b.start_and_wait(&ctx).await?;
    let lvs_before = snap_lvs(&ctx, &server).await?;
    let a1 = snapshot::create(&ctx, &a, None).await?;
    let a2 = snapshot::create(&ctx, &a, None).await?;
    let b1 = snapshot::create(&ctx, &b, None).await?;
    let b2 = snapshot::create(&ctx, &b, None).await?;
    ensure_eq!(
        snap_lvs(&ctx, &server).await?,
        lvs_before + 4,
        "snapshot LVs on {}",
        server.name()
    );

    snapshot::delete(&ctx, &server, &a1).await?;
    let left = snapshot::list(&ctx, &server, None).await?;
    ensure!(!left.contains(&a1), "{a1} still listed after delete");
    ensure!(
        left.contains(&a2) && left.contains(&b1) && left.contains(&b2),
        "delete {a1} took others: {left:?}"
    );

    gluster(&ctx, &server, ["snapshot", "delete", "volume", &b.name]).await?;
    ensure!(
        snapshot::list(&ctx, &server, Some(&b.name))
            .await?
            .is_empty(),
        "{} still has snapshots",
        b.name
    );
    ensure_eq!(
        snapshot::list(&ctx, &server, Some(&a.name)).await?,
        vec![a2.clone()],
        "{} after delete volume {}",
        a.name,
        b.name
    );

    gluster(&ctx, &server, ["snapshot", "delete", "all"]).await?;
    ensure!(
        snapshot::list(&ctx, &ctx.server(1)?, None)
            .await?
            .is_empty(),
        "snapshots left after delete all"
    );
    ensure_eq!(
        snap_lvs(&ctx, &server).await?,
        lvs_before,
        "snapshot LVs left on {}",
        server.name()
    );
    Ok(())
}
