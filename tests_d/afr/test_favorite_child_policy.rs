//! Split-brain resolved by `cluster.favorite-child-policy`: on replica 2 with every heal off, each
//! brick in turn misses a rewrite of the same file; the index heal leaves it in split-brain (heal
//! info split-brain lists it on both bricks). Set to `mtime`, the daemon heals it to the newer copy; set to `size`, to the bigger copy
//! even when that is the older one. The bricks then hold the chosen copy and read back equal.
//!
//! Ported from GlusterFS `tests/basic/afr/split-brain-favorite-child-policy.t` (the `mtime` and
//! `size` parts; its `ctime` part and the `majority` part after add-brick are not ported). In the
//! size round the bigger copy is made the older one, so `size` cannot pass by picking the newest.
//! `features.ctime` is off as in 404 (the original predates it).
use crate::prelude::*;

pub const CASE: Case = Case::new(407, "favorite_child_policy_mtime_size", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 1))
.timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.set(&ctx, "cluster.quorum-type", "none").await?;
    vol.set(&ctx, "features.ctime", "off").await?;
    vol.set(&ctx, "performance.write-behind", "off").await?;
    heal::set_self_heal(&ctx, &vol, false, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    ctx.sh(&client, format!("touch {}/file", m.path)).await?;

    // mtime: b0 gets 1 MiB first, b1 1 MiB later: b1's copy is the newer.
    let want = split(&ctx, &vol, &m, 1 << 20, 1 << 20).await?;
    resolve_with(&ctx, &vol, &m, FavoriteChild::Mtime, &want.1, "the newer copy (b1)").await?;

    // size: b0 gets 10 MiB first, b1 1 MiB later: b0's copy is the bigger and the older.
    let want = split(&ctx, &vol, &m, 10 << 20, 1 << 20).await?;
    resolve_with(&ctx, &vol, &m, FavoriteChild::Size, &want.0, "the bigger, older copy (b0)")
        .await?;
    Ok(())
}

/// Rewrites `file` with `first` bytes while b1 is down, then with `second` bytes while b0 is down;
/// checks that it is in split-brain after an index heal and returns (b0's, b1's) sha256.
async fn split(
    ctx: &Ctx,
    vol: &Volume,
    m: &mount::Mount,
    first: u64,
    second: u64,
) -> Result<(String, String), TestError> {
    heal::favorite_child_policy(ctx, vol, FavoriteChild::None).await?;
    vol.set(ctx, "cluster.self-heal-daemon", "off").await?;
    for (down, size) in [(1, first), (0, second)] {
        brick::kill(ctx, vol, down).await?;
        io::write_files(ctx, &m.node, &m.path, &[("file".to_string(), size)]).await?;
        brick::bring_back(ctx, vol).await?;
        brick::wait_client_up(ctx, m, vol, Duration::from_secs(60)).await?;
    }
    vol.set(ctx, "cluster.self-heal-daemon", "on").await?;
    heal::index(ctx, vol).await?;
    // Both bricks list the file in split-brain (a read from this client may still be served
    // from its page cache, so the check is gluster's own).
    heal::wait_split_brain_count(ctx, vol, 2, Duration::from_secs(60)).await?;
    let names = ["file".to_string()];
    let mut sums = Vec::new();
    for b in &vol.bricks {
        sums.push(io::checksums(ctx, &b.node, &b.path, &names).await?["file"].clone());
    }
    ensure!(sums[0] != sums[1], "the two copies of file are the same: {sums:?}");
    Ok((sums[0].clone(), sums[1].clone()))
}

/// Sets the policy, lets the daemon heal, and checks both bricks and the mount hold `want`.
async fn resolve_with(
    ctx: &Ctx,
    vol: &Volume,
    m: &mount::Mount,
    policy: FavoriteChild,
    want: &str,
    why: &str,
) -> Result<(), TestError> {
    heal::favorite_child_policy(ctx, vol, policy).await?;
    heal::wait_complete(ctx, vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(ctx, vol).await?;
    let names = ["file".to_string()];
    for b in &vol.bricks {
        let got = io::checksums(ctx, &b.node, &b.path, &names).await?;
        ensure_eq!(
            got["file"].as_str(),
            want,
            "file on {} after favorite-child-policy {} should be {why}",
            b.spec(),
            policy.value()
        );
    }
    let got = io::checksums(ctx, &m.node, &m.path, &names).await?;
    ensure_eq!(got["file"].as_str(), want, "file on the mount after policy {}", policy.value());
    Ok(())
}
