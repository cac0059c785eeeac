//! Heal info while I/O runs: with writers busy on the mount and a brick of each set down, `heal
//! info` and `heal info summary` keep answering within seconds and list entries to heal; with the
//! bricks back and the writers still busy the heal completes, every file the writers report
//! written reads back, and the bricks agree. Runs on every replicated type.
//!
//! Ported from glusto-tests `tests/functional/afr/heal/test_heal_info_no_hang.py` (heal info must
//! not hang while I/O and heals run) and `tests/functional/afr/heal/test_heal_info_while_accessing_file.py`
//! (heal info lists the files written while bricks were down, while they are being accessed).
use std::time::Instant;

use crate::prelude::*;

pub const CASE: Case = Case::new(419, "heal_info_during_io", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::REPLICATED)
    .timeout_secs(600);

/// The longest `heal info` may take while I/O runs.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, ctx.matrix_spec()?).await?;
    let writers = bgio::start_on_mounts(&ctx, &[&m], "io", bgio::BgIoSpec::default()).await?;
    writers.wait_progress(&ctx, 3, Duration::from_secs(60)).await?;

    brick::take_down(&ctx, &vol, Select::One).await?;
    writers.wait_progress(&ctx, 5, Duration::from_secs(60)).await?;
    let mut most = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let listed: u64 = heal::info(&ctx, &vol).await?.iter().filter_map(|b| b.entries).sum();
        let took = t.elapsed();
        ensure!(took < ANSWER_WITHIN, "heal info took {took:?} while I/O runs");
        let t = Instant::now();
        heal::summary(&ctx, &vol).await?;
        let took = t.elapsed();
        ensure!(took < ANSWER_WITHIN, "heal info summary took {took:?} while I/O runs");
        most = most.max(listed);
        writers.wait_progress(&ctx, 2, Duration::from_secs(60)).await?;
    }
    ensure!(most > 0, "heal info listed nothing to heal while bricks were down and I/O ran");

    brick::bring_back(&ctx, &vol).await?;
    writers.wait_progress(&ctx, 3, Duration::from_secs(60)).await?;
    let t = Instant::now();
    heal::info(&ctx, &vol).await?;
    ensure!(t.elapsed() < ANSWER_WITHIN, "heal info took {:?} while heal and I/O run", t.elapsed());
    writers.stop_and_validate(&ctx, 0).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
