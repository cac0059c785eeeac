//! Mount a replicated volume on two clients; files written from one read back identical on the other.
use crate::prelude::*;

pub const CASE: Case = Case::new(103, "mount_write_read_across_clients", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 2))
.timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let m1 = mount::mount(&ctx, &c1, &vol).await?;
    let m2 = mount::mount(&ctx, &c2, &vol).await?;

    let sizes = [0u64, 1, 4096, 65_537, 1 << 20, 5 << 20];
    let files: Vec<(String, u64)> = sizes.iter().map(|s| (format!("dir/f-{s}"), *s)).collect();
    let written = io::write_files(&ctx, &c1, &m1.path, &files).await?;
    io::verify(&ctx, &c2, &m2.path, &written).await?;

    // And the other way round, both clients writing at once.
    let targets = [(c1.clone(), m1.path.clone()), (c2.clone(), m2.path.clone())];
    let both = io::write_parallel(&ctx, &targets, &io::files("par", 5, 100_000)).await?;
    io::verify(&ctx, &c1, &m1.path, &both[1]).await?;
    io::verify(&ctx, &c2, &m2.path, &both[0]).await?;
    Ok(())
}
