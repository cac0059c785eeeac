//! `auth.reject` naming one client refuses only that client: the other mounts and writes; once
//! `auth.reject` is reset the rejected client mounts too and reads what the other wrote.
//!
//! Ported from glusto-tests `tests/functional/authentication/test_fusereject.py` (reject
//! client1 by hostname: its mount fails with AUTH_FAILED, client2 mounts; after a volume reset
//! client1 mounts), with the data read back across the two clients.
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(831, "reject_one_client", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let name = auth::address(&ctx, &c1, By::Host).await?;
    auth::set(&ctx, &vol, Key::Reject, &name).await?;

    mount::ensure_refused(&ctx, &c1, &vol, None, RefusalReason::AuthFailed).await?;
    let m2 = mount::mount(&ctx, &c2, &vol).await?;
    let sums = io::write_files(&ctx, &c2, &m2.path, &io::files("f", 10, 64 << 10)).await?;

    auth::reset(&ctx, &vol, Key::Reject).await?;
    ensure_eq!(
        auth::value_of(&ctx, &vol, Key::Reject).await?,
        String::new(),
        "auth.reject after volume reset"
    );
    let m1 = mount::mount(&ctx, &c1, &vol).await?;
    io::verify(&ctx, &c1, &m1.path, &sums).await?;
    Ok(())
}
