//! Snapshot create (named with and without the timestamp suffix), list all and by volume, info by
//! name: the snapshot belongs to its origin volume and is not activated by default (GlusterFS
//! `volume-snapshot.t`, bug-1157991).
use crate::prelude::*;

pub const CASE: Case = Case::new(201, "snapshot_create_list_info", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0).with(&[Capability::ThinLvm]))
    .timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let server = ctx.server(0)?;

    let plain = snapshot::create(&ctx, &vol, None).await?;
    // Without no-timestamp gluster appends `_GMT-<date>` to the name it was given.
    let base = ctx.unique("stamped");
    gluster(&ctx, &server, ["snapshot", "create", &base, &vol.name]).await?;
    let all = snapshot::list(&ctx, &server, None).await?;
    let stamped: Vec<&String> = all.iter().filter(|n| n.starts_with(&base)).collect();
    ensure_eq!(stamped.len(), 1, "snapshots named {base}*: {all:?}");
    ensure!(
        stamped[0].starts_with(&format!("{base}_GMT-")),
        "timestamped snapshot is named {}",
        stamped[0]
    );
    ensure!(
        all.contains(&plain),
        "{plain} missing from `snapshot list`: {all:?}"
    );

    let of_vol = snapshot::list(&ctx, &server, Some(&vol.name)).await?;
    let mut want = vec![plain.clone(), stamped[0].clone()];
    want.sort();
    let mut got = of_vol.clone();
    got.sort();
    ensure_eq!(got, want, "`snapshot list {}`", vol.name);

    for name in &want {
        let info = snapshot::info(&ctx, &ctx.server(1)?, name).await?;
        ensure_eq!(info.origin, vol.name, "origin volume of {name}");
        ensure!(
            !info.active(),
            "{name} is activated right after create: {}",
            info.status
        );
        ensure!(!info.uuid.is_empty(), "{name} has no uuid");
    }
    let vinfo = vol.info(&ctx).await?;
    ensure_eq!(vinfo.snapshot_count, 2, "snapshot count in `volume info`");
    Ok(())
}
