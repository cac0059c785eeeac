//! An `auth.allow` change on a running volume applies to clients already mounted: when the list
//! shrinks to client1, the bricks drop client2's connections and its mount stops serving (its
//! FUSE process shuts down), while client1's mount keeps writing; a new mount from client2 is
//! refused. Reset, client2 mounts again and reads what client1 wrote meanwhile.
//!
//! Extends glusto-tests `tests/functional/authentication/test_auth_allow.py` (allow one client,
//! the other is refused) to mounts made before the change (GlusterFS reconfigures protocol/server
//! and disconnects clients no longer authorised).
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(836, "change_cuts_off_mounts", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let m1 = mount::mount(&ctx, &c1, &vol).await?;
    let m2 = mount::mount(&ctx, &c2, &vol).await?;
    let before = io::write_files(&ctx, &c2, &m2.path, &io::files("before", 5, 10_000)).await?;

    auth::set(
        &ctx,
        &vol,
        Key::Allow,
        &auth::address(&ctx, &c1, By::Ip).await?,
    )
    .await?;
    let line = auth::wait_cut_off(&ctx, &m2, Duration::from_secs(60)).await?;
    ctx.step(format!("{} cut off: {line}", c2.name()));
    ensure!(
        !mount::is_mounted(&ctx, &c2, &m2.path).await?,
        "{}:{} is still a mount after auth.allow dropped its client",
        c2.name(),
        m2.path
    );
    let after = io::write_files(&ctx, &c1, &m1.path, &io::files("after", 5, 10_000)).await?;
    io::verify(&ctx, &c1, &m1.path, &before).await?;
    mount::ensure_refused(&ctx, &c2, &vol, None, RefusalReason::AuthFailed).await?;

    auth::reset(&ctx, &vol, Key::Allow).await?;
    let again = mount::mount(&ctx, &c2, &vol).await?;
    io::verify(&ctx, &c2, &again.path, &[before, after].concat()).await?;
    Ok(())
}
