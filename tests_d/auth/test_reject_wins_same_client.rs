//! A client named in both `auth.allow` and `auth.reject` is refused: reject wins. The other
//! client, in neither list, is refused too, since `auth.allow` no longer lets everyone in. Both
//! by IP and by host name.
//!
//! Ported from glusto-tests
//! `tests/functional/authentication/test_auth_allow_reject_same_client.py` (reject and allow
//! client1 by IP: client1 and client2 both fail with AUTH_FAILED; again by hostname).
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(832, "reject_wins_same_client", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    for by in [By::Ip, By::Host] {
        let name = auth::address(&ctx, &c1, by).await?;
        auth::set(&ctx, &vol, Key::Reject, &name).await?;
        auth::set(&ctx, &vol, Key::Allow, &name).await?;
        for c in [&c1, &c2] {
            let r = mount::ensure_refused(&ctx, c, &vol, None, RefusalReason::AuthFailed).await?;
            ctx.step(format!("{} refused ({by:?} {name}): {}", c.name(), r.line));
        }
    }
    // The same lists without the reject: the allowed client is back in, the other still out.
    auth::reset(&ctx, &vol, Key::Reject).await?;
    let m = mount::mount(&ctx, &c1, &vol).await?;
    mount::ensure_write(&ctx, &m, "f", mount::WriteExpect::Allowed).await?;
    mount::ensure_refused(&ctx, &c2, &vol, None, RefusalReason::AuthFailed).await?;
    Ok(())
}
