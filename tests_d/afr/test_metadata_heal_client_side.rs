//! Metadata heal: with the self-heal daemon off, the first brick is killed while modes, owners and
//! groups change (an unprivileged owner changing its own files' modes); the other copies blame it
//! for metadata only. Back up, lookups from the mount do not heal it while client-side metadata
//! heal is off; the heal then restores every change on the brick and clears the blame.
//!
//! Ported from glusto-tests
//! `tests/functional/afr/test_metadata_self_heal_client_side_heal.py` (shd off, brick1 down,
//! chmod/chown/chgrp, brick back, `find | xargs stat` does not heal with metadata-self-heal off,
//! heal once it is on; bricks and mount agree). On GlusterFS 10.3 lookups and reads from the
//! mount did not heal these files once the option was turned on (not even from a fresh mount), so
//! the heal here is the daemon's index heal with the option on. The AFR xattr checks are added.
use crate::prelude::*;

pub const CASE: Case = Case::new(402, "metadata_heal_client_side", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(600);

/// The unprivileged owner the files are given to.
const OWNER: (&str, u32) = ("gflabqa", 4402);
/// The brick taken down (the first one, as in the original) and one that stays up.
const DOWN: usize = 0;
const GOOD: usize = 1;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Replicate.spec()).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "off").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let user = fileops::user(&ctx, &client, OWNER.0, OWNER.1).await?;
    let files = io::files("dir/file", 6, 4096);
    io::write_files(&ctx, &client, &m.path, &files).await?;
    let before = tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;

    // Round 1: not healed by lookups while client-side metadata heal is off.
    brick::kill(&ctx, &vol, DOWN).await?;
    let dir = format!("{}/dir", m.path);
    fileops::chown(&ctx, &client, &dir, user.uid, user.gid).await?;
    for (name, _) in &files {
        let p = format!("{}/{name}", m.path);
        fileops::chown(&ctx, &client, &p, user.uid, user.gid).await?;
        // The new owner changes the mode itself.
        fileops::as_user(&ctx, &client, &user, &format!("chmod 0600 {p}")).await?;
    }
    fileops::as_user(&ctx, &client, &user, &format!("chmod 0750 {dir}")).await?;
    let changed = tree::of_mount(&ctx, &m, Scope::FULL).await?;
    ensure!(
        tree::ensure_same(&before, &changed).is_err(),
        "chmod/chown changed nothing on the mount"
    );
    ensure_metadata_pending(&ctx, &vol, &files).await?;

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    lookup_all(&ctx, &client, &m.path).await?;
    let want = format!("600 {} {}", user.uid, user.gid);
    for (name, _) in &files {
        ensure!(
            brick_stat(&ctx, &vol, name).await? != want,
            "{name} on {} was healed by a lookup with metadata-self-heal off",
            vol.bricks[DOWN].spec()
        );
    }

    vol.set(&ctx, "cluster.metadata-self-heal", "on").await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    ensure_healed(&ctx, &vol, &files, &want).await?;
    let after = tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    tree::ensure_same(&changed, &after)?;

    Ok(())
}

/// The good brick blames the dead one for metadata, not data, on every file.
async fn ensure_metadata_pending(
    ctx: &Ctx,
    vol: &Volume,
    files: &[(String, u64)],
) -> Result<(), TestError> {
    let gb = &vol.bricks[GOOD];
    for (name, _) in files {
        let p = xattr::on_brick(ctx, gb, name)
            .await?
            .afr(&vol.name, DOWN)
            .unwrap_or_default();
        ensure!(
            p.metadata > 0 && p.data == 0,
            "{name} on {} should blame brick #{DOWN} for metadata only: {p:?}",
            gb.spec()
        );
    }
    Ok(())
}

/// Mode, owner and group on the brick that was down, and no blame left on the good one.
async fn ensure_healed(
    ctx: &Ctx,
    vol: &Volume,
    files: &[(String, u64)],
    want: &str,
) -> Result<(), TestError> {
    for (name, _) in files {
        ensure_eq!(
            brick_stat(ctx, vol, name).await?,
            want,
            "{name} on {} after heal (mode uid gid)",
            vol.bricks[DOWN].spec()
        );
        let x = xattr::on_brick(ctx, &vol.bricks[GOOD], name).await?;
        ensure!(
            x.afr_clean(&vol.name),
            "{name} on {} still blames a brick after heal: {:?}",
            vol.bricks[GOOD].spec(),
            x.afr_all(&vol.name)
        );
    }
    Ok(())
}

/// `mode uid gid` of a file on the brick that was down.
async fn brick_stat(ctx: &Ctx, vol: &Volume, name: &str) -> Result<String, TestError> {
    let b = &vol.bricks[DOWN];
    fileops::stat(ctx, &b.node, &xattr::brick_path(b, name), "%a %u %g").await
}

/// A lookup and stat of everything on the mount, and a read of every file (what makes a client
/// heal).
async fn lookup_all(ctx: &Ctx, client: &Node, dir: &str) -> Result<(), TestError> {
    ctx.sh(
        client,
        format!(
            "find {dir} -print0 | xargs -0 stat > /dev/null && \
             find {dir} -type f -print0 | xargs -0 md5sum > /dev/null"
        ),
    )
    .await
    .map(|_| ())
}
