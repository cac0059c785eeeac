//! `disperse.eager-lock` seen on the bricks: with eager-lock on (timeout 10 s) a file just
//! written keeps `trusted.ec.dirty` set on every brick of its set — the client still holds the
//! lock and has not yet written back the final version — until the timeout releases it; with
//! eager-lock off the lock (and the dirty mark) is dropped as each write ends, so a file just
//! written is clean on every brick.
//!
//! Ported from glusto-tests
//! `tests/functional/disperse/test_ec_eager_lock_functional_validation.py` (eager-lock on and
//! timeout 10: `trusted.ec.dirty` 1/1 on the bricks after a write; off: 0/0). The INODELK counts
//! from `volume profile` are not ported.
use crate::prelude::*;

pub const CASE: Case = Case::new(559, "eager_lock_dirty_xattr", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::DISPERSED)
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.set(&ctx, "disperse.eager-lock", "on").await?;
    vol.set(&ctx, "disperse.eager-lock-timeout", "10").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;

    io::write_files(&ctx, &client, &m.path, &io::files("f1_on", 1, 4 << 20)).await?;
    let f = ec::fragments(&ctx, &vol, "f1_on-0").await?;
    ensure!(
        f.bricks
            .iter()
            .all(|(_, x)| x.as_ref().is_some_and(|x| x.dirty() == (1, 1))),
        "with eager-lock on, every brick should show trusted.ec.dirty 1/1 right after the \
         write (lock still held): {}",
        f.describe()
    );
    wait_for(
        &ctx,
        "the eager lock to time out and clear the dirty marks",
        Duration::from_secs(40),
        Duration::from_secs(2),
        || async {
            let f = ec::fragments(&ctx, &vol, "f1_on-0").await?;
            Ok(
                if f.bricks
                    .iter()
                    .all(|(_, x)| x.as_ref().is_some_and(|x| x.dirty() == (0, 0)))
                {
                    Poll::Ready(())
                } else {
                    Poll::Pending(f.describe())
                },
            )
        },
    )
    .await?;
    ec::ensure_healed(&ctx, &vol, "f1_on-0").await?;

    vol.set(&ctx, "disperse.eager-lock", "off").await?;
    // A new mount starts with the new option (its private dump does not show it).
    let m = mount::mount(&ctx, &client, &vol).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f1_off", 1, 4 << 20)).await?;
    let f = ec::ensure_healed(&ctx, &vol, "f1_off-0").await?;
    ensure!(
        f.bricks[0].1.as_ref().and_then(|x| x.size()) == Some(sums[0].size),
        "with eager-lock off the file is clean and complete right after the write: {}",
        f.describe()
    );
    Ok(())
}
