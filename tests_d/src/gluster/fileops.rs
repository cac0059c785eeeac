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

/// Background writers that each hold one file open (`exec 3>>FILE`) and append a numbered line
/// (`line 0`, `line 1`, ...) through that fd every `pause`, `lines` times: files written while
/// something happens to them (a migration). Started by [`open_appenders`]; like every process of
/// the test they are killed when it ends.
#[derive(Debug, Clone)]
pub struct Appenders {
    /// The node they run on.
    pub node: Node,
    /// The files, absolute paths, in writer order.
    pub files: Vec<String>,
    /// Lines each writer appends.
    pub lines: usize,
    /// Where the writers leave `done<k>` when finished and `err<k>` (the failed line) on a write
    /// error.
    marks: String,
}

/// Starts one appender per file of `files` (absolute paths on `node`, created empty first).
pub async fn open_appenders(
    ctx: &Ctx,
    node: &Node,
    files: &[String],
    lines: usize,
    pause: std::time::Duration,
) -> Result<Appenders, TestError> {
    let marks = format!("/tmp/{}", ctx.unique("appenders"));
    ctx.sh(node, format!("mkdir -p {}", shell::quote(&marks)))
        .await?;
    ctx.defer(Cleanup::Command {
        node: node.clone(),
        command: Command::shell(format!("rm -rf {}", shell::quote(&marks))),
    });
    let writer = format!(
        "exec 3>>\"$1\"; i=0; while [ $i -lt {lines} ]; do \
         echo \"line $i\" >&3 || {{ echo $i > \"$2/err$3\"; exit 1; }}; \
         i=$((i + 1)); sleep {pause:.3}; done; exec 3>&-; touch \"$2/done$3\"",
        pause = pause.as_secs_f64()
    );
    let mut script = String::from("set -e\n");
    for (k, f) in files.iter().enumerate() {
        let f = shell::quote(f);
        script.push_str(&format!(
            ": > {f}\nsetsid sh -c {} appender {f} {} {k} </dev/null >/dev/null 2>&1 &\n",
            shell::quote(&writer),
            shell::quote(&marks)
        ));
    }
    ctx.step(format!(
        "{} appender(s) on {}: {lines} lines each",
        files.len(),
        node.name()
    ));
    ctx.sh(node, script).await?;
    Ok(Appenders {
        node: node.clone(),
        files: files.to_vec(),
        lines,
        marks,
    })
}

/// Parses the writers' marks (`ls` of the marks directory followed by `<name> <content>` lines of
/// the `err<k>` files): the finished writers and the failed ones with the line that failed.
pub fn parse_marks(out: &str) -> (Vec<usize>, Vec<(usize, usize)>) {
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for l in out.lines() {
        let mut w = l.split_whitespace();
        match (w.next(), w.next()) {
            (Some(n), None) => {
                if let Some(k) = n.strip_prefix("done").and_then(|k| k.parse().ok()) {
                    done.push(k);
                }
            }
            (Some(n), Some(line)) => {
                if let (Some(k), Ok(line)) = (
                    n.strip_prefix("err").and_then(|k| k.parse().ok()),
                    line.parse(),
                ) {
                    failed.push((k, line));
                }
            }
            _ => {}
        }
    }
    done.sort_unstable();
    failed.sort_unstable();
    (done, failed)
}

impl Appenders {
    /// The writers that finished and those that failed a write (writer index, line).
    pub async fn marks(&self, ctx: &Ctx) -> Result<(Vec<usize>, Vec<(usize, usize)>), TestError> {
        let m = shell::quote(&self.marks);
        let out = ctx
            .sh(&self.node, format!("cd {m} && ls | grep '^done' || true; for f in err*; do [ -e \"$f\" ] && echo \"$f $(cat \"$f\")\"; done; true"))
            .await?;
        Ok(parse_marks(&out))
    }

    /// How many writers have finished.
    pub async fn finished(&self, ctx: &Ctx) -> Result<usize, TestError> {
        Ok(self.marks(ctx).await?.0.len())
    }

    /// Waits until every file has at least one line.
    pub async fn wait_started(
        &self,
        ctx: &Ctx,
        timeout: std::time::Duration,
    ) -> Result<(), TestError> {
        let files: Vec<String> = self.files.iter().map(|f| shell::quote(f)).collect();
        let line = format!(
            "for f in {}; do [ -s \"$f\" ] || echo \"$f\"; done",
            files.join(" ")
        );
        super::wait_for(
            ctx,
            "every appender to have written a line",
            timeout,
            std::time::Duration::from_secs(1),
            || async {
                let empty = ctx.sh(&self.node, line.clone()).await?;
                Ok(if empty.trim().is_empty() {
                    super::Poll::Ready(())
                } else {
                    super::Poll::Pending(format!(
                        "still empty: {}",
                        empty.split_whitespace().collect::<Vec<_>>().join(" ")
                    ))
                })
            },
        )
        .await
    }

    /// Waits until every writer has finished; a failed write is an error naming the file and line.
    pub async fn wait_done(
        &self,
        ctx: &Ctx,
        timeout: std::time::Duration,
    ) -> Result<(), TestError> {
        let n = self.files.len();
        super::wait_for(
            ctx,
            "every appender to finish",
            timeout,
            std::time::Duration::from_secs(2),
            || async {
                let (done, failed) = self.marks(ctx).await?;
                if let Some((k, line)) = failed.first() {
                    return Err(TestError::Check(format!(
                        "a write through the open fd of {} failed at line {line}",
                        self.files[*k]
                    )));
                }
                Ok(if done.len() == n {
                    super::Poll::Ready(())
                } else {
                    super::Poll::Pending(format!("{} of {n} finished", done.len()))
                })
            },
        )
        .await
    }

    /// The files whose contents are not exactly `line 0` .. `line <lines-1>`, in order.
    pub async fn wrong_contents(&self, ctx: &Ctx) -> Result<Vec<String>, TestError> {
        let files: Vec<String> = self.files.iter().map(|f| shell::quote(f)).collect();
        let out = ctx
            .sh(
                &self.node,
                format!(
                    "for f in {}; do seq -f 'line %g' 0 {} | cmp -s - \"$f\" || echo \"$f\"; done",
                    files.join(" "),
                    self.lines.saturating_sub(1)
                ),
            )
            .await?;
        Ok(out.lines().map(str::to_string).collect())
    }
}

#[cfg(test)]
mod appender_tests {
    use super::*;

    #[test]
    fn reads_appender_marks() {
        let out = "done0\ndone12\ndone3\nerr5 17\nerr2 4\n";
        assert_eq!(parse_marks(out), (vec![0, 3, 12], vec![(2, 4), (5, 17)]));
        assert_eq!(parse_marks(""), (vec![], vec![]));
    }
}
