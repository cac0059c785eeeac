//! `gflab hosts check`: per host, whether its agent answers (or why not), whether glusterd runs
//! and which GlusterFS version it has.
use std::io::ErrorKind;
use std::time::Duration;

use gflab_agent::{Client, ClientOptions, Command, Info, NodeEntry, Role, Secret};
use serde::Serialize;

/// Why an agent could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unreachable {
    /// Nothing listens on the agent's port (connection refused).
    Refused,
    /// No answer in time: the connect or the handshake timed out.
    TimedOut,
    /// The agent answered but rejected our secret.
    WrongSecret,
    /// The agent rejected the handshake for another reason (protocol version, ...).
    Handshake,
    /// No route, the name does not resolve, the connection dropped, or similar.
    Network,
    /// The peer does not speak the agent protocol.
    Protocol,
    /// The agent had no free connection slot, even after retries.
    Busy,
}

impl Unreachable {
    /// Short words for tables.
    pub fn label(self) -> &'static str {
        match self {
            Unreachable::Refused => "refused",
            Unreachable::TimedOut => "timed out",
            Unreachable::WrongSecret => "wrong secret",
            Unreachable::Handshake => "handshake rejected",
            Unreachable::Network => "unreachable",
            Unreachable::Protocol => "not an agent",
            Unreachable::Busy => "busy",
        }
    }

    /// What a user can do about it.
    pub fn hint(self) -> &'static str {
        match self {
            Unreachable::Refused => {
                "hint: no agent listens there: run `gflab hosts install NODELIST`, or check the \
                 port in the node list's `agent` field"
            }
            Unreachable::TimedOut => {
                "hint: nothing answered in time: check the address, firewalls between here and the \
                 host, and that the port belongs to the agent"
            }
            Unreachable::WrongSecret => {
                "hint: the host's agent has another secret: rerun `gflab hosts install NODELIST` \
                 to install this node list's secret"
            }
            Unreachable::Handshake => {
                "hint: the host runs an agent of another version: rerun `gflab hosts install \
                 NODELIST`"
            }
            Unreachable::Network => "hint: check the address in the node list's `agent` field",
            Unreachable::Protocol => "hint: something other than gflab-agent listens on that port",
            Unreachable::Busy => {
                "hint: the agent is out of connection slots: other runners hold them, or someone \
                 floods its port; its log says which (or raise its --max-connections)"
            }
        }
    }
}

/// Maps a client error to why the agent is unreachable.
pub fn classify(e: &gflab_agent::Error) -> Unreachable {
    use gflab_agent::Error as E;
    match e {
        E::Connect { source, .. } => match source.kind() {
            ErrorKind::ConnectionRefused => Unreachable::Refused,
            ErrorKind::TimedOut | ErrorKind::WouldBlock => Unreachable::TimedOut,
            _ => words(&source.to_string()).unwrap_or(Unreachable::Network),
        },
        E::Handshake { reason, .. } => words(reason).unwrap_or(Unreachable::Handshake),
        E::Busy { .. } => Unreachable::Busy,
        E::Unreachable { last, .. } => words(last).unwrap_or(Unreachable::Network),
        E::Dropped { .. } => Unreachable::Network,
        E::Protocol { .. } => Unreachable::Protocol,
        E::Remote { message, .. } => words(message).unwrap_or(Unreachable::Protocol),
    }
}

/// Recognises a cause from an error's words (errors that crossed a string boundary).
fn words(text: &str) -> Option<Unreachable> {
    let t = text.to_ascii_lowercase();
    if t.contains("wrong secret") || t.contains("authentication failed") {
        Some(Unreachable::WrongSecret)
    } else if t.contains("too many connections") {
        Some(Unreachable::Busy)
    } else if t.contains("refused") {
        Some(Unreachable::Refused)
    } else if t.contains("timed out") || t.contains("timeout") || t.contains("deadline") {
        Some(Unreachable::TimedOut)
    } else {
        None
    }
}

