//! The results directory (`runner.log`, `<id>-<name>/transcript.txt`, `report.txt`, `logs/<node>/`),
//! and the JUnit XML file.
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gflab_agent::{shell, Command};
use gflab_tests::transcript::clip;
use gflab_tests::Node;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::{CaseResult, RunnerError, Status, Summary};

/// UTC civil time of `t`: (year, month, day, hour, minute, second, microsecond).
fn civil(t: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
        d.subsec_micros(),
    )
}

/// `20261125T040506Z`, for directory names.
pub fn compact_timestamp(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, _) = civil(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// `2026-11-25 04:05:06.123456 +0000`, gluster's log timestamp format.
pub fn log_timestamp(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, us) = civil(t);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06} +0000")
}

/// `runner.log` in the results directory, with progress mirrored to stderr: plain lines, and on
/// an interactive terminal a status line below them (finished, running, ETA).
#[derive(Debug)]
pub struct RunLog {
    /// The open log file.
    file: Mutex<std::fs::File>,
    /// Mirror lines to stderr.
    progress: bool,
    /// The status line, on a terminal.
    bar: Option<indicatif::ProgressBar>,
}

impl RunLog {
    /// Creates `dir/runner.log`.
    pub fn create(dir: &Path, progress: bool) -> Result<RunLog, RunnerError> {
        let path = dir.join("runner.log");
        let file = std::fs::File::create(&path).map_err(|source| RunnerError::Results {
            op: "create",
            path,
            source,
        })?;
        let bar = (progress && crate::progress::Mode::detect() == crate::progress::Mode::Spinner)
            .then(|| {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.enable_steady_tick(Duration::from_millis(200));
                bar
            });
        Ok(RunLog {
            file: Mutex::new(file),
            progress,
            bar,
        })
    }
    /// Writes a line to the log (and to stderr when showing progress).
    pub fn line(&self, text: &str) {
        if self.progress {
            match &self.bar {
                Some(bar) => bar.println(text),
                None => eprintln!("{text}"),
            }
        }
        self.quiet(text);
    }
    /// Updates the terminal status line (nothing elsewhere: plain lines carry the same counts).
    pub fn status(&self, text: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(text);
        }
    }
    /// Removes the status line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
    /// Writes a line to the log only.
    pub fn quiet(&self, text: &str) {
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        for l in text.lines() {
            let _ = writeln!(f, "{} {l}", log_timestamp(SystemTime::now()));
        }
    }
}

/// `<id>-<name>`, or `<id>-<name>-<type>` for a matrix variant.
pub fn case_dir_name(id: u32, volume_type: Option<gflab_tests::VolumeType>, name: &str) -> String {
    match volume_type {
        None => format!("{id}-{name}"),
        Some(t) => format!("{id}-{name}-{t}"),
    }
}

/// Writes `transcript.txt` and `report.txt` for a case that ran.
pub fn write_case(dir: &Path, r: &CaseResult) -> Result<(), RunnerError> {
    std::fs::create_dir_all(dir).map_err(|source| RunnerError::Results {
        op: "create",
        path: dir.to_path_buf(),
        source,
    })?;
    for (name, text) in [
        ("transcript.txt", r.transcript.clone()),
        ("report.txt", render_report(r)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| RunnerError::Results {
            op: "write",
            path,
            source,
        })?;
    }
    Ok(())
}

