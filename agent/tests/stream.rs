//! 64 MiB of output streamed through the real daemon in-process, without either side holding it all:
//! this test binary runs alone in its process, so the peak resident set (VmHWM) covers client and
//! daemon together.
mod common;

use std::time::Duration;

use gflab_agent::{Command, ExecEvent, ExitStatus};

const TOTAL: u64 = 64 * 1024 * 1024;

fn vm_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn sixty_four_mib_stream_without_holding_it() {
    let agent = common::start().await;
    let c = agent.client().await;
    let before = vm_kib("VmHWM:");
    let mut stream = c
        .exec_stream(Command::shell(format!(
            "head -c {TOTAL} /dev/zero | tr '\\0' 'x'; echo done >&2"
        )))
        .await
        .unwrap();
    let mut stdout = 0u64;
    let mut largest = 0usize;
    let mut stderr = Vec::new();
    let mut status = None;
    let mut n = 0u64;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            ExecEvent::Stdout(b) => {
                assert!(b.iter().all(|&c| c == b'x'));
                stdout += b.len() as u64;
                largest = largest.max(b.len());
                n += 1;
                // A slow reader: at first (long enough for the whole output to be produced) and now
                // and then. The agent must wait for it, not pile the output up on either side.
                if n == 1 {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                } else if n & 0xff == 0 {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
            }
            ExecEvent::Stderr(b) => stderr.extend_from_slice(&b),
            ExecEvent::Exit { status: s, .. } => status = Some(s),
        }
    }
    assert_eq!(status, Some(ExitStatus::Code(0)));
    assert_eq!(stdout, TOTAL);
    assert_eq!(stderr, b"done\n");
    assert!(largest <= 64 * 1024, "chunk of {largest} bytes");
    let grew_mib = (vm_kib("VmHWM:").saturating_sub(before)) / 1024;
    eprintln!("peak resident set grew by {grew_mib} MiB");
    assert!(
        grew_mib < 24,
        "peak memory grew by {grew_mib} MiB while streaming 64 MiB: output is being held"
    );
}