/// Whether the agent could be used, and its facts.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum AgentState {
    /// Connected, authenticated and answered a ping.
    Reachable {
        /// What the agent said about itself.
        #[serde(flatten)]
        info: InfoFacts,
    },
    /// Not usable.
    Unreachable {
        /// The cause.
        reason: Unreachable,
        /// The error as the client reported it.
        detail: String,
    },
}

/// The serializable part of the agent's ping answer.
#[derive(Debug, Clone, Serialize)]
pub struct InfoFacts {
    /// The host's name.
    pub hostname: String,
    /// Its OS (`PRETTY_NAME`).
    pub os_release: String,
    /// The agent's version.
    pub agent_version: String,
    /// Whether the agent controls services through systemd.
    pub systemd: bool,
}

impl From<Info> for InfoFacts {
    fn from(i: Info) -> Self {
        InfoFacts {
            hostname: i.hostname,
            os_release: i.os_release,
            agent_version: i.agent_version,
            systemd: i.systemd,
        }
    }
}

/// One host's check result.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    /// Node name.
    pub node: String,
    /// Server or client.
    pub role: Role,
    /// The agent address checked.
    pub agent_addr: String,
    /// The agent.
    pub agent: AgentState,
    /// Whether glusterd runs (`None` when the agent was unreachable).
    pub glusterd_running: Option<bool>,
    /// glusterd's PID when it runs.
    pub glusterd_pid: Option<u32>,
    /// GlusterFS version (`glusterfs --version`), when installed.
    pub glusterfs_version: Option<String>,
    /// Everything wrong with this host, each a sentence (empty: the host passes).
    pub problems: Vec<String>,
}

impl HostReport {
    /// Whether the host passes.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check settings.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Bound on connect + handshake + ping per host.
    pub timeout: Duration,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            timeout: Duration::from_secs(5),
        }
    }
}

/// Connects once (no retries) within `timeout` and pings; errors are classified.
pub async fn connect_and_ping(
    addr: &str,
    secret: &Secret,
    timeout: Duration,
) -> Result<(Client, Info), (Unreachable, String)> {
    let opts = ClientOptions {
        connect_timeout: timeout,
        max_reconnect_attempts: 0,
        ..ClientOptions::default()
    };
    let attempt = async {
        let client = Client::connect(addr, secret.clone(), opts).await?;
        let info = client.ping().await?;
        Ok::<_, gflab_agent::Error>((client, info))
    };
    // The client bounds its own connect; this bounds everything, whatever the peer does.
    match tokio::time::timeout(timeout + Duration::from_millis(500), attempt).await {
        Ok(Ok(ok)) => Ok(ok),
        Ok(Err(e)) => Err((classify(&e), e.to_string())),
        Err(_) => Err((
            Unreachable::TimedOut,
            format!(
                "no answer from agent at {addr} within {} s",
                timeout.as_secs_f32()
            ),
        )),
    }
}

/// Checks one host.
pub async fn check_host(node: &NodeEntry, secret: &Secret, opts: &CheckOptions) -> HostReport {
    let mut report = HostReport {
        node: node.name.clone(),
        role: node.role,
        agent_addr: node.agent.clone(),
        agent: AgentState::Unreachable {
            reason: Unreachable::Network,
            detail: String::new(),
        },
        glusterd_running: None,
        glusterd_pid: None,
        glusterfs_version: None,
        problems: Vec::new(),
    };
    let client = match connect_and_ping(&node.agent, secret, opts.timeout).await {
        Ok((client, info)) => {
            report.agent = AgentState::Reachable { info: info.into() };
            client
        }
        Err((reason, detail)) => {
            report.problems.push(format!(
                "agent at {} is unreachable ({}): {detail}\n{}",
                node.agent,
                reason.label(),
                reason.hint()
            ));
            report.agent = AgentState::Unreachable { reason, detail };
            return report;
        }
    };
    let run = |cmd: Command| {
        let client = client.clone();
        async move { client.exec(cmd.timeout(Duration::from_secs(20))).await }
    };
    match run(Command::new("glusterfs").arg("--version")).await {
        Ok(out) if out.success() => report.glusterfs_version = parse_version(&out.stdout_str()),
        Ok(out) => report.problems.push(format!(
            "failed to run `glusterfs --version` ({:?}): {}\nhint: install glusterfs-client \
             (clients) or glusterfs-server (servers)",
            out.status,
            out.stderr_str().trim()
        )),
        Err(e) => report
            .problems
            .push(format!("failed to run `glusterfs --version`: {e}")),
    }
    match run(Command::new("pidof").arg("glusterd")).await {
        Ok(out) => {
            let pid = out
                .stdout_str()
                .split_whitespace()
                .next()
                .and_then(|p| p.parse().ok());
            report.glusterd_running = Some(out.success() && pid.is_some());
            report.glusterd_pid = pid;
        }
        Err(e) => report
            .problems
            .push(format!("failed to run `pidof glusterd`: {e}")),
    }
    if node.role == Role::Server && report.glusterd_running == Some(false) {
        report.problems.push(
            "glusterd is not running on this server\nhint: start it (`systemctl start glusterd`, \
             or install the agent with --service glusterd='glusterd -N' --start glusterd)"
                .to_string(),
        );
    }
    report
}

