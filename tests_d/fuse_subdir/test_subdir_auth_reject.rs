//! Per-directory `auth.reject`: d1 rejects client1, d2 rejects client2. Each client mounts the
//! directory that does not reject it, and is refused the one that does.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_auth_reject.py` (reject client1 on
//! d1 and client2 on d2: d2 mounts on client1, d1 on client2; the others fail).
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(848, "subdir_auth_reject", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    ctx.sh(&root.node, format!("mkdir {r}/d1 {r}/d2", r = root.path))
        .await?;
    mount::unmount(&ctx, &root).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let a1 = auth::address(&ctx, &c1, By::Ip).await?;
    let a2 = auth::address(&ctx, &c2, By::Ip).await?;
    auth::set(
        &ctx,
        &vol,
        Key::Reject,
        &auth::per_dir(&[("d1", &[a1]), ("d2", &[a2])]),
    )
    .await?;

    let m1 = mount::mount_subdir(&ctx, &c1, &vol, "d2").await?;
    let m2 = mount::mount_subdir(&ctx, &c2, &vol, "d1").await?;
    mount::ensure_write(&ctx, &m1, "from-client1", mount::WriteExpect::Allowed).await?;
    mount::ensure_write(&ctx, &m2, "from-client2", mount::WriteExpect::Allowed).await?;
    mount::ensure_refused(&ctx, &c1, &vol, Some("d1"), RefusalReason::AuthFailed).await?;
    mount::ensure_refused(&ctx, &c2, &vol, Some("d2"), RefusalReason::AuthFailed).await?;
    Ok(())
}
