//! What gflab does when the reader of its output goes away (`gflab test --list | head`).
use std::process::{Command, Stdio};

#[test]
fn a_listing_into_a_closed_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gflab"))
        .args(["test", "--list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gflab");
    // Close the read end before gflab writes: every line goes to a pipe nobody reads.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for gflab");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
