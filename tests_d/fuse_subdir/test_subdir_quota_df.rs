//! Quota limits on two directories (one two levels down, one four) seen by their directory
//! mounts: df on each mount reports its directory's limit as the size, the client over its
//! limit gets "Disk quota exceeded" while the other, under its own, still writes.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_quota_limits_fusesubdir_.py`
//! (level1/subdir1 for client1 and dlevel1/dlevel2/dlevel3/subdir2 for client2, limits on both,
//! IO on client1 past its limit fails, client2 still writes), with df checked as the limit.
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(852, "subdir_quota_df", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400);

const D1: &str = "level1/subdir1";
const D2: &str = "dlevel1/dlevel2/dlevel3/subdir2";
const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    ctx.sh(
        &root.node,
        format!("mkdir -p {r}/{D1} {r}/{D2}", r = root.path),
    )
    .await?;
    mount::unmount(&ctx, &root).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let a1 = auth::address(&ctx, &c1, By::Ip).await?;
    let a2 = auth::address(&ctx, &c2, By::Ip).await?;
    auth::set(
        &ctx,
        &vol,
        Key::Allow,
        &auth::per_dir(&[(D1, &[a1]), (D2, &[a2])]),
    )
    .await?;
    let m1 = mount::mount_subdir(&ctx, &c1, &vol, D1).await?;
    let m2 = mount::mount_subdir(&ctx, &c2, &vol, D2).await?;

    gluster(&ctx, &vol.server, ["volume", "quota", &vol.name, "enable"]).await?;
    for (dir, mib) in [(D1, 10), (D2, 20)] {
        let path = format!("/{dir}");
        let limit = format!("{mib}MB");
        gluster(
            &ctx,
            &vol.server,
            ["volume", "quota", &vol.name, "limit-usage", &path, &limit],
        )
        .await?;
    }
    for (m, mib) in [(&m1, 10u64), (&m2, 20)] {
        let line = format!("df -B1 --output=size {} | tail -1", m.path);
        let node = m.node.clone();
        wait_for(
            &ctx,
            &format!("df of {}:{} to show {mib} MiB", node.name(), m.path),
            Duration::from_secs(60),
            Duration::from_secs(1),
            || async {
                let size = ctx.sh(&node, line.clone()).await?;
                Ok(if size.trim().parse::<u64>().ok() == Some(mib * MIB) {
                    Poll::Ready(())
                } else {
                    Poll::Pending(format!("size {}", size.trim()))
                })
            },
        )
        .await?;
    }

    // client1 writes past its 10 MiB: within a bounded number of 1 MiB files the quota refuses.
    io::write_files(&ctx, &c1, &m1.path, &io::files("fill", 8, MIB)).await?;
    let n = std::sync::atomic::AtomicU32::new(0);
    wait_for(
        &ctx,
        "client1's writes to hit its quota",
        Duration::from_secs(90),
        Duration::from_secs(1),
        || async {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let out = mount::attempt(
                &ctx,
                &c1,
                &m1.path,
                &format!("dd if=/dev/zero of=\"$M/over-{i}\" bs=1M count=1 conv=fsync status=none"),
                Duration::from_secs(60),
            )
            .await?;
            let err = out.stderr_str();
            Ok(if !out.success() && err.contains("Disk quota exceeded") {
                Poll::Ready(())
            } else if out.success() {
                Poll::Pending(format!("over-{i} written"))
            } else {
                Poll::Pending(err)
            })
        },
    )
    .await?;
    let used = ctx
        .sh(&c1, format!("df -B1 --output=used {} | tail -1", m1.path))
        .await?;
    ensure!(
        used.trim().parse::<u64>().unwrap_or(0) >= 10 * MIB,
        "df of client1's mount shows {} bytes used after its quota refused a write",
        used.trim()
    );
    // client2 is under its own limit.
    io::write_files(&ctx, &c2, &m2.path, &io::files("ok", 4, MIB)).await?;
    mount::ensure_write(&ctx, &m2, "still-ok", mount::WriteExpect::Allowed).await?;
    Ok(())
}
