//! Metadata heal onto a data brick, arbiter included in the check: with client-side heals off, a
//! data brick of each set goes down and the files of a directory get mode 0444 and a new owner
//! and group; the brick comes back, the daemon heals, and every brick of each set, the arbiter
//! too, shows the new mode and owner (the arbiter's metadata is authoritative for the names it
//! holds); the mount's tree is what it was just before the bricks came back.
//!
//! Ported from glusto-tests `tests/functional/arbiter/test_metadata_self_heal.py` (client heals
//! off, bricks of a set down, chmod 444 and chown/chgrp to a `qa` user, bricks back, heal, no
//! split-brain, arequal before and after equal, owner and group checked on the servers). Runs on
//! 1 x (2 + 1) and 2 x (2 + 1).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(505, "metadata_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::ARBITER)
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    heal::set_self_heal(&ctx, &vol, true, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("meta/f", 8, 4096)).await?;
    let qa = fileops::user(&ctx, &client, "qa", 2101).await?;

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    for s in &sums {
        let p = format!("{}/{}", m.path, s.name);
        fileops::chmod(&ctx, &client, &p, 0o444).await?;
        fileops::chown(&ctx, &client, &p, qa.uid, qa.gid).await?;
    }
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;
    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;
    arbiter::ensure_healed(&ctx, &vol, &m).await?;

    let want = format!("444 {} {}", qa.uid, qa.gid);
    let mut checked = 0;
    for (i, b) in vol.bricks.iter().enumerate() {
        for f in io::brick_files(&ctx, &b.node, &b.path).await? {
            let got = fileops::stat(&ctx, &b.node, &xattr::brick_path(b, &f), "%a %u %g").await?;
            ensure_eq!(
                got.trim(),
                want,
                "mode and owner of {f} on {} (brick #{i}{})",
                b.spec(),
                if down.contains(&i) { ", the one that was down" } else { "" }
            );
            checked += 1;
        }
    }
    ensure_eq!(checked, 3 * sums.len(), "copies checked (three per file)");
    Ok(())
}
