//! Directory mounts on two clients through a volume stop, start and reset: while the volume is
//! stopped their I/O fails (not connected), once it is started again each reconnects, reads what
//! it wrote before and writes more; `volume reset` of every option leaves them serving.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_volume_set_ops_sub_dirs_mounted.py`
//! (sub-dirs mounted on two clients, IO, volume stop, start, reset), with the I/O checked at each
//! step.
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(853, "volume_stop_start_subdirs_mounted", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 2))
.timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    ctx.sh(&root.node, format!("mkdir {r}/d1 {r}/d2", r = root.path))
        .await?;
    mount::unmount(&ctx, &root).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let a1 = auth::address(&ctx, &c1, By::Host).await?;
    let a2 = auth::address(&ctx, &c2, By::Host).await?;
    auth::set(
        &ctx,
        &vol,
        Key::Allow,
        &auth::per_dir(&[("d1", &[a1]), ("d2", &[a2])]),
    )
    .await?;
    let m1 = mount::mount_subdir(&ctx, &c1, &vol, "d1").await?;
    let m2 = mount::mount_subdir(&ctx, &c2, &vol, "d2").await?;
    let mut s1 = io::write_files(&ctx, &c1, &m1.path, &io::files("a", 10, 32 << 10)).await?;
    let mut s2 = io::write_files(&ctx, &c2, &m2.path, &io::files("b", 10, 32 << 10)).await?;

    vol.stop(&ctx).await?;
    for m in [&m1, &m2] {
        mount::ensure_fails(
            &ctx,
            m,
            "touch \"$M/while-stopped\"",
            &["Transport endpoint is not connected"],
        )
        .await?;
    }
    vol.start_and_wait(&ctx).await?;
    for (m, s) in [(&m1, &mut s1), (&m2, &mut s2)] {
        // Every replica set's bricks up again in this client (read from the mount's `.meta`).
        brick::wait_client_up(&ctx, m, &vol, Duration::from_secs(90)).await?;
        io::verify(&ctx, &m.node, &m.path, s).await?;
        s.extend(
            io::write_files(&ctx, &m.node, &m.path, &io::files("after-start", 5, 8192)).await?,
        );
    }

    gluster(&ctx, &vol.server, ["volume", "reset", &vol.name]).await?;
    for (m, s) in [(&m1, &s1), (&m2, &s2)] {
        io::verify(&ctx, &m.node, &m.path, s).await?;
        mount::ensure_write(&ctx, m, "after-reset", mount::WriteExpect::Allowed).await?;
    }
    Ok(())
}
