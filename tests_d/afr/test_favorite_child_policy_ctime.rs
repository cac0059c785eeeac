//! Split-brain resolved by `cluster.favorite-child-policy ctime`: on replica 2 with every heal off
//! and quorum none, each brick in turn misses a rewrite of the same file (the bigger copy first,
//! the smaller one later); after an index heal the file is still in split-brain and reads fail
//! with EIO. Set to `ctime`, the daemon heals it to the copy with the newest change time, which
//! here is the smaller one (so `size` would pick the other), both bricks hold it and the file reads.
//!
//! Ported from GlusterFS `tests/basic/afr/split-brain-favorite-child-policy.t` (the `ctime` part;
//! in the tree now under `tests/000-flaky/`). The copy with the newest ctime is read from the
//! bricks as the original does; the sizes are chosen so that ctime and size disagree.
use crate::prelude::*;

pub const CASE: Case = Case::new(414, "favorite_child_policy_ctime", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = heal::unguarded_volume(&ctx, VolumeSpec::replicate(2)).await?;
    vol.set(&ctx, "performance.write-behind", "off").await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("touch {}/file", m.path)).await?;

    // b1 down: b0 gets 4 MiB; a second later b0 down: b1 gets 1 MiB.
    heal::diverge(&ctx, &vol, &m, "file", &[(&[1], 4 << 20)]).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    heal::diverge(&ctx, &vol, &m, "file", &[(&[0], 1 << 20)]).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::index(&ctx, &vol).await?;
    heal::wait_split_brain_count(&ctx, &vol, 2, Duration::from_secs(60)).await?;
    let names = ["file".to_string()];
    let (b0, b1) = (&vol.bricks[0], &vol.bricks[1]);
    let mut copies = Vec::new();
    for b in [b0, b1] {
        let sum = io::checksums(&ctx, &b.node, &b.path, &names).await?["file"].clone();
        let ctime: f64 = fileops::stat(&ctx, &b.node, &xattr::brick_path(b, "file"), "%.9Z")
            .await?
            .parse()
            .map_err(|e| TestError::Check(format!("ctime of file on {}: {e}", b.spec())))?;
        copies.push((ctime, sum));
    }
    ensure!(
        copies[1].0.total_cmp(&copies[0].0).is_gt(),
        "b1's copy (written last) should have the newer ctime: {copies:?}"
    );
    let out = mount::attempt(&ctx, &client, &m.path, "cat $M/file > /dev/null", Duration::from_secs(60))
        .await?;
    ensure!(!out.success(), "reading file in split-brain should fail: {}", out.stderr_str());

    heal::favorite_child_policy(&ctx, &vol, FavoriteChild::Ctime).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    for b in [b0, b1] {
        let got = io::checksums(&ctx, &b.node, &b.path, &names).await?;
        ensure_eq!(
            got["file"],
            copies[1].1,
            "file on {} after favorite-child-policy ctime should be b1's newer, smaller copy",
            b.spec()
        );
    }
    // The client may show the size it had cached for a moment after the heal.
    wait_for(
        &ctx,
        "the mount to show the healed size, 1048576",
        Duration::from_secs(20),
        Duration::from_secs(1),
        || async {
            let size = ctx.sh(&client, format!("stat -c %s {}/file", m.path)).await?;
            Ok(if size.trim() == "1048576" {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("size of file on the mount {}", size.trim()))
            })
        },
    )
    .await?;
    let got = io::checksums(&ctx, &client, &m.path, &names).await?;
    ensure_eq!(got["file"], copies[1].1, "file read from the mount after the heal");
    Ok(())
}
