//! Reading through a hardlink with the metadata cache on: a file is created, a hardlink made,
//! data written through the hardlink; reading the original name returns the same bytes and size
//! (no stale size cached for the other name), and the fragments of the one inode agree on every
//! brick of its set with the size written.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_read_from_hardlink.py` (md-cache
//! options on, touch a file, hardlink it, write via the hardlink, read from both names, the data
//! the same; its remount step is replaced by the brick check).
use crate::prelude::*;

pub const CASE: Case = Case::new(575, "read_from_hardlink", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::DISPERSED)
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    for (k, v) in [
        ("group", "metadata-cache"),
        ("performance.md-cache-timeout", "600"),
        ("network.inode-lru-limit", "200000"),
    ] {
        vol.set(&ctx, k, v).await?;
    }
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let (file, link) = (
        format!("{}/file", m.path),
        format!("{}/file_hardlink", m.path),
    );
    ctx.sh(
        &client,
        format!("touch {file} && ln {file} {link} && stat {file} > /dev/null"),
    )
    .await?;
    ctx.sh(&client, format!("head -c 70000 /dev/urandom > {link}"))
        .await?;
    let via_link = ctx.sh(&client, format!("sha256sum < {link}")).await?;
    let via_file = ctx.sh(&client, format!("sha256sum < {file}")).await?;
    ensure_eq!(
        via_file,
        via_link,
        "data read through the original name and the hardlink"
    );
    ensure_eq!(
        fileops::stat(&ctx, &client, &file, "%s %h").await?,
        "70000 2",
        "size and link count of the original name"
    );
    wait_for(
        &ctx,
        "the fragments of file to agree",
        Duration::from_secs(20),
        Duration::from_secs(1),
        || async {
            Ok(match ec::ensure_healed(&ctx, &vol, "file").await {
                Ok(f) if f.bricks[0].1.as_ref().and_then(|x| x.size()) == Some(70_000) => {
                    Poll::Ready(())
                }
                Ok(f) => Poll::Pending(f.describe()),
                Err(e) => Poll::Pending(e.to_string()),
            })
        },
    )
    .await
}
