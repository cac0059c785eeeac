//! `snapshot create ... force` on a healthy volume succeeds like a plain create, and a name that is
//! already taken is refused, force or not (GlusterFS `volume-snapshot.t` duplicate-name checks).
use crate::prelude::*;

pub const CASE: Case = Case::new(214, "snapshot_create_force_and_duplicate_name", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0).with(&[Capability::ThinLvm]))
.timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let server = ctx.server(0)?;
    let name = ctx.unique("forced");
    gluster(
        &ctx,
        &server,
        [
            "snapshot",
            "create",
            &name,
            &vol.name,
            "no-timestamp",
            "force",
        ],
    )
    .await?;
    let info = snapshot::info(&ctx, &server, &name).await?;
    ensure_eq!(info.origin, vol.name, "origin of {name}");

    for extra in [None, Some("force")] {
        let mut args = vec![
            "--mode=script",
            "snapshot",
            "create",
            name.as_str(),
            vol.name.as_str(),
            "no-timestamp",
        ];
        args.extend(extra);
        let out = ctx
            .exec(&server, Command::new("gluster").args(args))
            .await?;
        ensure!(
            !out.success(),
            "a second snapshot named {name} was created (extra {extra:?})"
        );
    }
    ensure_eq!(
        snapshot::list(&ctx, &server, Some(&vol.name)).await?,
        vec![name.clone()],
        "snapshots of {}",
        vol.name
    );
    Ok(())
}
