//! A run with a passing, a failing and a skipped case against real local agents: summary, transcript,
//! collected logs, error lines between markers, new core files and JUnit all land where they should.
mod runner_support;

use std::sync::OnceLock;

use futures::future::BoxFuture;
use gflab::runner::{self, Status};
use gflab_tests::prelude::*;
use gflab_tests::Registered;
use runner_support::LocalNodes;

/// The log directory and a unique core file path, shared with the case bodies.
static PATHS: OnceLock<(String, String)> = OnceLock::new();

fn passing(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        let s = ctx.server(0)?;
        let out = ctx.sh(&s, "echo hello from the passing case").await?;
        ensure_eq!(out.trim(), "hello from the passing case", "echo output");
        Ok(())
    })
}

fn failing(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        let (log_dir, core) = PATHS.get().cloned().expect("paths set");
        let s = ctx.server(0)?;
        ctx.sh(
            &s,
            format!(
                "echo '[2026-01-01 00:00:00.000000 +0000] E [selftest.c:1:boom] 0-selftest: injected error line' >> {log_dir}/glusterd.log; touch {core}"
            ),
        )
        .await?;
        ctx.sh(&s, "echo about to fail; echo on stderr >&2; exit 3")
            .await?;
        Ok(())
    })
}

fn never(_: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async { Err(TestError::Check("a skipped case must not run".into())) })
}

static PASS: Case = Case::new(1, "passes", passing).needs(Needs::nodes(1, 1));
static FAIL: Case = Case::new(2, "fails_on_purpose", failing).needs(Needs::nodes(1, 0));
static SKIP: Case = Case::new(3, "needs_five_servers", never).needs(Needs::nodes(5, 0));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_case_leaves_transcript_logs_and_junit() {
    let nodes = LocalNodes::start(&[("server1", "server"), ("client1", "client")]);
    let core = format!("/tmp/core.gflab-selftest-{}", std::process::id());
    PATHS
        .set((nodes.log_dir.display().to_string(), core.clone()))
        .expect("set once");
    let cases = [
        Registered {
            component: "selftest",
            file: "lab/tests/runner_results.rs",
            case: &PASS,
        },
        Registered {
            component: "selftest",
            file: "lab/tests/runner_results.rs",
            case: &FAIL,
        },
        Registered {
            component: "selftest",
            file: "lab/tests/runner_results.rs",
            case: &SKIP,
        },
    ];
    let refs: Vec<&Registered> = cases.iter().collect();
    let (_, connected) = runner::connect(&nodes.node_list).await.expect("connect");
    let opts = nodes.options();
    let summary = runner::run(&connected, &refs, &opts).await.expect("run");
    let _ = std::fs::remove_file(&core);

    assert_eq!(summary.line(), "1 passed, 1 failed, 1 skipped");
    let skip = &summary.results[2];
    assert_eq!(
        skip.status,
        Status::Skipped("needs 5 server(s), the node list has 1".into())
    );

    let fail = &summary.results[1];
    let Status::Failed(why) = &fail.status else {
        panic!("case 2 did not fail: {fail:?}")
    };
    assert!(
        why.contains(
            "failed to run `echo about to fail; echo on stderr >&2; exit 3` on server1: exit 3"
        ),
        "{why}"
    );
    assert!(why.contains("on stderr"), "{why}");

    // Transcript: every command with node, exit, duration and output.
    let dir = nodes.results.join("2-fails_on_purpose");
    let transcript = std::fs::read_to_string(dir.join("transcript.txt")).expect("transcript");
    assert!(
        transcript.contains("server1$ echo about to fail"),
        "{transcript}"
    );
    assert!(transcript.contains("-> exit 3 in "), "{transcript}");
    assert!(transcript.contains("| about to fail"), "{transcript}");
    assert!(transcript.contains("| on stderr"), "{transcript}");

    // The report names the error line written between this test's markers, and the new core file.
    let report = std::fs::read_to_string(dir.join("report.txt")).expect("report");
    assert!(report.contains("result: FAILED"), "{report}");
    assert!(report.contains("injected error line"), "{report}");
    assert!(report.contains(&core), "{report}");
    assert!(fail
        .log_errors
        .iter()
        .all(|(_, _, l)| l.contains("injected error line")));
    assert_eq!(fail.cores.len(), 2, "one core per node: {:?}", fail.cores);

    // The logs of every node were collected, markers included.
    for node in ["server1", "client1"] {
        let log = dir
            .join("logs")
            .join(node)
            .join("glusterfs")
            .join("glusterd.log");
        let text =
            std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        assert!(text.contains("gflab: ===== START"), "{text}");
        assert!(
            text.contains("test 2 selftest/fails_on_purpose ====="),
            "{text}"
        );
        assert!(text.contains("injected error line"), "{text}");
    }
    // The passing case has a transcript but no collected logs, and its error scan is clean (the
    // injected line was written after its end marker).
    let pass_dir = nodes.results.join("1-passes");
    assert!(pass_dir.join("transcript.txt").is_file());
    assert!(!pass_dir.join("logs").exists());
    assert!(
        summary.results[0].log_errors.is_empty(),
        "{:?}",
        summary.results[0].log_errors
    );

    let runner_log = std::fs::read_to_string(nodes.results.join("runner.log")).expect("runner.log");
    assert!(
        runner_log.contains("1 passed, 1 failed, 1 skipped"),
        "{runner_log}"
    );

    // JUnit: readable, counts match the summary, failure text carries transcript and log excerpt.
    let xml = std::fs::read_to_string(opts.junit.as_ref().expect("junit")).expect("junit file");
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("junit parses");
    let suite = &report.test_suites[0];
    assert_eq!(
        (suite.tests, suite.failures, suite.disabled),
        (3, 1, 1),
        "{xml}"
    );
    assert!(xml.contains("injected error line"), "{xml}");
    assert!(xml.contains("server1$ echo about to fail"), "{xml}");
    assert!(xml.contains("needs 5 server(s)"), "{xml}");
}
