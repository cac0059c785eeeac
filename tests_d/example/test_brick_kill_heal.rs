//! Kill a brick, write while it is down, bring it back: heal completes and both replicas agree.
use crate::prelude::*;

pub const CASE: Case = Case::new(105, "brick_kill_write_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    // Do not let the client-side heal hide what the self-heal daemon must do.
    vol.set(&ctx, "cluster.data-self-heal", "off").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("before", 4, 200_000)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;

    brick::kill(&ctx, &vol, 1).await?;
    let during = io::write_files(&ctx, &client, &m.path, &io::files("during", 6, 250_000)).await?;
    // Overwrite one older file too, so heal has data (not only new entries) to repair.
    let rewritten =
        io::write_files(&ctx, &client, &m.path, &[("before-0".to_string(), 123_456)]).await?;
    let pending = heal::info(&ctx, &vol).await?;
    ensure!(
        pending.iter().any(|b| b.entries.unwrap_or(0) > 0),
        "heal info shows nothing pending while a brick is down: {pending:?}"
    );

    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;

    let mut all: Vec<io::FileSum> = before
        .into_iter()
        .filter(|f| f.name != "before-0")
        .collect();
    all.extend(during);
    all.extend(rewritten);
    for brick in &vol.bricks {
        io::verify(&ctx, &brick.node, &brick.path, &all).await?;
    }
    io::verify(&ctx, &client, &m.path, &all).await?;
    Ok(())
}
