//! `--reruns`: a failed case runs again; one that then passes is counted passed AND flaky (summary
//! line, report.txt, JUnit `flakyFailure`), one that keeps failing stays failed with every attempt
//! in its report (`rerunFailure`), and each failed attempt's results directory is kept.
mod runner_support;

use std::sync::atomic::{AtomicU32, Ordering};

use futures::future::BoxFuture;
use gflab::runner::{self, select::Item, PoolLab, Status};
use gflab_tests::prelude::*;
use gflab_tests::Registered;
use runner_support::LocalNodes;

static FLAKY_RUNS: AtomicU32 = AtomicU32::new(0);
static BROKEN_RUNS: AtomicU32 = AtomicU32::new(0);
static FINE_RUNS: AtomicU32 = AtomicU32::new(0);

fn flaky(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        let n = FLAKY_RUNS.fetch_add(1, Ordering::SeqCst);
        ctx.sh(&ctx.server(0)?, "true").await?;
        ensure!(n > 0, "first attempt loses the race");
        Ok(())
    })
}

fn broken(_ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        let n = BROKEN_RUNS.fetch_add(1, Ordering::SeqCst);
        ensure!(false, "always broken (attempt {})", n + 1);
        Ok(())
    })
}

fn fine(_ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        FINE_RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

static FLAKY: Case = Case::new(1, "flaky", flaky).needs(Needs::nodes(1, 0));
static BROKEN: Case = Case::new(2, "broken", broken).needs(Needs::nodes(1, 0));
static FINE: Case = Case::new(3, "fine", fine)
    .needs(Needs::nodes(1, 0))
    .after(&[1]);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_case_runs_again_and_a_pass_on_a_rerun_is_reported_flaky() {
    let nodes = LocalNodes::start(&[("server1", "server")]);
    let cases: Vec<Registered> = [&FLAKY, &BROKEN, &FINE]
        .into_iter()
        .map(|case| Registered {
            component: "selftest",
            file: "lab/tests/runner_reruns.rs",
            case,
        })
        .collect();
    let items: Vec<Item<'_>> = cases
        .iter()
        .map(|reg| Item {
            reg,
            volume_type: None,
        })
        .collect();
    let (_, connected) = runner::connect(&nodes.node_list).await.expect("connect");
    let lab = PoolLab {
        name: "lab-r".into(),
        nodes: connected,
        relocate: None,
        control: None,
        owned: false,
        release: None,
        versions: Vec::new(),
    };
    let mut opts = nodes.options();
    opts.reruns = 2;
    let summary = runner::run_pool(vec![lab], &items, &opts)
        .await
        .expect("run");
    assert_eq!(
        summary.line(),
        "2 passed, 1 failed, 0 skipped, 1 flaky (1)",
        "{:#?}",
        summary.results
    );
    assert_eq!(
        FLAKY_RUNS.load(Ordering::SeqCst),
        2,
        "the flaky case ran twice"
    );
    assert_eq!(BROKEN_RUNS.load(Ordering::SeqCst), 3, "1 run + 2 reruns");
    assert_eq!(
        FINE_RUNS.load(Ordering::SeqCst),
        1,
        "a passing case runs once"
    );
    let failures = summary.failure_lines();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with("FAILED 2 selftest/broken on lab-r: ")
            && failures[0].contains("always broken (attempt 3)"),
        "the short summary names the case, its lab and the last attempt's reason: {failures:?}"
    );
    let by_id = |id| summary.results.iter().find(|r| r.id == id).expect("result");

    let f = by_id(1);
    assert!(f.flaky() && matches!(f.status, Status::Passed));
    assert_eq!(f.earlier.len(), 1);
    assert!(f.earlier[0]
        .failure
        .contains("first attempt loses the race"));
    assert!(
        f.earlier[0].dir.ends_with("1-flaky.attempt1"),
        "{:?}",
        f.earlier[0].dir
    );
    let first = std::fs::read_to_string(f.earlier[0].dir.join("report.txt")).expect("kept");
    assert!(first.contains("result: FAILED"), "{first}");
    let last = std::fs::read_to_string(f.dir.join("report.txt")).expect("report");
    assert!(
        last.contains("result: passed") || last.contains("result: PASSED"),
        "{last}"
    );
    assert!(last.contains("earlier attempts that failed"), "{last}");

    let b = by_id(2);
    assert!(matches!(&b.status, Status::Failed(e) if e.contains("attempt 3")));
    assert_eq!(b.earlier.len(), 2);
    assert!(!b.flaky());

    let junit = std::fs::read_to_string(opts.junit.as_ref().expect("junit")).expect("junit");
    assert_eq!(junit.matches("<flakyFailure").count(), 1, "{junit}");
    assert_eq!(junit.matches("<rerunFailure").count(), 2, "{junit}");
    assert!(junit.contains("first attempt loses the race"), "{junit}");
}
