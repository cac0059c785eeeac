//! The system `ssh` and `scp`: command lines (options, quoting, targets) and running them.
//! Shelling out keeps the user's ~/.ssh/config, ssh-agent and keys working unchanged.
use std::path::Path;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;

use super::HostsError;

/// Environment variable with extra ssh options, whitespace separated, each `KEY=VALUE`.
pub const SSH_OPTIONS_ENV: &str = "GFLAB_SSH_OPTIONS";

/// ssh's own exit code for its failures (connect, authentication, host key).
const SSH_FAILURE: i32 = 255;

/// How gflab runs ssh and scp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssh {
    /// The ssh program.
    pub ssh_program: String,
    /// The scp program.
    pub scp_program: String,
    /// Seconds ssh waits for the TCP connection (`ConnectTimeout`).
    pub connect_timeout_secs: u32,
    /// Extra `-o KEY=VALUE` options, in order (flags first, then the environment's).
    pub options: Vec<String>,
}

impl Default for Ssh {
    fn default() -> Self {
        Ssh {
            ssh_program: "ssh".into(),
            scp_program: "scp".into(),
            connect_timeout_secs: 10,
            options: Vec::new(),
        }
    }
}

/// What a remote command printed and how it ended.
#[derive(Debug, Clone)]
pub struct SshOutput {
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl Ssh {
    /// Settings with extra options from `--ssh-option` flags and then `$GFLAB_SSH_OPTIONS`.
    pub fn with_options(flags: &[String], env: Option<&str>) -> Result<Ssh, HostsError> {
        let mut ssh = Ssh::default();
        for o in flags {
            ssh.options.push(checked_option(o, "--ssh-option")?);
        }
        for o in env.unwrap_or("").split_whitespace() {
            ssh.options.push(checked_option(o, SSH_OPTIONS_ENV)?);
        }
        Ok(ssh)
    }

    /// Options shared by ssh and scp: never prompt, bounded connect, dead peers noticed.
    fn common_args(&self) -> Vec<String> {
        let mut args = vec![
            "-o".to_string(),
            "BatchMode=yes".to_string(),
            "-o".to_string(),
            format!("ConnectTimeout={}", self.connect_timeout_secs),
            "-o".to_string(),
            "ServerAliveInterval=15".to_string(),
        ];
        for o in &self.options {
            args.push("-o".into());
            args.push(o.clone());
        }
        args
    }

    /// `ssh [options] -- TARGET REMOTE_COMMAND` (the remote shell parses `remote`).
    pub fn command_argv(&self, target: &str, remote: &str) -> Vec<String> {
        let mut argv = vec![self.ssh_program.clone()];
        argv.extend(self.common_args());
        argv.push("--".into());
        argv.push(target.into());
        argv.push(remote.into());
        argv
    }

    /// `scp -q [options] FILES... TARGET:DIR/`.
    pub fn copy_argv(&self, files: &[&Path], target: &str, remote_dir: &str) -> Vec<String> {
        let mut argv = vec![self.scp_program.clone(), "-q".to_string()];
        argv.extend(self.common_args());
        argv.push("--".into());
        argv.extend(files.iter().map(|f| f.display().to_string()));
        argv.push(format!("{}:{}/", scp_host(target), remote_dir));
        argv
    }

    /// Runs a command line on the target as the login user.
    pub async fn command(
        &self,
        target: &str,
        step: &str,
        remote: &str,
    ) -> Result<SshOutput, HostsError> {
        let out = run(&self.command_argv(target, remote), None).await?;
        connected(target, step, out)
    }

    /// Runs `script` with `sh -s` on the target (as root: through `sudo -n` when the login user
    /// is not root), feeding the script on stdin so nothing needs quoting twice.
    pub async fn script(
        &self,
        target: &str,
        step: &str,
        script: &str,
    ) -> Result<SshOutput, HostsError> {
        let remote = r#"if [ "$(id -u)" = 0 ]; then exec sh -s; else exec sudo -n sh -s; fi"#;
        let argv = self.command_argv(target, remote);
        let out = run(&argv, Some(script.as_bytes())).await?;
        connected(target, step, out)
    }

    /// Copies local files into a directory on the target.
    pub async fn copy(
        &self,
        target: &str,
        files: &[&Path],
        remote_dir: &str,
    ) -> Result<(), HostsError> {
        let argv = self.copy_argv(files, target, remote_dir);
        let step = "copy the agent and secret";
        let out = connected(target, step, run(&argv, None).await?)?;
        match out.code {
            Some(0) => Ok(()),
            _ => Err(remote_failure(target, step, &out)),
        }
    }
}

/// A `--ssh-option`/`$GFLAB_SSH_OPTIONS` entry must be `KEY=VALUE` as in ssh_config.
fn checked_option(o: &str, origin: &str) -> Result<String, HostsError> {
    match o.split_once('=') {
        Some((k, _)) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Ok(o.to_string())
        }
        _ => Err(HostsError::SshOption {
            option: o.to_string(),
            origin: origin.to_string(),
        }),
    }
}

