//! `gflab hosts install`: probe each host over ssh, decide whether anything must change, upload the
//! static agent and the secret, run the agent's install mode, then ping the agent.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gflab_agent::{shell, Info, NodeEntry, Role, Secret};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::check::{connect_and_ping, Unreachable};
use super::ssh::{remote_failure, Ssh};
use super::HostsError;

/// Where the agent's install mode puts the binary.
pub const INSTALLED_AGENT: &str = "/usr/local/bin/gflab-agent";
/// Where the agent's install mode puts the secret (mode 0600).
pub const INSTALLED_SECRET: &str = "/etc/gflab/secret";

/// Prints what the install decision needs, one `key=value` a line.
pub const PROBE_SCRIPT: &str = r#"set -u
echo probe=gflab-1
if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=other; fi
echo arch=$(uname -m)
for kv in agent:/usr/local/bin/gflab-agent secret:/etc/gflab/secret; do
    k=${kv%%:*}; f=${kv#*:}
    if [ -f "$f" ]; then echo "$k=$(sha256sum <"$f" | cut -d' ' -f1)"; else echo "$k=none"; fi
done
"#;

/// A host as the probe found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteState {
    /// Whether systemd is the host's init.
    pub systemd: bool,
    /// `uname -m`.
    pub arch: String,
    /// sha256 of the installed agent binary.
    pub agent_sha256: Option<String>,
    /// sha256 of the installed secret.
    pub secret_sha256: Option<String>,
}

/// Parses [`PROBE_SCRIPT`]'s output.
pub fn parse_probe(out: &str) -> Result<RemoteState, String> {
    let mut seen_marker = false;
    let (mut init, mut arch, mut agent, mut secret) = (None, None, None, None);
    for line in out.lines() {
        let Some((k, v)) = line.trim().split_once('=') else {
            continue;
        };
        let v = v.trim().to_string();
        match k {
            "probe" => seen_marker = v == "gflab-1",
            "init" => init = Some(v == "systemd"),
            "arch" => arch = Some(v),
            "agent" => agent = Some(v),
            "secret" => secret = Some(v),
            _ => {}
        }
    }
    let digest = |v: Option<String>, what: &str| -> Result<Option<String>, String> {
        match v.as_deref() {
            None => Err(format!("no {what} line")),
            Some("none") => Ok(None),
            Some(h) if h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()) => {
                Ok(Some(h.to_string()))
            }
            Some(h) => Err(format!("bad {what} digest {h:?}")),
        }
    };
    if !seen_marker {
        return Err("the probe marker is missing".into());
    }
    Ok(RemoteState {
        systemd: init.ok_or("no init line")?,
        arch: arch.filter(|a| !a.is_empty()).ok_or("no arch line")?,
        agent_sha256: digest(agent, "agent")?,
        secret_sha256: digest(secret, "secret")?,
    })
}

/// Why the agent gets (re)installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// No agent on the host yet.
    Fresh,
    /// The binary differs.
    BinaryChanged,
    /// The secret differs.
    SecretChanged,
    /// Both differ.
    BinaryAndSecretChanged,
    /// `--force`.
    Forced,
}

/// What to do on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "reason", rename_all = "kebab-case")]
pub enum Action {
    /// Same binary, same secret: nothing is uploaded; the installed agent's install mode runs in
    /// place, which changes nothing unless its settings changed or the agent is not running.
    InPlace,
    /// Upload and run the install mode (which restarts a running agent).
    Install(Reason),
}

/// The decision: upload only when the binary or the secret differs (the install mode restarts the
/// agent then); otherwise refresh in place.
pub fn decide(remote: &RemoteState, local: &Artifacts, force: bool) -> Action {
    if force {
        return Action::Install(Reason::Forced);
    }
    let Some(agent) = &remote.agent_sha256 else {
        return Action::Install(Reason::Fresh);
    };
    let binary_changed = *agent != local.agent_sha256;
    let secret_changed = remote.secret_sha256.as_deref() != Some(local.secret_sha256.as_str());
    match (binary_changed, secret_changed) {
        (true, true) => Action::Install(Reason::BinaryAndSecretChanged),
        (true, false) => Action::Install(Reason::BinaryChanged),
        (false, true) => Action::Install(Reason::SecretChanged),
        (false, false) => Action::InPlace,
    }
}

/// The local files to install, with their digests.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// The agent binary.
    pub agent_path: PathBuf,
    /// Its sha256 (hex).
    pub agent_sha256: String,
    /// `uname -m` it runs on.
    pub agent_arch: String,
    /// Whether it is statically linked (no ELF interpreter).
    pub agent_static: bool,
    /// The secret file.
    pub secret_path: PathBuf,
    /// Its sha256 (hex).
    pub secret_sha256: String,
}

