//! File I/O through mounts (or directly on bricks): write files of given sizes recording sha256
//! checksums, read them back and verify, in parallel across nodes.
use std::collections::BTreeMap;

use futures::future::try_join_all;
use gflab_agent::shell;

use crate::ctx::Node;
use crate::{Ctx, TestError};

/// A file written by [`write_files`]: its name (relative to the directory), size and sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSum {
    /// Path relative to the directory written into.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex sha256.
    pub sha256: String,
}

/// `count` files `<prefix>-<i>` of `size` bytes each.
pub fn files(prefix: &str, count: usize, size: u64) -> Vec<(String, u64)> {
    (0..count)
        .map(|i| (format!("{prefix}-{i}"), size))
        .collect()
}

fn check_name(name: &str) -> Result<(), TestError> {
    let ok = !name.is_empty()
        && !name.starts_with('/')
        && !name.split('/').any(|p| p == "..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if ok {
        Ok(())
    } else {
        Err(TestError::Check(format!(
            "file name {name:?} must be relative and use letters, digits, '-', '_', '.', '/'"
        )))
    }
}

/// Parses `sha256sum` output into name → hash.
pub fn parse_sha256sum(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| {
            let (hash, name) = l.split_once("  ").or_else(|| l.split_once(" *"))?;
            Some((name.trim().to_string(), hash.trim().to_string()))
        })
        .collect()
}

/// Writes random files of the given sizes into `dir` on `node` (one remote command) and returns their
/// checksums as computed on the node after writing.
pub async fn write_files(
    ctx: &Ctx,
    node: &Node,
    dir: &str,
    files: &[(String, u64)],
) -> Result<Vec<FileSum>, TestError> {
    let mut script = format!("set -e\ncd {}\n", shell::quote(dir));
    for (name, size) in files {
        check_name(name)?;
        if let Some((parent, _)) = name.rsplit_once('/') {
            script.push_str(&format!("mkdir -p {parent}\n"));
        }
        script.push_str(&format!("head -c {size} /dev/urandom > {name}\n"));
    }
    script.push_str("sync\n");
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    ctx.step(format!(
        "write {} file(s) into {}:{dir}",
        files.len(),
        node.name()
    ));
    ctx.sh(node, script).await?;
    let sums = checksums(ctx, node, dir, &names).await?;
    files
        .iter()
        .map(|(name, size)| {
            let sha256 = sums.get(name).cloned().ok_or_else(|| {
                TestError::Check(format!("no checksum for {name} on {}", node.name()))
            })?;
            Ok(FileSum {
                name: name.clone(),
                size: *size,
                sha256,
            })
        })
        .collect()
}

/// sha256 of each named file under `dir` on `node`; a missing file is an error.
pub async fn checksums(
    ctx: &Ctx,
    node: &Node,
    dir: &str,
    names: &[String],
) -> Result<BTreeMap<String, String>, TestError> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    for n in names {
        check_name(n)?;
    }
    let out = ctx
        .sh(
            node,
            format!(
                "cd {} && sha256sum -- {}",
                shell::quote(dir),
                names.join(" ")
            ),
        )
        .await?;
    Ok(parse_sha256sum(&out))
}

/// Reads every file back on `node` and checks its checksum; the error lists every mismatch and
/// every file that is not there (a read that fails is the command's own error).
pub async fn verify(ctx: &Ctx, node: &Node, dir: &str, sums: &[FileSum]) -> Result<(), TestError> {
    ctx.step(format!(
        "verify {} file(s) in {}:{dir}",
        sums.len(),
        node.name()
    ));
    let names = present(ctx, node, dir, sums).await?;
    let got = checksums(ctx, node, dir, &names).await?;
    let bad: Vec<String> = sums
        .iter()
        .filter(|s| got.get(&s.name) != Some(&s.sha256))
        .map(|s| {
            format!(
                "{}: expected {}, got {}",
                s.name,
                s.sha256,
                got.get(&s.name).map(String::as_str).unwrap_or("(missing)")
            )
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(TestError::Check(format!(
            "{} of {} file(s) differ in {}:{dir}:\n{}",
            bad.len(),
            sums.len(),
            node.name(),
            bad.join("\n")
        )))
    }
}

/// Writes `files` into each (node, dir) concurrently; each node's names are prefixed with the node
/// name so writers never collide. Results are in `targets` order.
pub async fn write_parallel(
    ctx: &Ctx,
    targets: &[(Node, String)],
    files: &[(String, u64)],
) -> Result<Vec<Vec<FileSum>>, TestError> {
    try_join_all(targets.iter().map(|(node, dir)| {
        let own: Vec<(String, u64)> = files
            .iter()
            .map(|(n, s)| (format!("{}-{n}", node.name()), *s))
            .collect();
        async move { write_files(ctx, node, dir, &own).await }
    }))
    .await
}

/// Verifies concurrently on each (node, dir).
pub async fn verify_parallel(
    ctx: &Ctx,
    targets: &[(Node, String)],
    sums: &[FileSum],
) -> Result<(), TestError> {
    try_join_all(
        targets
            .iter()
            .map(|(node, dir)| verify(ctx, node, dir, sums)),
    )
    .await
    .map(|_| ())
}

/// Which of `sums`' files exist under `dir` on `node` (one remote command); the rest are absent.
pub async fn present(
    ctx: &Ctx,
    node: &Node,
    dir: &str,
    sums: &[FileSum],
) -> Result<Vec<String>, TestError> {
    if sums.is_empty() {
        return Ok(Vec::new());
    }
    for s in sums {
        check_name(&s.name)?;
    }
    let names: Vec<&str> = sums.iter().map(|s| s.name.as_str()).collect();
    let out = ctx
        .sh(
            node,
            format!(
                "cd {} && for f in {}; do if [ -e \"$f\" ]; then echo \"$f\"; fi; done",
                shell::quote(dir),
                names.join(" ")
            ),
        )
        .await?;
    Ok(out.lines().map(str::to_string).collect())
}

/// Regular data files under a brick directory (gluster's `.glusterfs` and DHT link files left out).
pub async fn brick_files(ctx: &Ctx, node: &Node, brick: &str) -> Result<Vec<String>, TestError> {
    let b = shell::quote(brick);
    let out = ctx
        .sh(
            node,
            format!(
                "cd {b} && find . -path ./.glusterfs -prune -o -type f ! -perm -1000 -print | sed 's|^\\./||' | sort"
            ),
        )
        .await?;
    Ok(out.lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sha256sum_output() {
        let m = parse_sha256sum("abc  f-0\ndef  dir/f-1\n");
        assert_eq!(m.get("f-0").map(String::as_str), Some("abc"));
        assert_eq!(m.get("dir/f-1").map(String::as_str), Some("def"));
    }

    #[test]
    fn rejects_unsafe_names() {
        assert!(check_name("a/b-1.txt").is_ok());
        assert!(check_name("../x").is_err());
        assert!(check_name("/etc/x").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("").is_err());
    }
}
