//! GlusterFS extended attributes on bricks (`getfattr -d -m . -e hex`) with typed accessors for the
//! ones tests check: AFR pending counters, EC size and version, the gfid and the DHT layout; and the
//! gfid of a path as the mount shows it.
use std::collections::BTreeMap;

use gflab_agent::{shell, Command};

use super::volume::{Brick, Volume};
use crate::ctx::Node;
use crate::{Ctx, TestError};

/// AFR's pending counters for one brick of a replica set, as another brick records them
/// (`trusted.afr.<vol>-client-N`: three big-endian 32-bit counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AfrPending {
    /// Data operations the named brick missed.
    pub data: u32,
    /// Metadata operations (mode, owner, xattrs) it missed.
    pub metadata: u32,
    /// Entry operations (create, delete, rename in a directory) it missed.
    pub entry: u32,
}

impl AfrPending {
    /// Nothing pending.
    pub fn is_clean(&self) -> bool {
        *self == AfrPending::default()
    }
    /// Decodes the 12-byte value (longer values, from newer AFR, keep the first 12 bytes).
    pub fn decode(bytes: &[u8]) -> Option<AfrPending> {
        let word = |i: usize| -> Option<u32> {
            Some(u32::from_be_bytes(
                bytes.get(i * 4..i * 4 + 4)?.try_into().ok()?,
            ))
        };
        Some(AfrPending {
            data: word(0)?,
            metadata: word(1)?,
            entry: word(2)?,
        })
    }
}

/// EC's version counters (`trusted.ec.version`: data and metadata, big-endian 64-bit each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcVersion {
    /// Data version.
    pub data: u64,
    /// Metadata version.
    pub metadata: u64,
}

/// A DHT layout range (`trusted.glusterfs.dht`: the hash range this brick's subvolume owns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhtRange {
    /// First hash of the range.
    pub start: u32,
    /// Last hash of the range.
    pub stop: u32,
}

/// Every extended attribute of one path on one node: name → raw value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Xattrs {
    /// The node it was read on.
    pub node: String,
    /// The path it was read from.
    pub path: String,
    /// Name → value.
    pub values: BTreeMap<String, Vec<u8>>,
}

impl Xattrs {
    /// A raw value.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.values.get(name).map(Vec::as_slice)
    }
    /// `trusted.afr.<volume>-client-<index>`: what this copy says brick `index` missed;
    /// `None` when the attribute is absent (also nothing pending).
    pub fn afr(&self, volume: &str, index: usize) -> Option<AfrPending> {
        AfrPending::decode(self.get(&format!("trusted.afr.{volume}-client-{index}"))?)
    }
    /// Every `trusted.afr.<vol>-client-N` present: brick index → counters.
    pub fn afr_all(&self, volume: &str) -> BTreeMap<usize, AfrPending> {
        let prefix = format!("trusted.afr.{volume}-client-");
        self.values
            .iter()
            .filter_map(|(k, v)| {
                let i = k.strip_prefix(&prefix)?.parse().ok()?;
                Some((i, AfrPending::decode(v)?))
            })
            .collect()
    }
    /// Whether every AFR counter present is zero.
    pub fn afr_clean(&self, volume: &str) -> bool {
        self.afr_all(volume).values().all(AfrPending::is_clean)
    }
    /// `trusted.ec.size`: the file's real size as EC records it.
    pub fn ec_size(&self) -> Option<u64> {
        Some(u64::from_be_bytes(
            self.get("trusted.ec.size")?.get(..8)?.try_into().ok()?,
        ))
    }
    /// `trusted.ec.version`.
    pub fn ec_version(&self) -> Option<EcVersion> {
        let v = self.get("trusted.ec.version")?;
        Some(EcVersion {
            data: u64::from_be_bytes(v.get(..8)?.try_into().ok()?),
            metadata: u64::from_be_bytes(v.get(8..16)?.try_into().ok()?),
        })
    }
    /// `trusted.gfid` as the usual dashed string.
    pub fn gfid(&self) -> Option<String> {
        let g = self.get("trusted.gfid")?;
        (g.len() == 16).then(|| uuid_string(g))
    }
    /// `trusted.glusterfs.dht`: the directory's hash range on this brick.
    pub fn dht(&self) -> Option<DhtRange> {
        let v = self.get("trusted.glusterfs.dht")?;
        Some(DhtRange {
            start: u32::from_be_bytes(v.get(8..12)?.try_into().ok()?),
            stop: u32::from_be_bytes(v.get(12..16)?.try_into().ok()?),
        })
    }
}

/// 16 bytes as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn uuid_string(b: &[u8]) -> String {
    let h = hex(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Parses `getfattr -d -e hex` output (one file): `name=0x...` lines; text values (`"..."`) are
/// kept as their bytes.
pub fn parse_getfattr(out: &str) -> BTreeMap<String, Vec<u8>> {
    out.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.split_once('=')?;
            let bytes = if let Some(h) = value.strip_prefix("0x") {
                unhex(h)?
            } else {
                value.trim_matches('"').as_bytes().to_vec()
            };
            Some((name.to_string(), bytes))
        })
        .collect()
}

