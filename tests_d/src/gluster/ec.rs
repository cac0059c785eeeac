//! Erasure coding (disperse) on the bricks: where a file's fragments are, their EC xattrs
//! (`trusted.ec.size`, `trusted.ec.version`, `trusted.ec.dirty`), whether a set agrees on them
//! after heal, the fragment length EC stores for a size, and the options a client's disperse
//! translator runs with (read from the mount's `.meta`).
use gflab_agent::shell;

use super::brick;
use super::mount::Mount;
use super::volume::{Layout, Volume};
use super::xattr::{self, EcVersion, Xattrs};
use crate::{Ctx, TestError};

/// How a file operation fails on a disperse set that lost more bricks than its redundancy (or
/// its `disperse.quorum-count`): EIO, or ENOTCONN once the set itself is down. For
/// [`super::mount::ensure_fails`].
pub const NO_QUORUM: &[&str] = &["Input/output error", "Transport endpoint is not connected"];

/// The client caches GlusterFS's own EC tests turn off so that every operation reaches the bricks
/// at once (and heal counts are exact): `for (k, v) in ec::NO_CLIENT_CACHES { vol.set(..) }`.
pub const NO_CLIENT_CACHES: &[(&str, &str)] = &[
    ("performance.stat-prefetch", "off"),
    ("performance.write-behind", "off"),
    ("performance.quick-read", "off"),
    ("performance.read-ahead", "off"),
    ("performance.io-cache", "off"),
];

/// One brick's copy of a file in its disperse set.
#[derive(Debug, Clone)]
pub struct Fragment {
    /// The brick's index in the volume.
    pub brick: usize,
    /// The fragment file's length on the brick, in bytes.
    pub len: u64,
    /// Its extended attributes.
    pub xattrs: Xattrs,
}

impl Fragment {
    /// `trusted.ec.size` (the file's size as EC records it).
    pub fn size(&self) -> Option<u64> {
        self.xattrs.ec_size()
    }
    /// `trusted.ec.version`.
    pub fn version(&self) -> Option<EcVersion> {
        self.xattrs.ec_version()
    }
    /// `trusted.ec.dirty` as (data, metadata) counters; absent is (0, 0).
    pub fn dirty(&self) -> (u64, u64) {
        let word = |v: &[u8], i: usize| -> Option<u64> {
            Some(u64::from_be_bytes(
                v.get(i * 8..i * 8 + 8)?.try_into().ok()?,
            ))
        };
        match self.xattrs.get("trusted.ec.dirty") {
            Some(v) => (word(v, 0).unwrap_or(0), word(v, 1).unwrap_or(0)),
            None => (0, 0),
        }
    }
    /// What a set's bricks must agree on after heal: size, version, length.
    fn state(&self) -> (Option<u64>, Option<EcVersion>, u64) {
        (self.size(), self.version(), self.len)
    }
}

/// A file's fragments over the bricks of the disperse set that holds it.
#[derive(Debug, Clone)]
pub struct Fragments {
    /// The file, relative to the volume root.
    pub path: String,
    /// The set's index (as [`brick::sets`] numbers them).
    pub set: usize,
    /// Brick index → its fragment, `None` where the brick has no such file.
    pub bricks: Vec<(usize, Option<Fragment>)>,
}

