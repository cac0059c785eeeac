//! The runner on a real lab with faults: a test that fails in the middle of a partition, one that
//! fails while a server's GlusterFS processes are paused, and one that leaves faults behind without
//! registering their undo. Each is reported failed; the next test finds the lab healthy, because
//! the registered undo runs at teardown and the runner repairs what a test left behind.
//!
//! Needs the Docker engine, the images and the static agent, like `lab_docker.rs`; the lab is
//! named `t-rf-*` and is torn down at the end.
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use futures::future::BoxFuture;
use gflab::runner::{self, Status};
use gflab_tests::prelude::*;
use gflab_tests::Registered;

const GFLAB: &str = env!("CARGO_BIN_EXE_gflab");
const LAB: &str = "t-rf-faults";

fn state_home() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runner-faults-state");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create state dir");
        d
    })
    .clone()
}

async fn gflab(args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(GFLAB)
        .args(args)
        .env("XDG_STATE_HOME", state_home())
        .env("CI", "true")
        .output()
        .await
        .expect("spawn gflab");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn fails_mid_partition(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        let (a, b) = (ctx.server(0)?, ctx.server(1)?);
        fault::partition(&ctx, &[a], &[b]).await?;
        Err(TestError::Check(
            "failing on purpose in the middle of a partition".into(),
        ))
    })
}

fn fails_mid_pause(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        fault::pause(&ctx, &ctx.server(1)?).await?;
        Err(TestError::Check(
            "failing on purpose while server2 is paused".into(),
        ))
    })
}

fn leaves_faults_behind(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        // Faults made by hand, with no undo registered: the runner must notice and mend them.
        let s2 = ctx.server(1)?;
        ctx.sh(
            &s2,
            format!(
                "iptables -w -N {c} 2>/dev/null || true; iptables -w -C INPUT -j {c} 2>/dev/null || \
                 iptables -w -I INPUT 1 -j {c}; iptables -w -A {c} -s 192.0.2.1 -j DROP; \
                 pkill -STOP -x glusterd",
                c = fault::CHAIN
            ),
        )
        .await?;
        Ok(())
    })
}

fn finds_the_lab_healthy(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        let problems = fault::health(&ctx).await;
        ensure!(problems.is_empty(), "the lab is not healthy: {problems:?}");
        // And it serves: a replica volume across the two servers takes a write.
        let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
        vol.start_and_wait(&ctx).await?;
        let m = mount::mount(&ctx, &ctx.client(0)?, &vol).await?;
        io::write_files(&ctx, &ctx.client(0)?, &m.path, &io::files("f", 3, 4096)).await?;
        Ok(())
    })
}

static PARTITION: Case =
    Case::new(1, "fails_mid_partition", fails_mid_partition).needs(Needs::nodes(2, 0));
static PAUSE: Case = Case::new(2, "fails_mid_pause", fails_mid_pause).needs(Needs::nodes(2, 0));
static BEHIND: Case =
    Case::new(3, "leaves_faults_behind", leaves_faults_behind).needs(Needs::nodes(2, 0));
static HEALTHY: Case =
    Case::new(4, "finds_the_lab_healthy", finds_the_lab_healthy).needs(Needs::nodes(2, 1));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_failing_mid_fault_leaves_the_next_one_a_healthy_lab() {
    let (ok, out) = gflab(&["images"]).await;
    assert!(ok, "images: {out}");
    let topo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies/2x2.toml");
    let _ = gflab(&["down", LAB]).await;
    let (ok, out) = gflab(&["up", &topo.display().to_string(), "--name", LAB]).await;
    assert!(ok, "up: {out}");
    let list_path = state_home().join("gflab").join(LAB).join("nodes.toml");
    let result = async {
        let (_list, nodes) = runner::connect(&list_path).await.expect("connect");
        let reg = |case: &'static Case| Registered {
            component: "selftest",
            file: "lab/tests/runner_faults.rs",
            case,
        };
        let cases = [reg(&PARTITION), reg(&PAUSE), reg(&BEHIND), reg(&HEALTHY)];
        let refs: Vec<&Registered> = cases.iter().collect();
        let results = tempfile::tempdir().expect("tempdir");
        let mut opts = runner::RunOptions::new(results.path().join("results"));
        opts.health_timeout = std::time::Duration::from_secs(90);
        runner::run(&nodes, &refs, &opts).await.expect("run")
    }
    .await;
    let (ok, out) = gflab(&["down", LAB]).await;
    assert!(ok, "down: {out}");

    let status = |i: usize| &result.results[i].status;
    for (i, why) in [
        (0, "failing on purpose in the middle of a partition"),
        (1, "failing on purpose while server2 is paused"),
    ] {
        match status(i) {
            Status::Failed(e) => {
                assert!(e.contains(why), "case {}: {e}", i + 1);
                // Its registered undo ran: nothing was left for the health check to find.
                assert!(!e.contains("unhealthy"), "case {}: {e}", i + 1);
            }
            other => panic!("case {} must fail: {other:?}", i + 1),
        }
    }
    match status(2) {
        Status::Failed(e) => {
            assert!(e.contains("left the lab unhealthy"), "{e}");
            assert!(e.contains("partition rule(s) left"), "{e}");
            assert!(e.contains("process glusterd is stopped"), "{e}");
            assert!(
                result.results[2]
                    .notes
                    .iter()
                    .any(|n| n.contains("it is reset before the next case")),
                "{:?}",
                result.results[2].notes
            );
        }
        other => panic!("case 3 must fail as unhealthy: {other:?}"),
    }
    assert_eq!(status(3), &Status::Passed, "{:?}", result.results[3]);
}
