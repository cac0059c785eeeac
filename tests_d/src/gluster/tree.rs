//! A checksum of a directory tree — names, types, mode, owner, symlink targets, hardlink groups,
//! user xattrs and (when asked) contents — computed on a node by one shell/awk/sha256sum script,
//! comparable between a mount and the bricks of each set (what glusto's arequal is used for).
//!
//! A test says what it compares with [`Scope`]: [`Scope::FULL`] (contents too) for replica data
//! bricks and the mount, [`Scope::METADATA`] for bricks that hold no whole copy (disperse
//! fragments, arbiter bricks). On bricks, `.glusterfs`, AFR's anonymous-inode directory,
//! `.trashcan`, DHT link files and gluster's own xattrs (`trusted.*`) are left out; the mount's
//! tree is the union of its sets' trees.
use std::collections::BTreeMap;

use gflab_agent::shell;

use super::brick;
use super::mount::Mount;
use super::volume::{Brick, Layout, Volume};
use crate::ctx::Node;
use crate::{Ctx, TestError};

/// What a tree checksum covers beyond names, types, mode, owner, symlink targets, hardlink
/// groups and user xattrs (which it always covers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Regular files' sizes and sha256 of their contents.
    pub contents: bool,
    /// Modification times (seconds) of files and directories.
    pub mtime: bool,
}

impl Scope {
    /// Everything but times: what replica bricks and the mount must agree on.
    pub const FULL: Scope = Scope {
        contents: true,
        mtime: false,
    };
    /// Names and metadata only: what disperse bricks (fragments) and arbiter bricks (no data)
    /// share with the mount.
    pub const METADATA: Scope = Scope {
        contents: false,
        mtime: false,
    };
    /// Adds modification times.
    pub const fn with_mtime(self) -> Scope {
        Scope {
            mtime: true,
            ..self
        }
    }
}

/// A tree as the script saw it: relative path → one line describing the entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Where it was taken (`client1:/mnt/...`).
    pub origin: String,
    /// Path (relative, `.` for the root) → `type mode uid:gid [size sha256] [mtime] target link xattrs`.
    pub entries: BTreeMap<String, String>,
}

impl Tree {
    /// sha256 over every entry, in path order: equal trees have equal digests.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (p, l) in &self.entries {
            h.update(p.as_bytes());
            h.update(b"\t");
            h.update(l.as_bytes());
            h.update(b"\n");
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
    /// The differences with `other`, one line each (`only in A: path`, `path: A ≠ B`).
    pub fn diff(&self, other: &Tree) -> Vec<String> {
        let mut out = Vec::new();
        for (p, l) in &self.entries {
            match other.entries.get(p) {
                None => out.push(format!("only in {}: {p} ({l})", self.origin)),
                Some(r) if r != l => out.push(format!(
                    "{p}: {} has [{l}], {} has [{r}]",
                    self.origin, other.origin
                )),
                Some(_) => {}
            }
        }
        for (p, r) in &other.entries {
            if !self.entries.contains_key(p) {
                out.push(format!("only in {}: {p} ({r})", other.origin));
            }
        }
        out
    }
    /// The union of several trees (a distributed volume's sets); an entry present in several
    /// with different lines (directories must agree) is kept from the first and reported.
    pub fn union(origin: &str, trees: &[Tree]) -> (Tree, Vec<String>) {
        let mut u = Tree {
            origin: origin.to_string(),
            entries: BTreeMap::new(),
        };
        let mut conflicts = Vec::new();
        for t in trees {
            for (p, l) in &t.entries {
                match u.entries.get(p) {
                    Some(have) if have != l => {
                        conflicts.push(format!("{p}: [{have}] in one set, [{l}] in {}", t.origin))
                    }
                    Some(_) => {}
                    None => {
                        u.entries.insert(p.clone(), l.clone());
                    }
                }
            }
        }
        (u, conflicts)
    }
}

/// Fails with every difference (at most 40 shown) unless both trees are equal.
pub fn ensure_same(a: &Tree, b: &Tree) -> Result<(), TestError> {
    let d = a.diff(b);
    if d.is_empty() {
        return Ok(());
    }
    let shown: Vec<&String> = d.iter().take(40).collect();
    Err(TestError::Check(format!(
        "trees differ between {} and {} ({} difference(s)):\n{}",
        a.origin,
        b.origin,
        d.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    )))
}

