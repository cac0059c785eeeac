//! `gflab-agent install` laying files under a scratch root (no systemctl, nothing started): the binary,
//! the secret with mode 0600, the unit where systemd runs; a second run changes nothing.
use std::os::unix::fs::PermissionsExt;

use gflab_agent::Secret;

const BIN: &str = env!("CARGO_BIN_EXE_gflab-agent");

fn install(root: &std::path::Path, secret: &std::path::Path, extra: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .args([
            "install",
            "--listen",
            "127.0.0.1:7411",
            "--no-start",
            "--root",
        ])
        .arg(root)
        .arg("--secret-file")
        .arg(secret)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn install_lays_files_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("run/systemd/system")).unwrap();
    let secret = Secret::generate();
    let secret_src = dir.path().join("secret");
    secret.write_file(&secret_src).unwrap();

    let services = [
        "--service",
        "glusterd=glusterd -N -p \"/run/x y.pid\"",
        "--start",
        "glusterd",
    ];
    let first = install(&root, &secret_src, &services);
    assert!(first.contains("installed"), "{first}");
    let bin = root.join("usr/local/bin/gflab-agent");
    assert_eq!(std::fs::read(&bin).unwrap(), std::fs::read(BIN).unwrap());
    assert_eq!(mode(&bin), 0o755);
    let installed_secret = root.join("etc/gflab/secret");
    assert_eq!(std::fs::read(&installed_secret).unwrap(), secret.expose());
    assert_eq!(mode(&installed_secret), 0o600);
    let unit =
        std::fs::read_to_string(root.join("etc/systemd/system/gflab-agent.service")).unwrap();
    assert!(
        unit.contains(
            "ExecStart=/usr/local/bin/gflab-agent --listen 127.0.0.1:7411 --secret-file \
             /etc/gflab/secret\n"
        ),
        "{unit}"
    );
    // Under systemd, services are systemd's: the supervisor arguments are not used, and it says so.
    assert!(first.contains("not used: --service/--start"), "{first}");
    assert!(unit.contains("WantedBy=multi-user.target"));

    let second = install(&root, &secret_src, &services);
    assert!(
        !second.contains("installed") && !second.contains("wrote"),
        "{second}"
    );
    assert_eq!(second.matches("unchanged").count(), 3, "{second}");
    // A different listen address rewrites the unit (and, with systemd, restarts the agent).
    let out = std::process::Command::new(BIN)
        .args([
            "install",
            "--listen",
            "127.0.0.1:7412",
            "--no-start",
            "--root",
        ])
        .arg(&root)
        .arg("--secret-file")
        .arg(&secret_src)
        .output()
        .unwrap();
    let third = String::from_utf8_lossy(&out.stdout);
    assert!(
        third.contains("wrote") && third.contains("gflab-agent.service"),
        "{third}"
    );

    // Without systemd the arguments are recorded instead.
    let plain = dir.path().join("plain");
    let out = install(&plain, &secret_src, &services);
    assert!(out.contains("agent.args"), "{out}");
    let args = std::fs::read_to_string(plain.join("etc/gflab/agent.args")).unwrap();
    assert_eq!(
        args,
        "127.0.0.1:7411\n--service\nglusterd=glusterd -N -p \"/run/x y.pid\"\n--start\nglusterd\n"
    );
    assert!(!plain.join("etc/systemd").exists());
    let again = install(&plain, &secret_src, &services);
    assert!(
        !again.contains("wrote") && !again.contains("installed"),
        "{again}"
    );
}

#[test]
fn install_with_a_bad_secret_names_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let out = std::process::Command::new(BIN)
        .args(["install", "--no-start", "--root"])
        .arg(&root)
        .args(["--secret-file", "/nonexistent/gflab-secret"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/gflab-secret"), "{err}");
    assert!(!root.exists(), "install left files behind");
}
