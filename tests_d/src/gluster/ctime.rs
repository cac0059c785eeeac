//! Consistent time attributes (`features.ctime`): the times GlusterFS keeps for every entry in the
//! `trusted.glusterfs.mdata` xattr on each brick, decoded, compared across the bricks of a set;
//! and the times a client sees (`stat`, with nanoseconds).
use std::fmt;

use gflab_agent::{shell, Command};

use super::volume::{Brick, Volume};
use super::xattr;
use crate::ctx::Node;
use crate::{Ctx, TestError};

/// The xattr holding an entry's times on a brick.
pub const MDATA: &str = "trusted.glusterfs.mdata";

/// A time with nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timespec {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Nanoseconds.
    pub nsec: u32,
}

impl fmt::Display for Timespec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.sec, self.nsec)
    }
}

impl Timespec {
    /// Parses `SEC.NSEC` (`stat -c %.9Y`); a missing fraction is 0.
    pub fn parse(s: &str) -> Option<Timespec> {
        let (sec, frac) = s.trim().split_once('.').unwrap_or((s.trim(), "0"));
        let nsec = format!("{frac:0<9}");
        Some(Timespec {
            sec: sec.parse().ok()?,
            nsec: nsec.get(..9)?.parse().ok()?,
        })
    }
}

/// The three times of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    /// Last access.
    pub atime: Timespec,
    /// Last data change.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "atime {} mtime {} ctime {}",
            self.atime, self.mtime, self.ctime
        )
    }
}

/// `trusted.glusterfs.mdata` decoded: a version byte, flags, then ctime, mtime and atime as
/// big-endian 64-bit seconds and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mdata {
    /// Format version (1).
    pub version: u8,
    /// Flags.
    pub flags: u64,
    /// The times.
    pub times: Times,
}

impl Mdata {
    /// Decodes the xattr's 57 bytes.
    pub fn decode(b: &[u8]) -> Option<Mdata> {
        let u = |i: usize| -> Option<u64> {
            Some(u64::from_be_bytes(b.get(i..i + 8)?.try_into().ok()?))
        };
        let ts = |i: usize| -> Option<Timespec> {
            Some(Timespec {
                sec: u(i)? as i64,
                nsec: u32::try_from(u(i + 8)?).ok()?,
            })
        };
        Some(Mdata {
            version: *b.first()?,
            flags: u(1)?,
            times: Times {
                ctime: ts(9)?,
                mtime: ts(25)?,
                atime: ts(41)?,
            },
        })
    }
}

/// `rel`'s mdata on `brick`: `None` when the entry has no such xattr; an undecodable value is
/// an error.
pub async fn on_brick(ctx: &Ctx, brick: &Brick, rel: &str) -> Result<Option<Mdata>, TestError> {
    let x = xattr::on_brick(ctx, brick, rel).await?;
    match x.get(MDATA) {
        None => Ok(None),
        Some(v) => Mdata::decode(v).map(Some).ok_or_else(|| {
            TestError::Check(format!(
                "{MDATA} of {} on {} cannot be decoded: {} bytes",
                x.path,
                brick.spec(),
                v.len()
            ))
        }),
    }
}

