//! `auth.allow` naming one client, by its IP and then by its host name: that client mounts the
//! volume and writes through it, the other client's mount is refused by the bricks (its log says
//! `Authentication failed`) and its mount point never serves.
//!
//! Ported from glusto-tests `tests/functional/authentication/test_auth_allow.py` (allow client1 by
//! IP, mount on client1, client2's mount fails with AUTH_FAILED in its log; again by hostname).
use crate::gluster::auth::{self, By, Key};
use crate::gluster::mount::WriteExpect;
use crate::prelude::*;

pub const CASE: Case = Case::new(830, "allow_by_ip_and_host", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    for by in [By::Ip, By::Host] {
        let name = auth::address(&ctx, &c1, by).await?;
        ctx.step(format!("auth.allow {name} ({by:?} of {})", c1.name()));
        auth::set(&ctx, &vol, Key::Allow, &name).await?;
        let m = mount::mount(&ctx, &c1, &vol).await?;
        mount::ensure_write(&ctx, &m, &format!("by-{by:?}"), WriteExpect::Allowed).await?;
        let r = mount::ensure_refused(&ctx, &c2, &vol, None, RefusalReason::AuthFailed).await?;
        ensure!(
            r.line.contains("Authentication failed"),
            "{}'s refusal with auth.allow {name} does not say \"Authentication failed\": {}",
            c2.name(),
            r.line
        );
        mount::unmount(&ctx, &m).await?;
    }
    Ok(())
}
