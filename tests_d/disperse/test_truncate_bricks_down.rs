//! Truncate with `redundancy` bricks of every set down, then heal: a file of 200 000 bytes is
//! truncated to 10 000 and another emptied by an `O_TRUNC` open while two bricks of each set are
//! dead; the live fragments record the new sizes (`trusted.ec.size`, shorter fragments) while
//! the dead ones keep the old. Once the bricks are back and the files written again, heal brings
//! every brick to the same size, version and fragment length, and the mount reads the expected
//! bytes.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_truncate_file_with_brick_down.py`
//! (two bricks of each subvolume down, `O_TRUNC` open of a file, bricks back by `volume start
//! force`, a write, heal completes; its node-reboot round is not ported) with the size checks on
//! the bricks added.
use crate::prelude::*;

pub const CASE: Case = Case::new(562, "truncate_with_bricks_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::DISPERSED)
    .timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::write_files(
        &ctx,
        &client,
        &m.path,
        &[("big".into(), 200_000), ("test_1".into(), 50_000)],
    )
    .await?;

    let down = brick::take_down(&ctx, &vol, Select::KeepQuorum).await?;
    fileops::truncate(&ctx, &client, &format!("{}/big", m.path), 10_000).await?;
    // The shell's `>` opens with O_TRUNC, as the source's python does.
    ctx.sh(&client, format!(": > {}/test_1", m.path)).await?;
    // The eager lock keeps the new size in the client until it is released (the live bricks
    // stay dirty while the set is degraded, so wait for the size itself).
    for (name, new) in [("big", 10_000u64), ("test_1", 0)] {
        let what = format!("the live bricks to record {name}'s new size");
        wait_for(
            &ctx,
            &what,
            Duration::from_secs(30),
            Duration::from_secs(1),
            || async {
                let f = ec::fragments(&ctx, &vol, name).await?;
                let stale = f
                    .bricks
                    .iter()
                    .filter(|(i, _)| !down.contains(i))
                    .any(|(_, x)| x.as_ref().is_some_and(|x| x.size() != Some(new)));
                Ok(if stale {
                    Poll::Pending(f.describe())
                } else {
                    Poll::Ready(())
                })
            },
        )
        .await?;
    }
    for (name, old, new) in [("big", 200_000u64, 10_000u64), ("test_1", 50_000, 0)] {
        let f = ec::fragments(&ctx, &vol, name).await?;
        for (i, x) in &f.bricks {
            let x = x.as_ref().ok_or_else(|| {
                TestError::Check(format!("{name} has no fragment on #{i}: {}", f.describe()))
            })?;
            let want = if down.contains(i) { old } else { new };
            ensure!(
                x.size() == Some(want) && x.len == ec::fragment_len(&vol.layout, want),
                "{name} on brick #{i} ({}) should record {want} bytes: {}",
                if down.contains(i) { "down" } else { "up" },
                f.describe()
            );
        }
    }

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    ctx.sh(
        &client,
        format!("printf 'This is test after truncate' 1<> {}/test_1", m.path),
    )
    .await?;
    let expect_big = ctx
        .sh(&client, format!("head -c 10000 {}/big | sha256sum", m.path))
        .await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    for (name, size) in [("big", 10_000u64), ("test_1", 27)] {
        // The last write's eager lock may still hold the dirty marks for a moment.
        let what = format!("{name} healed on every brick");
        let f = wait_for(
            &ctx,
            &what,
            Duration::from_secs(20),
            Duration::from_secs(1),
            || async {
                Ok(match ec::ensure_healed(&ctx, &vol, name).await {
                    Ok(f) => Poll::Ready(f),
                    Err(e) => Poll::Pending(e.to_string()),
                })
            },
        )
        .await?;
        ensure_eq!(
            f.bricks[0].1.as_ref().and_then(|x| x.size()),
            Some(size),
            "trusted.ec.size of {name} after heal"
        );
    }
    ensure_eq!(
        ctx.sh(&client, format!("cat {}/test_1", m.path)).await?,
        "This is test after truncate",
        "test_1 read back"
    );
    ensure_eq!(
        ctx.sh(&client, format!("sha256sum < {}/big", m.path))
            .await?,
        expect_big,
        "big read back after heal"
    );
    Ok(())
}
