//! `gflab report merge`: joins the JUnit reports of shards into one (suites of the same name are
//! merged, every test case kept with its status, time, properties and output).
use std::path::{Path, PathBuf};
use std::time::Duration;

use gflab_tests::xml::Element;
use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

/// Why reports could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A report could not be read.
    #[error("failed to read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A report is not JUnit XML.
    #[error("{} is not a JUnit report: {why}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A test case appears in more than one report (shards overlap).
    #[error("test case {name:?} of suite {suite} is in both {} and {}", .first.display(), .second.display())]
    Duplicate {
        /// Suite.
        suite: String,
        /// Test case name.
        name: String,
        /// The first report holding it.
        first: PathBuf,
        /// The second.
        second: PathBuf,
    },
    /// The merged report could not be written.
    #[error("failed to write {}: {why}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

/// Counts of the merged report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed cases.
    pub passed: usize,
    /// Failed (failure or error).
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Passed after failed attempts (`flakyFailure`/`flakyError` in the report).
    pub flaky: usize,
}

impl Counts {
    /// The runner's summary line for these counts.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        );
        if self.flaky > 0 {
            line.push_str(&format!(", {} flaky", self.flaky));
        }
        line
    }
}

fn secs(e: &Element) -> Duration {
    e.attr("time")
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or_default()
}

fn case_of(tc: &Element, counts: &mut Counts) -> TestCase {
    let outcome = ["failure", "error", "skipped"]
        .iter()
        .find_map(|k| tc.child(k));
    let status = match outcome {
        None => {
            counts.passed += 1;
            TestCaseStatus::success()
        }
        Some(o) if o.name == "skipped" => {
            counts.skipped += 1;
            let mut s = TestCaseStatus::skipped();
            if let Some(m) = o.attr("message") {
                s.set_message(m);
            }
            s
        }
        Some(o) => {
            counts.failed += 1;
            let kind = if o.name == "error" {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            };
            let mut s = TestCaseStatus::non_success(kind);
            if let Some(m) = o.attr("message") {
                s.set_message(m);
            }
            if let Some(t) = o.attr("type") {
                s.set_type(t);
            }
            if !o.text.is_empty() {
                s.set_description(o.text.as_str());
            }
            s
        }
    };
    let mut status = status;
    let mut flaky = false;
    for (tag, kind) in [
        ("flakyFailure", NonSuccessKind::Failure),
        ("flakyError", NonSuccessKind::Error),
        ("rerunFailure", NonSuccessKind::Failure),
        ("rerunError", NonSuccessKind::Error),
    ] {
        for o in tc.children(tag) {
            flaky |= tag.starts_with("flaky");
            let mut rerun = TestRerun::new(kind);
            if let Some(m) = o.attr("message") {
                rerun.set_message(m);
            }
            if let Some(t) = o.attr("type") {
                rerun.set_type(t);
            }
            if !o.text.is_empty() {
                rerun.set_description(o.text.as_str());
            }
            status.add_rerun(rerun);
        }
    }
    if flaky && outcome.is_none() {
        counts.flaky += 1;
    }
    let mut case = TestCase::new(tc.attr("name").unwrap_or_default(), status);
    if let Some(c) = tc.attr("classname") {
        case.set_classname(c);
    }
    case.set_time(secs(tc));
    if let Some(props) = tc.child("properties") {
        for p in props.children("property") {
            case.add_property(Property::new(
                p.attr("name").unwrap_or_default(),
                p.attr("value").unwrap_or_default(),
            ));
        }
    }
    if let Some(out) = tc.child_text("system-out").filter(|t| !t.is_empty()) {
        case.set_system_out(out);
    }
    case
}

/// A merged suite: its name, the suite, and (case name, report it came from) of each case.
type MergedSuite = (String, TestSuite, Vec<(String, PathBuf)>);

