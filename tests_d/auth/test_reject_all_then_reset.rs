//! `auth.reject *` refuses every client, whichever; after the option is reset both clients mount
//! and see the same volume (what one writes the other reads).
//!
//! Ported from glusto-tests `tests/functional/authentication/test_vol_auth.py` (auth.reject "*":
//! every client's mount fails with AUTH_FAILED; after a volume reset client1 mounts).
use crate::gluster::auth::{self, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(835, "reject_all_then_reset", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::disperse(3, 1)).await?;
    vol.start_and_wait(&ctx).await?;
    let clients = ctx.clients();
    auth::set(&ctx, &vol, Key::Reject, "*").await?;
    for c in &clients {
        mount::ensure_refused(&ctx, c, &vol, None, RefusalReason::AuthFailed).await?;
    }
    auth::reset(&ctx, &vol, Key::Reject).await?;
    let m1 = mount::mount(&ctx, &clients[0], &vol).await?;
    let m2 = mount::mount(&ctx, &clients[1], &vol).await?;
    let sums = io::write_files(&ctx, &m1.node, &m1.path, &io::files("f", 5, 100_000)).await?;
    io::verify(&ctx, &m2.node, &m2.path, &sums).await?;
    Ok(())
}
