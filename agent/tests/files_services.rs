//! put/get files and service control against the real daemon in-process.
mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use gflab_agent::server::ServiceDef;
use gflab_agent::{Command, ServiceAction};

#[tokio::test]
async fn put_then_get_round_trips_with_mode() {
    let agent = common::start().await;
    let c = agent.client().await;
    let path = agent.dir.path().join("sub-file");
    let path_s = path.to_str().unwrap();
    // Larger than one chunk, not a multiple of it.
    let data: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
    c.put_file(path_s, data.clone(), 0o640).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
    assert_eq!(c.get_file(path_s).await.unwrap(), data);
    // Overwrite atomically with a different mode; an empty file works too.
    c.put_file(path_s, Vec::new(), 0o600).await.unwrap();
    assert_eq!(c.get_file(path_s).await.unwrap(), Vec::<u8>::new());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600);
    // No temporary files left behind.
    // (`log` holds the agent's own logs.)
    let names: Vec<_> = std::fs::read_dir(agent.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "log")
        .collect();
    assert_eq!(names, vec!["sub-file".to_string()]);
}

#[tokio::test]
async fn file_errors_name_the_path_and_leave_no_debris() {
    let agent = common::start().await;
    let c = agent.client().await;
    let missing = agent.dir.path().join("missing");
    let err = c.get_file(missing.to_str().unwrap()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("get file") && text.contains("missing"),
        "{text}"
    );
    assert!(text.contains("No such file"), "{text}");
    let err = c
        .put_file("relative/path", b"x".to_vec(), 0o644)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not absolute"), "{err}");
    let no_dir = agent.dir.path().join("no-such-dir/file");
    let err = c
        .put_file(no_dir.to_str().unwrap(), b"x".to_vec(), 0o644)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no-such-dir"), "{err}");
    let left = std::fs::read_dir(agent.dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "log")
        .count();
    assert_eq!(left, 0, "debris left behind");
    c.ping().await.unwrap();
}

#[tokio::test]
async fn supervised_service_start_stop_restart_status() {
    let agent = common::start_with(|c| {
        c.services = vec![
            "sleeper=sleep 300".parse::<ServiceDef>().unwrap(),
            // Ignores SIGTERM: must be killed after the grace period.
            "stubborn=sh -c \"trap '' TERM; echo started; while :; do sleep 0.1; done\""
                .parse::<ServiceDef>()
                .unwrap(),
        ];
        c.stop_grace = Duration::from_millis(300);
    })
    .await;
    let c = agent.client().await;
    let st = c.service("sleeper", ServiceAction::Status).await.unwrap();
    assert!(!st.running && st.pid.is_none());
    let st = c.service("sleeper", ServiceAction::Start).await.unwrap();
    assert!(st.running);
    let pid = st.pid.unwrap();
    assert!(!common::process_gone(pid));
    // Starting again is a no-op.
    let again = c.service("sleeper", ServiceAction::Start).await.unwrap();
    assert_eq!(again.pid, Some(pid));
    let st = c.service("sleeper", ServiceAction::Restart).await.unwrap();
    let pid2 = st.pid.unwrap();
    assert_ne!(pid, pid2);
    assert!(common::process_gone(pid));
    // Killed from outside: status notices.
    c.exec(Command::new("kill").arg(pid2.to_string()))
        .await
        .unwrap();
    let mut stopped = false;
    for _ in 0..100 {
        if !c
            .service("sleeper", ServiceAction::Status)
            .await
            .unwrap()
            .running
        {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        stopped,
        "status still says running after the process was killed"
    );

    let st = c.service("stubborn", ServiceAction::Start).await.unwrap();
    let pid = st.pid.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let st = c.service("stubborn", ServiceAction::Stop).await.unwrap();
    assert!(!st.running && st.pid.is_none());
    assert!(common::process_gone(pid));
    let log = std::fs::read_to_string(agent.dir.path().join("log/stubborn.log")).unwrap();
    assert!(log.contains("started"), "{log}");
}

#[tokio::test]
async fn a_service_that_dies_at_once_is_reported_with_its_output() {
    let agent = common::start_with(|c| {
        c.services = vec!["broken=/nonexistent/gflab-daemon --foreground"
            .parse::<ServiceDef>()
            .unwrap()];
    })
    .await;
    let c = agent.client().await;
    let err = c.service("broken", ServiceAction::Start).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("start service broken"), "{text}");
    assert!(text.contains("exited at once"), "{text}");
    assert!(text.contains("/nonexistent/gflab-daemon"), "{text}");
    let st = c.service("broken", ServiceAction::Status).await.unwrap();
    assert!(!st.running);
}