impl Fragments {
    /// The fragment on brick `index`, if that brick has one.
    pub fn on(&self, index: usize) -> Option<&Fragment> {
        self.bricks
            .iter()
            .find(|(i, _)| *i == index)
            .and_then(|(_, f)| f.as_ref())
    }
    /// One line per brick: size, version, dirty and length, for messages.
    pub fn describe(&self) -> String {
        self.bricks
            .iter()
            .map(|(i, f)| match f {
                Some(f) => format!(
                    "#{i}: size {:?} version {:?} dirty {:?} len {}",
                    f.size(),
                    f.version().map(|v| (v.data, v.metadata)),
                    f.dirty(),
                    f.len
                ),
                None => format!("#{i}: missing"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Reads `rel` (a regular file) on one brick: `None` when absent, or when it is a DHT link file
/// (which only points to the set holding the data).
async fn read_fragment(
    ctx: &Ctx,
    vol: &Volume,
    index: usize,
    rel: &str,
) -> Result<Option<Fragment>, TestError> {
    let b = &vol.bricks[index];
    let p = shell::quote(&xattr::brick_path(b, rel));
    let out = ctx
        .sh(
            &b.node,
            format!(
                "if [ -f {p} ]; then stat -c 'len=%s' {p}; getfattr -d -m . -e hex {p} 2>/dev/null; \
                 else echo missing; fi"
            ),
        )
        .await?;
    let Some(len) = out
        .lines()
        .find_map(|l| l.strip_prefix("len="))
        .and_then(|s| s.trim().parse().ok())
    else {
        return Ok(None);
    };
    let values = xattr::parse_getfattr(&out);
    if values.contains_key("trusted.glusterfs.dht.linkto") {
        return Ok(None);
    }
    Ok(Some(Fragment {
        brick: index,
        len,
        xattrs: Xattrs {
            node: b.node.name().to_string(),
            path: xattr::brick_path(b, rel),
            values,
        },
    }))
}

/// The fragments of the file `rel` (relative to the volume root) on every brick of the disperse
/// set that holds its data (the set where most bricks have it as a data file). An error when no
/// set has it.
pub async fn fragments(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Fragments, TestError> {
    let mut best: Option<Fragments> = None;
    let mut best_count = 0;
    for (set, members) in brick::sets(vol).into_iter().enumerate() {
        let mut bricks = Vec::with_capacity(members.len());
        for i in members {
            bricks.push((i, read_fragment(ctx, vol, i, rel).await?));
        }
        let count = bricks.iter().filter(|(_, f)| f.is_some()).count();
        if count > best_count {
            best_count = count;
            best = Some(Fragments {
                path: rel.to_string(),
                set,
                bricks,
            });
        }
    }
    best.ok_or_else(|| {
        TestError::Check(format!(
            "no brick of {} holds a fragment of {rel}",
            vol.name
        ))
    })
}

/// The fragment length EC stores on each brick for a file of `size` bytes: whole stripes
/// (512 bytes per data brick each), one 512-byte chunk per stripe on every brick.
pub fn fragment_len(layout: &Layout, size: u64) -> u64 {
    let data = match *layout {
        Layout::Disperse { bricks, redundancy }
        | Layout::DistributedDisperse {
            bricks, redundancy, ..
        } => (bricks - redundancy) as u64,
        _ => 1,
    };
    size.div_ceil(data * 512) * 512
}

/// Checks that every brick of the set holding `rel` has its fragment and that they agree on
/// `trusted.ec.size`, `trusted.ec.version` and length, with no dirty counter left: what a healed
/// file looks like. Returns the fragments.
pub async fn ensure_healed(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Fragments, TestError> {
    let f = fragments(ctx, vol, rel).await?;
    let present: Vec<&Fragment> = f.bricks.iter().filter_map(|(_, x)| x.as_ref()).collect();
    let first = present.first().map(|x| x.state());
    let agree = present.len() == f.bricks.len()
        && present.iter().all(|x| Some(x.state()) == first)
        && present.iter().all(|x| x.dirty() == (0, 0))
        && first.is_some_and(|(size, version, _)| size.is_some() && version.is_some());
    if agree {
        Ok(f)
    } else {
        Err(TestError::Check(format!(
            "the fragments of {rel} in disperse set {} of {} disagree (not healed): {}",
            f.set,
            vol.name,
            f.describe()
        )))
    }
}

/// Waits until [`ensure_healed`] holds for `rel`: a client that let go of a file last may leave
/// `trusted.ec.dirty` set on its fragments (its eager lock released as it went), which heal clears.
/// Returns the fragments, or the last disagreement when `timeout` passes.
pub async fn wait_healed(
    ctx: &Ctx,
    vol: &Volume,
    rel: &str,
    timeout: std::time::Duration,
) -> Result<Fragments, TestError> {
    let start = std::time::Instant::now();
    loop {
        match ensure_healed(ctx, vol, rel).await {
            Err(TestError::Check(why)) if start.elapsed() < timeout => {
                tracing::debug!("{why}");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            Err(TestError::Check(why)) => {
                return Err(TestError::Check(format!(
                    "{why} (after {}s)",
                    timeout.as_secs()
                )))
            }
            other => return other,
        }
    }
}

/// The value of `key` in the private dump of a client's disperse translator for set `set`
/// (`<mount>/.meta/graphs/active/<vol>-disperse-<set>/private`, e.g. `quorum-count`,
/// `background-heals`), or `None` when the dump has no such line.
pub async fn client_option(
    ctx: &Ctx,
    m: &Mount,
    vol: &Volume,
    set: usize,
    key: &str,
) -> Result<Option<String>, TestError> {
    let private = format!(
        "{}/.meta/graphs/active/{}-disperse-{set}/private",
        m.path, vol.name
    );
    let out = ctx
        .sh(&m.node, format!("cat {}", shell::quote(&private)))
        .await?;
    Ok(out.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().to_string())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_length_is_whole_stripes() {
        let ec = Layout::Disperse {
            bricks: 6,
            redundancy: 2,
        };
        assert_eq!(fragment_len(&ec, 0), 0);
        assert_eq!(fragment_len(&ec, 1), 512);
        assert_eq!(fragment_len(&ec, 2048), 512);
        assert_eq!(fragment_len(&ec, 2049), 1024);
        let small = Layout::Disperse {
            bricks: 3,
            redundancy: 1,
        };
        assert_eq!(fragment_len(&small, 100_000), 50_176);
    }
}