impl Artifacts {
    /// Reads and checks the agent binary (an x86-64 or aarch64 ELF) and the secret.
    pub fn load(agent: &Path, secret: &Path) -> Result<Artifacts, HostsError> {
        let bin = std::fs::read(agent).map_err(|source| HostsError::ReadAgent {
            path: agent.to_path_buf(),
            source,
        })?;
        let (agent_arch, agent_static) = elf_facts(&bin).map_err(|why| HostsError::BadAgent {
            path: agent.to_path_buf(),
            why,
        })?;
        // Validates the secret like the agent will (length), then hashes the bytes as stored.
        Secret::read_file(secret).map_err(|source| HostsError::ReadSecret {
            path: secret.to_path_buf(),
            source,
        })?;
        let secret_bytes = std::fs::read(secret).map_err(|source| HostsError::ReadSecret {
            path: secret.to_path_buf(),
            source,
        })?;
        Ok(Artifacts {
            agent_path: agent.to_path_buf(),
            agent_sha256: hex_sha256(&bin),
            agent_arch,
            agent_static,
            secret_path: secret.to_path_buf(),
            secret_sha256: hex_sha256(&secret_bytes),
        })
    }
}

/// Lower-case hex sha256.
pub fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// (machine as `uname -m` prints it, statically linked) of a 64-bit little-endian ELF file.
pub fn elf_facts(bin: &[u8]) -> Result<(String, bool), String> {
    let u16_at = |o: usize| bin.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        bin.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        bin.get(o..o + 8).map(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            u64::from_le_bytes(a)
        })
    };
    if bin.get(0..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF executable".into());
    }
    if bin.get(4) != Some(&2) || bin.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF executable".into());
    }
    let machine = match u16_at(18) {
        Some(62) => "x86_64",
        Some(183) => "aarch64",
        other => return Err(format!("unsupported ELF machine {other:?}")),
    };
    let truncated = || "truncated ELF header".to_string();
    let phoff = u64_at(0x20).ok_or_else(truncated)? as usize;
    let phentsize = u16_at(0x36).ok_or_else(truncated)? as usize;
    let phnum = u16_at(0x38).ok_or_else(truncated)? as usize;
    const PT_INTERP: u32 = 3;
    let mut interp = false;
    for i in 0..phnum {
        let p_type = u32_at(phoff + i * phentsize).ok_or_else(truncated)?;
        interp |= p_type == PT_INTERP;
    }
    Ok((machine.to_string(), !interp))
}

/// Install settings.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// How to run ssh/scp.
    pub ssh: Ssh,
    /// `NAME=CMDLINE` services the agent supervises on server nodes (hosts without systemd).
    pub services: Vec<String>,
    /// Services the agent starts on server nodes.
    pub start: Vec<String>,
    /// Reinstall even when nothing changed.
    pub force: bool,
    /// How long a freshly installed agent has to answer.
    pub ready_timeout: Duration,
}

/// What happened on one host.
#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    /// Node name.
    pub node: String,
    /// The ssh target used.
    pub ssh: String,
    /// What was done.
    pub action: Action,
    /// What was done, in words (`already installed, same version`).
    pub summary: String,
    /// How the agent runs: `systemd unit` or `detached daemon`.
    pub mode: &'static str,
    /// The agent's version as it reports it.
    pub agent_version: String,
    /// The host's name as the agent reports it.
    pub hostname: String,
    /// What the install mode printed.
    pub output: String,
}

/// The address the agent listens on: all addresses, on the node list's port.
pub fn listen_addr(agent: &str) -> Result<String, String> {
    let (host, port) = agent
        .rsplit_once(':')
        .ok_or_else(|| format!("{agent:?} is not HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{agent:?} has no valid port"))?;
    Ok(if host.contains(':') {
        format!("[::]:{port}")
    } else {
        format!("0.0.0.0:{port}")
    })
}

/// What the agent's install mode runs from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The binary and secret uploaded into this directory (removed afterwards).
    Upload(&'a str),
    /// The binary and secret already installed.
    Installed,
}

