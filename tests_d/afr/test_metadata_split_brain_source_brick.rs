//! Metadata split-brain and its resolution: on replica 2 with quorum and every heal off, a file's
//! mode and owner are changed differently on each brick while the other is down; both copies
//! blame each other for metadata (not data), heal info split-brain lists the file, `bigger-file`
//! cannot resolve it (the sizes are equal), and `source-brick` with the second brick makes both
//! bricks carry that brick's mode and owner.
//!
//! Ported from glusto-tests
//! `tests/functional/afr/heal/test_metadata_split_brain_resolution.py` (metadata changed on each
//! brick in turn with the other down, files in split-brain, resolved with `source-brick`, bricks
//! agree), one file instead of a tree.
use crate::prelude::*;

pub const CASE: Case = Case::new(413, "metadata_split_brain_source_brick", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 1))
.timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = heal::unguarded_volume(&ctx, VolumeSpec::replicate(2)).await?;
    let client = m.node.clone();
    io::write_files(&ctx, &client, &m.path, &[("file".to_string(), 8192)]).await?;
    let f = format!("{}/file", m.path);

    // b1 down: mode 600 owner 4413 on b0; b0 down: mode 640 owner 4414 on b1.
    for (down, mode, uid) in [(1, 0o600, 4413), (0, 0o640, 4414)] {
        brick::kill(&ctx, &vol, down).await?;
        fileops::chmod(&ctx, &client, &f, mode).await?;
        fileops::chown(&ctx, &client, &f, uid, uid).await?;
        brick::bring_back(&ctx, &vol).await?;
        brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    }
    let (b0, b1) = (&vol.bricks[0], &vol.bricks[1]);
    ensure_eq!(mode_owner(&ctx, b0).await?, "600 4413", "mode and owner of file on b0");
    ensure_eq!(mode_owner(&ctx, b1).await?, "640 4414", "mode and owner of file on b1");
    for (b, other) in [(b0, 1), (b1, 0)] {
        let p = xattr::on_brick(&ctx, b, "file").await?.afr(&vol.name, other).unwrap_or_default();
        ensure!(
            p.metadata > 0 && p.data == 0,
            "file on {} should blame brick #{other} for metadata only: {p:?}",
            b.spec()
        );
    }
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::index(&ctx, &vol).await?;
    heal::wait_split_brain_count(&ctx, &vol, 2, Duration::from_secs(60)).await?;

    let bigger = heal::resolve(&ctx, &vol, &Resolution::BiggerFile("/file".into())).await;
    ensure!(
        bigger.is_err(),
        "bigger-file should not resolve a metadata split-brain of equal sizes: {bigger:?}"
    );
    heal::resolve(
        &ctx,
        &vol,
        &Resolution::SourceBrick(b1.clone(), Some("/file".into())),
    )
    .await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    for b in [b0, b1] {
        ensure_eq!(mode_owner(&ctx, b).await?, "640 4414", "file on {} after source-brick b1", b.spec());
        let x = xattr::on_brick(&ctx, b, "file").await?;
        ensure!(x.afr_clean(&vol.name), "file on {} still blames: {:?}", b.spec(), x.afr_all(&vol.name));
    }
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}

/// `mode uid` of the file on brick `b`.
async fn mode_owner(ctx: &Ctx, b: &Brick) -> Result<String, TestError> {
    fileops::stat(ctx, &b.node, &xattr::brick_path(b, "file"), "%a %u").await
}
