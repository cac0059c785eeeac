//! Faults: reboot and power a node, cut the network between nodes (both ways or one way), freeze a
//! node's GlusterFS processes, slow or lossy links. Every fault registers its undo, so a test that
//! fails in the middle of one leaves nothing behind; [`health`] and [`repair`] let the runner check
//! and mend the lab after every test.
//!
//! What a node can do to itself goes through its agent, the same on containers, kernel-VM nodes and
//! real hosts: partitions are `iptables` rules in a chain of their own ([`CHAIN`]) that never match
//! the agent's port, pauses are SIGSTOP/SIGCONT of glusterd, bricks and daemons, links are `tc netem`.
//! What it cannot (a reboot of a container) goes through the runner's [`NodeControl`](crate::control::NodeControl).
use std::time::{Duration, Instant};

use gflab_agent::shell::quote;

use crate::control::Power;
use crate::ctx::{Cleanup, Node};
use crate::gluster::peer;
use crate::{Ctx, TestError};

/// The iptables chain that holds every partition rule (hooked first into INPUT and OUTPUT).
pub const CHAIN: &str = "GFLAB-FAULT";
/// The port agents listen on inside lab nodes; never cut.
const AGENT_PORT: u16 = 7070;
/// How long the health check waits for one server's `peer status`.
const PEER_CHECK: Duration = Duration::from_secs(20);
/// GlusterFS's processes: glusterd, bricks, daemons and FUSE clients.
const GLUSTER_PROCESSES: &str = "glusterd|glusterfsd|glusterfs";
/// How long [`health`] lets the pool reconnect before it calls disconnected peers a problem
/// (glusterd retries a lost peer every few seconds, backing off).
const RECONNECT_GRACE: Duration = Duration::from_secs(60);

/// Reboots `node` and returns when it is back (agent and, on servers, glusterd answering); the
/// time it took. Container nodes restart through the engine and keep the state in their volumes;
/// real hosts reboot through their agent.
pub async fn reboot(ctx: &Ctx, node: &Node) -> Result<Duration, TestError> {
    power(ctx, node, Power::Restart).await
}

/// Powers `node` off; it is powered on again at cleanup (or by [`start`]).
pub async fn stop(ctx: &Ctx, node: &Node) -> Result<(), TestError> {
    power(ctx, node, Power::Stop).await?;
    ctx.defer(Cleanup::Power {
        node: node.clone(),
        action: Power::Start,
    });
    Ok(())
}

/// Powers a stopped `node` on and waits until it answers.
pub async fn start(ctx: &Ctx, node: &Node) -> Result<Duration, TestError> {
    power(ctx, node, Power::Start).await
}

async fn power(ctx: &Ctx, node: &Node, action: Power) -> Result<Duration, TestError> {
    let control = ctx.control()?;
    ctx.step(format!(
        "{action} {} ({})",
        node.name(),
        control.kind(&node.entry)
    ));
    let began = Instant::now();
    control
        .power(&node.entry, &node.client, action)
        .await
        .map_err(|e| TestError::Nodes(format!("failed to {action} {}: {e}", node.name())))?;
    let took = began.elapsed();
    ctx.step(format!(
        "{action} of {} done in {:.1}s",
        node.name(),
        took.as_secs_f64()
    ));
    Ok(took)
}

/// The port of a node's agent as the runner reaches it (the published port for lab nodes).
fn agent_port(entry: &gflab_agent::NodeEntry) -> Option<u16> {
    entry.agent.rsplit(':').next()?.parse().ok()
}

/// The shell lines that create [`CHAIN`], hook it first into INPUT and OUTPUT, and let the agent's
/// traffic through before any fault rule.
fn chain_setup(entry: &gflab_agent::NodeEntry) -> String {
    let mut ports = vec![AGENT_PORT];
    ports.extend(agent_port(entry).filter(|p| *p != AGENT_PORT));
    let mut s = format!(
        "command -v iptables >/dev/null || {{ echo 'iptables is not installed' >&2; exit 3; }}\n\
         iptables -w -N {CHAIN} 2>/dev/null || true\n\
         iptables -w -C INPUT -j {CHAIN} 2>/dev/null || iptables -w -I INPUT 1 -j {CHAIN}\n\
         iptables -w -C OUTPUT -j {CHAIN} 2>/dev/null || iptables -w -I OUTPUT 1 -j {CHAIN}\n"
    );
    for p in ports {
        for dir in ["--dport", "--sport"] {
            s.push_str(&format!(
                "iptables -w -C {CHAIN} -p tcp {dir} {p} -j RETURN 2>/dev/null || \
                 iptables -w -I {CHAIN} 1 -p tcp {dir} {p} -j RETURN\n"
            ));
        }
    }
    s
}

