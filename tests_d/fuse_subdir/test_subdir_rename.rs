//! A mounted directory renamed from a volume mount: the old name no longer mounts (no such
//! directory) and the new one is refused to client1 until `auth.allow` names it; then it mounts
//! and holds every file written through the old mount.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_fusesubdir_rename.py` (allow
//! client1 on d1 and client2 on the volume; IO; client2 renames d1 to d1_renamed; mounting d1 and
//! d1_renamed on client1 fails; after allowing d1_renamed it mounts).
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(850, "subdir_rename", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    ctx.sh(&root.node, format!("mkdir {}/d1", root.path))
        .await?;
    mount::unmount(&ctx, &root).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let a1 = auth::address(&ctx, &c1, By::Ip).await?;
    let a2 = auth::address(&ctx, &c2, By::Ip).await?;
    auth::set(
        &ctx,
        &vol,
        Key::Allow,
        &auth::per_dir(&[
            ("d1", std::slice::from_ref(&a1)),
            ("/", std::slice::from_ref(&a2)),
        ]),
    )
    .await?;

    let m1 = mount::mount_subdir(&ctx, &c1, &vol, "d1").await?;
    let m2 = mount::mount(&ctx, &c2, &vol).await?;
    let s1 = io::write_files(&ctx, &c1, &m1.path, &io::files("sub", 5, 16 << 10)).await?;
    let s2 = io::write_files(
        &ctx,
        &c2,
        &format!("{}/d1", m2.path),
        &io::files("vol", 5, 16 << 10),
    )
    .await?;
    fileops::rename(
        &ctx,
        &c2,
        &format!("{}/d1", m2.path),
        &format!("{}/d1_renamed", m2.path),
    )
    .await?;
    mount::unmount(&ctx, &m1).await?;

    mount::ensure_refused(&ctx, &c1, &vol, Some("d1"), RefusalReason::NoSuchDirectory).await?;
    mount::ensure_refused(
        &ctx,
        &c1,
        &vol,
        Some("d1_renamed"),
        RefusalReason::AuthFailed,
    )
    .await?;

    auth::set(
        &ctx,
        &vol,
        Key::Allow,
        &auth::per_dir(&[
            ("d1_renamed", std::slice::from_ref(&a1)),
            ("/", std::slice::from_ref(&a2)),
        ]),
    )
    .await?;
    let again = mount::mount_subdir(&ctx, &c1, &vol, "d1_renamed").await?;
    io::verify(&ctx, &c1, &again.path, &[s1, s2].concat()).await?;
    Ok(())
}
