//! Heal full rebuilds fragments deleted behind GlusterFS's back: files are written, then the
//! fragments on one brick of each set are removed from the brick directory (and their
//! `.glusterfs` gfid links); `heal full` recreates each one with the right length and EC xattrs,
//! heal info summary counts nothing in split-brain, and the mount's checksums are unchanged — also when read with two
//! other bricks of each set down, so through the rebuilt fragments.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_verify_full_heal.py` (I/O, arequal
//! from the mount, data deleted from the backend of a brick per subvolume, `heal full`, heal
//! completed, no split-brain, arequal unchanged).
use crate::prelude::*;

pub const CASE: Case = Case::new(571, "full_heal_after_backend_delete", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.runs_on(VolumeType::DISPERSED)
.timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("d1/d2/f", 16, 30_000)).await?;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;

    let victims = brick::select(&vol, Select::One)?;
    for &v in &victims {
        let b = &vol.bricks[v];
        let mut removed = 0;
        for s in &sums {
            let path = xattr::brick_path(b, &s.name);
            let Ok(gfid) = xattr::gfid_on_brick(&ctx, b, &s.name).await else {
                continue;
            };
            let link = format!(
                "{}/.glusterfs/{}/{}/{gfid}",
                b.path,
                &gfid[0..2],
                &gfid[2..4]
            );
            ctx.sh(&b.node, format!("rm -f {path} {link}")).await?;
            removed += 1;
        }
        ctx.step(format!("removed {removed} fragment(s) from {}", b.spec()));
    }
    heal::full(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    let split: u64 = heal::summary(&ctx, &vol)
        .await?
        .iter()
        .filter_map(|b| b.split_brain)
        .sum();
    ensure_eq!(split, 0, "entries in split-brain after heal full");
    for s in &sums {
        let f = ec::wait_healed(&ctx, &vol, &s.name, Duration::from_secs(60)).await?;
        let victim = victims
            .iter()
            .copied()
            .find(|v| brick::sets(&vol)[f.set].contains(v));
        if let Some(v) = victim {
            ensure_eq!(
                f.on(v).map(|x| x.len),
                Some(ec::fragment_len(&vol.layout, s.size)),
                "rebuilt fragment of {} on {}",
                s.name,
                vol.bricks[v].spec()
            );
        }
    }
    let after = tree::of_mount(&ctx, &m, Scope::FULL).await?;
    tree::ensure_same(&before, &after)?;
    let others: Vec<usize> = brick::sets(&vol)
        .iter()
        .flat_map(|s| s[..2].to_vec())
        .collect();
    brick::kill_many(&ctx, &vol, &others).await?;
    ctx.sh(&client, "echo 3 > /proc/sys/vm/drop_caches || true")
        .await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    brick::bring_back(&ctx, &vol).await?;
    Ok(())
}