/// Resolves `hosts` to IPv4 addresses on `on` (the names gluster uses), one per host.
async fn addresses(ctx: &Ctx, on: &Node, hosts: &[&Node]) -> Result<Vec<String>, TestError> {
    let mut out = Vec::new();
    for h in hosts {
        let ip = ctx
            .sh(
                on,
                format!(
                    "getent ahostsv4 {} | awk 'NR == 1 {{ print $1 }}'",
                    quote(h.host())
                ),
            )
            .await?;
        let ip = ip.trim();
        if ip.is_empty() {
            return Err(TestError::Nodes(format!(
                "{} cannot resolve {} to an address",
                on.name(),
                h.host()
            )));
        }
        out.push(ip.to_string());
    }
    Ok(out)
}

/// Which way a cut goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// Nothing passes between the two sides.
    Both,
    /// Packets from the first side to the second are dropped; the other way passes.
    OneWay,
}

/// Cuts every packet between the nodes of `a` and those of `b`, both ways (the runner's path to
/// every agent stays open). Undone at cleanup, or by [`heal_partition`].
pub async fn partition(ctx: &Ctx, a: &[Node], b: &[Node]) -> Result<(), TestError> {
    cut(ctx, a, b, Way::Both).await
}

/// Drops the packets that the nodes of `from` send to those of `to`; what `to` sends still
/// arrives. Undone at cleanup, or by [`heal_partition`].
pub async fn partition_one_way(ctx: &Ctx, from: &[Node], to: &[Node]) -> Result<(), TestError> {
    cut(ctx, from, to, Way::OneWay).await
}

async fn cut(ctx: &Ctx, a: &[Node], b: &[Node], way: Way) -> Result<(), TestError> {
    let names = |s: &[Node]| s.iter().map(|n| n.name()).collect::<Vec<_>>().join(",");
    ctx.step(format!(
        "partition {} {} {}",
        names(a),
        if way == Way::Both { "<-/->" } else { "-/->" },
        names(b)
    ));
    let others: Vec<&Node> = b.iter().collect();
    for node in a {
        let ips = addresses(ctx, node, &others).await?;
        // Registered first: a failure half-way is undone too.
        ctx.defer(Cleanup::Command {
            node: node.clone(),
            command: heal_command(),
        });
        let mut script = chain_setup(&node.entry);
        for ip in &ips {
            script.push_str(&format!("iptables -w -A {CHAIN} -d {ip} -j DROP\n"));
            if way == Way::Both {
                script.push_str(&format!("iptables -w -A {CHAIN} -s {ip} -j DROP\n"));
            }
        }
        ctx.sh(node, script).await?;
    }
    Ok(())
}

fn heal_command() -> gflab_agent::Command {
    gflab_agent::Command::shell(format!(
        "if command -v iptables >/dev/null && iptables -w -S {CHAIN} >/dev/null 2>&1; then \
         iptables -w -F {CHAIN}; fi"
    ))
}

/// Removes every partition rule on every node.
pub async fn heal_partition(ctx: &Ctx) -> Result<(), TestError> {
    ctx.step("heal every partition");
    for node in ctx.nodes() {
        ctx.run(node, heal_command()).await?;
    }
    Ok(())
}

/// Freezes every GlusterFS process of `node` (glusterd, bricks, daemons, FUSE clients) with
/// SIGSTOP; its agent keeps answering. Thawed at cleanup, or by [`resume`].
pub async fn pause(ctx: &Ctx, node: &Node) -> Result<(), TestError> {
    ctx.step(format!("pause the GlusterFS processes of {}", node.name()));
    ctx.defer(Cleanup::Command {
        node: node.clone(),
        command: signal_command("CONT"),
    });
    ctx.run(node, signal_command("STOP")).await.map(|_| ())
}

/// Thaws what [`pause`] froze on `node`.
pub async fn resume(ctx: &Ctx, node: &Node) -> Result<(), TestError> {
    ctx.step(format!("resume the GlusterFS processes of {}", node.name()));
    ctx.run(node, signal_command("CONT")).await.map(|_| ())
}

/// Pauses `node` for `duration`, then resumes it.
pub async fn pause_for(ctx: &Ctx, node: &Node, duration: Duration) -> Result<(), TestError> {
    pause(ctx, node).await?;
    tokio::time::sleep(duration).await;
    resume(ctx, node).await
}

