//! `volume create` refusals: a brick already part of a volume, a brick directory on the root
//! partition without `force` (accepted with it), a brick on a host that is not in the pool. Each
//! refusal carries gluster's reason and leaves no volume behind.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_volume_create.py` (create with a brick
//! of an existing volume, with a brick on a node not in the cluster, on the root partition
//! without force) and `test_create_vol_with_used_bricks.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(752, "create_refusals", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let vol = volume::create(&ctx, VolumeSpec::distribute(2)).await?;

    ctx.step("a brick of an existing volume");
    let name = ctx.unique("used");
    let a = mgmt::attempt(
        &ctx,
        &s1,
        ["volume", "create", name.as_str(), &vol.bricks[0].spec(), "force"],
    )
    .await?;
    ensure!(
        !a.ok && (a.says("is already part of a volume") || a.says("contained by an existing brick")),
        "create with brick {} of {} answered {:?}, not that it is part of a volume",
        vol.bricks[0].spec(),
        vol.name,
        a.message
    );

    ctx.step("a brick on the root partition");
    let root_name = ctx.unique("root");
    let dir = format!("/{root_name}");
    let same_dev = ctx
        .sh(&s1, format!("mkdir -p {dir} && [ \"$(stat -c %d {dir})\" = \"$(stat -c %d /)\" ] && echo same || echo other"))
        .await?;
    ctx.defer(Cleanup::Volume {
        server: s1.clone(),
        name: root_name.clone(),
        dirs: vec![(s1.clone(), dir.clone())],
        unmount: Vec::new(),
    });
    let brick = format!("{}:{dir}/b0", s1.host());
    if same_dev.trim() == "same" {
        let a = mgmt::attempt(&ctx, &s1, ["volume", "create", root_name.as_str(), &brick]).await?;
        ensure!(
            !a.ok && a.says("root partition"),
            "create on the root partition without force answered {:?}",
            a.message
        );
        ensure!(
            !volume::list(&ctx, &s1).await?.contains(&root_name),
            "the refused volume {root_name} exists"
        );
        let a = mgmt::attempt(
            &ctx,
            &s1,
            ["volume", "create", root_name.as_str(), &brick, "force"],
        )
        .await?;
        ensure!(a.ok, "create on the root partition with force failed: {}", a.message);
        ensure!(
            volume::list(&ctx, &s1).await?.contains(&root_name),
            "{root_name} not listed after create force"
        );
    } else {
        ctx.step(format!("{dir} is not on the root device here; root-partition check left out"));
    }

    ctx.step("a brick on a host not in the pool");
    let outsider = ctx.client(0)?;
    let name = ctx.unique("outside");
    let parent = format!("{}/{name}", s1.brick_root());
    ctx.sh(&s1, format!("mkdir -p {parent}")).await?;
    ctx.defer(Cleanup::Volume {
        server: s1.clone(),
        name: name.clone(),
        dirs: vec![(s1.clone(), parent)],
        unmount: Vec::new(),
    });
    let a = mgmt::attempt(
        &ctx,
        &s1,
        [
            "volume".to_string(),
            "create".to_string(),
            name.clone(),
            format!("{}:{}/{name}/b0", s1.host(), s1.brick_root()),
            format!("{}:/gflab-nowhere/{name}/b1", outsider.host()),
            "force".to_string(),
        ],
    )
    .await?;
    ensure!(
        !a.ok && (a.says("not in 'peer in cluster' state") || a.says("not connected") || a.says("not a friend")),
        "create with a brick on {} (not a peer) answered {:?}",
        outsider.host(),
        a.message
    );
    let vols = volume::list(&ctx, &s1).await?;
    ensure!(!vols.contains(&name), "the refused volume {name} exists");
    Ok(())
}
