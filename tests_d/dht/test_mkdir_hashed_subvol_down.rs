//! A directory whose name hashes to a subvolume that is down cannot be created (mkdir fails and
//! no brick gets the directory); once the brick is back, without remounting, the same mkdir
//! succeeds and the directory exists on every brick with a complete layout; a directory made
//! meanwhile (hashed to a live brick) is created on the returned brick by a lookup.
//!
//! Ported from glusto-tests `tests/functional/dht/test_mkdir_hashdown.py` (mkdir hashed to a down
//! subvolume fails and leaves nothing on bricks or mounts; succeeds once it is back) and GlusterFS
//! `tests/basic/distribute/brick-down.t` (the same, then mkdir after the brick restarts without
//! a remount).
use crate::prelude::*;

pub const CASE: Case = Case::new(705, "mkdir_hashed_subvol_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    vol.set(&ctx, "performance.stat-prefetch", "off").await?;
    let by = dht::names_by_subvol(&ctx, &vol, &m, "", "parent", 30).await?;
    let down = 1;
    let name = by[down]
        .first()
        .cloned()
        .ok_or_else(|| TestError::Check(format!("no name of 30 hashes to subvolume {down}: {by:?}")))?;
    let other = by[0].first().cloned().ok_or_else(|| TestError::Check(format!("no name on subvolume 0: {by:?}")))?;

    brick::kill(&ctx, &vol, down).await?;
    let out = mount::attempt(&ctx, &m.node, &m.path, &format!("mkdir \"$M/{name}\""), Duration::from_secs(60)).await?;
    ensure!(!out.success(), "mkdir {name} (hashed to the down subvolume {down}) succeeded");
    for (i, e) in dht::entries(&ctx, &vol, &name).await?.iter().enumerate() {
        ensure!(*e == dht::Entry::Absent || i == down, "{name} exists on brick #{i} after the failed mkdir");
    }
    ensure!(
        ctx.sh(&m.node, format!("ls -d {}/{name} 2>/dev/null; true", m.path)).await?.trim().is_empty(),
        "{name} shows on the mount after the failed mkdir"
    );
    // A name hashed to a live subvolume can still be made.
    ctx.sh(&m.node, format!("mkdir {}/{other}", m.path)).await?;

    brick::bring_back(&ctx, &vol).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    ctx.sh(&m.node, format!("mkdir {}/{name}", m.path)).await?;
    let r = dht::ensure_layout_complete(&ctx, &vol, &name).await?;
    ensure_eq!(r.len(), 3, "subvolumes with a range on {name}");
    // The directory made while a brick was down is created on it by the next lookup.
    ctx.sh(&m.node, format!("stat {}/{other} > /dev/null", m.path)).await?;
    let b = &vol.bricks[down];
    ensure_eq!(fileops::stat(&ctx, &b.node, &format!("{}/{other}", b.path), "%F").await?.trim(), "directory", "{other} on the returned brick after a lookup");
    Ok(())
}
