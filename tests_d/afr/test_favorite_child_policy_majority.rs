//! Split-brain on replica 3 resolved by `cluster.favorite-child-policy majority`: with quorum none
//! and every heal off, the first brick misses one rewrite and then is the only one to get a second,
//! bigger and newer one; the three copies are in split-brain. Set to `majority`, the daemon heals
//! the file to the copy the two other bricks agree on, although it is both the smaller and the
//! older one, and every brick and the mount then hold it.
//!
//! Ported from GlusterFS `tests/basic/afr/split-brain-favorite-child-policy.t` (the `majority`
//! part on replica 3; in the tree now under `tests/000-flaky/`). The volume is created as replica
//! 3 instead of grown from replica 2 (420 covers that).
use crate::prelude::*;

pub const CASE: Case = Case::new(415, "favorite_child_policy_majority", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = heal::unguarded_volume(&ctx, VolumeSpec::replicate(3)).await?;
    vol.set(&ctx, "performance.write-behind", "off").await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("touch {}/file", m.path)).await?;

    // b0 down: b1 and b2 get 1 MiB; b1 and b2 down: b0 alone gets 5 MiB.
    heal::diverge(&ctx, &vol, &m, "file", &[(&[0], 1 << 20), (&[1, 2], 5 << 20)]).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::index(&ctx, &vol).await?;
    heal::wait_split_brain_count(&ctx, &vol, 3, Duration::from_secs(60)).await?;
    let names = ["file".to_string()];
    let mut sums = Vec::new();
    for b in &vol.bricks {
        sums.push(io::checksums(&ctx, &b.node, &b.path, &names).await?["file"].clone());
    }
    ensure!(
        sums[1] == sums[2] && sums[0] != sums[1],
        "b1 and b2 should agree and b0 differ: {sums:?}"
    );
    let p = xattr::on_brick(&ctx, &vol.bricks[0], "file").await?.afr_all(&vol.name);
    ensure!(
        p.get(&1).is_some_and(|x| x.data > 0) && p.get(&2).is_some_and(|x| x.data > 0),
        "b0 should blame b1 and b2 for data: {p:?}"
    );

    heal::favorite_child_policy(&ctx, &vol, FavoriteChild::Majority).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    for b in &vol.bricks {
        let got = io::checksums(&ctx, &b.node, &b.path, &names).await?;
        ensure_eq!(
            got["file"],
            sums[1],
            "file on {} after favorite-child-policy majority should be the copy of b1 and b2",
            b.spec()
        );
    }
    let got = io::checksums(&ctx, &client, &m.path, &names).await?;
    ensure_eq!(got["file"], sums[1], "file read from the mount after the heal");
    Ok(())
}
