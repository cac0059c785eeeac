//! `disperse.quorum-count 5` on 4+2: with one brick of each set down writes still succeed; with
//! two down (still enough to decode) every modification fails with EIO while reads succeed and
//! return the unchanged data (read through a fresh mount: the writer's own page cache still
//! shows its refused write); with the bricks back writes succeed again and heal completes; after
//! `volume reset` of the option, two bricks down are tolerated for writes again.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_quorumcount_5.py` (quorum-count 5:
//! one brick down, I/O succeeds; a second down, writes fail and reads pass; bricks up, I/O
//! succeeds; reset, redundancy bricks down, I/O succeeds) and the second half of GlusterFS
//! `tests/basic/ec/ec-quorum-count.t` (modifications refused, reads allowed). Its add-brick and
//! rebalance step under lost quorum is not ported.
use crate::prelude::*;

pub const CASE: Case = Case::new(558, "quorum_count_blocks_writes", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::DISPERSED)
    .timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.set(&ctx, "disperse.quorum-count", "5").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let old = io::write_files(&ctx, &client, &m.path, &io::files("old", 8, 40_000)).await?;
    ctx.sh(&client, format!("mkdir {}/dir1", m.path)).await?;

    let sets = brick::sets(&vol);
    let last = |n: usize| -> Vec<usize> {
        sets.iter()
            .flat_map(|s| s[s.len() - n..].to_vec())
            .collect()
    };
    brick::kill_many(&ctx, &vol, &last(1)).await?;
    let one = io::write_files(&ctx, &client, &m.path, &io::files("one-down", 4, 40_000)).await?;
    io::verify(&ctx, &client, &m.path, &old).await?;

    let second: Vec<usize> = sets.iter().map(|s| s[s.len() - 2]).collect();
    brick::kill_many(&ctx, &vol, &second).await?;
    let o = &old[0].name;
    for line in [
        "touch \"$M/two-down\"".to_string(),
        "mkdir \"$M/dir2\"".to_string(),
        format!("dd if=/dev/zero of=\"$M/{o}\" bs=4k count=1 conv=notrunc,fsync status=none"),
        format!("truncate -s 0 \"$M/{o}\""),
        format!("chmod +x \"$M/{o}\""),
        format!("setfattr -n user.abc -v abc \"$M/{o}\""),
        "rmdir \"$M/dir1\"".to_string(),
    ] {
        mount::ensure_fails(&ctx, &m, &line, ec::NO_QUORUM).await?;
    }
    // Read through a fresh mount: the writing client's page cache keeps the refused write.
    let fresh = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &fresh.path, &old).await?;
    io::verify(&ctx, &client, &fresh.path, &one).await?;

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let back = io::write_files(&ctx, &client, &m.path, &io::files("back", 4, 40_000)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    for s in old.iter().chain(&one).chain(&back) {
        ec::wait_healed(&ctx, &vol, &s.name, Duration::from_secs(60)).await?;
    }

    vol.reset(&ctx, "disperse.quorum-count").await?;
    wait_for(
        &ctx,
        "the client's quorum-count to be 0",
        Duration::from_secs(30),
        Duration::from_secs(1),
        || async {
            let got = ec::client_option(&ctx, &m, &vol, 0, "quorum-count").await?;
            Ok(if got.as_deref() == Some("0") {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("{got:?}"))
            })
        },
    )
    .await?;
    brick::kill_many(&ctx, &vol, &last(2)).await?;
    let reset = io::write_files(&ctx, &client, &m.path, &io::files("reset", 4, 40_000)).await?;
    io::verify(&ctx, &client, &m.path, &reset).await?;
    brick::bring_back(&ctx, &vol).await?;
    Ok(())
}
