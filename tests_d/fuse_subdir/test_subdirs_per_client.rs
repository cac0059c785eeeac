//! Per-directory `auth.allow`: d1 for client1 (by host name), d2 for client2 (by IP). Each client
//! mounts its own directory and writes there; the other's directory and the volume's root are
//! refused to it; what each writes stays inside its directory.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_multisubdir_with_multiclient.py`
//! (allow client1 subdir1, client2 subdir2; cross mounts fail) and `test_auth_allow_fqdn.py` (the
//! same with host names).
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(847, "subdirs_per_client", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    ctx.sh(&root.node, format!("mkdir {r}/d1 {r}/d2", r = root.path))
        .await?;
    mount::unmount(&ctx, &root).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let a1 = auth::address(&ctx, &c1, By::Host).await?;
    let a2 = auth::address(&ctx, &c2, By::Ip).await?;
    auth::set(
        &ctx,
        &vol,
        Key::Allow,
        &auth::per_dir(&[("d1", &[a1]), ("d2", &[a2])]),
    )
    .await?;

    let m1 = mount::mount_subdir(&ctx, &c1, &vol, "d1").await?;
    let m2 = mount::mount_subdir(&ctx, &c2, &vol, "d2").await?;
    let s1 = io::write_files(&ctx, &c1, &m1.path, &io::files("one", 5, 16 << 10)).await?;
    let s2 = io::write_files(&ctx, &c2, &m2.path, &io::files("two", 5, 16 << 10)).await?;
    for (c, dir) in [(&c1, "d2"), (&c2, "d1")] {
        mount::ensure_refused(&ctx, c, &vol, Some(dir), RefusalReason::AuthFailed).await?;
        mount::ensure_refused(&ctx, c, &vol, None, RefusalReason::AuthFailed).await?;
    }
    ensure!(
        io::present(&ctx, &c1, &m1.path, &s2).await?.is_empty(),
        "client2's files are visible in client1's d1"
    );
    ensure!(
        io::present(&ctx, &c2, &m2.path, &s1).await?.is_empty(),
        "client1's files are visible in client2's d2"
    );

    // Seen from the volume's root (auth reset), each client's files are in its directory.
    auth::reset(&ctx, &vol, Key::Allow).await?;
    let all = mount::mount(&ctx, &c1, &vol).await?;
    io::verify(&ctx, &c1, &format!("{}/d1", all.path), &s1).await?;
    io::verify(&ctx, &c1, &format!("{}/d2", all.path), &s2).await?;
    Ok(())
}