fn signal_command(signal: &str) -> gflab_agent::Command {
    // No such process (pkill's 1) is fine.
    gflab_agent::Command::shell(format!(
        "pkill -{signal} -x '{GLUSTER_PROCESSES}' || [ $? -eq 1 ]"
    ))
}

/// Delays (and, with `loss_percent`, drops) the packets `node` sends to `to`, with `tc netem` on
/// the interface that reaches them. A kernel without netem skips the test with the reason. Undone
/// at cleanup.
pub async fn slow_link(
    ctx: &Ctx,
    node: &Node,
    to: &Node,
    delay: Duration,
    loss_percent: u32,
) -> Result<(), TestError> {
    let ip = addresses(ctx, node, &[to]).await?.remove(0);
    let dev = ctx
        .sh(
            node,
            format!("ip -o route get {ip} | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'"),
        )
        .await?;
    let dev = dev.trim().to_string();
    ctx.step(format!(
        "slow link {} -> {} ({dev}): {}ms delay, {loss_percent}% loss",
        node.name(),
        to.name(),
        delay.as_millis()
    ));
    ctx.defer(Cleanup::Command {
        node: node.clone(),
        command: gflab_agent::Command::shell(format!(
            "tc qdisc del dev {dev} root 2>/dev/null || true"
        )),
    });
    let line = format!(
        "tc qdisc add dev {dev} root handle 1: prio priomap 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 && \
         tc qdisc add dev {dev} parent 1:3 handle 30: netem delay {}ms loss {loss_percent}% && \
         tc filter add dev {dev} parent 1:0 protocol ip prio 3 u32 match ip dst {ip}/32 flowid 1:3",
        delay.as_millis()
    );
    let out = ctx.exec(node, gflab_agent::Command::shell(line)).await?;
    if out.success() {
        return Ok(());
    }
    let why = out.stderr_str();
    if why.contains("Specified qdisc kind is unknown") || why.contains("netem") {
        return Err(TestError::Skip(format!(
            "the kernel of {} has no netem (sch_netem): {}",
            node.name(),
            why.trim()
        )));
    }
    Err(TestError::Command {
        node: node.name().to_string(),
        command: "tc qdisc add ... netem".into(),
        status: format!("{:?}", out.status),
        stdout: out.stdout_str(),
        stderr: why,
    })
}

/// The checks [`health`] runs on every node: leftover partition rules, netem, frozen GlusterFS
/// processes; one line per problem on stdout.
fn node_check() -> gflab_agent::Command {
    gflab_agent::Command::shell(format!(
        "if command -v iptables >/dev/null; then \
           n=$(iptables -w -S {CHAIN} 2>/dev/null | grep -c -- '-j DROP'); \
           [ \"${{n:-0}}\" -eq 0 ] || echo \"$n partition rule(s) left in {CHAIN}\"; fi; \
         if command -v tc >/dev/null && tc qdisc show 2>/dev/null | grep -q netem; then \
           echo 'a netem qdisc is left'; fi; \
         ps -eo stat=,comm= | awk '$1 ~ /^T/ && $2 ~ /^({GLUSTER_PROCESSES})$/ \
           {{ print \"process \" $2 \" is stopped (SIGSTOP)\" }}'"
    ))
}

/// Whether the lab is as a test found it: every agent answers, no fault is left (partition rules,
/// netem, frozen processes), glusterd answers on every server and every server sees every other
/// connected (within [`RECONNECT_GRACE`]). Returns one line per problem, naming the node.
pub async fn health(ctx: &Ctx) -> Vec<String> {
    let nodes = ctx.nodes().iter().map(|node| async move {
        match ctx.exec(node, node_check()).await {
            Ok(out) => out
                .stdout_str()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| format!("{}: {l}", node.name()))
                .collect(),
            Err(e) => vec![format!("{}: the agent does not answer: {e}", node.name())],
        }
    });
    let node_problems: Vec<Vec<String>> = futures::future::join_all(nodes).await;
    // A server whose agent or processes are in trouble is reported already; asking its frozen
    // glusterd would only wait for the CLI's own timeout.
    let servers = ctx.servers();
    let asked: Vec<&Node> = servers
        .iter()
        .filter(|s| {
            ctx.nodes()
                .iter()
                .zip(&node_problems)
                .all(|(n, p)| n.name() != s.name() || p.is_empty())
        })
        .collect();
    let pools = asked.iter().map(|s| {
        let servers = &servers;
        async move {
            let peers = match tokio::time::timeout(PEER_CHECK, peer::status(ctx, s)).await {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => return vec![format!("{}: glusterd does not answer: {e}", s.name())],
                Err(_) => {
                    return vec![format!(
                        "{}: glusterd does not answer within {}s",
                        s.name(),
                        PEER_CHECK.as_secs()
                    )]
                }
            };
            servers
                .iter()
                .filter(|o| o.name() != s.name())
                .filter_map(|other| match peers.iter().find(|p| p.is(other.host())) {
                    Some(p) if p.healthy() => None,
                    Some(p) => Some(format!(
                        "{}: sees {} as connected={} state={:?}",
                        s.name(),
                        other.host(),
                        p.connected,
                        p.state
                    )),
                    None => Some(format!(
                        "{}: does not list {} as a peer",
                        s.name(),
                        other.host()
                    )),
                })
                .collect::<Vec<_>>()
        }
    });
    let pool_problems = futures::future::join_all(pools).await;
    let left: Vec<String> = node_problems.into_iter().flatten().collect();
    let mut pool: Vec<String> = pool_problems.into_iter().flatten().collect();
    // A partition lifted by the test's cleanups a moment ago leaves the peers reconnecting for a
    // while; with no fault left on any node, only a pool that stays apart is a problem.
    if left.is_empty()
        && !pool.is_empty()
        && peer::wait_connected(ctx, RECONNECT_GRACE).await.is_ok()
    {
        pool.clear();
    }
    left.into_iter().chain(pool).collect()
}

