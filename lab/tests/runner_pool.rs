//! The parallel runner against real local agents: two "labs" of agents, three jobs. Every case
//! records the lab it ran on and when; a disruptive case must never overlap another case on its
//! lab, while the shared cases do overlap (the pool really runs them together).
mod runner_support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use gflab::runner::{self, select::Item, PoolLab, Status};
use gflab_tests::prelude::*;
use gflab_tests::Registered;
use runner_support::LocalNodes;

/// (case id, lab = its server's agent address, start, end) of every case body.
static RUNS: Mutex<Vec<(u32, String, Instant, Instant)>> = Mutex::new(Vec::new());

async fn record(ctx: Ctx, pause: Duration) -> Result<(), TestError> {
    let server = ctx.server(0)?;
    let start = Instant::now();
    // Through the agent, so the case really uses its lab.
    ctx.sh(&server, format!("sleep {}", pause.as_secs_f64()))
        .await?;
    RUNS.lock().unwrap_or_else(|p| p.into_inner()).push((
        ctx.id(),
        server.client.addr(),
        start,
        Instant::now(),
    ));
    Ok(())
}

fn shared(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(record(ctx, Duration::from_millis(600)))
}

fn disruptive(ctx: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(record(ctx, Duration::from_millis(400)))
}

static S1: Case = Case::new(1, "shared_a", shared).needs(Needs::nodes(1, 0));
static S2: Case = Case::new(2, "shared_b", shared).needs(Needs::nodes(1, 0));
static D3: Case = Case::new(3, "disruptive_a", disruptive)
    .needs(Needs::nodes(1, 0))
    .disruptive();
static S4: Case = Case::new(4, "shared_c", shared).needs(Needs::nodes(1, 0));
static S5: Case = Case::new(5, "shared_d", shared).needs(Needs::nodes(1, 0));
static D6: Case = Case::new(6, "disruptive_b", disruptive)
    .needs(Needs::nodes(1, 0))
    .disruptive();
static S7: Case = Case::new(7, "shared_e", shared).needs(Needs::nodes(1, 0));
static D8: Case = Case::new(8, "disruptive_c", disruptive)
    .needs(Needs::nodes(1, 0))
    .disruptive();
static S9: Case = Case::new(9, "shared_f", shared).needs(Needs::nodes(1, 0));
static S10: Case = Case::new(10, "shared_g", shared).needs(Needs::nodes(1, 0));
static D11: Case = Case::new(11, "disruptive_d", disruptive)
    .needs(Needs::nodes(1, 0))
    .disruptive();
static BIG: Case = Case::new(12, "needs_three_servers", shared).needs(Needs::nodes(3, 0));

async fn lab(name: &str, nodes: &LocalNodes) -> PoolLab {
    let (_, connected) = runner::connect(&nodes.node_list).await.expect("connect");
    PoolLab {
        name: name.into(),
        nodes: connected,
        relocate: None,
        control: None,
        owned: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disruptive_cases_never_share_a_lab() {
    let a = LocalNodes::start(&[("server1", "server")]);
    let b = LocalNodes::start(&[("server1", "server")]);
    let cases: Vec<Registered> = [
        &S1, &S2, &D3, &S4, &S5, &D6, &S7, &D8, &S9, &S10, &D11, &BIG,
    ]
    .into_iter()
    .map(|case| Registered {
        component: "selftest",
        file: "lab/tests/runner_pool.rs",
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
    let labs = vec![lab("lab-a", &a).await, lab("lab-b", &b).await];
    let addr_a = labs[0].nodes[0].client.addr();
    let mut opts = a.options();
    opts.jobs = 3;
    let summary = runner::run_pool(labs, &items, &opts).await.expect("run");
    assert_eq!(summary.line(), "11 passed, 0 failed, 1 skipped");
    let skipped = summary.results.iter().find(|r| r.id == 12).expect("12");
    assert!(
        matches!(&skipped.status, Status::Skipped(why) if why.contains("3 server")),
        "{:?}",
        skipped.status
    );
    // Each result names its lab, and the lab matches where the body ran.
    let runs = RUNS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for r in summary.results.iter().filter(|r| r.id != 12) {
        let (_, addr, ..) = runs.iter().find(|x| x.0 == r.id).expect("recorded");
        let want = if *addr == addr_a { "lab-a" } else { "lab-b" };
        assert_eq!(r.lab, want, "case {}", r.id);
    }
    let overlaps = |x: &(u32, String, Instant, Instant), y: &(u32, String, Instant, Instant)| {
        x.0 != y.0 && x.1 == y.1 && x.2 < y.3 && y.2 < x.3
    };
    let disruptive_ids = [3, 6, 8, 11];
    for d in runs.iter().filter(|r| disruptive_ids.contains(&r.0)) {
        let shared_with: Vec<u32> = runs
            .iter()
            .filter(|o| overlaps(d, o))
            .map(|o| o.0)
            .collect();
        assert!(
            shared_with.is_empty(),
            "disruptive case {} shared its lab with {shared_with:?}",
            d.0
        );
    }
    // Three jobs on two labs: shared cases did run together on one lab (else this test could
    // not tell an exclusive scheduler from a serial one).
    let together = runs.iter().any(|x| runs.iter().any(|y| overlaps(x, y)));
    assert!(together, "no two cases ever shared a lab: {runs:?}");
    assert!(
        runs.iter().any(|r| r.1 == addr_a) && runs.iter().any(|r| r.1 != addr_a),
        "both labs used"
    );
}
