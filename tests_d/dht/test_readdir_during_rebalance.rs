//! Listing a directory of directories while a rebalance works through them shows every entry
//! exactly once: a directory with 400 subdirectories (a file in each) is listed (`ls -l`,
//! readdirp) over and over while a slow (`lazy`, `start force`) rebalance after `add-brick` is in
//! progress; every listing made during it has the same names as before, with none missing or
//! doubled, and so does the listing after it completes without failures.
//!
//! Ported from glusto-tests `tests/functional/dht/test_readdirp_with_rebalance.py` (a directory
//! of many directories, `rebal-throttle lazy`, add-brick, `rebalance start force`, the listing
//! during the rebalance equal to the one before), with the names compared rather than counted.
//! Directories are what it lists: DHT reads them from one subvolume. Files in a directory being
//! listed can be shown twice on GlusterFS 10.3 while the rebalance runs (a file read from its old
//! brick in one chunk of the listing and from the new brick in a later one; seen here).
use crate::prelude::*;

pub const CASE: Case = Case::new(726, "readdir_during_rebalance", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

/// The names `ls -l` shows in `dir`, sorted (duplicates kept).
async fn listing(ctx: &Ctx, node: &Node, dir: &str) -> Result<Vec<String>, TestError> {
    let out = ctx.sh(node, format!("ls -l {dir} | awk 'NR > 1 {{ print $NF }}' | sort")).await?;
    Ok(out.lines().map(str::to_string).collect())
}

/// Names of `want` missing from `got`, and names `got` lists more often than `want`.
fn diff(want: &[String], got: &[String]) -> (Vec<String>, Vec<String>) {
    let count = |v: &[String]| {
        let mut m = std::collections::BTreeMap::<String, i64>::new();
        for n in v {
            *m.entry(n.clone()).or_default() += 1;
        }
        m
    };
    let (w, g) = (count(want), count(got));
    let missing = w.iter().filter(|(n, c)| g.get(*n).copied().unwrap_or(0) < **c).map(|(n, _)| n.clone()).collect();
    let extra = g.iter().filter(|(n, c)| w.get(*n).copied().unwrap_or(0) < **c).map(|(n, _)| n.clone()).collect();
    (missing, extra)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let dir = format!("{}/master", m.path);
    ctx.sh(
        &client,
        format!("set -e; mkdir {dir}; cd {dir}; for i in $(seq 1 400); do mkdir d$i; head -c 2048 /dev/urandom > d$i/f; done"),
    )
    .await?;
    let before = listing(&ctx, &client, &dir).await?;
    ensure_eq!(before.len(), 400, "entries listed in master before the rebalance");

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    vol.set(&ctx, "cluster.rebal-throttle", "lazy").await?;
    dht::rebalance_start(&ctx, &vol, dht::Rebalance::Force).await?;
    let mut during = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        let st = dht::rebalance_status(&ctx, &vol).await?;
        if !st.is_empty() && st.iter().all(dht::NodeProgress::finished) {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "rebalance still running after 300 s: {st:?}");
        let now = listing(&ctx, &client, &dir).await?;
        if now != before {
            let (missing, extra) = diff(&before, &now);
            return Err(TestError::Check(format!("listing #{} of master during the rebalance: missing {missing:?}, listed twice {extra:?}", during + 1)));
        }
        during += 1;
    }
    ctx.step(format!("{during} listing(s) made while the rebalance ran"));
    ensure!(during > 0, "the rebalance ended before any listing could be made during it");
    let p = dht::wait_rebalance(&ctx, &vol, Duration::from_secs(10)).await?;
    ensure!(p.iter().all(|n| n.status.contains("completed")) && dht::total_failures(&p) == 0, "rebalance should complete without failures: {p:?}");
    ensure!(dht::total_files(&p) > 0, "rebalance migrated no file: {p:?}");
    ensure_eq!(listing(&ctx, &client, &dir).await?, before, "entries of master after the rebalance");
    Ok(())
}