/// The bricks of `vol` where `rel` exists (a directory is on every brick; a file on its set).
pub async fn holders(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<Brick>, TestError> {
    let mut out = Vec::new();
    for b in &vol.bricks {
        let q = shell::quote(&xattr::brick_path(b, rel));
        if ctx
            .exec(
                &b.node,
                Command::shell(format!("test -e {q} || test -L {q}")),
            )
            .await?
            .success()
        {
            out.push(b.clone());
        }
    }
    Ok(out)
}

/// `rel`'s mdata on every brick holding it, in brick order.
pub async fn on_holders(
    ctx: &Ctx,
    vol: &Volume,
    rel: &str,
) -> Result<Vec<(Brick, Option<Mdata>)>, TestError> {
    let mut out = Vec::new();
    for b in holders(ctx, vol, rel).await? {
        let m = on_brick(ctx, &b, rel).await?;
        out.push((b, m));
    }
    Ok(out)
}

/// Checks that every brick holding `rel` has its mdata and that the bricks of each replica set
/// holding it carry the same times; returns them, one per set holding `rel` (in set order: one
/// for a file; a directory is on every set, and sets may differ, as each set records the entry
/// operations it saw).
pub async fn ensure_consistent(
    ctx: &Ctx,
    vol: &Volume,
    rel: &str,
) -> Result<Vec<Times>, TestError> {
    let all = on_holders(ctx, vol, rel).await?;
    if all.is_empty() {
        return Err(TestError::Check(format!(
            "{rel} is on no brick of {}",
            vol.name
        )));
    }
    let mut per_set = Vec::new();
    for set in super::brick::sets(vol) {
        let in_set: Vec<&(Brick, Option<Mdata>)> = all
            .iter()
            .filter(|(b, _)| set.iter().any(|&i| vol.bricks[i].spec() == b.spec()))
            .collect();
        let Some((first_brick, first)) = in_set.first() else {
            continue;
        };
        let Some(first) = first else {
            return Err(TestError::Check(format!(
                "{rel} has no {MDATA} on {} (features.ctime should keep it)",
                first_brick.spec()
            )));
        };
        for (b, m) in &in_set[1..] {
            match m {
                None => {
                    return Err(TestError::Check(format!(
                        "{rel} has no {MDATA} on {} (it has on {}, same replica set)",
                        b.spec(),
                        first_brick.spec()
                    )))
                }
                Some(m) if m.times != first.times => {
                    return Err(TestError::Check(format!(
                    "{rel}'s times differ between bricks of one replica set: {} on {}, {} on {}",
                    first.times,
                    first_brick.spec(),
                    m.times,
                    b.spec()
                )))
                }
                Some(_) => {}
            }
        }
        per_set.push(first.times);
    }
    Ok(per_set)
}

/// [`ensure_consistent`] for a regular file or symlink (held by one set): its times.
pub async fn ensure_consistent_file(
    ctx: &Ctx,
    vol: &Volume,
    rel: &str,
) -> Result<Times, TestError> {
    let sets = ensure_consistent(ctx, vol, rel).await?;
    match sets[..] {
        [t] => Ok(t),
        _ => Err(TestError::Check(format!(
            "{rel} is held by {} replica sets of {}, not one",
            sets.len(),
            vol.name
        ))),
    }
}

/// Waits until `node` sees `want` as `path`'s times (a client's attribute caches may show the
/// old times for a moment after another client changed them); returns what it saw last.
pub async fn wait_times(
    ctx: &Ctx,
    node: &Node,
    path: &str,
    want: Times,
    timeout: std::time::Duration,
) -> Result<(), TestError> {
    let what = format!("{} to see {path} with {want}", node.name());
    super::wait_for(
        ctx,
        &what,
        timeout,
        std::time::Duration::from_millis(500),
        || async {
            let t = times(ctx, node, path).await?;
            Ok(if t == want {
                super::Poll::Ready(())
            } else {
                super::Poll::Pending(format!("sees {t}"))
            })
        },
    )
    .await
}

/// Entries under `dir` (relative to the volume root) on a brick, relative to the volume root,
/// sorted (`.glusterfs` is only at the brick root and is left out).
pub async fn entries_on_brick(
    ctx: &Ctx,
    brick: &Brick,
    dir: &str,
) -> Result<Vec<String>, TestError> {
    let dir = dir.trim_matches('/');
    let p = xattr::brick_path(brick, dir);
    let out = ctx
        .run(
            &brick.node,
            Command::new("find").args([&p, "-mindepth", "1", "-printf", "%P\\n"]),
        )
        .await?;
    let mut v: Vec<String> = out
        .stdout_str()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(".glusterfs"))
        .map(|l| {
            if dir.is_empty() {
                l.to_string()
            } else {
                format!("{dir}/{l}")
            }
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Creates a mix of entries under `dir` (a path on `node`, made if absent) with the operations
/// that change times: for each of `dirs` subdirectories, `files` files written, then renamed,
/// chmod-ed, chown-ed, truncated, hard-linked, symlinked and given a user xattr. Returns nothing;
/// list what it made on the bricks with [`entries_on_brick`].
pub async fn make_entries(
    ctx: &Ctx,
    node: &Node,
    dir: &str,
    dirs: u32,
    files: u32,
) -> Result<(), TestError> {
    let d = shell::quote(dir);
    let script = format!(
        "set -e\n\
         mkdir -p {d}\n\
         for i in $(seq 1 {dirs}); do\n\
           mkdir {d}/dir$i\n\
           for j in $(seq 1 {files}); do\n\
             f={d}/dir$i/file$j\n\
             head -c $((j * 1024)) /dev/urandom > $f\n\
             mv $f $f.renamed\n\
             chmod 0640 $f.renamed\n\
             chown 1000:1000 $f.renamed\n\
             truncate -s 100 $f.renamed\n\
             ln $f.renamed {d}/dir$i/hardlink$j\n\
             ln -s file$j.renamed {d}/dir$i/symlink$j\n\
             setfattr -n user.gflab -v v$j $f.renamed\n\
           done\n\
         done\n"
    );
    ctx.step(format!(
        "create {dirs} directories of {files} files with renames, chmod, chown, truncate, links and xattrs under {}:{dir}",
        node.name()
    ));
    ctx.sh(node, script).await.map(drop)
}

/// Parses `stat -c '%.9X %.9Y %.9Z'` (atime, mtime, ctime).
pub fn parse_stat_times(out: &str) -> Option<Times> {
    let mut w = out.split_whitespace().map(Timespec::parse);
    Some(Times {
        atime: w.next()??,
        mtime: w.next()??,
        ctime: w.next()??,
    })
}

/// The times of `path` as `node` sees them (`stat -c '%.9X %.9Y %.9Z'`, symlinks not
/// followed).
pub async fn times(ctx: &Ctx, node: &Node, path: &str) -> Result<Times, TestError> {
    let out = ctx
        .run(
            node,
            Command::new("stat").args(["-c", "%.9X %.9Y %.9Z", path]),
        )
        .await?;
    let text = out.stdout_str();
    parse_stat_times(&text).ok_or_else(|| TestError::Parse {
        node: node.name().to_string(),
        command: format!("stat -c '%.9X %.9Y %.9Z' {path}"),
        message: format!("not three times: {text:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_mdata() {
        let hex = "010000000000000000000000006b163c6f0000000000130d4d\
                   000000006b163c6f0000000000130d4d000000006b163c6e000000003b3eeb23";
        let b: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let m = Mdata::decode(&b).unwrap();
        assert_eq!(m.version, 1);
        assert_eq!(m.flags, 0);
        let c = Timespec {
            sec: 0x6b16_3c6f,
            nsec: 0x13_0d4d,
        };
        assert_eq!(m.times.ctime, c);
        assert_eq!(m.times.mtime, c);
        assert_eq!(
            m.times.atime,
            Timespec {
                sec: 0x6b16_3c6e,
                nsec: 0x3b3e_eb23
            }
        );
        assert!(Mdata::decode(&b[..40]).is_none());
    }

    #[test]
    fn parses_stat_times() {
        let t = parse_stat_times("1796619375.001248589 1796619376.5 1796619377\n").unwrap();
        assert_eq!(t.atime.to_string(), "1796619375.001248589");
        assert_eq!(
            t.mtime,
            Timespec {
                sec: 1796619376,
                nsec: 500_000_000
            }
        );
        assert_eq!(t.ctime.nsec, 0);
        assert!(parse_stat_times("1 2").is_none());
    }
}
