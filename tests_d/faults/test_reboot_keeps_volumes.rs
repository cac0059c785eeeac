//! A server rebooted comes back with its pool membership, both volumes' bricks online and the data
//! written before the reboot intact. Port of GlusterFS
//! `tests/bugs/glusterd/bug-1367478-volume-start-validation-after-glusterd-restart.t` (two started
//! replica-2 volumes; the second node's glusterd restarted; every brick must come back up), with a
//! whole-node reboot instead of a glusterd restart: on kernel-VM servers the VM reboots, so
//! glusterd's state and the bricks must survive on the VM's disk.
use crate::prelude::*;

pub const CASE: Case = Case::new(330, "reboot_keeps_volumes_and_data", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1).with(&[Capability::Reboot]))
    .timeout_secs(900)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2) = (ctx.server(0)?, ctx.server(1)?);
    let client = ctx.client(0)?;
    // Two replica-2 volumes across server1 and server2, as in the source test.
    let mut vols = Vec::new();
    for _ in 0..2 {
        let v = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
        v.start_and_wait(&ctx).await?;
        vols.push(v);
    }
    let mut written = Vec::new();
    for v in &vols {
        let m = mount::mount(&ctx, &client, v).await?;
        let sums = io::write_files(&ctx, &client, &m.path, &io::files("pre", 5, 256 << 10)).await?;
        written.push(sums);
        mount::unmount(&ctx, &m).await?;
    }
    let uuid_before = ctx.sh(&s2, "cat /var/lib/glusterd/glusterd.info").await?;

    let took = fault::reboot(&ctx, &s2).await?;
    ctx.step(format!("server2 rebooted in {:.1}s", took.as_secs_f64()));

    // The effect of the reboot: server2 was really down (its glusterd is a new process).
    let uptime = ctx
        .sh(&s2, "ps -o etimes= -C glusterd | head -n 1")
        .await?;
    let uptime: u64 = uptime.trim().parse().unwrap_or(u64::MAX);
    ensure!(
        uptime <= took.as_secs() + 5,
        "glusterd on server2 has run for {uptime}s: the reboot of {:.0}s did not restart it",
        took.as_secs_f64()
    );
    // Same identity, still in the pool.
    let uuid_after = ctx.sh(&s2, "cat /var/lib/glusterd/glusterd.info").await?;
    ensure_eq!(uuid_after, uuid_before, "server2's glusterd.info after the reboot");
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    for v in &vols {
        // Every brick of both volumes comes back up.
        brick::wait_online(&ctx, v, Duration::from_secs(180)).await?;
        let info = volume::info(&ctx, &s1, &v.name).await?;
        ensure_eq!(info.status.as_str(), "Started", "volume {} after the reboot", v.name);
    }
    // The data written before the reboot is on both bricks of each volume.
    for (v, sums) in vols.iter().zip(&written) {
        for b in &v.bricks {
            io::verify(&ctx, &b.node, &b.path, sums).await?;
        }
        let m = mount::mount(&ctx, &client, v).await?;
        io::verify(&ctx, &client, &m.path, sums).await?;
    }
    Ok(())
}
