//! `heal info` and `heal info summary` on a disperse volume: with the self-heal daemon disabled
//! and a brick of each set down, the live bricks list the files changed meanwhile (at least one
//! entry per file on each live brick of its set), the dead brick is reported not connected, the
//! summary counts no split-brain and `heal info split-brain` is refused as a replicate-only
//! command (EC cannot split), and after the bricks return and heal is enabled every brick
//! reports zero.
//!
//! Ported from GlusterFS `tests/basic/ec/heal-info.t` (heal disabled, files changed with a brick
//! killed, the pending count of heal info, back to zero after heal) and glusto-tests
//! `tests/functional/disperse/test_ec_io_continuity.py` (heal info answers at once while a brick
//! is down).
use crate::prelude::*;

pub const CASE: Case = Case::new(553, "heal_info_summary_disperse", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::DISPERSED)
    .timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    gluster(
        &ctx,
        &vol.server,
        ["volume", "heal", vol.name.as_str(), "disable"],
    )
    .await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("f", 10, 20_000)).await?;
    heal::wait_no_pending(&ctx, &vol, Duration::from_secs(60)).await?;

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 10, 30_000)).await?;
    let info = heal::info(&ctx, &vol).await?;
    ensure_eq!(info.len(), vol.bricks.len(), "bricks listed by heal info");
    for (i, b) in vol.bricks.iter().enumerate() {
        let row = info
            .iter()
            .find(|r| r.brick == b.spec())
            .ok_or_else(|| TestError::Check(format!("heal info does not list {}", b.spec())))?;
        if down.contains(&i) {
            ensure!(
                row.status != "Connected",
                "heal info reports the dead brick {} as {}",
                b.spec(),
                row.status
            );
            continue;
        }
        let mut mine = 0u64;
        for s in &sums {
            let f = ec::fragments(&ctx, &vol, &s.name).await?;
            if brick::sets(&vol)[f.set].contains(&i) {
                mine += 1;
            }
        }
        ensure!(
            row.status == "Connected" && row.entries.unwrap_or(0) >= mine,
            "live brick {} should be connected with at least {mine} entries pending: {row:?}",
            b.spec()
        );
    }
    let summary = heal::summary(&ctx, &vol).await?;
    let pending: u64 = summary.iter().filter_map(|b| b.pending).sum();
    let split: u64 = summary.iter().filter_map(|b| b.split_brain).sum();
    ensure!(
        pending >= (sums.len() * (vol.layout.set_size() - 1)) as u64,
        "heal info summary shows {pending} pending for {} files changed: {summary:?}",
        sums.len()
    );
    ensure_eq!(split, 0, "entries in split-brain on a disperse volume");
    // EC has no split-brain: the CLI refuses to look for it on a disperse volume.
    let out = ctx
        .exec(
            &vol.server,
            Command::new("gluster").arg("--mode=script").args([
                "volume",
                "heal",
                vol.name.as_str(),
                "info",
                "split-brain",
            ]),
        )
        .await?;
    let msg = format!("{}{}", out.stdout_str(), out.stderr_str());
    ensure!(
        !out.success() && msg.contains("supported for only volumes of replicate type"),
        "heal info split-brain on a disperse volume should be refused as replicate-only: {}",
        msg.trim()
    );

    brick::bring_back(&ctx, &vol).await?;
    gluster(
        &ctx,
        &vol.server,
        ["volume", "heal", vol.name.as_str(), "enable"],
    )
    .await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    let summary = heal::summary(&ctx, &vol).await?;
    ensure!(
        summary
            .iter()
            .all(|b| b.total == Some(0) && b.status == "Connected"),
        "heal info summary after heal: {summary:?}"
    );
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
