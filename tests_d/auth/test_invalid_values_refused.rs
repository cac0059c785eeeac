//! `volume set` refuses malformed `auth.allow` / `auth.reject` values (a slash in an address,
//! braces in an IP, the same inside a per-directory entry) saying the value is not a valid
//! internet-address-list, and an empty value; the options keep their value, glusterd keeps
//! answering, and a client still mounts.
//!
//! Ported from glusto-tests `tests/functional/authentication/test_auth_invalid_values.py` (the
//! same four values refused for auth.allow and auth.reject; its nfs.rpc-auth half is left out:
//! GlusterFS 10.3 has no gNFS server here) and `test_authentication_allow_blank.py` (an empty
//! auth.allow; glusterd still running).
use crate::gluster::auth::{self, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(834, "invalid_values_refused", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const BAD: &[&str] = &["a/a", "192.{}.1.2", "/d1(a/a)", "/d1(192.{}.1.2)"];

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    for key in [Key::Allow, Key::Reject] {
        let before = auth::value_of(&ctx, &vol, key).await?;
        for value in BAD {
            let a = auth::set_attempt(&ctx, &vol, key, value).await?;
            ensure!(
                !a.ok,
                "{} {value} was accepted: {}",
                key.option(),
                a.message
            );
            ensure!(
                a.says("is not a valid internet-address-list") && a.says(value),
                "{} {value} refused without naming the value as not a valid \
                 internet-address-list: {:?}",
                key.option(),
                a.message
            );
        }
        let a = auth::set_attempt(&ctx, &vol, key, "").await?;
        ensure!(
            !a.ok,
            "an empty {} was accepted: {}",
            key.option(),
            a.message
        );
        ensure_eq!(
            auth::value_of(&ctx, &vol, key).await?,
            before,
            "{} after the refused values",
            key.option()
        );
    }
    for s in ctx.servers() {
        ensure!(
            glusterd::is_running(&ctx, &s).await?,
            "glusterd on {} is not running after the refused values",
            s.name()
        );
    }
    let m = mount::mount(&ctx, &ctx.client(0)?, &vol).await?;
    mount::ensure_write(&ctx, &m, "f", mount::WriteExpect::Allowed).await?;
    Ok(())
}