#[tokio::test]
async fn unknown_service_without_systemd_is_a_clear_error() {
    let agent = common::start_with(|c| c.systemctl = None).await;
    let c = agent.client().await;
    let err = c
        .service("gflab-no-such-service", ServiceAction::Start)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("gflab-no-such-service"), "{text}");
    assert!(text.contains("neither systemd nor OpenRC"), "{text}");
    assert!(text.contains("hint: "), "{text}");
}

#[tokio::test]
async fn ping_reports_facts() {
    let agent = common::start().await;
    let c = agent.client().await;
    let info = c.ping().await.unwrap();
    assert_eq!(
        info.hostname,
        nix::unistd::gethostname().unwrap().to_string_lossy()
    );
    assert_eq!(info.agent_version, env!("CARGO_PKG_VERSION"));
    assert!(!info.os_release.is_empty());
    assert_eq!(
        info.systemd,
        std::path::Path::new("/run/systemd/system").is_dir()
    );
}

#[tokio::test]
async fn other_services_go_to_systemctl_where_systemd_runs() {
    // A stand-in systemctl that keeps one unit's state in a file and logs its calls.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let state = dir.path().join("active");
    let script = dir.path().join("systemctl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> {log}\n\
             if [ \"$2\" = broken ]; then echo 'Job for broken.service failed.' >&2; exit 1; fi\n\
             case \"$1\" in\n\
             start|restart) touch {state} ;;\n\
             stop) rm -f {state} ;;\n\
             show) if [ -e {state} ]; then printf 'MainPID=4242\\nActiveState=active\\n';\n\
                   else printf 'MainPID=0\\nActiveState=inactive\\n'; fi ;;\n\
             esac\n",
            log = log.display(),
            state = state.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let agent = common::start_with(|c| c.systemctl = Some(script.clone())).await;
    let c = agent.client().await;
    assert!(c.ping().await.unwrap().systemd);
    let st = c.service("glusterd", ServiceAction::Status).await.unwrap();
    assert!(!st.running && st.pid.is_none(), "{st:?}");
    let st = c.service("glusterd", ServiceAction::Start).await.unwrap();
    assert_eq!(
        (st.name.as_str(), st.running, st.pid),
        ("glusterd", true, Some(4242))
    );
    let st = c.service("glusterd", ServiceAction::Stop).await.unwrap();
    assert!(!st.running, "{st:?}");
    let err = c
        .service("broken", ServiceAction::Restart)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("restart service broken"), "{text}");
    assert!(text.contains("Job for broken.service failed."), "{text}");
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls,
        "show --property=MainPID --property=ActiveState glusterd\n\
         start glusterd\n\
         show --property=MainPID --property=ActiveState glusterd\n\
         stop glusterd\n\
         show --property=MainPID --property=ActiveState glusterd\n\
         restart broken\n"
    );
}

#[tokio::test]
async fn every_request_is_in_the_audit_log_which_rotates() {
    let agent = common::start_with(|c| c.audit_max_bytes = 4096).await;
    let c = agent.client().await;
    c.ping().await.unwrap();
    c.exec(gflab_agent::Command::shell("exit 3")).await.unwrap();
    let _ = c.get_file("/nonexistent/audit-test").await;
    let log = agent.dir.path().join("log/audit.log");
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("request=\"ping\"") && lines[0].contains("outcome=\"ok\""));
    assert!(
        lines[1].contains("request=\"exec sh -c exit 3\"")
            && lines[1].contains("outcome=\"exit 3\""),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("get file /nonexistent/audit-test") && lines[2].contains("error:"));
    assert!(lines
        .iter()
        .all(|l| l.contains("peer=127.0.0.1:") && l.contains("duration_ms=")));
    // Past 4 KiB the log rotates: audit.log.1 appears, at most 3 generations are kept.
    for i in 0..200 {
        c.exec(gflab_agent::Command::new("true").arg(format!("{i:0100}")))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let gen = |n: u32| agent.dir.path().join(format!("log/audit.log.{n}"));
    assert!(gen(1).exists() && gen(3).exists() && !gen(4).exists());
    assert!(std::fs::metadata(&log).unwrap().len() <= 4096);
}
