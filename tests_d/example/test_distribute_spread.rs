//! A distribute volume spreads files over its bricks: every brick gets some, none gets a duplicate.
//!
//! The files go into a directory made once the client sees every brick: a directory's layout
//! covers the subvolumes that are up when it is made (on a loaded machine the mount's first
//! lookup can come before its last brick connection, and the root's layout then leaves that brick
//! out until a fix-layout).
use crate::prelude::*;

pub const CASE: Case = Case::new(108, "distribute_spreads_files", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(1, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distribute(4)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let count = 100;
    let written = io::write_files(
        &ctx,
        &client,
        &m.path,
        &io::files("spread/f", count, 1000),
    )
    .await?;

    let mut seen = std::collections::BTreeMap::new();
    for brick in &vol.bricks {
        let files = io::brick_files(&ctx, &brick.node, &brick.path).await?;
        ctx.step(format!("{} holds {} file(s)", brick.spec(), files.len()));
        ensure!(
            !files.is_empty(),
            "brick {} got none of {count} files",
            brick.spec()
        );
        for f in files {
            if let Some(other) = seen.insert(f.clone(), brick.spec()) {
                return Err(TestError::Check(format!(
                    "{f} is on both {other} and {}",
                    brick.spec()
                )));
            }
        }
    }
    ensure_eq!(seen.len(), count, "files found on bricks");
    io::verify(&ctx, &client, &m.path, &written).await?;
    Ok(())
}
