//! File operations for scenarios, on any node and absolute paths (usually under a mount): deep
//! directory trees, rename, hardlink, symlink, chmod and chown, operations as another user,
//! truncate, append, sparse files and user xattrs. Each is one transcripted command that fails
//! with the node, the command and its output.
use gflab_agent::{shell, Command};

use crate::ctx::{Cleanup, Node};
use crate::{Ctx, TestError};

/// A local user on a node (made by [`user`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Numeric uid (the same on every node it was made on, so bricks and mounts agree).
    pub uid: u32,
    /// Numeric gid of its own group.
    pub gid: u32,
}

/// Makes a user (and its group) with this uid on `node` unless it exists; removed at the end of
/// the test when it was made here.
pub async fn user(ctx: &Ctx, node: &Node, name: &str, uid: u32) -> Result<User, TestError> {
    let n = shell::quote(name);
    let made = ctx
        .sh(
            node,
            format!(
                "if id -u {n} >/dev/null 2>&1; then echo existed; else \
                 groupadd -g {uid} {n} && useradd -M -N -g {uid} -u {uid} -s /bin/sh {n} && echo made; fi"
            ),
        )
        .await?;
    if made.trim() == "made" {
        ctx.defer(Cleanup::Command {
            node: node.clone(),
            command: Command::shell(format!("userdel {n}; groupdel {n} 2>/dev/null; true")),
        });
    }
    let ids = ctx.sh(node, format!("id -u {n}; id -g {n}")).await?;
    let mut it = ids.split_whitespace().map(str::parse::<u32>);
    match (it.next(), it.next()) {
        (Some(Ok(uid)), Some(Ok(gid))) => Ok(User {
            name: name.to_string(),
            uid,
            gid,
        }),
        _ => Err(TestError::Parse {
            node: node.name().to_string(),
            command: format!("id -u {name}; id -g {name}"),
            message: format!("not two numbers: {ids:?}"),
        }),
    }
}

/// Runs a shell line as `user` (its uid and gid, no supplementary groups); returns stdout.
pub async fn as_user(ctx: &Ctx, node: &Node, user: &User, line: &str) -> Result<String, TestError> {
    ctx.sh(
        node,
        format!(
            "setpriv --reuid={} --regid={} --clear-groups sh -c {}",
            user.uid,
            user.gid,
            shell::quote(line)
        ),
    )
    .await
}

/// A tree `depth` levels deep with `width` subdirectories per level and `files` files of `size`
/// random bytes in every directory, under `root` (created). Returns the number of files made.
pub async fn deep_tree(
    ctx: &Ctx,
    node: &Node,
    root: &str,
    depth: u32,
    width: u32,
    files: u32,
    size: u64,
) -> Result<u64, TestError> {
    ctx.step(format!(
        "deep tree under {}:{root}: depth {depth}, width {width}, {files} file(s) per directory",
        node.name()
    ));
    let script = format!(
        r#"set -e
mk() {{
  local d level i j
  d=$1; level=$2
  mkdir -p "$d"
  i=0; while [ $i -lt {files} ]; do head -c {size} /dev/urandom > "$d/file$i"; i=$((i + 1)); done
  [ "$level" -ge {depth} ] && return 0
  j=0; while [ $j -lt {width} ]; do mk "$d/dir$level.$j" $((level + 1)); j=$((j + 1)); done
}}
mk {root} 0
find {root} -type f | wc -l
"#,
        root = shell::quote(root)
    );
    let out = ctx.sh(node, script).await?;
    out.trim().parse().map_err(|_| TestError::Parse {
        node: node.name().to_string(),
        command: "deep tree".into(),
        message: format!("file count {out:?}"),
    })
}

async fn simple(ctx: &Ctx, node: &Node, cmd: Command) -> Result<(), TestError> {
    ctx.run(node, cmd).await.map(|_| ())
}

/// `mv FROM TO`.
pub async fn rename(ctx: &Ctx, node: &Node, from: &str, to: &str) -> Result<(), TestError> {
    simple(ctx, node, Command::new("mv").args(["-T", from, to])).await
}

