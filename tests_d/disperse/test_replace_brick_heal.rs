//! Replace-brick on a disperse volume: a brick of the first set is replaced by an empty one;
//! heal full gives the new brick a fragment of every file of its set, with the set agreeing on
//! size, version and fragment length. To show the new fragments are real data, the two other
//! bricks of the set that hold the most are then killed, and every file still reads back intact
//! — decoded with the new brick's fragments.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_replace_brick.py` (I/O, replace a
//! brick of a subvolume with `commit force`, heal completes, data intact from the mount).
use crate::prelude::*;

pub const CASE: Case = Case::new(555, "replace_brick_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::DISPERSED)
    .timeout_secs(600);

/// The brick replaced (first set).
const REPLACED: usize = 1;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("d/f", 12, 50_000)).await?;

    let vol = replace::replace_brick(&ctx, &vol, REPLACED, None).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::full(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;

    let mut on_set0 = Vec::new();
    for s in &sums {
        let f = ec::wait_healed(&ctx, &vol, &s.name, Duration::from_secs(60)).await?;
        if f.set == 0 {
            let new = f.on(REPLACED).map(|x| x.len);
            ensure_eq!(
                new,
                Some(ec::fragment_len(&vol.layout, s.size)),
                "fragment of {} on the new brick {}",
                s.name,
                vol.bricks[REPLACED].spec()
            );
            on_set0.push(s.clone());
        }
    }
    ensure!(!on_set0.is_empty(), "no file landed on the first set");

    // Redundancy 2: without two other bricks of the set, the new brick's fragments are needed.
    let others: Vec<usize> = brick::sets(&vol)[0]
        .iter()
        .copied()
        .filter(|&i| i != REPLACED)
        .take(2)
        .collect();
    brick::kill_many(&ctx, &vol, &others).await?;
    ctx.sh(&client, "echo 3 > /proc/sys/vm/drop_caches || true")
        .await?;
    io::verify(&ctx, &client, &m.path, &on_set0).await?;
    brick::bring_back(&ctx, &vol).await?;
    Ok(())
}
