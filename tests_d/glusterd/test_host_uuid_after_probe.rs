//! A server probed into the pool after a volume was made learns the volume with the right brick
//! owners: with the third server detached, a 2 x 2 volume is made over the first two and started;
//! once the third is probed again, `volume info --xml` asked there gives every brick a
//! `hostUuid` that is not all zeros and is the UUID of the server holding the brick (from its
//! `glusterd.info`).
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_host_uuid_in_volume_info_xml.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(783, "host_uuid_after_probe", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(600)
    .disruptive();

const ZERO: &str = "00000000-0000-0000-0000-000000000000";

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2, s3) = (ctx.server(0)?, ctx.server(1)?, ctx.server(2)?);
    mgmt::reprobe_at_cleanup(&ctx, &s1, s3.host());
    peer::detach(&ctx, &s1, s3.host()).await?;

    let name = ctx.unique("uuid");
    let dirs: Vec<(Node, String)> = [&s1, &s2]
        .iter()
        .map(|s| ((*s).clone(), format!("{}/{name}", s.brick_root())))
        .collect();
    ctx.defer(Cleanup::Volume {
        server: s1.clone(),
        name: name.clone(),
        dirs: dirs.clone(),
        unmount: vec![],
    });
    for (s, dir) in &dirs {
        ctx.sh(s, format!("mkdir -p {dir}")).await?;
    }
    let bricks: Vec<(Node, String)> = (0..4)
        .map(|i| {
            let s = if i % 2 == 0 { &s1 } else { &s2 };
            (s.clone(), format!("{}/{name}/b{i}", s.brick_root()))
        })
        .collect();
    let mut args = vec!["volume".to_string(), "create".into(), name.clone()];
    args.extend(["replica".into(), "2".into()]);
    args.extend(bricks.iter().map(|(s, p)| format!("{}:{p}", s.host())));
    args.push("force".into());
    gluster(&ctx, &s1, args).await?;
    gluster(&ctx, &s1, ["volume", "start", name.as_str()]).await?;

    peer::probe(&ctx, &s1, s3.host()).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    let root = wait_for(
        &ctx,
        &format!("{} to know volume {name}", s3.name()),
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async { gluster_xml(&ctx, &s3, ["volume", "info", name.as_str()]).await.map(Poll::Ready) },
    )
    .await?;
    let got = mgmt::brick_host_uuids(&root);
    ensure_eq!(got.len(), 4, "bricks in volume info --xml on {}: {got:?}", s3.name());
    for ((node, path), (brick, uuid)) in bricks.iter().zip(&got) {
        ensure_eq!(brick.clone(), format!("{}:{path}", node.host()), "brick in volume info --xml on {}", s3.name());
        ensure!(
            uuid.len() == ZERO.len() && uuid != ZERO,
            "hostUuid of {brick} in volume info --xml on {}: {uuid:?}",
            s3.name()
        );
        ensure_eq!(
            uuid.clone(),
            mgmt::own_uuid(&ctx, node).await?,
            "hostUuid of {brick} on {} (the UUID of {})",
            s3.name(),
            node.name()
        );
    }
    Ok(())
}