/// The human-readable report of one case.
pub fn render_report(r: &CaseResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "test {} {}/{}", r.key(), r.component, r.name);
    let _ = writeln!(s, "result: {}", r.status.word());
    if !r.lab.is_empty() {
        let _ = writeln!(s, "lab: {}", r.lab);
    }
    let _ = writeln!(s, "duration: {:.3}s", r.duration.as_secs_f64());
    if let Status::Failed(e) | Status::Skipped(e) = &r.status {
        let _ = writeln!(s, "\nreason:\n{e}");
    }
    section(
        &mut s,
        "earlier attempts that failed (--reruns)",
        r.earlier.iter().enumerate().map(|(i, a)| {
            format!(
                "attempt {} on {} ({:.1}s, results in {}):\n{}",
                i + 1,
                a.lab,
                a.duration.as_secs_f64(),
                a.dir.display(),
                a.failure
            )
        }),
    );
    section(
        &mut s,
        "cleanup failures",
        r.cleanup_failures.iter().cloned(),
    );
    section(&mut s, "runner notes", r.notes.iter().cloned());
    section(
        &mut s,
        "error-level log lines between this test's markers",
        r.log_errors.iter().map(|(n, f, l)| format!("{n} {f}: {l}")),
    );
    section(
        &mut s,
        "new core files",
        r.cores.iter().map(|(n, p)| format!("{n}: {p}")),
    );
    section(
        &mut s,
        "processes the test left running (killed)",
        r.killed
            .iter()
            .map(|(n, p, c)| format!("{n}: pid {p}: {c}")),
    );
    if !r.collected_logs.is_empty() {
        section(&mut s, "collected logs", r.collected_logs.iter().cloned());
    }
    s
}

fn section(s: &mut String, title: &str, lines: impl Iterator<Item = String>) {
    let lines: Vec<String> = lines.collect();
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n{title} ({}):", lines.len());
    for l in lines {
        let _ = writeln!(s, "  {l}");
    }
}

/// Fetches `log_dir` of every node (a tar stream through the agent) into `dest/<node>/`. Returns one
/// line per node: where the logs went, or why they could not be fetched.
pub async fn collect_logs(nodes: &[Node], log_dir: &str, dest: &Path) -> Vec<String> {
    let (parent, base) = match log_dir.trim_end_matches('/').rsplit_once('/') {
        Some((p, b)) if !b.is_empty() => (if p.is_empty() { "/" } else { p }, b),
        _ => {
            return vec![format!(
                "cannot collect logs from {log_dir:?}: not a directory path"
            )]
        }
    };
    let script = format!(
        "if [ -d {d} ]; then tar -C {p} -cf - {b}; fi",
        d = shell::quote(log_dir),
        p = shell::quote(parent),
        b = shell::quote(base),
    );
    let fetches = nodes.iter().map(|n| {
        let cmd = Command::shell(script.clone()).timeout(Duration::from_secs(120));
        async move { (n, n.client.exec(cmd).await) }
    });
    let mut lines = Vec::new();
    for (node, res) in futures::future::join_all(fetches).await {
        let into = dest.join(node.name());
        let line = match res {
            Ok(out) if out.success() && out.stdout.is_empty() => {
                format!("{}: no {log_dir} on the node", node.name())
            }
            Ok(out) if out.success() => match unpack(&out.stdout, &into) {
                Ok(n) => format!("{}: {n} file(s) in {}", node.name(), into.display()),
                Err(e) => format!(
                    "{}: failed to unpack logs into {}: {e}",
                    node.name(),
                    into.display()
                ),
            },
            Ok(out) => format!(
                "{}: failed to archive {log_dir}: {} {}",
                node.name(),
                gflab_tests::ctx::status_text(out.status),
                out.stderr_str().trim()
            ),
            Err(e) => format!("{}: failed to fetch {log_dir}: {e}", node.name()),
        };
        lines.push(line);
    }
    lines
}

fn unpack(tar_bytes: &[u8], into: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(into)?;
    let mut archive = tar::Archive::new(tar_bytes);
    archive.set_preserve_permissions(false);
    let mut files = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type().is_file() {
            files += 1;
        }
        // `unpack_in` refuses paths that would escape `into`.
        entry.unpack_in(into)?;
    }
    Ok(files)
}

