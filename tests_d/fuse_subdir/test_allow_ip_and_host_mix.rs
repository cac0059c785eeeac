//! An `auth.allow` list mixing an IP (client1) and a host name (client2) lets both clients in,
//! for the whole volume and, as a per-directory entry `/d1(ip|host)`, for d1; what one writes the
//! other reads.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_auth_allow_ip_fqdn.py` (allow
//! client1 by IP and client2 by hostname on the volume, both mount; the same on d1).
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(854, "allow_ip_and_host_mix", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let mix = [
        auth::address(&ctx, &c1, By::Ip).await?,
        auth::address(&ctx, &c2, By::Host).await?,
    ];

    auth::set(&ctx, &vol, Key::Allow, &mix.join(",")).await?;
    let m1 = mount::mount(&ctx, &c1, &vol).await?;
    let m2 = mount::mount(&ctx, &c2, &vol).await?;
    ctx.sh(&c1, format!("mkdir {}/d1", m1.path)).await?;
    let sums = io::write_files(
        &ctx,
        &c1,
        &format!("{}/d1", m1.path),
        &io::files("f", 5, 10_000),
    )
    .await?;
    io::verify(&ctx, &c2, &format!("{}/d1", m2.path), &sums).await?;
    mount::unmount(&ctx, &m1).await?;
    mount::unmount(&ctx, &m2).await?;

    auth::set(&ctx, &vol, Key::Allow, &auth::per_dir(&[("d1", &mix)])).await?;
    let d1 = mount::mount_subdir(&ctx, &c1, &vol, "d1").await?;
    let d2 = mount::mount_subdir(&ctx, &c2, &vol, "d1").await?;
    let more = io::write_files(&ctx, &c2, &d2.path, &io::files("g", 5, 10_000)).await?;
    io::verify(&ctx, &c1, &d1.path, &[sums, more].concat()).await?;
    Ok(())
}