/// The remote script that runs the agent's install mode (and removes an upload).
pub fn install_script(
    source: Source<'_>,
    node: &NodeEntry,
    opts: &InstallOptions,
) -> Result<String, String> {
    let (binary, secret, prelude) = match source {
        Source::Upload(dir) => {
            let binary = format!("{dir}/gflab-agent");
            let prelude = format!(
                "set -e\ntrap 'rm -rf {}' EXIT\nchmod 0755 {}\nchmod 0600 {}\n",
                shell::quote(dir),
                shell::quote(&binary),
                shell::quote(&format!("{dir}/secret"))
            );
            (binary, format!("{dir}/secret"), prelude)
        }
        Source::Installed => (
            INSTALLED_AGENT.to_string(),
            INSTALLED_SECRET.to_string(),
            "set -e\n".to_string(),
        ),
    };
    let mut args = vec![
        binary,
        "install".to_string(),
        "--secret-file".to_string(),
        secret,
        "--listen".to_string(),
        listen_addr(&node.agent)?,
    ];
    if node.role == Role::Server {
        for s in &opts.services {
            args.extend(["--service".to_string(), s.clone()]);
        }
        for s in &opts.start {
            args.extend(["--start".to_string(), s.clone()]);
        }
    }
    let cmdline: Vec<String> = args.iter().map(|a| shell::quote(a)).collect();
    Ok(format!("{prelude}{}\n", cmdline.join(" ")))
}

/// What happened, in words, from the action and what the install mode printed.
pub fn summary(action: Action, output: &str) -> String {
    let started = output.contains("started the agent") || output.contains("+ restart ");
    let rewrote = output.lines().any(|l| l.starts_with("wrote "));
    match action {
        Action::Install(Reason::Forced) if !started => {
            "reinstalled (forced); nothing had changed, the agent kept running".into()
        }
        Action::InPlace if rewrote => "same version, settings changed: restarted".into(),
        Action::InPlace if started => "same version, agent was not running: started".into(),
        Action::InPlace => "already installed, same version".into(),
        Action::Install(reason) => format!(
            "installed ({})",
            match reason {
                Reason::Fresh => "new",
                Reason::BinaryChanged => "binary changed, restarted",
                Reason::SecretChanged => "secret changed, restarted",
                Reason::BinaryAndSecretChanged => "binary and secret changed, restarted",
                Reason::Forced => "forced, restarted",
            }
        ),
    }
}

/// Installs (or leaves alone) the agent on one host, then waits until it answers.
pub async fn install_host(
    node: &NodeEntry,
    secret: &Secret,
    local: &Artifacts,
    opts: &InstallOptions,
) -> Result<InstallReport, HostsError> {
    let target = node.ssh.clone().ok_or_else(|| HostsError::NoSshTarget {
        node: node.name.clone(),
    })?;
    let step = "probe the host";
    let out = opts.ssh.script(&target, step, PROBE_SCRIPT).await?;
    if out.code != Some(0) {
        return Err(remote_failure(&target, step, &out));
    }
    let remote = parse_probe(&out.stdout).map_err(|why| HostsError::Probe {
        target: target.clone(),
        why,
        output: out.stdout.clone(),
    })?;
    if remote.arch != local.agent_arch {
        return Err(HostsError::Arch {
            node: node.name.clone(),
            host_arch: remote.arch,
            agent_arch: local.agent_arch.clone(),
        });
    }
    let action = decide(&remote, local, opts.force);
    tracing::info!(node = %node.name, ?action, "install decision");
    let output = match action {
        Action::Install(_) => upload_and_install(node, &target, local, opts).await?,
        Action::InPlace => run_install_mode(node, &target, Source::Installed, opts).await?,
    };
    let info = wait_ready(node, secret, opts.ready_timeout).await?;
    Ok(InstallReport {
        node: node.name.clone(),
        ssh: target,
        action,
        summary: summary(action, &output),
        mode: if info.systemd {
            "systemd unit"
        } else {
            "detached daemon"
        },
        agent_version: info.agent_version,
        hostname: info.hostname,
        output,
    })
}

