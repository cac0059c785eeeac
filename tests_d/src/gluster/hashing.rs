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

/// GlusterFS's Davies-Meyer name hash (`gf_dm_hashfn` of libglusterfs), the hash DHT places a
/// name by: the directory's layout gives each subvolume a range of it.
pub fn dm_hash(name: &[u8]) -> u32 {
    let mut h = (0x9464_a485_u32, 0x542e_1a94_u32);
    let len = name.len();
    let pad = {
        let p = (len as u32 & 0xff) | ((len as u32 & 0xff) << 8);
        p | (p << 16)
    };
    let word = |i: usize| u32::from_le_bytes([name[i], name[i + 1], name[i + 2], name[i + 3]]);
    let quads = len / 16;
    for q in 0..quads {
        let block = [
            word(q * 16),
            word(q * 16 + 4),
            word(q * 16 + 8),
            word(q * 16 + 12),
        ];
        dm_round(6, &block, &mut h);
    }
    let mut block = [0u32; 4];
    let mut at = quads * 16;
    for slot in &mut block {
        if len - at >= 4 {
            *slot = word(at);
            at += 4;
        } else {
            let mut v = pad;
            for &b in &name[at..] {
                // The C code ORs in a `char`: signed on x86, so bytes >= 0x80 are sign-extended.
                v = (v << 8) | (b as i8 as i32 as u32);
            }
            at = len;
            *slot = v;
        }
    }
    dm_round(10, &block, &mut h);
    h.0 ^ h.1
}

fn dm_round(rounds: usize, a: &[u32; 4], h: &mut (u32, u32)) {
    const DELTA: u32 = 0x9e37_79b9;
    let (mut b0, mut b1) = *h;
    let mut sum = 0u32;
    for _ in 0..rounds {
        sum = sum.wrapping_add(DELTA);
        b0 = b0.wrapping_add(
            (b1 << 4).wrapping_add(a[0]) ^ b1.wrapping_add(sum) ^ (b1 >> 5).wrapping_add(a[1]),
        );
        b1 = b1.wrapping_add(
            (b0 << 4).wrapping_add(a[2]) ^ b0.wrapping_add(sum) ^ (b0 >> 5).wrapping_add(a[3]),
        );
    }
    h.0 = h.0.wrapping_add(b0);
    h.1 = h.1.wrapping_add(b1);
}

/// The part of `name` DHT hashes with its default `cluster.rsync-hash-regex`
/// (`^\.(.+)\.[^.]+$`): an rsync temporary name `.NAME.XXXXXX` is hashed as `NAME`, so the file
/// is created where its final name will live; any other name is hashed whole.
pub fn rsync_munged(name: &str) -> &str {
    if let Some(rest) = name.strip_prefix('.') {
        if let Some(dot) = rest.rfind('.') {
            let (inner, suffix) = (&rest[..dot], &rest[dot + 1..]);
            if !inner.is_empty() && !suffix.is_empty() {
                return inner;
            }
        }
    }
    name
}

/// The hash DHT computes for an entry `name` (default options): [`dm_hash`] of
/// [`rsync_munged`].
pub fn dht_hash(name: &str) -> u32 {
    dm_hash(rsync_munged(name).as_bytes())
}

/// The subvolume whose range (one per subvolume, in subvolume order) holds `hash`.
pub fn subvol_of(ranges: &[super::xattr::DhtRange], hash: u32) -> Option<usize> {
    ranges
        .iter()
        .position(|r| r.start <= hash && hash <= r.stop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gluster::xattr::DhtRange;

    #[test]
    fn hashes_as_libglusterfs() {
        // Values printed by libglusterfs's gf_dm_hashfn for these names.
        for (name, want) in [
            ("a", 0x3a17_e4e6_u32),
            ("file1", 0xa787_fa82),
            ("dir1", 0x7e4d_63a8),
            ("abcdefghijklmnopq", 0xee27_cbd1),
            ("some-long-file-name-with-32-byte", 0xd2bd_f460),
            ("x1234567890123456", 0x8f5e_dd4f),
            ("file-99", 0x9ac5_433d),
        ] {
            assert_eq!(dm_hash(name.as_bytes()), want, "{name}");
        }
    }

    #[test]
    fn rsync_names_hash_as_their_final_name() {
        assert_eq!(rsync_munged(".file1.Ab12Cd"), "file1");
        assert_eq!(rsync_munged(".a.b.c"), "a.b");
        assert_eq!(rsync_munged("file1"), "file1");
        assert_eq!(rsync_munged(".hidden"), ".hidden");
        assert_eq!(rsync_munged(".x."), ".x.");
        assert_eq!(dht_hash(".file1.Ab12Cd"), dht_hash("file1"));
    }

    #[test]
    fn finds_the_range() {
        let r = |start, stop| DhtRange { start, stop };
        let ranges = [r(0x8000_0000, 0xffff_ffff), r(0, 0x7fff_ffff)];
        assert_eq!(subvol_of(&ranges, 0x10), Some(1));
        assert_eq!(subvol_of(&ranges, 0xffff_ffff), Some(0));
        assert_eq!(subvol_of(&ranges[..1], 0x10), None);
    }
}