/// Writes the JUnit XML report: one suite per component, transcripts and log excerpts on failures.
pub fn write_junit(path: &Path, summary: &Summary) -> Result<(), RunnerError> {
    let mut report = Report::new("gflab");
    let mut components: Vec<&str> = summary
        .results
        .iter()
        .map(|r| r.component.as_str())
        .collect();
    components.dedup();
    let mut seen = std::collections::BTreeSet::new();
    components.retain(|c| seen.insert(*c));
    for comp in components {
        let mut suite = TestSuite::new(comp);
        let skipped = summary
            .results
            .iter()
            .filter(|r| r.component == comp && matches!(r.status, Status::Skipped(_)))
            .count();
        // quick-junit writes `disabled`; Jenkins, GitLab and most parsers also read `skipped`.
        suite
            .extra
            .insert("skipped".into(), skipped.to_string().into());
        for r in summary.results.iter().filter(|r| r.component == comp) {
            let status = match &r.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Skipped(reason) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(reason.as_str());
                    s
                }
                Status::Failed(e) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(e.lines().next().unwrap_or("failed"));
                    s.set_type(if r.timed_out { "timeout" } else { "failure" });
                    s.set_description(failure_text(r, e));
                    s
                }
            };
            let mut status = status;
            // Earlier failed attempts: `flakyFailure` in a passed case, `rerunFailure` in a failed
            // one (surefire's form, read by Jenkins and GitLab).
            status.add_reruns(r.earlier.iter().map(|a| {
                let mut rerun = TestRerun::new(NonSuccessKind::Failure);
                rerun
                    .set_message(a.failure.lines().next().unwrap_or("failed"))
                    .set_type(if a.timed_out { "timeout" } else { "failure" })
                    .set_time(a.duration)
                    .set_description(format!("on lab {}: {}", a.lab, a.failure));
                rerun
            }));
            let mut tc = TestCase::new(format!("{} {}", r.key(), r.name), status);
            tc.set_classname(format!("gflab.{comp}"));
            tc.set_time(r.duration);
            if !r.lab.is_empty() {
                tc.add_property(quick_junit::Property::new("lab", r.lab.as_str()));
            }
            if !r.transcript.is_empty() {
                tc.set_system_out(clip(&r.transcript, 256 * 1024));
            }
            suite.add_test_case(tc);
        }
        report.add_test_suite(suite);
    }
    report.set_time(summary.duration);
    let file = std::fs::File::create(path).map_err(|source| RunnerError::Results {
        op: "create",
        path: path.to_path_buf(),
        source,
    })?;
    report
        .serialize(std::io::BufWriter::new(file))
        .map_err(|e| RunnerError::Junit {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

fn failure_text(r: &CaseResult, error: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{error}");
    if !r.log_errors.is_empty() {
        let _ = writeln!(s, "\n--- error-level gluster log lines during the test ---");
        for (n, f, l) in r.log_errors.iter().take(50) {
            let _ = writeln!(s, "{n} {f}: {l}");
        }
    }
    if !r.cores.is_empty() {
        let _ = writeln!(s, "\n--- new core files ---");
        for (n, p) in &r.cores {
            let _ = writeln!(s, "{n}: {p}");
        }
    }
    let _ = writeln!(s, "\n--- transcript (end) ---");
    let t = &r.transcript;
    let tail_start = t.len().saturating_sub(16 * 1024);
    let mut i = tail_start;
    while !t.is_char_boundary(i) {
        i += 1;
    }
    s.push_str(&t[i..]);
    if !r.dir.as_os_str().is_empty() {
        let _ = writeln!(s, "\nfull transcript and logs: {}", r.dir.display());
    }
    s
}

/// The default results directory: `results/<timestamp>`.
pub fn default_results_dir() -> PathBuf {
    PathBuf::from("results").join(compact_timestamp(SystemTime::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps() {
        let t = UNIX_EPOCH + Duration::from_micros(1_764_043_506_123_456);
        assert_eq!(compact_timestamp(t), "20251125T040506Z");
        assert_eq!(log_timestamp(t), "2025-11-25 04:05:06.123456 +0000");
        assert_eq!(compact_timestamp(UNIX_EPOCH), "19700101T000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(compact_timestamp(leap), "20000229T000000Z");
    }
}
