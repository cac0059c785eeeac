//! The pure topology → plan step: node names, addresses, labels, volumes and container specs.
//!
//! No I/O here: everything the lab will create is decided by [`plan`] from the topology, the lab
//! name, the subnet and the image tags, so it can be table-tested.
use std::net::Ipv4Addr;

use gflab_agent::Role;

use crate::runtime::{
    ContainerSpec, FileUpload, Labels, NetworkSpec, VolumeMount, VolumeSpec, LABEL_LAB, LABEL_NODE,
    LABEL_ROLE, LABEL_TOPOLOGY,
};
use crate::topology::{BrickKind, Ipv4Cidr, NodeKind, Release, Topology};

/// Port the agent listens on inside every node.
pub const AGENT_PORT: u16 = 7070;
/// Where the agent binary goes in a node.
pub const AGENT_PATH: &str = "/usr/local/bin/gflab-agent";
/// Where the secret goes in a node.
pub const SECRET_PATH: &str = "/etc/gflab/secret";
/// Brick root on servers.
pub const BRICK_ROOT: &str = "/bricks";
/// The glusterd command line the agent supervises (foreground, so the agent can stop and restart it).
pub const GLUSTERD_CMD: &str = "glusterd -N --log-file=/var/log/glusterfs/glusterd.log";

/// First address of the range `auto` picks from, and how many /24s it tries.
pub const AUTO_SUBNET_BASE: Ipv4Addr = Ipv4Addr::new(10, 210, 0, 0);
const AUTO_SUBNET_TRIES: u32 = 256 * 16;

/// Image references per role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageTags {
    /// Server image.
    pub server: String,
    /// Client image.
    pub client: String,
}

/// One node of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    /// `server1`, `client2`, ...
    pub name: String,
    /// Server or client.
    pub role: Role,
    /// How it runs (containers only for now; VM nodes later).
    pub kind: NodeKind,
    /// Servers: what bricks sit on.
    pub brick_kind: Option<BrickKind>,
    /// Servers: bricks per server.
    pub bricks: u32,
    /// Address on the lab network.
    pub ip: Ipv4Addr,
    /// The container to create.
    pub container: ContainerSpec,
    /// Files for this node only, uploaded before start with the common ones (VM settings).
    pub files: Vec<FileUpload>,
}

/// Everything a lab is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Lab name.
    pub lab: String,
    /// Topology hash (label on every object; decides "already up").
    pub topology_hash: String,
    /// Debian release.
    pub release: Release,
    /// Whether to form the trusted pool.
    pub pool: bool,
    /// The lab network.
    pub network: NetworkSpec,
    /// Named volumes, in node order.
    pub volumes: Vec<VolumeSpec>,
    /// Nodes: servers first, then clients.
    pub nodes: Vec<NodePlan>,
}

impl Plan {
    /// Nodes with the given role.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &NodePlan> {
        self.nodes.iter().filter(move |n| n.role == role)
    }
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    /// The subnet has fewer addresses than nodes (+ network, gateway, broadcast).
    #[error("subnet {subnet} is too small for {nodes} nodes\nhint: use a larger subnet or subnet = \"auto\"")]
    SubnetTooSmall {
        /// The subnet.
        subnet: Ipv4Cidr,
        /// Node count.
        nodes: u32,
    },
}

/// Docker object name prefix of a lab.
pub fn object_prefix(lab: &str) -> String {
    format!("gflab-{lab}")
}

/// The container name of a node.
pub fn container_name(lab: &str, node: &str) -> String {
    format!("{}-{node}", object_prefix(lab))
}

/// The agent's command line in a node.
pub fn agent_cmd(role: Role) -> Vec<String> {
    let mut cmd: Vec<String> = [
        AGENT_PATH,
        "--listen",
        "0.0.0.0:7070",
        "--secret-file",
        SECRET_PATH,
    ]
    .map(String::from)
    .to_vec();
    if role == Role::Server {
        cmd.push("--service".into());
        cmd.push(format!("glusterd={GLUSTERD_CMD}"));
        cmd.push("--start".into());
        cmd.push("glusterd".into());
    }
    cmd
}