/// Uploads into a fresh temporary directory (made as the login user, so scp may write it), then
/// runs the install mode as root; the directory is removed either way.
async fn upload_and_install(
    node: &NodeEntry,
    target: &str,
    local: &Artifacts,
    opts: &InstallOptions,
) -> Result<String, HostsError> {
    // Everything that can fail locally fails before the host is touched.
    listen_addr(&node.agent).map_err(|why| HostsError::BadNode {
        node: node.name.clone(),
        why,
    })?;
    // scp keeps the source names: copy through a local staging directory with the right names.
    let stage = tempfile::tempdir().map_err(|source| HostsError::Stage { source })?;
    let mut files = Vec::new();
    for (src, name) in [
        (local.agent_path.as_path(), "gflab-agent"),
        (local.secret_path.as_path(), "secret"),
    ] {
        let dst = stage.path().join(name);
        std::fs::copy(src, &dst).map_err(|source| HostsError::Stage { source })?;
        files.push(dst);
    }
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();

    let step = "make an upload directory";
    let out = opts
        .ssh
        .command(target, step, "mktemp -d /tmp/gflab-install.XXXXXX")
        .await?;
    let dir = out.stdout.trim().to_string();
    if out.code != Some(0) || !dir.starts_with("/tmp/gflab-install.") {
        return Err(remote_failure(target, step, &out));
    }
    if let Err(e) = opts.ssh.copy(target, &refs, &dir).await {
        let rm = format!("rm -rf {}", shell::quote(&dir));
        let _ = opts
            .ssh
            .command(target, "remove the upload directory", &rm)
            .await;
        return Err(e);
    }
    run_install_mode(node, target, Source::Upload(&dir), opts).await
}

/// Runs the agent's install mode as root; returns what it printed.
async fn run_install_mode(
    node: &NodeEntry,
    target: &str,
    source: Source<'_>,
    opts: &InstallOptions,
) -> Result<String, HostsError> {
    let script = install_script(source, node, opts).map_err(|why| HostsError::BadNode {
        node: node.name.clone(),
        why,
    })?;
    let step = "run the agent's install mode";
    let out = opts.ssh.script(target, step, &script).await?;
    if out.code != Some(0) {
        return Err(remote_failure(target, step, &out));
    }
    Ok(out.combined())
}

