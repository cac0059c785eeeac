//! An object-count quota on a mounted directory: client1, which mounts only d1, can create files
//! there until d1's limit and is then refused with "Disk quota exceeded", never far beyond the
//! limit; client2, mounting the volume's root, still creates entries outside d1 (under the
//! volume's larger limit) but not inside d1.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_fusesubdir_with_quota_objects.py`
//! (allow client1 on d1 and client2 on the volume; limit-objects on d1 and on the volume; files
//! past d1's limit fail on the subdir mount, the volume mount still creates).
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(856, "subdir_quota_objects", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400);

const LIMIT: u32 = 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    ctx.sh(&root.node, format!("mkdir {r}/d1 {r}/other", r = root.path))
        .await?;
    mount::unmount(&ctx, &root).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let a1 = auth::address(&ctx, &c1, By::Ip).await?;
    let a2 = auth::address(&ctx, &c2, By::Ip).await?;
    auth::set(
        &ctx,
        &vol,
        Key::Allow,
        &auth::per_dir(&[("d1", &[a1]), ("/", &[a2])]),
    )
    .await?;
    let m1 = mount::mount_subdir(&ctx, &c1, &vol, "d1").await?;
    let m2 = mount::mount(&ctx, &c2, &vol).await?;

    gluster(&ctx, &vol.server, ["volume", "quota", &vol.name, "enable"]).await?;
    // Usage is re-read from the bricks at every check (by default it is cached for up to 60 s
    // under the soft limit, and creates overshoot the limit meanwhile).
    for t in ["soft-timeout", "hard-timeout"] {
        gluster(&ctx, &vol.server, ["volume", "quota", &vol.name, t, "0"]).await?;
    }
    let limit = LIMIT.to_string();
    gluster(
        &ctx,
        &vol.server,
        ["volume", "quota", &vol.name, "limit-objects", "/d1", &limit],
    )
    .await?;
    gluster(
        &ctx,
        &vol.server,
        ["volume", "quota", &vol.name, "limit-objects", "/", "500"],
    )
    .await?;

    // One file a second until the quota refuses one (enforcement follows the accounting).
    let n = std::sync::atomic::AtomicU32::new(0);
    let created = wait_for(
        &ctx,
        "client1's creates in d1 to hit its object limit",
        Duration::from_secs(150),
        Duration::from_secs(1),
        || async {
            let i = n.load(std::sync::atomic::Ordering::Relaxed);
            let out = mount::attempt(
                &ctx,
                &c1,
                &m1.path,
                &format!("touch \"$M/f{i}\""),
                Duration::from_secs(30),
            )
            .await?;
            let err = out.stderr_str();
            Ok(if out.success() {
                n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Poll::Pending(format!("{} file(s) created", i + 1))
            } else if err.contains("Disk quota exceeded") {
                Poll::Ready(i)
            } else {
                Poll::Pending(err)
            })
        },
    )
    .await?;
    // d1 itself counts as one object.
    ensure!(
        created + 1 >= LIMIT,
        "client1 was refused after {created} file(s) in d1, below its limit of {LIMIT} objects"
    );
    ensure!(
        created <= LIMIT + 2,
        "client1 created {created} files in d1 with a limit of {LIMIT} objects"
    );

    mount::ensure_fails(
        &ctx,
        &m2,
        "touch \"$M/d1/from-root\"",
        &["Disk quota exceeded"],
    )
    .await?;
    ctx.sh(
        &c2,
        format!("cd {}/other && touch $(seq -f g%g 1 {LIMIT})", m2.path),
    )
    .await?;
    let listed = ctx.sh(&c2, format!("ls {}/other | wc -l", m2.path)).await?;
    ensure_eq!(
        listed.trim(),
        LIMIT.to_string(),
        "files created outside d1 through the volume mount"
    );
    Ok(())
}
