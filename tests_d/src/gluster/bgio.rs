//! Background I/O that keeps running through faults: a writer loop per (client, directory) that
//! writes numbered files of random data, recording the sha256 of each file it wrote successfully
//! and each error, until it is stopped; then every file it reports written is checked on the mount
//! (what glusto's `validate_io_procs` does).
//!
//! The writers run detached on the clients but carry the test's process tag, so the runner kills
//! any the test leaves running; [`start`] also registers their stop as a cleanup.
use std::time::Duration;

use gflab_agent::{shell, Command};

use super::io::{self, FileSum};
use super::mount::Mount;
use super::{wait_for, Poll};
use crate::ctx::{Cleanup, Node};
use crate::{Ctx, TestError};

/// How the writers write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BgIoSpec {
    /// Size of each file, in bytes.
    pub file_size: u64,
    /// Pause between files, in milliseconds (0: as fast as it can).
    pub pause_ms: u64,
}

impl Default for BgIoSpec {
    fn default() -> BgIoSpec {
        BgIoSpec {
            file_size: 64 * 1024,
            pause_ms: 50,
        }
    }
}

/// One running writer.
#[derive(Debug, Clone)]
pub struct Writer {
    /// The client it runs on.
    pub node: Node,
    /// The directory it writes into (on a mount), as `<dir>/<name>-<i>`.
    pub dir: String,
    /// The prefix of its file names (unique per writer).
    pub name: String,
    /// Its local work directory on the client (log, pid, stop flag), outside the mount.
    pub work: String,
}

/// Writers started by [`start`].
#[derive(Debug, Clone)]
pub struct BgIo {
    /// One per target.
    pub writers: Vec<Writer>,
}

/// What one writer did, read when it stopped.
#[derive(Debug, Clone)]
pub struct WriterReport {
    /// The writer.
    pub writer: Writer,
    /// Files it wrote and closed successfully, with the sha256 of the data it wrote.
    pub written: Vec<FileSum>,
    /// Failed attempts (`<file>: <error>`).
    pub errors: Vec<String>,
}

/// The loop: data goes to a local file first (its checksum is what was meant), then is copied
/// into the mount; only a copy that succeeded is recorded as written.
const LOOP: &str = r#"work=$1; dir=$2; name=$3; size=$4; pause=$5
i=0
while [ ! -e "$work/stop" ]; do
  i=$((i + 1)); f="$name-$i"
  head -c "$size" /dev/urandom > "$work/data"
  sum=$(sha256sum < "$work/data" | cut -d' ' -f1)
  if err=$(cp "$work/data" "$dir/$f" 2>&1 && sync "$dir/$f" 2>&1); then
    echo "ok $f $size $sum" >> "$work/log"
  else
    echo "err $f $(echo "$err" | tr '\n' ' ')" >> "$work/log"
  fi
  [ "$pause" -gt 0 ] && sleep "$(awk "BEGIN { print $pause / 1000 }")"
done
echo done >> "$work/log"
"#;

/// Starts one writer per (client, directory); each writes `<dir>/<tag>-<client>-<i>`.
pub async fn start(
    ctx: &Ctx,
    targets: &[(Node, String)],
    spec: BgIoSpec,
) -> Result<BgIo, TestError> {
    let mut writers = Vec::new();
    for (node, dir) in targets {
        let name = ctx.unique(&format!("bgio-{}", node.name()));
        let work = format!("/var/tmp/{name}");
        let w = Writer {
            node: node.clone(),
            dir: dir.clone(),
            name,
            work,
        };
        let wq = shell::quote(&w.work);
        ctx.defer(Cleanup::Command {
            node: node.clone(),
            command: Command::shell(format!(
                "touch {wq}/stop 2>/dev/null; p=$(cat {wq}/pid 2>/dev/null); \
                 for i in $(seq 50); do [ -n \"$p\" ] && kill -0 \"$p\" 2>/dev/null || break; sleep 0.2; done; \
                 [ -n \"$p\" ] && kill \"$p\" 2>/dev/null; rm -rf {wq}"
            )),
        });
        ctx.step(format!(
            "start background writer {} on {}:{dir}",
            w.name,
            node.name()
        ));
        ctx.sh(
            node,
            format!(
                "set -e\nmkdir -p {wq}\nprintf %s {script} > {wq}/loop.sh\n\
                 setsid sh {wq}/loop.sh {wq} {d} {n} {size} {pause} </dev/null >{wq}/out 2>&1 &\n\
                 echo $! > {wq}/pid",
                script = shell::quote(LOOP),
                d = shell::quote(dir),
                n = shell::quote(&w.name),
                size = spec.file_size,
                pause = spec.pause_ms,
            ),
        )
        .await?;
        writers.push(w);
    }
    Ok(BgIo { writers })
}

/// Starts one writer per mount, each in a new directory `subdir` of its mount (made here).
pub async fn start_on_mounts(
    ctx: &Ctx,
    mounts: &[&Mount],
    subdir: &str,
    spec: BgIoSpec,
) -> Result<BgIo, TestError> {
    let mut targets = Vec::new();
    for m in mounts {
        let dir = format!("{}/{subdir}", m.path);
        ctx.sh(&m.node, format!("mkdir -p {}", shell::quote(&dir)))
            .await?;
        targets.push((m.node.clone(), dir));
    }
    start(ctx, &targets, spec).await
}