/// Pings until the agent answers or the deadline passes.
async fn wait_ready(
    node: &NodeEntry,
    secret: &Secret,
    timeout: Duration,
) -> Result<Info, HostsError> {
    let deadline = Instant::now() + timeout;
    loop {
        match connect_and_ping(&node.agent, secret, Duration::from_secs(2)).await {
            Ok((_, info)) => return Ok(info),
            Err((reason, detail)) if Instant::now() >= deadline || !retryable(reason) => {
                return Err(HostsError::NotAnswering {
                    node: node.name.clone(),
                    addr: node.agent.clone(),
                    reason: reason.label(),
                    detail,
                    hint: reason.hint(),
                })
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

/// Causes a starting agent shows for a moment.
fn retryable(reason: Unreachable) -> bool {
    matches!(
        reason,
        Unreachable::Refused | Unreachable::TimedOut | Unreachable::Network
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn local() -> Artifacts {
        Artifacts {
            agent_path: "/x/gflab-agent".into(),
            agent_sha256: A.into(),
            agent_arch: "x86_64".into(),
            agent_static: true,
            secret_path: "/x/secret".into(),
            secret_sha256: B.into(),
        }
    }

    fn remote(agent: Option<&str>, secret: Option<&str>) -> RemoteState {
        RemoteState {
            systemd: false,
            arch: "x86_64".into(),
            agent_sha256: agent.map(String::from),
            secret_sha256: secret.map(String::from),
        }
    }

    #[test]
    fn same_files_are_refreshed_in_place_unless_forced() {
        let l = local();
        assert_eq!(
            decide(&remote(Some(A), Some(B)), &l, false),
            Action::InPlace
        );
        assert_eq!(
            decide(&remote(Some(A), Some(B)), &l, true),
            Action::Install(Reason::Forced)
        );
    }

    #[test]
    fn changed_files_are_named() {
        let l = local();
        let cases = [
            (None, None, Reason::Fresh),
            (None, Some(B), Reason::Fresh),
            (Some(B), Some(B), Reason::BinaryChanged),
            (Some(A), Some(A), Reason::SecretChanged),
            (Some(A), None, Reason::SecretChanged),
            (Some(B), None, Reason::BinaryAndSecretChanged),
        ];
        for (agent, secret, reason) in cases {
            assert_eq!(
                decide(&remote(agent, secret), &l, false),
                Action::Install(reason),
                "agent {agent:?} secret {secret:?}"
            );
        }
    }

    #[test]
    fn summary_says_whether_anything_restarted() {
        let unchanged =
            "unchanged: /usr/local/bin/gflab-agent\nunchanged: /etc/gflab/secret (mode 0600)\n\
                         unchanged: /etc/gflab/agent.args\nagent already running (pid 66); ...";
        assert_eq!(
            summary(Action::InPlace, unchanged),
            "already installed, same version"
        );
        let args = "unchanged: /usr/local/bin/gflab-agent\nwrote /etc/gflab/agent.args\n\
                    started the agent detached (pid 70, ...)";
        assert_eq!(
            summary(Action::InPlace, args),
            "same version, settings changed: restarted"
        );
        let down = "unchanged: /etc/gflab/agent.args\nstarted the agent detached (pid 70, ...)";
        assert_eq!(
            summary(Action::InPlace, down),
            "same version, agent was not running: started"
        );
        assert_eq!(
            summary(Action::Install(Reason::Fresh), ""),
            "installed (new)"
        );
        let forced = "unchanged: /usr/local/bin/gflab-agent\nagent already running (pid 66); ...";
        assert!(summary(Action::Install(Reason::Forced), forced).contains("kept running"));
        let forced = "systemctl enable + restart gflab-agent.service: agent listening on ...";
        assert_eq!(
            summary(Action::Install(Reason::Forced), forced),
            "installed (forced, restarted)"
        );
        assert_eq!(
            summary(Action::Install(Reason::SecretChanged), ""),
            "installed (secret changed, restarted)"
        );
    }

    #[test]
    fn probe_output_parses_and_rejects_garbage() {
        let out = format!("probe=gflab-1\ninit=systemd\narch=x86_64\nagent={A}\nsecret=none\n");
        assert_eq!(
            parse_probe(&out),
            Ok(RemoteState {
                systemd: true,
                arch: "x86_64".into(),
                agent_sha256: Some(A.into()),
                secret_sha256: None,
            })
        );
        assert!(parse_probe("init=other\narch=x86_64\nagent=none\nsecret=none").is_err());
        let bad = "probe=gflab-1\ninit=other\narch=x86_64\nagent=xyz\nsecret=none";
        assert!(parse_probe(bad).unwrap_err().contains("agent"));
        assert!(
            parse_probe("probe=gflab-1\ninit=other\narch=x86_64\nagent=none")
                .unwrap_err()
                .contains("secret")
        );
    }

    #[test]
    fn probe_script_runs_in_a_real_shell() {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(PROBE_SCRIPT)
            .output()
            .unwrap();
        assert!(out.status.success());
        let state = parse_probe(&String::from_utf8_lossy(&out.stdout)).unwrap();
        assert_eq!(state.arch, std::env::consts::ARCH);
    }

    #[test]
    fn listen_address_keeps_the_port() {
        assert_eq!(listen_addr("10.250.0.11:7070").unwrap(), "0.0.0.0:7070");
        assert_eq!(listen_addr("[fd00::1]:7070").unwrap(), "[::]:7070");
        assert!(listen_addr("host").is_err());
        assert!(listen_addr("host:x").is_err());
    }

    #[test]
    fn services_go_to_servers_only() {
        let opts = InstallOptions {
            ssh: Ssh::default(),
            services: vec!["glusterd=glusterd -N".into()],
            start: vec!["glusterd".into()],
            force: false,
            ready_timeout: Duration::from_secs(1),
        };
        let mut node = NodeEntry {
            name: "server1".into(),
            role: Role::Server,
            host: "server1".into(),
            agent: "10.0.0.1:7070".into(),
            brick_root: None,
            ssh: None,
            capabilities: vec![],
            glusterfs: None,
        };
        let s = install_script(Source::Upload("/tmp/gflab-install.ab"), &node, &opts).unwrap();
        assert!(s.contains(
            "/tmp/gflab-install.ab/gflab-agent install --secret-file /tmp/gflab-install.ab/secret \
             --listen 0.0.0.0:7070 --service 'glusterd=glusterd -N' --start glusterd"
        ));
        assert!(s.contains("trap 'rm -rf /tmp/gflab-install.ab' EXIT"));
        let s = install_script(Source::Installed, &node, &opts).unwrap();
        assert!(s.contains(
            "\n/usr/local/bin/gflab-agent install --secret-file /etc/gflab/secret \
             --listen 0.0.0.0:7070 --service 'glusterd=glusterd -N' --start glusterd\n"
        ));
        assert!(!s.contains("rm -rf"), "nothing to remove in place");
        node.role = Role::Client;
        let s = install_script(Source::Installed, &node, &opts).unwrap();
        assert!(!s.contains("--service") && !s.contains("--start"));
    }

    #[test]
    fn elf_facts_of_real_binaries() {
        let sh = std::fs::read("/bin/sh").unwrap();
        let (arch, is_static) = elf_facts(&sh).unwrap();
        assert_eq!(arch, std::env::consts::ARCH);
        assert!(!is_static, "/bin/sh is dynamically linked");
        assert!(elf_facts(b"#!/bin/sh\n").is_err());
        assert!(elf_facts(&sh[..20]).is_err());
    }
}
