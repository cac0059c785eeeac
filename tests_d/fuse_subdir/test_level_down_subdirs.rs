//! Nested directories with their own `auth.allow`: parent for client1, parent/child for client2,
//! and a deeper a/b/c for both. Each mount is allowed only for the exact directory its entry
//! names (client1's right on parent does not cover parent/child, nor client2's the parent); what
//! client2 writes in parent/child, client1 reads under child through its parent mount, and the
//! level-down a/b/c mounts on both clients share their files.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_leveldownsubdir_with_multiclient.py`
//! (parentDir for client1, parentDir/childDir for client2; cross mounts fail), with the data
//! shared between the levels checked and a third level added.
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(849, "level_down_subdirs", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    ctx.sh(
        &root.node,
        format!("mkdir -p {r}/parent/child {r}/a/b/c", r = root.path),
    )
    .await?;
    mount::unmount(&ctx, &root).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let a1 = auth::address(&ctx, &c1, By::Ip).await?;
    let a2 = auth::address(&ctx, &c2, By::Ip).await?;
    let allow = auth::per_dir(&[
        ("parent", std::slice::from_ref(&a1)),
        ("parent/child", std::slice::from_ref(&a2)),
        ("a/b/c", &[a1.clone(), a2.clone()]),
    ]);
    auth::set(&ctx, &vol, Key::Allow, &allow).await?;

    let parent = mount::mount_subdir(&ctx, &c1, &vol, "parent").await?;
    mount::ensure_refused(&ctx, &c2, &vol, Some("parent"), RefusalReason::AuthFailed).await?;
    let child = mount::mount_subdir(&ctx, &c2, &vol, "parent/child").await?;
    mount::ensure_refused(
        &ctx,
        &c1,
        &vol,
        Some("parent/child"),
        RefusalReason::AuthFailed,
    )
    .await?;

    let sums = io::write_files(&ctx, &c2, &child.path, &io::files("deep", 4, 20_000)).await?;
    io::verify(&ctx, &c1, &format!("{}/child", parent.path), &sums).await?;

    let c_1 = mount::mount_subdir(&ctx, &c1, &vol, "a/b/c").await?;
    let c_2 = mount::mount_subdir(&ctx, &c2, &vol, "a/b/c").await?;
    let shared = io::write_files(&ctx, &c1, &c_1.path, &io::files("abc", 3, 5000)).await?;
    io::verify(&ctx, &c2, &c_2.path, &shared).await?;
    mount::ensure_refused(&ctx, &c1, &vol, Some("a/b"), RefusalReason::AuthFailed).await?;
    Ok(())
}