/// `glusterfs 10.3` (first line of `glusterfs --version`) → `10.3`.
pub fn parse_version(stdout: &str) -> Option<String> {
    let first = stdout.lines().next()?;
    let mut words = first.split_whitespace();
    match (words.next(), words.next()) {
        (Some("glusterfs"), Some(v)) => Some(v.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: ErrorKind, msg: &str) -> gflab_agent::Error {
        gflab_agent::Error::Connect {
            addr: "127.0.0.1:1".into(),
            source: std::io::Error::new(kind, msg),
        }
    }

    #[test]
    fn client_errors_map_to_causes() {
        use gflab_agent::Error as E;
        let addr = "a:1".to_string();
        assert_eq!(
            classify(&io(ErrorKind::ConnectionRefused, "x")),
            Unreachable::Refused
        );
        assert_eq!(
            classify(&io(ErrorKind::TimedOut, "x")),
            Unreachable::TimedOut
        );
        assert_eq!(
            classify(&io(ErrorKind::Other, "handshake timed out")),
            Unreachable::TimedOut
        );
        assert_eq!(
            classify(&io(ErrorKind::Other, "no route")),
            Unreachable::Network
        );
        let hs = |reason: &str| E::Handshake {
            addr: addr.clone(),
            reason: reason.into(),
        };
        assert_eq!(
            classify(&hs("authentication failed: wrong secret")),
            Unreachable::WrongSecret
        );
        assert_eq!(
            classify(&hs("protocol version 9 not supported")),
            Unreachable::Handshake
        );
        assert_eq!(
            classify(&E::Busy {
                addr: addr.clone(),
                message: "too many connections (limit 256)".into()
            }),
            Unreachable::Busy
        );
        assert_eq!(
            classify(&E::Unreachable {
                addr: addr.clone(),
                attempts: 3,
                last: "agent at x is busy: too many connections (limit 1)".into()
            }),
            Unreachable::Busy
        );
        assert_eq!(
            classify(&E::Unreachable {
                addr: addr.clone(),
                attempts: 3,
                last: "Connection refused (os error 111)".into()
            }),
            Unreachable::Refused
        );
        assert_eq!(
            classify(&E::Protocol {
                addr,
                message: "bad frame".into()
            }),
            Unreachable::Protocol
        );
    }

    #[test]
    fn every_cause_has_a_label_and_a_hint() {
        for u in [
            Unreachable::Refused,
            Unreachable::TimedOut,
            Unreachable::WrongSecret,
            Unreachable::Handshake,
            Unreachable::Network,
            Unreachable::Protocol,
        ] {
            assert!(!u.label().is_empty());
            assert!(u.hint().starts_with("hint: "));
        }
    }

    #[test]
    fn version_comes_from_the_first_line() {
        let out = "glusterfs 10.3\nRepository revision: git://git.gluster.org/glusterfs.git\n";
        assert_eq!(parse_version(out).as_deref(), Some("10.3"));
        assert_eq!(parse_version(""), None);
        assert_eq!(parse_version("something else 1.0"), None);
    }
}
