//! Distribute volumes whose file placement follows the hash alone, whatever the free space of the
//! disk under the bricks.
//!
//! Lab bricks are directories on the node's root filesystem, shared with everything else on the
//! host. When that filesystem has less free space than DHT's `cluster.min-free-disk` (10% by
//! default), DHT creates every new file on the subvolume with the most free space (a link file on
//! the hashed one) and rebalance refuses to migrate files to the "full" bricks, so scenarios about
//! hashing, layouts and migration would test the free-space fallback instead. The volumes made here
//! set `cluster.min-free-disk` to [`MIN_FREE_DISK`] before they start.
use super::mount::{self, Mount};
use super::volume::{self, Volume, VolumeSpec};
use crate::{Ctx, TestError};

/// The `cluster.min-free-disk` of volumes made here.
pub const MIN_FREE_DISK: &str = "1%";

/// Creates the volume, sets `cluster.min-free-disk` to [`MIN_FREE_DISK`], starts it and mounts it
/// on the first client (the volume and the mount are removed at the end, as with
/// `mount::volume_mounted`).
pub async fn volume_mounted(ctx: &Ctx, spec: VolumeSpec) -> Result<(Volume, Mount), TestError> {
    let vol = volume::create(ctx, spec).await?;
    vol.set(ctx, "cluster.min-free-disk", MIN_FREE_DISK).await?;
    vol.start_and_wait(ctx).await?;
    let m = mount::mount(ctx, &ctx.client(0)?, &vol).await?;
    Ok((vol, m))
}
