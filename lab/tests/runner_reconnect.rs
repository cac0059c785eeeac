//! An agent killed during a run: the case using it at that moment fails (its command may or may not
//! have run), the runner reconnects to the restarted agent, and every later case passes. And an
//! unreachable agent fails the connection step, naming the node.
mod runner_support;

use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use gflab::runner::{self, Status};
use gflab_tests::prelude::*;
use gflab_tests::Registered;
use runner_support::LocalNodes;

static NODES: Mutex<Option<LocalNodes>> = Mutex::new(None);

fn echo_everywhere(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        for n in ctx.nodes() {
            let out = ctx.sh(n, format!("echo hi from {}", n.name())).await?;
            ensure_eq!(
                out.trim(),
                format!("hi from {}", n.name()),
                "echo on {}",
                n.name()
            );
        }
        Ok(())
    })
}

fn agent_dies(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async move {
        let s2 = ctx.server(1)?;
        let restart = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            tokio::task::spawn_blocking(|| {
                let mut guard = NODES.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(nodes) = guard.as_mut() {
                    nodes.restart_agent(1);
                }
            })
            .await
            .map_err(|e| TestError::Check(format!("restart task: {e}")))
        };
        let (cmd, restarted) = tokio::join!(ctx.sh(&s2, "sleep 20"), restart);
        restarted?;
        cmd.map(|_| ())
    })
}

static ONE: Case = Case::new(1, "before", echo_everywhere).needs(Needs::nodes(2, 0));
static TWO: Case = Case::new(2, "agent_killed_mid_command", agent_dies).needs(Needs::nodes(2, 0));
static THREE: Case = Case::new(3, "after", echo_everywhere).needs(Needs::nodes(2, 0));
static FOUR: Case = Case::new(4, "after_again", echo_everywhere).needs(Needs::nodes(2, 0));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_reconnects_after_an_agent_restart() {
    let nodes = LocalNodes::start(&[("server1", "server"), ("server2", "server")]);
    let node_list = nodes.node_list.clone();
    let opts = nodes.options();
    *NODES.lock().expect("lock") = Some(nodes);
    let file = "lab/tests/runner_reconnect.rs";
    let cases = [
        Registered {
            component: "selftest",
            file,
            case: &ONE,
        },
        Registered {
            component: "selftest",
            file,
            case: &TWO,
        },
        Registered {
            component: "selftest",
            file,
            case: &THREE,
        },
        Registered {
            component: "selftest",
            file,
            case: &FOUR,
        },
    ];
    let refs: Vec<&Registered> = cases.iter().collect();
    let (_, connected) = runner::connect(&node_list).await.expect("connect");
    let summary = runner::run(&connected, &refs, &opts).await.expect("run");
    let statuses: Vec<&Status> = summary.results.iter().map(|r| &r.status).collect();
    assert_eq!(
        summary.line(),
        "3 passed, 1 failed, 0 skipped",
        "{statuses:?}"
    );
    let Status::Failed(why) = &summary.results[1].status else {
        panic!("{statuses:?}")
    };
    assert!(why.contains("server2"), "{why}");
    assert!(why.contains("dropped"), "{why}");
    NODES.lock().expect("lock").take();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_agent_is_named() {
    let nodes = LocalNodes::start(&[("server1", "server")]);
    // A port with nothing behind it: bind, note, close.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_addr = dead.local_addr().expect("addr");
    drop(dead);
    let text = std::fs::read_to_string(&nodes.node_list).expect("read");
    let text = format!(
        "{text}[[node]]\nname = \"client9\"\nrole = \"client\"\nhost = \"client9\"\nagent = \"{dead_addr}\"\n"
    );
    std::fs::write(&nodes.node_list, text).expect("write");
    let err = runner::connect(&nodes.node_list)
        .await
        .expect_err("must fail")
        .to_string();
    assert!(err.contains("client9"), "{err}");
    assert!(err.contains(&dead_addr.to_string()), "{err}");
    assert!(!err.contains("server1"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}