/// Turns a topology into a plan. `lab` overrides the topology's name (`--name`).
pub fn plan(
    topo: &Topology,
    lab: &str,
    subnet: Ipv4Cidr,
    images: &ImageTags,
) -> Result<Plan, PlanError> {
    let servers = topo.servers.count;
    let total = servers + topo.clients;
    // network address, gateway (.1), broadcast.
    if u64::from(total) + 3 > subnet.size() {
        return Err(PlanError::SubnetTooSmall {
            subnet,
            nodes: total,
        });
    }
    let hash = topo.hash();
    let base_labels = |extra: &[(&str, &str)]| -> Labels {
        let mut l = Labels::new();
        l.insert(LABEL_LAB.into(), lab.into());
        l.insert(LABEL_TOPOLOGY.into(), hash.clone());
        for (k, v) in extra {
            l.insert((*k).into(), (*v).into());
        }
        l
    };
    let network_name = object_prefix(lab);
    let network = NetworkSpec {
        name: network_name.clone(),
        subnet,
        gateway: subnet.host(1),
        labels: base_labels(&[]),
    };
    let mut volumes = Vec::new();
    let mut nodes = Vec::new();
    let roles = (1..=servers)
        .map(|i| (Role::Server, i))
        .chain((1..=topo.clients).map(|i| (Role::Client, i)));
    for (index, (role, i)) in roles.enumerate() {
        let role_str = match role {
            Role::Server => "server",
            Role::Client => "client",
        };
        let name = format!("{role_str}{i}");
        let cname = container_name(lab, &name);
        let labels = base_labels(&[(LABEL_ROLE, role_str), (LABEL_NODE, &name)]);
        let mounts: &[(&str, &str)] = match role {
            Role::Server => &[
                ("glusterd", "/var/lib/glusterd"),
                ("log", "/var/log/glusterfs"),
                ("bricks", BRICK_ROOT),
            ],
            Role::Client => &[("log", "/var/log/glusterfs")],
        };
        let mut vmounts = Vec::new();
        for (suffix, target) in mounts {
            let vname = format!("{cname}-{suffix}");
            volumes.push(VolumeSpec {
                name: vname.clone(),
                labels: labels.clone(),
            });
            vmounts.push(VolumeMount {
                volume: vname,
                target: (*target).into(),
            });
        }
        // Addresses: .1 is the gateway, nodes from .2 in order.
        let ip = subnet.host(2 + index as u32);
        let container = ContainerSpec {
            name: cname,
            hostname: name.clone(),
            image: match role {
                Role::Server => images.server.clone(),
                Role::Client => images.client.clone(),
            },
            cmd: agent_cmd(role),
            network: network_name.clone(),
            ip,
            aliases: vec![name.clone()],
            volumes: vmounts,
            tmpfs: vec!["/run".into(), "/tmp".into()],
            cap_add: vec!["SYS_ADMIN".into()],
            devices: vec!["/dev/fuse".into()],
            device_cgroup_rules: Vec::new(),
            publish_tcp: vec![AGENT_PORT],
            init: true,
            labels,
        };
        nodes.push(NodePlan {
            name,
            role,
            kind: match role {
                Role::Server => topo.servers.kind,
                Role::Client => NodeKind::Container,
            },
            brick_kind: (role == Role::Server).then_some(topo.servers.brick_kind),
            bricks: if role == Role::Server {
                topo.servers.bricks
            } else {
                0
            },
            ip,
            container,
            files: Vec::new(),
        });
    }
    for (node, file) in crate::vm::plan_nodes(lab, topo.release, BRICK_ROOT, &mut nodes) {
        if let Some(n) = nodes.iter_mut().find(|n| n.name == node) {
            n.files.push(file);
        }
    }
    Ok(Plan {
        lab: lab.to_string(),
        topology_hash: hash,
        release: topo.release,
        pool: topo.pool,
        network,
        volumes,
        nodes,
    })
}

