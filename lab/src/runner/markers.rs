//! What the runner does on every node around each test: start/end marker lines appended to every
//! gluster log, error-level lines found between the markers, new core files, and processes the test
//! left running (found by the tag every test command carries in its environment) killed.
use gflab_agent::shell;

/// Directories searched (depth 1) for new `core*` files.
pub const CORE_DIRS: &[&str] = &[
    "/",
    "/tmp",
    "/var/crash",
    "/var/lib/systemd/coredump",
    "/var/lib/glusterd",
    "/var/log/glusterfs",
];

/// Most error lines kept per node and test.
const MAX_ERROR_LINES: usize = 200;

/// The marker text that opens a test in the logs.
pub fn start_key(tag: &str) -> String {
    format!("gflab: ===== START {tag}")
}

/// A gluster-format log line (so log viewers sort and colour it like gluster's own).
fn log_line(timestamp: &str, text: &str) -> String {
    format!("[{timestamp}] I [gflab-runner] 0-gflab: {text}")
}

/// The stamp file: the size of every log right after the start marker (so the end scan reads only
/// what the test added) and the core files that existed. In /var/tmp, which a reboot keeps (a test
/// that reboots a node still gets only its own log lines). Per node: local nodes share one /var/tmp.
fn stamp_path(tag: &str, node: &str) -> String {
    format!("/var/tmp/.gflab-stamp-{tag}-{node}")
}

