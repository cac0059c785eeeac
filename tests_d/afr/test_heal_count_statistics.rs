//! `heal statistics heal-count`: with a brick of each set down, each good brick counts at least the
//! files written to its set since (plus their directory), the dead brick cannot be counted, the
//! summary's pending counts agree, and after the heal every brick counts zero. Runs on every
//! replicated type.
//!
//! Ported from GlusterFS `tests/basic/afr/self-heald.t` (`statistics heal-count` while a brick is
//! down and after heal) and glusto-tests `tests/functional/afr/test_heal_info_should_have_fixed_fields.py`
//! (heal info's per-brick fields). `heal-count` is asked with the daemon on, as gluster refuses it
//! otherwise.
use crate::prelude::*;

pub const CASE: Case = Case::new(426, "heal_count_statistics", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::REPLICATED)
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {}/d", m.path)).await?;

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("d/f", 20, 1024)).await?;
    let counts = heal::counts(&ctx, &vol).await?;
    let summary = heal::summary(&ctx, &vol).await?;
    for (set, &dead) in brick::sets(&vol).iter().zip(&down) {
        let good = &vol.bricks[set[0]];
        let files = io::brick_files(&ctx, &good.node, &good.path).await?.len() as u64;
        let n = counts.get(&good.spec()).copied().flatten();
        ensure!(
            n.is_some_and(|n| n > files),
            "heal-count of {} is {n:?}; expected more than its {files} files (the files and d): {counts:?}",
            good.spec()
        );
        let s = summary.iter().find(|s| s.brick == good.spec());
        ensure!(
            s.and_then(|s| s.total) == n,
            "heal info summary of {} disagrees with heal-count {n:?}: {s:?}",
            good.spec()
        );
        let dead = vol.bricks[dead].spec();
        ensure!(
            counts.get(&dead).copied().flatten().is_none(),
            "heal-count should not count the dead brick {dead}: {counts:?}"
        );
    }

    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    let after = heal::counts(&ctx, &vol).await?;
    ensure_eq!(after.len(), vol.bricks.len(), "bricks listed by heal-count: {after:?}");
    for (b, n) in &after {
        ensure_eq!(*n, Some(0), "heal-count of {b} after heal");
    }
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