/// Every extended attribute of `path` on `node` (`getfattr -d -m . -e hex`, symlinks not followed).
pub async fn read(ctx: &Ctx, node: &Node, path: &str) -> Result<Xattrs, TestError> {
    let cmd = Command::new("getfattr").args([
        "--absolute-names",
        "-h",
        "-d",
        "-m",
        ".",
        "-e",
        "hex",
        path,
    ]);
    let out = ctx.run(node, cmd).await?;
    Ok(Xattrs {
        node: node.name().to_string(),
        path: path.to_string(),
        values: parse_getfattr(&out.stdout_str()),
    })
}

/// The xattrs of `rel` (a path relative to the volume root) on one brick.
pub async fn on_brick(ctx: &Ctx, brick: &Brick, rel: &str) -> Result<Xattrs, TestError> {
    read(ctx, &brick.node, &brick_path(brick, rel)).await
}

/// `rel` (relative to the volume root) on `brick`.
pub fn brick_path(brick: &Brick, rel: &str) -> String {
    let rel = rel.trim_start_matches('/');
    if rel.is_empty() {
        brick.path.clone()
    } else {
        format!("{}/{rel}", brick.path)
    }
}

/// The xattrs of `rel` on every brick of the volume, in brick order; a brick where the path does
/// not exist gives an empty set (its `path` says so).
pub async fn on_bricks(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<Xattrs>, TestError> {
    let mut all = Vec::new();
    for b in &vol.bricks {
        let p = brick_path(b, rel);
        let q = shell::quote(&p);
        let present = ctx
            .exec(
                &b.node,
                Command::shell(format!("test -e {q} || test -L {q}")),
            )
            .await?
            .success();
        if present {
            all.push(read(ctx, &b.node, &p).await?);
        } else {
            all.push(Xattrs {
                node: b.node.name().to_string(),
                path: format!("{p} (absent)"),
                values: BTreeMap::new(),
            });
        }
    }
    Ok(all)
}

/// The gfid of `path` as the mount sees it (`glusterfs.gfid.string`, a virtual xattr of the client).
pub async fn gfid_on_mount(ctx: &Ctx, node: &Node, path: &str) -> Result<String, TestError> {
    let out = ctx
        .sh(
            node,
            format!(
                "getfattr --absolute-names --only-values -n glusterfs.gfid.string {}",
                shell::quote(path)
            ),
        )
        .await?;
    Ok(out.trim().to_string())
}

/// The gfid of `rel` on a brick (`trusted.gfid`).
pub async fn gfid_on_brick(ctx: &Ctx, brick: &Brick, rel: &str) -> Result<String, TestError> {
    let x = on_brick(ctx, brick, rel).await?;
    x.gfid().ok_or_else(|| {
        TestError::Check(format!(
            "{} has no trusted.gfid on {}",
            x.path,
            brick.spec()
        ))
    })
}

/// Sets an xattr directly on a brick, behind gluster's back (to break a copy on purpose).
pub async fn set_on_brick(
    ctx: &Ctx,
    brick: &Brick,
    rel: &str,
    name: &str,
    hex_value: &str,
) -> Result<(), TestError> {
    let p = brick_path(brick, rel);
    ctx.run(
        &brick.node,
        Command::new("setfattr").args(["-h", "-n", name, "-v", hex_value, &p]),
    )
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_brick_xattrs() {
        let out = "# file: /bricks/v/b0/f\n\
            trusted.afr.v-client-1=0x000000020000000100000000\n\
            trusted.afr.dirty=0x000000000000000000000000\n\
            trusted.gfid=0xd4653ea0289548eb81b35c91ffb73eff\n\
            trusted.glusterfs.dht=0x000000010000000000000000fffffffe\n\
            trusted.ec.size=0x0000000000100000\n\
            trusted.ec.version=0x00000000000000050000000000000002\n\
            user.test=\"brick0\"\n";
        let x = Xattrs {
            node: "s".into(),
            path: "/f".into(),
            values: parse_getfattr(out),
        };
        assert_eq!(
            x.afr("v", 1),
            Some(AfrPending {
                data: 2,
                metadata: 1,
                entry: 0
            })
        );
        assert_eq!(x.afr("v", 0), None);
        assert!(!x.afr_clean("v"));
        assert_eq!(
            x.gfid().as_deref(),
            Some("d4653ea0-2895-48eb-81b3-5c91ffb73eff")
        );
        assert_eq!(
            x.dht(),
            Some(DhtRange {
                start: 0,
                stop: 0xffff_fffe
            })
        );
        assert_eq!(x.ec_size(), Some(1 << 20));
        assert_eq!(
            x.ec_version(),
            Some(EcVersion {
                data: 5,
                metadata: 2
            })
        );
        assert_eq!(x.get("user.test"), Some(&b"brick0"[..]));
    }
}