/// `find` commands printing `L\t<size>\t<path>` for every log and `C\t<mtime>\t<path>` for every core.
fn inventory() -> String {
    let cores = CORE_DIRS
        .iter()
        .map(|d| shell::quote(d))
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{{ [ -d \"$d\" ] && find \"$d\" -type f -name '*.log' -printf 'L\\t%s\\t%p\\n'; \
         find {cores} -maxdepth 1 -type f -name 'core*' -printf 'C\\t%T@\\t%p\\n' 2>/dev/null; }}"
    )
}

/// The shell script run on every node before a test: start markers, then the stamp.
/// Four processes (sh, two finds, awk): the per-test overhead budget is tight.
pub fn start_script(log_dir: &str, tag: &str, node: &str, title: &str, timestamp: &str) -> String {
    let line = log_line(timestamp, &format!("{} {title} =====", start_key(tag)));
    format!(
        r#"stamp={stamp}; d={dir}
{inventory} | awk -F '\t' -v line={line} -v stamp="$stamp" '
  BEGIN {{ printf "" > stamp }}
  $1 == "L" {{ print line >> $3; close($3); printf "L\t%d\t%s\n", $2 + length(line) + 1, $3 > stamp; next }}
  {{ print > stamp }}'
"#,
        stamp = shell::quote(&stamp_path(tag, node)),
        dir = shell::quote(log_dir),
        line = shell::quote(&line),
        inventory = inventory(),
    )
}

/// The shell script run on every node after a test. It prints tab-separated records:
/// `KILLED\t<pid>\t<cmdline>`, `ERROR\t<file>\t<line>`, `CORE\t<path>`. Only the bytes each log
/// gained since the start marker are read (whole files for logs created during the test), and only
/// logs that grew cost extra processes.
pub fn end_script(
    log_dir: &str,
    tag: &str,
    node: &str,
    title: &str,
    timestamp: &str,
    tag_env: &str,
) -> String {
    let line = log_line(timestamp, &format!("gflab: ===== END {tag} {title} ====="));
    format!(
        r#"tag={tagq}; stamp={stamp}; d={dir}
for f in $(grep -lzx "{tag_env}=$tag" /proc/[0-9]*/environ 2>/dev/null); do
  p=${{f#/proc/}}; p=${{p%/environ}}
  c=$(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)
  kill -KILL "$p" 2>/dev/null && printf 'KILLED\t%s\t%s\n' "$p" "$c"
done
{inventory} | awk -F '\t' -v stamp="$stamp" -v line={line} -v max={max} '
  BEGIN {{ while ((getline l < stamp) > 0) {{ split(l, a, "\t"); seen[a[1] a[3]] = a[2] }} }}
  $1 == "C" {{ if (!(("C" $3) in seen) || seen["C" $3] != $2) printf "CORE\t%s\n", $3; next }}
  {{
    from = (("L" $3) in seen) ? seen["L" $3] + 0 : 0
    if ($2 + 0 < from) from = 0
    if ($2 + 0 > from && n < max) {{
      cmd = "tail -c +" (from + 1) " \"" $3 "\""
      while ((cmd | getline l) > 0) if (n < max && l ~ /^\[[^]]*\] [EC] \[/) {{ printf "ERROR\t%s\t%s\n", $3, l; n++ }}
      close(cmd)
    }}
    print line >> $3; close($3)
  }}'
rm -f "$stamp"
exit 0
"#,
        tagq = shell::quote(tag),
        stamp = shell::quote(&stamp_path(tag, node)),
        dir = shell::quote(log_dir),
        line = shell::quote(&line),
        max = MAX_ERROR_LINES,
        inventory = inventory(),
    )
}

/// What the end script found on one node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndReport {
    /// (file, line) of error/critical log lines written during the test.
    pub errors: Vec<(String, String)>,
    /// New core files.
    pub cores: Vec<String>,
    /// Processes the test left running that were killed: (pid, command line).
    pub killed: Vec<(String, String)>,
}

/// Parses the end script's output.
pub fn parse_end(out: &str) -> EndReport {
    let mut r = EndReport::default();
    for line in out.lines() {
        let mut parts = line.splitn(3, '\t');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("ERROR"), Some(f), Some(l)) => r.errors.push((f.to_string(), l.to_string())),
            (Some("CORE"), Some(p), None) => r.cores.push(p.to_string()),
            (Some("KILLED"), Some(p), Some(c)) => {
                r.killed.push((p.to_string(), c.trim().to_string()))
            }
            _ => {}
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn sh(script: &str) -> String {
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .expect("sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn markers_bound_the_error_lines_of_one_test() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().to_str().expect("utf8").to_string();
        let log = dir.path().join("glusterd.log");
        std::fs::write(
            &log,
            "[2026-01-01 00:00:00.000000 +0000] E [x.c:1:f] 0-m: before the test\n",
        )
        .expect("write");
        let tag = "tok.77";
        sh(&start_script(
            &d,
            tag,
            "n1",
            "77 sample",
            "2026-01-01 00:00:01.000000 +0000",
        ));
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .and_then(|mut f| {
                use std::io::Write;
                writeln!(
                    f,
                    "[2026-01-01 00:00:02.000000 +0000] I [x.c:2:f] 0-m: fine"
                )?;
                writeln!(
                    f,
                    "[2026-01-01 00:00:03.000000 +0000] C [x.c:3:f] 0-m: during"
                )
            })
            .expect("append");
        std::fs::create_dir(dir.path().join("bricks")).expect("mkdir");
        std::fs::write(
            dir.path().join("bricks/new.log"),
            "[2026-01-01 00:00:04.000000 +0000] E [y.c:9:g] 0-b: in a new file\n",
        )
        .expect("write");
        let out = sh(&end_script(
            &d,
            tag,
            "n1",
            "77 sample",
            "2026-01-01 00:00:05.000000 +0000",
            "GFLAB_X",
        ));
        let r = parse_end(&out);
        let lines: Vec<&str> = r.errors.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines.iter().any(|l| l.contains("during")), "{out}");
        assert!(lines.iter().any(|l| l.contains("in a new file")), "{out}");
        assert!(
            !lines.iter().any(|l| l.contains("before the test")),
            "{out}"
        );
        let text = std::fs::read_to_string(&log).expect("read");
        assert!(
            text.contains("gflab: ===== START tok.77 77 sample ====="),
            "{text}"
        );
        assert!(
            text.contains("gflab: ===== END tok.77 77 sample ====="),
            "{text}"
        );
    }

    #[test]
    fn parses_records() {
        let r = parse_end(
            "KILLED\t42\tsleep 100 \nERROR\t/l/a.log\t[t] E [x] m\nCORE\t/core.1\njunk\n",
        );
        assert_eq!(r.killed, [("42".to_string(), "sleep 100".to_string())]);
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.cores, ["/core.1"]);
    }
}