/// Mends what [`health`] finds: removes partition rules and netem, thaws frozen processes, starts
/// glusterd where it is down, reboots a node whose agent does not answer (when the run can), then
/// waits for the pool to be connected. Returns what it could not mend.
pub async fn repair(ctx: &Ctx, timeout: Duration) -> Vec<String> {
    let mut left = Vec::new();
    for node in ctx.nodes() {
        let fix = format!(
            "{}; if command -v tc >/dev/null; then for d in $(ls /sys/class/net); do \
             tc qdisc show dev $d | grep -q netem && tc qdisc del dev $d root; done; fi; \
             pkill -CONT -x '{GLUSTER_PROCESSES}' || true",
            heal_command().shell.unwrap_or_default()
        );
        if ctx.sh(node, fix).await.is_err() {
            match ctx.control() {
                Ok(control) => {
                    if let Err(e) = control
                        .power(&node.entry, &node.client, Power::Restart)
                        .await
                    {
                        left.push(format!("{}: reboot failed: {e}", node.name()));
                    }
                }
                Err(e) => left.push(format!("{}: {e}", node.name())),
            }
        }
    }
    for s in ctx.servers() {
        if !matches!(
            crate::gluster::glusterd::is_running(ctx, &s).await,
            Ok(true)
        ) {
            if let Err(e) = crate::gluster::glusterd::start(ctx, &s).await {
                left.push(format!("{}: failed to start glusterd: {e}", s.name()));
            }
        }
    }
    if let Err(e) = peer::wait_connected(ctx, timeout).await {
        left.push(e.to_string());
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_port_is_never_cut() {
        let setup = chain_setup_for("127.0.0.1:49321");
        for want in [
            "-p tcp --dport 7070 -j RETURN",
            "-p tcp --sport 7070 -j RETURN",
            "-p tcp --dport 49321 -j RETURN",
            "-p tcp --sport 49321 -j RETURN",
        ] {
            assert!(setup.contains(want), "{want} missing from:\n{setup}");
        }
        // The RETURN rules go first (-I 1), the fault rules after (-A).
        assert!(setup.contains(&format!("-I {CHAIN} 1 -p tcp --dport 7070")));
    }

    fn chain_setup_for(agent: &str) -> String {
        chain_setup(&gflab_agent::NodeEntry {
            name: "server1".into(),
            role: gflab_agent::Role::Server,
            host: "server1".into(),
            agent: agent.into(),
            brick_root: None,
            ssh: None,
            capabilities: Vec::new(),
            glusterfs: None,
        })
    }

    #[test]
    fn checks_and_heals_are_shell_lines_on_the_fault_chain() {
        let check = node_check().shell.unwrap_or_default();
        assert!(
            check.contains(&format!("iptables -w -S {CHAIN}")),
            "{check}"
        );
        assert!(check.contains("netem"));
        assert!(check.contains("^T"));
        let heal = heal_command().shell.unwrap_or_default();
        assert!(heal.contains(&format!("iptables -w -F {CHAIN}")), "{heal}");
        let stop = signal_command("STOP").shell.unwrap_or_default();
        assert_eq!(
            stop,
            "pkill -STOP -x 'glusterd|glusterfsd|glusterfs' || [ $? -eq 1 ]"
        );
    }
}