/// The script: lists the tree with `find`, hashes contents with `sha256sum`, dumps user xattrs with
/// `getfattr`, and joins them in awk into one line per entry. `$1` is the directory; `$2` is 1 on
/// bricks (skip DHT link files), `$3` 1 to hash contents, `$4` 1 to include mtimes.
const SCRIPT: &str = r#"set -ef
dir=$1; brick=$2; contents=$3; mtime=$4
cd "$dir"
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
skip='-path ./.glusterfs -o -path ./.trashcan -o -path ./.glusterfs-anonymous-inode-*'
find . \( $skip \) -prune -o -printf '%y\t%i\t%m\t%U:%G\t%s\t%T@\t%n\t%p\t%l\n' > "$t/list"
: > "$t/sums"
if [ "$contents" = 1 ]; then
  find . \( $skip \) -prune -o -type f -print0 | xargs -0 -r sha256sum > "$t/sums"
fi
getfattr -R -P -h -d -m '^user\.' -e hex . 2>/dev/null > "$t/xattrs" || true
awk -F'\t' -v brick="$brick" -v contents="$contents" -v mtime="$mtime" '
function norm(p) { sub(/^\.\//, "", p); return p }
FILENAME == ARGV[1] { h = $0; sub(/ .*/, "", h); p = substr($0, length(h) + 3); sub(/^\*/, "", p); sum[norm(p)] = h; next }
FILENAME == ARGV[2] {
  if ($0 ~ /^# file: /) { cur = norm(substr($0, 9)); next }
  if ($0 == "") next
  xa[cur] = xa[cur] $0 ","; next
}
FILENAME == ARGV[3] {
  if (brick == 1 && $1 == "f" && $3 == "1000" && $5 == 0) next
  p = norm($8)
  n++; ty[n] = $1; ino[n] = $2; mode[n] = $3; own[n] = $4; size[n] = $5; mt[n] = $6; path[n] = p; tgt[n] = $9
  if ($1 == "f" && $7 > 1) { if (!(($2) in first) || p < first[$2]) first[$2] = p; cnt[$2]++ }
  next
}
END {
  for (i = 1; i <= n; i++) {
    p = path[i]; line = ty[i] " " mode[i] " " own[i]
    if (contents == 1 && ty[i] == "f") line = line " size=" size[i] " sha=" sum[p]
    if (mtime == 1 && ty[i] != "l") { m = mt[i]; sub(/\..*/, "", m); line = line " mtime=" m }
    if (ty[i] == "l") line = line " ->" tgt[i]
    if (ty[i] == "f" && cnt[ino[i]] > 1) line = line " link=" first[ino[i]]
    if (p in xa) line = line " xattrs=" xa[p]
    print p "\t" line
  }
}' "$t/sums" "$t/xattrs" "$t/list"
"#;

/// Parses the script's output (`path<TAB>line`) into a tree.
pub fn parse(origin: &str, out: &str) -> Tree {
    Tree {
        origin: origin.to_string(),
        entries: out
            .lines()
            .filter_map(|l| {
                let (p, rest) = l.split_once('\t')?;
                Some((p.to_string(), rest.to_string()))
            })
            .collect(),
    }
}

async fn take(
    ctx: &Ctx,
    node: &Node,
    dir: &str,
    on_brick: bool,
    scope: Scope,
) -> Result<Tree, TestError> {
    let flag = |b: bool| if b { "1" } else { "0" };
    let line = format!(
        "sh -c {} tree {} {} {} {}",
        shell::quote(SCRIPT),
        shell::quote(dir),
        flag(on_brick),
        flag(scope.contents),
        flag(scope.mtime)
    );
    let out = ctx.sh(node, line).await?;
    let t = parse(&format!("{}:{dir}", node.name()), &out);
    ctx.step(format!(
        "tree of {} ({scope:?}): {} entries, {}",
        t.origin,
        t.entries.len(),
        &t.digest()[..16]
    ));
    Ok(t)
}

/// The tree under `dir` on `node` (a mount or any directory).
pub async fn checksum(ctx: &Ctx, node: &Node, dir: &str, scope: Scope) -> Result<Tree, TestError> {
    take(ctx, node, dir, false, scope).await
}

/// The tree of a mount.
pub async fn of_mount(ctx: &Ctx, m: &Mount, scope: Scope) -> Result<Tree, TestError> {
    take(ctx, &m.node, &m.path, false, scope).await
}

/// The tree of one brick, gluster's internals left out.
pub async fn of_brick(ctx: &Ctx, b: &Brick, scope: Scope) -> Result<Tree, TestError> {
    take(ctx, &b.node, &b.path, true, scope).await
}

/// Compares the mount's tree with the volume's bricks: within each set every brick agrees, and
/// the union of the sets equals the mount. `scope` is what is compared; bricks that hold no whole
/// copies (disperse, arbiter) are compared on [`Scope::METADATA`] only, and asking for contents on
/// a disperse volume is refused (say `Scope::METADATA`). Returns the mount's tree.
pub async fn ensure_volume_matches(
    ctx: &Ctx,
    vol: &Volume,
    m: &Mount,
    scope: Scope,
) -> Result<Tree, TestError> {
    if scope.contents
        && matches!(
            vol.layout,
            Layout::Disperse { .. } | Layout::DistributedDisperse { .. }
        )
    {
        return Err(TestError::Check(format!(
            "{} is dispersed: its bricks hold fragments; compare with Scope::METADATA",
            vol.name
        )));
    }
    let mount_tree = of_mount(ctx, m, scope).await?;
    let meta = Scope {
        contents: false,
        ..scope
    };
    let mut per_set = Vec::new();
    let mut problems = Vec::new();
    for set in brick::sets(vol) {
        let mut trees = Vec::new();
        for &i in &set {
            let data = brick::holds_data(vol, i);
            let t = of_brick(ctx, &vol.bricks[i], if data { scope } else { meta }).await?;
            trees.push((data, t));
        }
        // The reference is the set's first data brick (its first brick on disperse).
        let Some(at) = trees
            .iter()
            .position(|(d, _)| *d)
            .or((!trees.is_empty()).then_some(0))
        else {
            continue;
        };
        let (ref_data, reference) = trees[at].clone();
        for (k, (data, t)) in trees.iter().enumerate() {
            if k == at {
                continue;
            }
            if *data && ref_data {
                problems.extend(reference.diff(t));
            } else {
                problems.extend(strip_contents(&reference).diff(&strip_contents(t)));
            }
        }
        per_set.push(reference);
    }
    let (union, conflicts) = Tree::union(&format!("the bricks of {}", vol.name), &per_set);
    problems.extend(conflicts);
    problems.extend(mount_tree.diff(&union));
    if problems.is_empty() {
        return Ok(mount_tree);
    }
    let shown: Vec<String> = problems.iter().take(40).cloned().collect();
    Err(TestError::Check(format!(
        "the bricks of {} do not match the mount {} ({} difference(s)):\n{}",
        vol.name,
        mount_tree.origin,
        problems.len(),
        shown.join("\n")
    )))
}

/// The same tree without sizes and content hashes (to compare a data brick with an arbiter).
pub fn strip_contents(t: &Tree) -> Tree {
    Tree {
        origin: t.origin.clone(),
        entries: t
            .entries
            .iter()
            .map(|(p, l)| {
                let kept: Vec<&str> = l
                    .split(' ')
                    .filter(|w| !w.starts_with("size=") && !w.starts_with("sha="))
                    .collect();
                (p.clone(), kept.join(" "))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_diffs_and_unions_trees() {
        let a = parse(
            "a",
            ".\td 755 0:0\nd\td 755 0:0\nd/f\tf 644 0:0 size=3 sha=ab link=d/g\n",
        );
        assert_eq!(a.entries.len(), 3);
        assert_eq!(a.entries["d/f"], "f 644 0:0 size=3 sha=ab link=d/g");
        let mut b = a.clone();
        b.origin = "b".into();
        assert_eq!(a.digest(), b.digest());
        assert!(ensure_same(&a, &b).is_ok());
        b.entries
            .insert("d/f".into(), "f 600 0:0 size=3 sha=ab".into());
        b.entries.remove("d");
        let d = a.diff(&b);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(ensure_same(&a, &b).is_err());
        assert_eq!(strip_contents(&a).entries["d/f"], "f 644 0:0 link=d/g");
        let s1 = parse("s1", ".\td 755 0:0\nx\tf 644 0:0\n");
        let s2 = parse("s2", ".\td 755 0:0\ny\tf 644 0:0\n");
        let (u, c) = Tree::union("u", &[s1, s2]);
        assert!(c.is_empty());
        assert_eq!(u.entries.len(), 3);
    }
}