/// `ln TARGET LINK` (a hard link).
pub async fn hardlink(ctx: &Ctx, node: &Node, target: &str, link: &str) -> Result<(), TestError> {
    simple(ctx, node, Command::new("ln").args([target, link])).await
}

/// `ln -s TARGET LINK` (TARGET is stored as given, relative or absolute).
pub async fn symlink(ctx: &Ctx, node: &Node, target: &str, link: &str) -> Result<(), TestError> {
    simple(ctx, node, Command::new("ln").args(["-s", target, link])).await
}

/// `chmod MODE PATH` (`mode` in octal, e.g. `0640`).
pub async fn chmod(ctx: &Ctx, node: &Node, path: &str, mode: u32) -> Result<(), TestError> {
    simple(
        ctx,
        node,
        Command::new("chmod").args([format!("{mode:o}"), path.to_string()]),
    )
    .await
}

/// `chown -h UID:GID PATH`.
pub async fn chown(
    ctx: &Ctx,
    node: &Node,
    path: &str,
    uid: u32,
    gid: u32,
) -> Result<(), TestError> {
    simple(
        ctx,
        node,
        Command::new("chown").args(["-h".to_string(), format!("{uid}:{gid}"), path.to_string()]),
    )
    .await
}

/// `truncate -s SIZE PATH`.
pub async fn truncate(ctx: &Ctx, node: &Node, path: &str, size: u64) -> Result<(), TestError> {
    simple(
        ctx,
        node,
        Command::new("truncate").args(["-s".to_string(), size.to_string(), path.to_string()]),
    )
    .await
}

/// Appends `bytes` random bytes to `path`.
pub async fn append(ctx: &Ctx, node: &Node, path: &str, bytes: u64) -> Result<(), TestError> {
    ctx.sh(
        node,
        format!("head -c {bytes} /dev/urandom >> {}", shell::quote(path)),
    )
    .await
    .map(|_| ())
}

/// A sparse file of `size` bytes with random data only at `extents` (offset, length), holes
/// elsewhere.
pub async fn sparse(
    ctx: &Ctx,
    node: &Node,
    path: &str,
    size: u64,
    extents: &[(u64, u64)],
) -> Result<(), TestError> {
    let p = shell::quote(path);
    let mut line = format!("set -e; truncate -s {size} {p}");
    for (off, len) in extents {
        line.push_str(&format!(
            "; head -c {len} /dev/urandom | dd of={p} bs=1 seek={off} conv=notrunc status=none"
        ));
    }
    ctx.sh(node, line).await.map(|_| ())
}

/// Allocated size of `path` in bytes (`du --block-size=1`), to tell a sparse file from a full one.
pub async fn allocated(ctx: &Ctx, node: &Node, path: &str) -> Result<u64, TestError> {
    let out = ctx
        .sh(
            node,
            format!("du --block-size=1 {} | cut -f1", shell::quote(path)),
        )
        .await?;
    out.trim().parse().map_err(|_| TestError::Parse {
        node: node.name().to_string(),
        command: format!("du --block-size=1 {path}"),
        message: format!("not a number: {out:?}"),
    })
}

/// Sets a user xattr (`user.<name>`) on `path`.
pub async fn set_user_xattr(
    ctx: &Ctx,
    node: &Node,
    path: &str,
    name: &str,
    value: &str,
) -> Result<(), TestError> {
    simple(
        ctx,
        node,
        Command::new("setfattr").args(["-n", &format!("user.{name}"), "-v", value, path]),
    )
    .await
}

/// `stat -c FORMAT PATH` (symlinks not followed), trimmed.
pub async fn stat(ctx: &Ctx, node: &Node, path: &str, format: &str) -> Result<String, TestError> {
    Ok(ctx
        .run(node, Command::new("stat").args(["-c", format, path]))
        .await?
        .stdout_str()
        .trim()
        .to_string())
}
