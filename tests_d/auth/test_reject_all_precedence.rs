//! `auth.reject *` takes precedence over an `auth.allow` listing both clients, for the whole
//! volume and for a directory (`/d1(*)` against `/d1(client1|client2)`), with the clients named by
//! IP and by host name: every mount is refused.
//!
//! Ported from glusto-tests
//! `tests/functional/authentication/test_verify_auth_reject_precedence.py` (reject all, allow
//! client1 and client2 by IP then by hostname: both fail with AUTH_FAILED; the same on the
//! sub-directory d1).
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(833, "reject_all_precedence", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let m = mount::mount(&ctx, &c1, &vol).await?;
    ctx.sh(&c1, format!("mkdir {}/d1", m.path)).await?;
    mount::unmount(&ctx, &m).await?;

    for (dir, reject) in [
        (None, "*".to_string()),
        (Some("d1"), auth::per_dir(&[("d1", &["*"])])),
    ] {
        auth::set(&ctx, &vol, Key::Reject, &reject).await?;
        for by in [By::Ip, By::Host] {
            let both = [
                auth::address(&ctx, &c1, by).await?,
                auth::address(&ctx, &c2, by).await?,
            ];
            let allow = match dir {
                None => both.join(","),
                Some(d) => auth::per_dir(&[(d, &both)]),
            };
            auth::set(&ctx, &vol, Key::Allow, &allow).await?;
            for c in [&c1, &c2] {
                mount::ensure_refused(&ctx, c, &vol, dir, RefusalReason::AuthFailed).await?;
            }
        }
    }
    // Without the reject, the allow list lets both in (the refusals above were the reject's).
    auth::reset(&ctx, &vol, Key::Reject).await?;
    for c in [&c1, &c2] {
        mount::mount_subdir(&ctx, c, &vol, "d1").await?;
    }
    Ok(())
}
