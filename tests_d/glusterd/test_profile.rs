//! Volume profile: after `profile start` and writes from a mount, `profile info` lists every
//! brick with its WRITE calls (a replica's writes reach every brick); after `profile stop`,
//! `profile info` is refused because profiling is not started.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_profile_operations.py` (start, I/O,
//! info, stop) and `test_profile_info_without_having_profile_started.py` (info refused when
//! profiling is off).
use crate::prelude::*;

pub const CASE: Case = Case::new(756, "profile_counts_fops", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let client = ctx.client(0)?;

    let a = mgmt::attempt(&ctx, &vol.server, ["volume", "profile", &vol.name, "info"]).await?;
    ensure!(
        !a.ok && a.says("not started"),
        "profile info before profile start answered {:?}",
        a.message
    );

    mgmt::profile_start(&ctx, &vol).await?;
    // Every brick must count every create: write once the client is connected to all three.
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let files = 8;
    io::write_files(&ctx, &client, &m.path, &io::files("p", files, 256 << 10)).await?;
    let prof = mgmt::profile_info(&ctx, &vol).await?;
    ensure_eq!(prof.len(), vol.bricks.len(), "bricks in profile info");
    for b in &vol.bricks {
        let p = prof.iter().find(|p| p.brick == b.spec()).ok_or_else(|| {
            TestError::Check(format!("profile info has no brick {}", b.spec()))
        })?;
        ensure!(
            p.calls("WRITE") >= files as u64,
            "brick {} counted {} WRITE calls for {files} files written: {:?}",
            b.spec(),
            p.calls("WRITE"),
            p.fops
        );
        ensure!(
            p.calls("CREATE") >= files as u64,
            "brick {} counted {} CREATE calls for {files} new files",
            b.spec(),
            p.calls("CREATE")
        );
    }

    mgmt::profile_stop(&ctx, &vol).await?;
    let a = mgmt::attempt(&ctx, &vol.server, ["volume", "profile", &vol.name, "info"]).await?;
    ensure!(
        !a.ok && a.says("not started"),
        "profile info after profile stop answered {:?}",
        a.message
    );
    Ok(())
}
