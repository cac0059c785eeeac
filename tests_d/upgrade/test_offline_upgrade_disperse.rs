//! Offline upgrade of a dispersed volume (4+2 over three servers): the volume is stopped, every
//! node upgraded (GlusterFS 10.3 → 11.1), the volume started again. Every file's fragments agree on
//! all six bricks with the size, version and length EC recorded before, nothing is left to heal,
//! every file reads back with its checksum from the upgraded client, and the volume takes new
//! writes on 11.1. (A fragment lost on one brick is healed back by GlusterFS within seconds of the
//! start and passes; fragments lost beyond the redundancy fail it: mutation
//! `upgrade_loses_fragments`.)
//!
//! GlusterFS's upgrade guide (glusterdocs `docs/Upgrade-Guide/generic-upgrade-procedure.md`):
//! "Online upgrade is not supported for dispersed or distributed dispersed volumes"; the offline
//! procedure (stop all volumes, upgrade every server and client, start the volumes, remount) is the
//! one it gives for them, and what this checks. `gflab upgrade` refuses a rolling upgrade while such
//! a volume is started, for the same reason.
use crate::prelude::*;

pub const CASE: Case = Case::new(609, "offline_upgrade_disperse_keeps_fragments", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1).gluster_below(11, 0))
.disruptive()
.timeout_secs(900);

/// How long fragments may take to lose the dirty marks a departed client's eager locks left (the
/// self-heal daemon clears them).
const SETTLE: Duration = Duration::from_secs(180);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::disperse(6, 2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    // Sizes that fill whole stripes (4 × 512 bytes), part of one, and several.
    let files: Vec<(String, u64)> = [2048, 1000, 65_536, 300_001, 1_048_576, 7]
        .iter()
        .enumerate()
        .map(|(i, &size)| (format!("f{i}"), size))
        .collect();
    let sums = io::write_files(&ctx, &client, &m.path, &files).await?;
    mount::unmount(&ctx, &m).await?;
    heal::trigger(&ctx, &vol).await?;
    let mut before = Vec::new();
    for s in &sums {
        let f = ec::wait_healed(&ctx, &vol, &s.name, SETTLE).await?;
        let first = f.bricks.iter().find_map(|(_, x)| x.as_ref());
        before.push(first.map(|x| (x.size(), x.version(), x.len)));
    }
    vol.stop(&ctx).await?;

    for n in ctx.nodes() {
        upgrade::node(&ctx, n, upgrade::NEXT_RELEASE).await?;
    }
    peer::wait_connected(&ctx, Duration::from_secs(180)).await?;
    vol.start_and_wait(&ctx).await?;
    for n in ctx.nodes() {
        let v = upgrade::version(&ctx, n).await?;
        ensure!(v.major >= 11, "{} runs GlusterFS {v} after the upgrade", n.name());
    }

    for (s, was) in sums.iter().zip(&before) {
        let f = ec::wait_healed(&ctx, &vol, &s.name, SETTLE).await?;
        let now = f
            .bricks
            .iter()
            .find_map(|(_, x)| x.as_ref())
            .map(|x| (x.size(), x.version(), x.len));
        ensure_eq!(
            &now,
            was,
            "the fragments of {} (ec.size, ec.version, length) after the upgrade",
            s.name
        );
        ensure_eq!(
            now.and_then(|(size, _, _)| size),
            Some(s.size),
            "trusted.ec.size of {}",
            s.name
        );
    }
    let pending = heal::pending_count(&ctx, &vol).await?;
    ensure_eq!(pending, 0, "entries pending heal after the upgrade");

    let m = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    let after = io::write_files(&ctx, &client, &m.path, &io::files("new", 4, 100_000)).await?;
    io::verify(&ctx, &client, &m.path, &after).await?;
    // The client's eager locks keep `trusted.ec.dirty` set until it lets go of the files.
    mount::unmount(&ctx, &m).await?;
    heal::trigger(&ctx, &vol).await?;
    for s in &after {
        ec::wait_healed(&ctx, &vol, &s.name, SETTLE).await?;
    }
    Ok(())
}
