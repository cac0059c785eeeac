//! Snapshot create with a description: `snapshot info` reports it verbatim (GlusterFS bug-1250387).
use crate::prelude::*;

pub const CASE: Case = Case::new(202, "snapshot_create_with_description", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0).with(&[Capability::ThinLvm]))
.timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distribute(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let text = "nightly before upgrade";
    let snap = snapshot::create(&ctx, &vol, Some(text)).await?;
    let got = snapshot::description(&ctx, &ctx.server(1)?, &snap).await?;
    ensure_eq!(got, text, "description of {snap}");
    let plain = snapshot::create(&ctx, &vol, None).await?;
    let none = snapshot::description(&ctx, &ctx.server(0)?, &plain).await?;
    ensure!(
        none.is_empty(),
        "{plain} has a description it was not given: {none:?}"
    );
    Ok(())
}
