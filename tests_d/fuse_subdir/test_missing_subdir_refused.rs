//! Mounting a directory the volume does not have is refused by the bricks (the client's log says
//! the subdirectory is not found) and leaves no mount; a path that names a file fails in the
//! mount helper and leaves no mount either. Once the
//! directory is made through a volume mount, the same mount succeeds.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_fusesubdir_rename.py` (after the
//! rename, mounting the old name fails) and `test_subdir_mount.py` (the made directory mounts).
use crate::prelude::*;

pub const CASE: Case = Case::new(846, "missing_subdir_refused", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let c2 = ctx.client(1)?;
    let r = mount::ensure_refused(
        &ctx,
        &c2,
        &vol,
        Some("nodir"),
        RefusalReason::NoSuchDirectory,
    )
    .await?;
    ensure!(
        r.line.contains("nodir"),
        "the refusal does not name the missing directory: {}",
        r.line
    );
    mount::ensure_refused(
        &ctx,
        &c2,
        &vol,
        Some("a/b/nodir"),
        RefusalReason::NoSuchDirectory,
    )
    .await?;

    io::write_files(&ctx, &root.node, &root.path, &io::files("file", 1, 100)).await?;
    let out = mount::attempt_mount(&ctx, &c2, &vol, Some("file-0")).await?;
    ensure!(
        matches!(out, MountOutcome::Failed(_)),
        "a mount of a regular file as a directory did not fail in the mount helper: {out:?}"
    );

    ctx.sh(&root.node, format!("mkdir -p {}/nodir", root.path))
        .await?;
    let m = mount::mount_subdir(&ctx, &c2, &vol, "nodir").await?;
    mount::ensure_write(&ctx, &m, "f", mount::WriteExpect::Allowed).await?;
    Ok(())
}