/// Picks the first /24 from 10.210.0.0 upward that overlaps none of `in_use`.
pub fn pick_subnet(in_use: &[Ipv4Cidr]) -> Option<Ipv4Cidr> {
    (0..AUTO_SUBNET_TRIES)
        .map(|i| Ipv4Cidr {
            addr: Ipv4Addr::from(u32::from(AUTO_SUBNET_BASE) + (i << 8)),
            prefix: 24,
        })
        .find(|c| !in_use.iter().any(|u| u.overlaps(*c)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn topo(servers: u32, bricks: u32, clients: u32) -> Topology {
        let text = format!(
            "version = 1\nname = \"t\"\n[servers]\ncount = {servers}\nbricks = {bricks}\n[clients]\ncount = {clients}\n"
        );
        Topology::parse(&text, Path::new("t.toml")).expect("valid topology")
    }

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().expect("cidr")
    }

    fn images() -> ImageTags {
        ImageTags {
            server: "gflab/server:bookworm-x".into(),
            client: "gflab/client:bookworm-x".into(),
        }
    }

    #[test]
    fn plan_table() {
        // (servers, bricks, clients, subnet) → (node names, IPs, volume count)
        struct Case {
            servers: u32,
            bricks: u32,
            clients: u32,
            subnet: &'static str,
            names: &'static [&'static str],
            ips: &'static [&'static str],
            volumes: usize,
        }
        let cases = [
            Case {
                servers: 2,
                bricks: 2,
                clients: 2,
                subnet: "10.210.0.0/24",
                names: &["server1", "server2", "client1", "client2"],
                ips: &["10.210.0.2", "10.210.0.3", "10.210.0.4", "10.210.0.5"],
                volumes: 2 * 3 + 2,
            },
            Case {
                servers: 1,
                bricks: 1,
                clients: 0,
                subnet: "172.30.5.0/28",
                names: &["server1"],
                ips: &["172.30.5.2"],
                volumes: 3,
            },
            Case {
                servers: 6,
                bricks: 2,
                clients: 2,
                subnet: "10.220.4.0/24",
                names: &[
                    "server1", "server2", "server3", "server4", "server5", "server6", "client1",
                    "client2",
                ],
                ips: &[
                    "10.220.4.2",
                    "10.220.4.3",
                    "10.220.4.4",
                    "10.220.4.5",
                    "10.220.4.6",
                    "10.220.4.7",
                    "10.220.4.8",
                    "10.220.4.9",
                ],
                volumes: 6 * 3 + 2,
            },
        ];
        for c in cases {
            let p = plan(
                &topo(c.servers, c.bricks, c.clients),
                "t-lab-p",
                cidr(c.subnet),
                &images(),
            )
            .expect("plan");
            let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
            assert_eq!(names, c.names);
            let ips: Vec<String> = p.nodes.iter().map(|n| n.ip.to_string()).collect();
            assert_eq!(ips, c.ips);
            assert_eq!(p.volumes.len(), c.volumes);
            assert_eq!(p.network.gateway, cidr(c.subnet).host(1));
            for n in &p.nodes {
                let spec = &n.container;
                assert_eq!(spec.name, format!("gflab-t-lab-p-{}", n.name));
                assert_eq!(spec.hostname, n.name);
                assert_eq!(spec.aliases, vec![n.name.clone()]);
                assert_eq!(spec.labels[LABEL_LAB], "t-lab-p");
                assert_eq!(spec.labels[LABEL_NODE], n.name);
                assert_eq!(spec.labels[LABEL_TOPOLOGY], p.topology_hash);
                assert_eq!(spec.publish_tcp, vec![AGENT_PORT]);
                assert!(spec.cap_add.contains(&"SYS_ADMIN".to_string()));
                assert_eq!(spec.devices, vec!["/dev/fuse".to_string()]);
                assert!(spec.init);
                let has_glusterd = spec.cmd.iter().any(|a| a.starts_with("glusterd="));
                match n.role {
                    Role::Server => {
                        assert_eq!(n.bricks, c.bricks);
                        assert_eq!(n.brick_kind, Some(BrickKind::Dir));
                        assert!(has_glusterd);
                        assert!(spec.volumes.iter().any(|v| v.target == BRICK_ROOT));
                        assert_eq!(spec.image, "gflab/server:bookworm-x");
                    }
                    Role::Client => {
                        assert!(!has_glusterd);
                        assert_eq!(spec.image, "gflab/client:bookworm-x");
                    }
                }
            }
            for v in &p.volumes {
                assert_eq!(v.labels[LABEL_LAB], "t-lab-p");
            }
            assert_eq!(p.network.labels[LABEL_LAB], "t-lab-p");
        }
    }

    #[test]
    fn subnet_too_small_is_an_error() {
        let err = plan(&topo(10, 1, 5), "t", cidr("10.0.0.0/28"), &images()).expect_err("small");
        assert_eq!(
            err,
            PlanError::SubnetTooSmall {
                subnet: cidr("10.0.0.0/28"),
                nodes: 15
            }
        );
    }

    #[test]
    fn agent_command_line_is_fixed() {
        assert_eq!(
            agent_cmd(Role::Server),
            vec![
                "/usr/local/bin/gflab-agent",
                "--listen",
                "0.0.0.0:7070",
                "--secret-file",
                "/etc/gflab/secret",
                "--service",
                "glusterd=glusterd -N --log-file=/var/log/glusterfs/glusterd.log",
                "--start",
                "glusterd"
            ]
        );
        assert_eq!(agent_cmd(Role::Client).len(), 5);
    }

    #[test]
    fn pick_subnet_table() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&[], Some("10.210.0.0/24")),
            (&["172.17.0.0/16"], Some("10.210.0.0/24")),
            (&["10.210.0.0/24"], Some("10.210.1.0/24")),
            (
                &["10.210.0.0/24", "10.210.1.0/24", "10.210.3.0/24"],
                Some("10.210.2.0/24"),
            ),
            (&["10.210.0.0/23"], Some("10.210.2.0/24")),
            (&["10.0.0.0/8"], None),
        ];
        for (used, want) in cases {
            let used: Vec<Ipv4Cidr> = used.iter().map(|s| cidr(s)).collect();
            assert_eq!(pick_subnet(&used), want.map(cidr), "in use: {used:?}");
        }
    }
}
