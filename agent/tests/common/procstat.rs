//! Reading a process's memory figures from /proc (shared by the tests and the benchmark).

/// A `kB` field of `/proc/PID/status` (`VmRSS`, `VmHWM`, ...), in KiB; 0 when unreadable.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
