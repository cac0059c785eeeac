//! A chmod of a directory is not a data operation: the directory's `trusted.ec.version` stays
//! the same on every brick across two chmods, while a data write to a file does raise the file's
//! data version (so the check can tell the two apart).
//!
//! Ported from glusto-tests `tests/functional/disperse/test_nonfop_ecversion.py` (a directory,
//! its `trusted.ec.version` on every brick before and after chmod 777 twice, unchanged). The
//! file write is added as the counter-check.
use crate::prelude::*;

pub const CASE: Case = Case::new(570, "non_data_fop_keeps_ec_version", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Disperse.spec()).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    // A brick the client has not reached yet would miss the mkdir and be healed under the chmods.
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    ctx.sh(&client, format!("mkdir {}/dir1", m.path)).await?;
    let versions = |rel: &'static str| {
        let (ctx, vol) = (&ctx, &vol);
        async move {
            Ok::<_, TestError>(
                xattr::on_bricks(ctx, vol, rel)
                    .await?
                    .iter()
                    .map(|x| x.ec_version())
                    .collect::<Vec<_>>(),
            )
        }
    };
    let before = versions("dir1").await?;
    ensure!(
        before.iter().all(|v| v.is_some()),
        "dir1 lacks trusted.ec.version on some brick: {before:?}"
    );
    for _ in 0..2 {
        fileops::chmod(&ctx, &client, &format!("{}/dir1", m.path), 0o777).await?;
    }
    let after = versions("dir1").await?;
    ensure_eq!(
        after,
        before,
        "trusted.ec.version of dir1 after two chmods (bricks in order)"
    );

    io::write_files(&ctx, &client, &m.path, &io::files("dir1/f", 1, 10_000)).await?;
    let f1 = ec::fragments(&ctx, &vol, "dir1/f-0").await?;
    io::write_files(&ctx, &client, &m.path, &io::files("dir1/f", 1, 20_000)).await?;
    wait_for(
        &ctx,
        "the write to raise the file's data version",
        Duration::from_secs(20),
        Duration::from_secs(1),
        || async {
            let f2 = ec::ensure_healed(&ctx, &vol, "dir1/f-0").await;
            let raised = |f: &ec::Fragments| {
                f.bricks[0]
                    .1
                    .as_ref()
                    .and_then(|x| x.version())
                    .map(|v| v.data)
            };
            Ok(match f2 {
                Ok(f2) if raised(&f2) > raised(&f1) => Poll::Ready(()),
                Ok(f2) => Poll::Pending(format!("before {}, now {}", f1.describe(), f2.describe())),
                Err(e) => Poll::Pending(e.to_string()),
            })
        },
    )
    .await
}