/// `user@host` as scp wants it before the `:` (IPv6 addresses in brackets).
fn scp_host(target: &str) -> String {
    let (user, host) = match target.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, target),
    };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    match user {
        Some(u) => format!("{u}@{host}"),
        None => host,
    }
}

/// Runs a local program to completion with optional stdin.
async fn run(argv: &[String], stdin: Option<&[u8]>) -> Result<SshOutput, HostsError> {
    let spawn_err = |source| HostsError::Spawn {
        program: argv[0].clone(),
        source,
    };
    let mut child = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_err)?;
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A peer that exits early closes the pipe; its exit status tells why.
        let _ = pipe.write_all(data).await;
        drop(pipe);
    }
    let out = child.wait_with_output().await.map_err(spawn_err)?;
    Ok(SshOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Turns ssh's own failures (exit 255) into an error with a hint; passes anything else through.
fn connected(target: &str, step: &str, out: SshOutput) -> Result<SshOutput, HostsError> {
    if out.code != Some(SSH_FAILURE) {
        return Ok(out);
    }
    let stderr = out.stderr.trim().to_string();
    Err(HostsError::SshConnect {
        target: target.to_string(),
        step: step.to_string(),
        hint: ssh_hint(&stderr).to_string(),
        stderr,
    })
}

/// A `hint:` for ssh's common failures.
pub fn ssh_hint(stderr: &str) -> &'static str {
    if stderr.contains("Permission denied") {
        "hint: ssh logs in without a password prompt (BatchMode): add your key to the host \
         (ssh-copy-id) or name one with --ssh-option IdentityFile=PATH"
    } else if stderr.contains("Host key verification failed") {
        "hint: the host key is unknown or changed: connect once with ssh to accept it, or pass \
         --ssh-option StrictHostKeyChecking=accept-new"
    } else if stderr.contains("timed out") {
        "hint: the host does not answer on its ssh port: check the address and that sshd runs"
    } else if stderr.contains("refused") {
        "hint: nothing listens on the ssh port: start sshd or set the port with --ssh-option Port=N"
    } else if stderr.contains("Could not resolve") {
        "hint: the ssh target's host name does not resolve: check the node list's `ssh` field"
    } else if stderr.contains("sudo") {
        "hint: log in as root, or give the login user password-less sudo"
    } else {
        "hint: try `ssh -v TARGET true` by hand to see why ssh fails"
    }
}

impl SshOutput {
    /// stdout then stderr, trimmed, one after the other.
    pub fn combined(&self) -> String {
        let mut text = self.stdout.trim().to_string();
        if !self.stderr.trim().is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(self.stderr.trim());
        }
        text
    }
}

