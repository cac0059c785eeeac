//! `features.read-only on` makes the volume read-only for its clients: writes and new files
//! through the mount fail with EROFS while reads of files written before still work; set back to
//! `off`, writes go through again and reach every brick.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_readonly_option_on_volume.py` (I/O
//! fails with read-only on, succeeds after it is turned off).
use crate::prelude::*;

pub const CASE: Case = Case::new(769, "readonly_option", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(2)).await?;
    let client = ctx.client(0)?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("before", 3, 64 << 10)).await?;

    vol.set(&ctx, "features.read-only", "on").await?;
    ensure_eq!(
        vol.get(&ctx, "features.read-only").await?.as_str(),
        "on",
        "features.read-only after setting it"
    );
    // The client learns the new graph asynchronously: wait until a write is refused.
    wait_for(
        &ctx,
        "writes through the mount to be refused as read-only",
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            Ok(
                match mount::ensure_write(&ctx, &m, "probe", mount::WriteExpect::Refused("Read-only file system")).await {
                    Ok(()) => Poll::Ready(()),
                    Err(TestError::Check(e)) => Poll::Pending(e),
                    Err(e) => return Err(e),
                },
            )
        },
    )
    .await?;
    mount::ensure_write(&ctx, &m, "new-file", mount::WriteExpect::Refused("Read-only file system")).await?;
    mount::ensure_fails(&ctx, &m, "mkdir \"$M/newdir\"", &["Read-only file system"]).await?;
    // Appending to a file written before fails too (10.3 reports it as an I/O error at the
    // write); its content is checked unchanged just below.
    mount::ensure_fails(
        &ctx,
        &m,
        "echo more >> \"$M/before-0\"",
        &["Read-only file system", "I/O error"],
    )
    .await?;
    io::verify(&ctx, &client, &m.path, &before).await?;
    for b in &vol.bricks {
        let present = ctx
            .sh(
                &b.node,
                format!(
                    "cd {} && for f in new-file newdir; do [ -e \"$f\" ] && echo \"$f\"; done; true",
                    b.path
                ),
            )
            .await?;
        ensure!(
            present.trim().is_empty(),
            "brick {} holds {:?}, made while the volume was read-only",
            b.spec(),
            present.trim()
        );
    }

    vol.set(&ctx, "features.read-only", "off").await?;
    wait_for(
        &ctx,
        "writes through the mount to be allowed again",
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            Ok(match mount::ensure_write(&ctx, &m, "probe", mount::WriteExpect::Allowed).await {
                Ok(()) => Poll::Ready(()),
                Err(TestError::Check(e)) => Poll::Pending(e),
                Err(e) => return Err(e),
            })
        },
    )
    .await?;
    let after = io::write_files(&ctx, &client, &m.path, &io::files("after", 3, 64 << 10)).await?;
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &after).await?;
        io::verify(&ctx, &b.node, &b.path, &before).await?;
    }
    Ok(())
}
