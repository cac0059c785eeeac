//! `auth.allow` with an address wildcard (`a.b.c.*` from client1's IP) lets in every client whose
//! IP it matches and refuses the others; an `auth.reject` naming one of the matched clients by IP
//! then refuses it while the wildcard keeps letting the other in.
//!
//! Ported from glusto-tests `tests/functional/authentication/test_auth_allow.py` and
//! `test_verify_auth_reject_precedence.py` (allow by address, reject wins), with a wildcard
//! address as GlusterFS documents for auth.allow.
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(838, "allow_wildcard", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let wildcard = auth::address(&ctx, &c1, By::Wildcard).await?;
    let ip2 = auth::address(&ctx, &c2, By::Ip).await?;
    auth::set(&ctx, &vol, Key::Allow, &wildcard).await?;

    let m1 = mount::mount(&ctx, &c1, &vol).await?;
    mount::ensure_write(&ctx, &m1, "f1", mount::WriteExpect::Allowed).await?;
    if auth::matches(&wildcard, &ip2) {
        let m2 = mount::mount(&ctx, &c2, &vol).await?;
        mount::ensure_write(&ctx, &m2, "f2", mount::WriteExpect::Allowed).await?;
        mount::unmount(&ctx, &m2).await?;
        // Reject client2 by IP: the wildcard still matches it, the reject wins.
        auth::set(&ctx, &vol, Key::Reject, &ip2).await?;
        mount::ensure_refused(&ctx, &c2, &vol, None, RefusalReason::AuthFailed).await?;
        let again = mount::mount(&ctx, &c1, &vol).await?;
        mount::ensure_write(&ctx, &again, "f3", mount::WriteExpect::Allowed).await?;
    } else {
        ctx.step(format!(
            "{ip2} is outside {wildcard}: {} must be refused",
            c2.name()
        ));
        mount::ensure_refused(&ctx, &c2, &vol, None, RefusalReason::AuthFailed).await?;
    }
    Ok(())
}