/// The error for a remote command that ran and failed.
pub fn remote_failure(target: &str, step: &str, out: &SshOutput) -> HostsError {
    let output = out.combined();
    HostsError::Remote {
        target: target.to_string(),
        step: step.to_string(),
        status: match out.code {
            Some(c) => format!("exit code {c}"),
            None => "a signal".to_string(),
        },
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh_with(opts: &[&str]) -> Ssh {
        Ssh {
            options: opts.iter().map(|s| s.to_string()).collect(),
            ..Ssh::default()
        }
    }

    #[test]
    fn command_line_never_prompts_and_bounds_the_connect() {
        let argv = ssh_with(&["IdentityFile=/k"]).command_argv("root@10.0.0.1", "true");
        assert_eq!(
            argv,
            [
                "ssh",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=10",
                "-o",
                "ServerAliveInterval=15",
                "-o",
                "IdentityFile=/k",
                "--",
                "root@10.0.0.1",
                "true"
            ]
        );
    }

    #[test]
    fn copy_line_ends_with_target_dir_and_brackets_ipv6() {
        let files = [Path::new("/a/gflab-agent"), Path::new("/a/secret")];
        let argv = ssh_with(&[]).copy_argv(&files, "root@fd00::5", "/tmp/x");
        assert_eq!(argv[0], "scp");
        assert_eq!(argv[1], "-q");
        assert!(argv.contains(&"BatchMode=yes".to_string()));
        assert_eq!(
            &argv[argv.len() - 3..],
            ["/a/gflab-agent", "/a/secret", "root@[fd00::5]:/tmp/x/"]
        );
        let argv = ssh_with(&[]).copy_argv(&files, "host1", "/d");
        assert_eq!(argv.last().map(String::as_str), Some("host1:/d/"));
    }

    #[test]
    fn options_come_from_flags_then_environment_and_are_checked() {
        let ssh = Ssh::with_options(
            &["Port=2222".to_string()],
            Some("  IdentityFile=/k   StrictHostKeyChecking=no "),
        )
        .unwrap();
        assert_eq!(
            ssh.options,
            ["Port=2222", "IdentityFile=/k", "StrictHostKeyChecking=no"]
        );
        let err = Ssh::with_options(&[], Some("-p 22")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("\"-p\"") && msg.contains(SSH_OPTIONS_ENV),
            "{msg}"
        );
        assert!(Ssh::with_options(&["Port".to_string()], None).is_err());
        assert!(Ssh::with_options(&["=x".to_string()], None).is_err());
    }

    #[test]
    fn ssh_failures_get_a_hint() {
        assert!(ssh_hint("root@h: Permission denied (publickey).").contains("IdentityFile"));
        assert!(ssh_hint("Host key verification failed.").contains("accept-new"));
        assert!(ssh_hint("connect to host h port 22: Connection refused").contains("sshd"));
        assert!(ssh_hint("connect to host h port 22: Connection timed out").contains("address"));
    }

    #[tokio::test]
    async fn exit_255_is_an_ssh_failure_and_other_codes_are_data() {
        // A stand-in that fails the way ssh itself does, then one whose remote command fails.
        let argv = [
            "sh",
            "-c",
            "echo 'ssh: connect to host h port 22: Connection refused' >&2; exit 255",
        ]
        .map(String::from);
        let out = run(&argv, None).await.unwrap();
        let err = connected("root@h", "probe the host", out).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("root@h") && msg.contains("Connection refused"),
            "{msg}"
        );
        assert!(msg.contains("hint:"), "{msg}");
        let argv = ["sh", "-c", "echo out; echo err >&2; exit 3"].map(String::from);
        let out = connected("h", "x", run(&argv, None).await.unwrap()).unwrap();
        assert_eq!(out.code, Some(3));
        let msg = remote_failure("h", "install the agent", &out).to_string();
        assert!(
            msg.contains("exit code 3") && msg.contains("out\nerr"),
            "{msg}"
        );
    }
}
