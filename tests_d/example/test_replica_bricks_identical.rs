//! A file written to a replica-2 volume has the same content on both bricks.
use crate::prelude::*;

pub const CASE: Case = Case::new(104, "replica_bricks_identical", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let written = io::write_files(&ctx, &client, &m.path, &io::files("rep", 8, 300_000)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    for brick in &vol.bricks {
        io::verify(&ctx, &brick.node, &brick.path, &written).await?;
        let mut on_brick = io::brick_files(&ctx, &brick.node, &brick.path).await?;
        on_brick.sort();
        let mut want: Vec<String> = written.iter().map(|f| f.name.clone()).collect();
        want.sort();
        ensure_eq!(on_brick, want, "data files on brick {}", brick.spec());
    }
    Ok(())
}
