//! Runner overhead per test: run no-op cases against the nodes and report the median wall time the
//! runner spends per case (markers on every node, spawn, teardown, log scan, transcript files).
use std::time::Duration;

use futures::future::BoxFuture;
use gflab_tests::{Case, Ctx, Node, Registered, TestError};

use super::{run, RunOptions, RunnerError, Status};

fn noop(_: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
    Box::pin(async { Ok(()) })
}

/// Overhead figures over `n` no-op cases.
#[derive(Debug, Clone)]
pub struct Overhead {
    /// Cases run.
    pub cases: usize,
    /// Nodes each case touched.
    pub nodes: usize,
    /// Median per-case wall time.
    pub median: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// Fastest.
    pub min: Duration,
    /// Slowest.
    pub max: Duration,
    /// Median of each phase (`start`, `body`, `teardown`, `end`, `files`).
    pub phases: Vec<(&'static str, Duration)>,
}

impl std::fmt::Display for Overhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "runner overhead per no-op test over {} cases on {} node(s): median {:.2} ms, p90 {:.2} ms, min {:.2} ms, max {:.2} ms (target < 50 ms)",
            self.cases,
            self.nodes,
            ms(self.median),
            ms(self.p90),
            ms(self.min),
            ms(self.max)
        )?;
        let parts: Vec<String> = self
            .phases
            .iter()
            .map(|(name, d)| format!("{name} {:.2} ms", ms(*d)))
            .collect();
        write!(f, "\nmedian per phase: {}", parts.join(", "))
    }
}

/// Runs `n` no-op cases (results in a temporary directory, removed afterwards).
pub async fn overhead(nodes: &[Node], n: usize, log_dir: &str) -> Result<Overhead, RunnerError> {
    let n = n.max(1);
    let cases: Vec<Registered> = (0..n)
        .map(|i| Registered {
            component: "bench",
            file: "(generated)",
            case: Box::leak(Box::new(Case::new(i as u32 + 1, "noop", noop))),
        })
        .collect();
    let refs: Vec<&Registered> = cases.iter().collect();
    let dir = tempfile::tempdir().map_err(|source| RunnerError::Results {
        op: "create",
        path: std::env::temp_dir(),
        source,
    })?;
    let mut opts = RunOptions::new(dir.path().join("results"));
    opts.progress = false;
    opts.log_dir = log_dir.to_string();
    let summary = run(nodes, &refs, &opts).await?;
    let mut walls: Vec<Duration> = summary
        .results
        .iter()
        .filter(|r| r.status == Status::Passed)
        .map(|r| r.wall)
        .collect();
    if walls.len() != n {
        return Err(RunnerError::Bench(format!(
            "{} of {n} no-op cases did not pass: {}",
            n - walls.len(),
            summary.line()
        )));
    }
    walls.sort();
    let passed: Vec<&super::CaseResult> = summary
        .results
        .iter()
        .filter(|r| r.status == Status::Passed)
        .collect();
    let phase_names: Vec<&'static str> = passed
        .first()
        .map(|r| r.phases.iter().map(|(p, _)| *p).collect())
        .unwrap_or_default();
    let phases = phase_names
        .into_iter()
        .map(|name| {
            let mut v: Vec<Duration> = passed
                .iter()
                .filter_map(|r| r.phases.iter().find(|(p, _)| *p == name).map(|(_, d)| *d))
                .collect();
            v.sort();
            (name, v[v.len() / 2])
        })
        .collect();
    let at = |q: f64| walls[((walls.len() - 1) as f64 * q).round() as usize];
    Ok(Overhead {
        cases: n,
        nodes: nodes.len(),
        median: at(0.5),
        p90: at(0.9),
        min: walls[0],
        max: walls[walls.len() - 1],
        phases,
    })
}