/// Parses a writer's log.
pub fn parse_log(log: &str) -> (Vec<FileSum>, Vec<String>, bool) {
    let mut written = Vec::new();
    let mut errors = Vec::new();
    let mut done = false;
    for l in log.lines() {
        let mut w = l.splitn(2, ' ');
        match (w.next(), w.next()) {
            (Some("ok"), Some(rest)) => {
                let f: Vec<&str> = rest.split(' ').collect();
                if let [name, size, sum] = f[..] {
                    written.push(FileSum {
                        name: name.to_string(),
                        size: size.parse().unwrap_or(0),
                        sha256: sum.to_string(),
                    });
                }
            }
            (Some("err"), Some(rest)) => errors.push(rest.trim().to_string()),
            (Some("done"), _) => done = true,
            _ => {}
        }
    }
    (written, errors, done)
}

async fn log_of(ctx: &Ctx, w: &Writer) -> Result<String, TestError> {
    ctx.sh(
        &w.node,
        format!("cat {}/log 2>/dev/null || true", shell::quote(&w.work)),
    )
    .await
}

impl BgIo {
    /// Files written so far by each writer (for a test that waits for progress).
    pub async fn progress(&self, ctx: &Ctx) -> Result<Vec<usize>, TestError> {
        let mut n = Vec::new();
        for w in &self.writers {
            n.push(parse_log(&log_of(ctx, w).await?).0.len());
        }
        Ok(n)
    }

    /// Waits until every writer has written at least `files` more files than now.
    pub async fn wait_progress(
        &self,
        ctx: &Ctx,
        files: usize,
        timeout: Duration,
    ) -> Result<(), TestError> {
        let base = self.progress(ctx).await?;
        let what = format!("{files} more file(s) from each background writer");
        wait_for(ctx, &what, timeout, Duration::from_secs(1), || async {
            let now = self.progress(ctx).await?;
            Ok(if now.iter().zip(&base).all(|(n, b)| *n >= b + files) {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("written: {now:?} (from {base:?})"))
            })
        })
        .await
    }

    /// Stops every writer (it finishes the file in hand) and returns what each did.
    pub async fn stop(&self, ctx: &Ctx) -> Result<Vec<WriterReport>, TestError> {
        for w in &self.writers {
            ctx.sh(&w.node, format!("touch {}/stop", shell::quote(&w.work)))
                .await?;
        }
        let mut reports = Vec::new();
        for w in &self.writers {
            let what = format!("background writer {} on {} to stop", w.name, w.node.name());
            let log = wait_for(
                ctx,
                &what,
                Duration::from_secs(120),
                Duration::from_secs(1),
                || async {
                    let log = log_of(ctx, w).await?;
                    Ok(if parse_log(&log).2 {
                        Poll::Ready(log)
                    } else {
                        Poll::Pending("still writing".into())
                    })
                },
            )
            .await?;
            let (written, errors, _) = parse_log(&log);
            ctx.step(format!(
                "writer {}: {} file(s) written, {} error(s)",
                w.name,
                written.len(),
                errors.len()
            ));
            reports.push(WriterReport {
                writer: w.clone(),
                written,
                errors,
            });
        }
        Ok(reports)
    }
}

impl BgIo {
    /// Stops the writers, fails if they met more than `max_errors` errors (listing them), then
    /// [`validate`]s what they wrote on their own mounts. Returns the reports.
    pub async fn stop_and_validate(
        &self,
        ctx: &Ctx,
        max_errors: usize,
    ) -> Result<Vec<WriterReport>, TestError> {
        let reports = self.stop(ctx).await?;
        let errors: Vec<&String> = reports.iter().flat_map(|r| &r.errors).collect();
        if errors.len() > max_errors {
            return Err(TestError::Check(format!(
                "background writers met {} error(s), at most {max_errors} allowed: {errors:?}",
                errors.len()
            )));
        }
        validate(ctx, &reports, None).await?;
        Ok(reports)
    }
}

/// Checks that every file each writer reports written is in its directory with the checksum it
/// wrote, read on `reader` (any client that mounts the same volume at `reader_dir`; `None`: the
/// writer's own client and directory). Errors are not failures here: a test bounds them itself
/// (see [`total_errors`]).
pub async fn validate(
    ctx: &Ctx,
    reports: &[WriterReport],
    reader: Option<(&Node, &str)>,
) -> Result<(), TestError> {
    for r in reports {
        ensure_written(r)?;
        let (node, dir) = reader.unwrap_or((&r.writer.node, &r.writer.dir));
        io::verify(ctx, node, dir, &r.written).await?;
    }
    Ok(())
}

fn ensure_written(r: &WriterReport) -> Result<(), TestError> {
    if r.written.is_empty() {
        return Err(TestError::Check(format!(
            "background writer {} on {} wrote nothing ({} error(s){})",
            r.writer.name,
            r.writer.node.name(),
            r.errors.len(),
            r.errors
                .first()
                .map(|e| format!(", first: {e}"))
                .unwrap_or_default()
        )));
    }
    Ok(())
}

/// Errors over all writers.
pub fn total_errors(reports: &[WriterReport]) -> usize {
    reports.iter().map(|r| r.errors.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_writer_log() {
        let (w, e, done) = parse_log(
            "ok t1-bgio-1-1 65536 abc\nerr t1-bgio-1-2 cp: Transport endpoint is not connected \nok t1-bgio-1-3 65536 def\ndone\n",
        );
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].name, "t1-bgio-1-3");
        assert_eq!(w[1].sha256, "def");
        assert_eq!(e, ["t1-bgio-1-2 cp: Transport endpoint is not connected"]);
        assert!(done);
    }
}
