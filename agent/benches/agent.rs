//! `cargo bench -p gflab-agent`: round trip of `exec true`, throughput of 64 concurrent small execs on
//! one connection, and the daemon's idle resident set, measured against the real (optimised) daemon
//! binary as a subprocess on 127.0.0.1. Targets on a 2-core machine: median < 2 ms, idle RSS < 10 MB.
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use gflab_agent::{Client, ClientOptions, Command, Secret};

const ROUND_TRIPS: usize = 500;
const CONCURRENT: usize = 64;
const CONCURRENT_ROUNDS: usize = 20;

#[path = "../tests/common/procstat.rs"]
mod procstat;

fn vm_rss_kib(pid: u32) -> u64 {
    procstat::status_kib(pid, "VmRSS")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run either way.
    let dir = tempfile::tempdir()?;
    let secret = Secret::generate();
    let secret_path = dir.path().join("secret");
    secret.write_file(&secret_path)?;
    let bin = env!("CARGO_BIN_EXE_gflab-agent");
    let mut daemon = std::process::Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--secret-file"])
        .arg(&secret_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(daemon.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or("unexpected first line")?
        .to_string();
    let pid = daemon.id();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let client = Client::connect(&addr, secret, ClientOptions::default()).await?;
        client.ping().await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let idle_rss = vm_rss_kib(pid);

        // Warm up, then time `exec true` one after the other.
        for _ in 0..20 {
            client.exec(Command::new("true")).await?;
        }
        let mut times = Vec::with_capacity(ROUND_TRIPS);
        for _ in 0..ROUND_TRIPS {
            let t = Instant::now();
            let out = client.exec(Command::new("true")).await?;
            times.push(t.elapsed());
            assert!(out.success());
        }
        times.sort();
        let median = percentile(&times, 0.5);
        let p99 = percentile(&times, 0.99);

        // 64 concurrent small execs on the one connection, repeated.
        let t = Instant::now();
        for _ in 0..CONCURRENT_ROUNDS {
            let runs = (0..CONCURRENT).map(|i| {
                let c = client.clone();
                async move { c.exec(Command::new("echo").arg(i.to_string())).await }
            });
            for r in futures::future::join_all(runs).await {
                assert!(r?.success());
            }
        }
        let elapsed = t.elapsed();
        let per_sec = (CONCURRENT * CONCURRENT_ROUNDS) as f64 / elapsed.as_secs_f64();
        let busy_rss = vm_rss_kib(pid);
        println!("gflab-agent benchmark (release daemon on 127.0.0.1, pid {pid})");
        println!(
            "exec true round trip: median {:.3} ms, p99 {:.3} ms, min {:.3} ms ({ROUND_TRIPS} runs; target: median < 2 ms)",
            median.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
        );
        println!(
            "64 concurrent execs on one connection: {per_sec:.0} execs/s ({} execs in {:.2} s)",
            CONCURRENT * CONCURRENT_ROUNDS,
            elapsed.as_secs_f64()
        );
        println!(
            "daemon idle RSS: {:.1} MB (VmRSS {idle_rss} kB; target < 10 MB); after the load: {busy_rss} kB",
            idle_rss as f64 / 1024.0
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    result
}
