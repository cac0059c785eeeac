//! `auth.allow` holds while a brick is down and when it comes back: the allowed client mounts
//! and writes with one brick of each set down, the other client is refused by the bricks still
//! up; the brick brought back applies the same rule (the other client is still refused) and the
//! self-heal daemon, an internal client that `auth.allow` does not name, still heals it.
//!
//! Ported from glusto-tests `tests/functional/authentication/test_auth_allow.py` (allow one
//! client by IP, the other refused), run with a brick down as the lab's plan asks; the heal
//! afterwards shows the allow list does not lock out gluster's own daemons.
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(837, "allow_with_brick_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    auth::set(
        &ctx,
        &vol,
        Key::Allow,
        &auth::address(&ctx, &c1, By::Ip).await?,
    )
    .await?;

    brick::take_down(&ctx, &vol, Select::One).await?;
    let m = mount::mount(&ctx, &c1, &vol).await?;
    let sums = io::write_files(&ctx, &c1, &m.path, &io::files("f", 20, 32 << 10)).await?;
    mount::ensure_refused(&ctx, &c2, &vol, None, RefusalReason::AuthFailed).await?;

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    mount::ensure_refused(&ctx, &c2, &vol, None, RefusalReason::AuthFailed).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    // Every brick of each set agrees with its partners again (the down ones got the files).
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    io::verify(&ctx, &c1, &m.path, &sums).await?;
    Ok(())
}
