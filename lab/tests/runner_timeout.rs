//! A case that overruns its timeout is cancelled: its remote commands are killed (the agent kills the
//! process group; the runner kills what escaped it), the transcript says so, and the run goes on.
mod runner_support;

use futures::future::BoxFuture;
use gflab::runner::{self, Status};
use gflab_tests::prelude::*;
use gflab_tests::Registered;
use runner_support::{process_running, LocalNodes};

fn marker(which: u32) -> String {
    format!("sleep 4{which}.{}", std::process::id())
}

fn hangs(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        let s = ctx.server(0)?;
        // One sleeper escapes the command's process group (new session), one stays in it.
        ctx.sh(&s, format!("setsid {} & {}", marker(1), marker(2)))
            .await?;
        Ok(())
    })
}

fn after(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        let s = ctx.server(0)?;
        ensure_eq!(
            ctx.sh(&s, "echo still here").await?.trim(),
            "still here",
            "echo"
        );
        Ok(())
    })
}

static HANG: Case = Case::new(1, "hangs", hangs).timeout_secs(2);
static AFTER: Case = Case::new(2, "runs_after_the_timeout", after);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_cancels_the_body_and_kills_what_it_left() {
    let nodes = LocalNodes::start(&[("server1", "server")]);
    let cases = [
        Registered {
            component: "selftest",
            file: "lab/tests/runner_timeout.rs",
            case: &HANG,
        },
        Registered {
            component: "selftest",
            file: "lab/tests/runner_timeout.rs",
            case: &AFTER,
        },
    ];
    let refs: Vec<&Registered> = cases.iter().collect();
    let (_, connected) = runner::connect(&nodes.node_list).await.expect("connect");
    let summary = runner::run(&connected, &refs, &nodes.options())
        .await
        .expect("run");
    assert_eq!(summary.line(), "1 passed, 1 failed, 0 skipped");

    let hang = &summary.results[0];
    assert!(hang.timed_out);
    let Status::Failed(why) = &hang.status else {
        panic!("not failed: {hang:?}")
    };
    assert!(why.starts_with("timed out after 2s"), "{why}");
    assert!(
        hang.transcript.contains("cancelled before it finished"),
        "{}",
        hang.transcript
    );
    assert!(
        hang.killed
            .iter()
            .any(|(_, _, cmd)| cmd.contains(&marker(1))),
        "the escaped sleeper was not reported killed: {:?}",
        hang.killed
    );
    let report = std::fs::read_to_string(nodes.results.join("1-hangs/report.txt")).expect("report");
    assert!(
        report.contains("processes the test left running (killed)"),
        "{report}"
    );
    for which in [1, 2] {
        let m = marker(which);
        assert!(!process_running(&m), "`{m}` still runs after the run ended");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_option_overrides_the_case_timeout() {
    let nodes = LocalNodes::start(&[("server1", "server")]);
    fn slow(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
        Box::pin(async move {
            let s = ctx.server(0)?;
            ctx.sh(&s, "sleep 30").await?;
            Ok(())
        })
    }
    static SLOW: Case = Case::new(3, "slow", slow);
    let cases = [Registered {
        component: "selftest",
        file: "lab/tests/runner_timeout.rs",
        case: &SLOW,
    }];
    let refs: Vec<&Registered> = cases.iter().collect();
    let (_, connected) = runner::connect(&nodes.node_list).await.expect("connect");
    let mut opts = nodes.options();
    opts.timeout = Some(std::time::Duration::from_secs(1));
    let summary = runner::run(&connected, &refs, &opts).await.expect("run");
    assert_eq!(summary.line(), "0 passed, 1 failed, 0 skipped");
    assert!(summary.results[0].timed_out);
    assert!(summary.results[0].duration < std::time::Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interruption_tears_down_the_running_case_and_stops() {
    let nodes = LocalNodes::start(&[("server1", "server")]);
    fn interrupted(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
        Box::pin(async move {
            let s = ctx.server(0)?;
            let mark = format!("/tmp/gflab-selftest-teardown-{}", std::process::id());
            ctx.defer(Cleanup::Command {
                node: s.clone(),
                command: Command::new("touch").arg(mark),
            });
            ctx.sh(&s, "sleep 30").await?;
            Ok(())
        })
    }
    fn never(_: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
        Box::pin(async {
            Err(TestError::Check(
                "must not run after an interruption".into(),
            ))
        })
    }
    static INT: Case = Case::new(4, "interrupted", interrupted);
    static NEVER: Case = Case::new(5, "not_reached", never);
    let file = "lab/tests/runner_timeout.rs";
    let cases = [
        Registered {
            component: "selftest",
            file,
            case: &INT,
        },
        Registered {
            component: "selftest",
            file,
            case: &NEVER,
        },
    ];
    let refs: Vec<&Registered> = cases.iter().collect();
    let (_, connected) = runner::connect(&nodes.node_list).await.expect("connect");
    let opts = nodes.options();
    let cancel = opts.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        cancel.cancel();
    });
    let summary = runner::run(&connected, &refs, &opts).await.expect("run");
    assert!(summary.interrupted);
    assert_eq!(summary.results.len(), 1, "the second case must not run");
    assert_eq!(summary.line(), "0 passed, 1 failed, 0 skipped");
    let mark = format!("/tmp/gflab-selftest-teardown-{}", std::process::id());
    assert!(std::path::Path::new(&mark).exists(), "teardown did not run");
    let _ = std::fs::remove_file(&mark);
}