/// Merges `inputs` into `output`; returns the counts of the merged report.
pub fn merge(inputs: &[PathBuf], output: &Path) -> Result<Counts, MergeError> {
    let mut report = Report::new("gflab");
    let mut counts = Counts::default();
    let mut suites: Vec<MergedSuite> = Vec::new();
    let mut total = Duration::ZERO;
    for path in inputs {
        let text = std::fs::read_to_string(path).map_err(|source| MergeError::Read {
            path: path.clone(),
            source,
        })?;
        let root = gflab_tests::xml::parse(&text).map_err(|e| MergeError::Invalid {
            path: path.clone(),
            why: e.to_string(),
        })?;
        let found: Vec<&Element> = match root.name.as_str() {
            "testsuites" => root.children("testsuite").collect(),
            "testsuite" => vec![&root],
            other => {
                return Err(MergeError::Invalid {
                    path: path.clone(),
                    why: format!("its root element is <{other}>, not <testsuites>"),
                })
            }
        };
        total += secs(&root);
        for s in found {
            let name = s.attr("name").unwrap_or_default().to_string();
            let at = match suites.iter().position(|(n, ..)| *n == name) {
                Some(i) => i,
                None => {
                    suites.push((name.clone(), TestSuite::new(name.as_str()), Vec::new()));
                    suites.len() - 1
                }
            };
            for tc in s.children("testcase") {
                let case_name = tc.attr("name").unwrap_or_default().to_string();
                let (_, suite, seen) = &mut suites[at];
                if let Some((_, first)) = seen.iter().find(|(n, _)| *n == case_name) {
                    return Err(MergeError::Duplicate {
                        suite: name.clone(),
                        name: case_name,
                        first: first.clone(),
                        second: path.clone(),
                    });
                }
                seen.push((case_name, path.clone()));
                suite.add_test_case(case_of(tc, &mut counts));
            }
        }
    }
    for (_, mut suite, _) in suites {
        let skipped = suite
            .test_cases
            .iter()
            .filter(|c| matches!(c.status, TestCaseStatus::Skipped { .. }))
            .count();
        suite
            .extra
            .insert("skipped".into(), skipped.to_string().into());
        report.add_test_suite(suite);
    }
    report.set_time(total);
    let file = std::fs::File::create(output).map_err(|e| MergeError::Write {
        path: output.to_path_buf(),
        why: e.to_string(),
    })?;
    report
        .serialize(std::io::BufWriter::new(file))
        .map_err(|e| MergeError::Write {
            path: output.to_path_buf(),
            why: e.to_string(),
        })?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).expect("write");
        p
    }

    #[test]
    fn merges_shards_and_refuses_overlaps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(
            dir.path(),
            "a.xml",
            r#"<?xml version="1.0"?><testsuites name="gflab" time="3">
<testsuite name="example" tests="2"><testcase name="101 pool" classname="gflab.example" time="1.5">
<properties><property name="lab" value="p-1"/></properties></testcase>
<testcase name="102 x" time="1"><failure message="boom" type="failure">the details &amp; more</failure></testcase>
</testsuite></testsuites>"#,
        );
        let b = write(
            dir.path(),
            "b.xml",
            r#"<testsuites><testsuite name="example"><testcase name="103[disperse] y" time="2"><skipped message="needs 9 servers"/></testcase></testsuite>
<testsuite name="faults"><testcase name="301 z" time="4"/>
<testcase name="302 w" time="5"><flakyFailure message="heal pending" type="failure">on lab p-2: heal pending</flakyFailure></testcase></testsuite></testsuites>"#,
        );
        let out = dir.path().join("all.xml");
        let counts = merge(&[a.clone(), b], &out).expect("merge");
        assert_eq!(counts.line(), "3 passed, 1 failed, 1 skipped, 1 flaky");
        let text = std::fs::read_to_string(&out).expect("read");
        let root = gflab_tests::xml::parse(&text).expect("parse");
        let suites: Vec<&Element> = root.children("testsuite").collect();
        assert_eq!(suites.len(), 2);
        assert_eq!(suites[0].children("testcase").count(), 3);
        assert!(text.contains("the details &amp; more"), "{text}");
        assert!(text.contains(r#"name="lab" value="p-1""#), "{text}");
        assert!(
            text.contains(r#"<flakyFailure message="heal pending""#),
            "the flaky attempt is kept: {text}"
        );
        let again = merge(&[a.clone(), a.clone()], &out).expect_err("overlap");
        assert!(again.to_string().contains("\"101 pool\""), "{again}");
        let bad = write(dir.path(), "bad.xml", "<html/>");
        assert!(merge(&[bad], &out)
            .expect_err("not junit")
            .to_string()
            .contains("<html>"));
    }
}
