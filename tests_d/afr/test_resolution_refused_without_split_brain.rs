//! Split-brain resolution is refused where there is no split-brain: with files that only need heal
//! (one brick blamed by the others), `split-brain bigger-file`, `latest-mtime` and `source-brick`
//! for one file each fail and say the file is not in split-brain, and leave the files as they
//! were (still pending, data untouched on the good bricks); the ordinary heal then completes.
//!
//! Ported from glusto-tests `tests/functional/afr/test_afr_cli_no_splitbrain_resolution.py`
//! (files needing heal but not in split-brain; each resolution command fails with "not in
//! split-brain"; heal then completes and the bricks agree).
use crate::prelude::*;

pub const CASE: Case = Case::new(429, "resolution_refused_without_split_brain", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Replicate.spec()).await?;
    heal::set_self_heal(&ctx, &vol, false, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("f", 3, 4096)).await?;
    brick::kill(&ctx, &vol, 2).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 3, 30000)).await?;
    brick::bring_back(&ctx, &vol).await?;
    // The daemon stays off until the commands were tried, so nothing heals before.
    let before = heal::pending_count(&ctx, &vol).await?;
    ensure!(before >= 3, "{before} entries pending; the three files should need heal");

    let b0 = vol.bricks[0].clone();
    for how in [
        Resolution::BiggerFile("/f-0".into()),
        Resolution::LatestMtime("/f-1".into()),
        Resolution::SourceBrick(b0.clone(), Some("/f-2".into())),
    ] {
        let got = heal::resolve(&ctx, &vol, &how).await;
        match got {
            Ok(out) => return Err(TestError::Check(format!("{how:?} on a file not in split-brain succeeded: {out}"))),
            Err(e) => {
                let msg = e.to_string();
                ensure!(
                    msg.contains("not in split-brain"),
                    "{how:?} failed without saying the file is not in split-brain: {msg}"
                );
            }
        }
    }
    io::verify(&ctx, &b0.node, &b0.path, &sums).await?;
    let still = heal::pending_count(&ctx, &vol).await?;
    ensure!(still >= 3, "{still} entries pending after the refused commands; they should change nothing");
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let b2 = &vol.bricks[2];
    io::verify(&ctx, &b2.node, &b2.path, &sums).await?;
    Ok(())
}
