//! Whether the nodes meet a case's needs; the reason when they do not.
use gflab_agent::{NodeEntry, Role};
use gflab_tests::Needs;

/// `None` when the nodes meet `needs`, else why not (used as the skip reason). `version` is the
/// oldest GlusterFS the servers run, when known (read from the nodes).
pub fn unmet_with(
    needs: &Needs,
    nodes: &[NodeEntry],
    version: Option<gflab_tests::upgrade::Version>,
) -> Option<String> {
    let mut why: Vec<String> = unmet(needs, nodes).into_iter().collect();
    let v = |(major, minor)| gflab_tests::upgrade::Version { major, minor };
    if let Some(min) = needs.min_version.map(v) {
        match version {
            Some(have) if have >= min => {}
            Some(have) => why.push(format!(
                "needs GlusterFS {min} or later, the servers run {have}"
            )),
            None => why.push(format!(
                "needs GlusterFS {min} or later, and the servers' version is unknown"
            )),
        }
    }
    if let Some(below) = needs.below_version.map(v) {
        match version {
            Some(have) if have < below => {}
            Some(have) => why.push(format!(
                "needs GlusterFS older than {below}, the servers run {have}"
            )),
            None => why.push(format!(
                "needs GlusterFS older than {below}, and the servers' version is unknown"
            )),
        }
    }
    if why.is_empty() {
        None
    } else {
        Some(why.join("; "))
    }
}

/// `None` when the nodes meet `needs` (nodes and capabilities), else why not.
pub fn unmet(needs: &Needs, nodes: &[NodeEntry]) -> Option<String> {
    let servers: Vec<&NodeEntry> = nodes.iter().filter(|n| n.role == Role::Server).collect();
    let clients = nodes.iter().filter(|n| n.role == Role::Client).count();
    let mut why = Vec::new();
    if servers.len() < needs.servers {
        why.push(format!(
            "needs {} server(s), the node list has {}",
            needs.servers,
            servers.len()
        ));
    }
    if clients < needs.clients {
        why.push(format!(
            "needs {} client(s), the node list has {clients}",
            needs.clients
        ));
    }
    for cap in needs.capabilities {
        let lacking: Vec<&str> = servers
            .iter()
            .filter(|s| !s.capabilities.contains(cap))
            .map(|s| s.name.as_str())
            .collect();
        if servers.is_empty() || !lacking.is_empty() {
            let who = if lacking.is_empty() {
                "there are no servers".to_string()
            } else {
                format!("{} lack(s) it", lacking.join(", "))
            };
            why.push(format!("needs capability {cap} on every server; {who}"));
        }
    }
    if why.is_empty() {
        None
    } else {
        Some(why.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gflab_agent::Capability;

    fn node(name: &str, role: Role, caps: &[Capability]) -> NodeEntry {
        NodeEntry {
            name: name.into(),
            role,
            host: name.into(),
            agent: "127.0.0.1:1".into(),
            brick_root: None,
            ssh: None,
            capabilities: caps.to_vec(),
            glusterfs: None,
        }
    }

    #[test]
    fn reasons_name_what_is_missing() {
        let nodes = [
            node("server1", Role::Server, &[Capability::ThinLvm]),
            node("server2", Role::Server, &[]),
            node("client1", Role::Client, &[]),
        ];
        assert_eq!(unmet(&Needs::nodes(2, 1), &nodes), None);
        assert_eq!(
            unmet(&Needs::nodes(3, 2), &nodes).as_deref(),
            Some("needs 3 server(s), the node list has 2; needs 2 client(s), the node list has 1")
        );
        assert_eq!(
            unmet(&Needs::nodes(1, 0).with(&[Capability::ThinLvm]), &nodes).as_deref(),
            Some("needs capability thin-lvm on every server; server2 lack(s) it")
        );
        assert_eq!(unmet(&Needs::NONE, &[]), None);
    }

    #[test]
    fn versions_are_needs_too() {
        use gflab_tests::upgrade::Version;
        let nodes = [node("server1", Role::Server, &[])];
        let v10 = Some(Version {
            major: 10,
            minor: 3,
        });
        let newer = Needs::nodes(1, 0).gluster_at_least(11, 0);
        assert_eq!(
            unmet_with(&newer, &nodes, v10).as_deref(),
            Some("needs GlusterFS 11.0 or later, the servers run 10.3")
        );
        let older = Needs::nodes(1, 0).gluster_below(11, 0);
        assert_eq!(unmet_with(&older, &nodes, v10), None);
        assert!(unmet_with(&older, &nodes, None)
            .expect("unknown")
            .contains("unknown"));
    }
}
