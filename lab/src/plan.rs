//! The pure topology → plan step: which kind each node is, names, addresses, labels, volumes,
//! container specs, the images to build and the steps after start.
//!
//! No I/O here: [`plan`] decides everything from the topology and [`PlanInput`] (lab name,
//! subnet, the host facts probed once before), so it is table-tested over the combinations of
//! kinds, bricks and hosts.
use std::net::Ipv4Addr;
use std::time::Duration;

use gflab_agent::{Capability, Role};

use crate::facts::HostFacts;
use crate::images::{ImageSet, Need};
use crate::kind::{self, Deadlines, ShapeContext};
use crate::node::{
    agent_cmd, role_name, NodePlan, AGENT_PORT, BRICK_ROOT, LABEL_CAPABILITIES, LABEL_IP,
    LABEL_KIND, LABEL_RELEASE,
};
use crate::runtime::{
    ContainerSpec, Labels, NetworkSpec, VolumeMount, VolumeSpec, LABEL_LAB, LABEL_NODE, LABEL_ROLE,
    LABEL_TOPOLOGY,
};
use crate::topology::{BrickKind, Ipv4Cidr, NodeKind, Release, Topology};

/// First address of the range `auto` picks from, and how many /24s it tries.
pub const AUTO_SUBNET_BASE: Ipv4Addr = Ipv4Addr::new(10, 210, 0, 0);
const AUTO_SUBNET_TRIES: u32 = 256 * 16;

/// What a plan is made from besides the topology.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// Lab name (the topology's, or `--name`).
    pub lab: &'a str,
    /// The lab network's subnet (resolved against the engine's networks before).
    pub subnet: Ipv4Cidr,
    /// The host, probed once.
    pub facts: &'a HostFacts,
    /// Wait deadlines.
    pub deadlines: Deadlines,
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
    /// The images the nodes run, to build first when missing.
    pub images: Vec<Need>,
    /// The lab network.
    pub network: NetworkSpec,
    /// Named volumes, in node order.
    pub volumes: Vec<VolumeSpec>,
    /// Nodes: servers first, then clients.
    pub nodes: Vec<NodePlan>,
    /// Form the trusted pool after every node is ready, within this deadline.
    pub pool: Option<Duration>,
    /// What the user should know about choices the plan made for this host.
    pub notes: Vec<String>,
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
    /// The engine runs rootless: bricks cannot work (see [`ROOTLESS_WHY`]).
    #[error("{product} runs rootless: {ROOTLESS_WHY}\nhint: {ROOTLESS_FIX}")]
    RootlessEngine {
        /// The engine's product name.
        product: String,
    },
    /// `[glusterfs] src` cannot be read as a source tree.
    #[error("glusterfs.src: {0}")]
    Source(String),
}

/// Why a rootless engine cannot serve a lab (also `gflab doctor`'s words).
pub const ROOTLESS_WHY: &str = "GlusterFS bricks keep their metadata in trusted.* xattrs, which \
    need CAP_SYS_ADMIN in the host's initial user namespace, and a rootless engine gives containers \
    capabilities only inside a user namespace of its own";

/// What to run instead of a rootless engine.
pub const ROOTLESS_FIX: &str = "as root, use rootful Podman: start its API service (systemctl \
    enable --now podman.socket, or podman system service --time=0 unix:///run/podman/podman.sock &) \
    and run gflab as root with DOCKER_HOST=unix:///run/podman/podman.sock";

/// Docker object name prefix of a lab.
pub fn object_prefix(lab: &str) -> String {
    format!("gflab-{lab}")
}

/// The container name of a node.
pub fn container_name(lab: &str, node: &str) -> String {
    format!("{}-{node}", object_prefix(lab))
}

/// How servers run for `topo` on a host with `facts`, and what to tell the user about it.
/// Thin-LVM bricks need the kernel's dm-thin: without it, servers become kernel-VM nodes, which
/// bring their own kernel.
pub fn server_kind(topo: &Topology, facts: &HostFacts) -> (NodeKind, Option<String>) {
    let s = &topo.servers;
    if s.brick_kind != BrickKind::ThinLvm || s.kind != NodeKind::Container {
        return (s.kind, None);
    }
    if facts.dm_thin {
        return (
            NodeKind::Container,
            Some(
                "thin-LVM bricks: the host kernel has dm-thin; server containers get loop-backed \
                 thin pools"
                    .into(),
            ),
        );
    }
    (
        NodeKind::KernelVm,
        Some(
            "thin-LVM bricks: the host kernel has no dm-thin (dm_thin_pool), so servers run as \
             kernel-VM nodes (QEMU with their own kernel; slower to boot)"
                .into(),
        ),
    )
}

/// Turns a topology into a plan.
pub fn plan(topo: &Topology, input: &PlanInput<'_>) -> Result<Plan, PlanError> {
    let PlanInput {
        lab,
        subnet,
        facts,
        deadlines,
    } = *input;
    if facts.engine.rootless {
        return Err(PlanError::RootlessEngine {
            product: facts.engine.product.clone(),
        });
    }
    let servers = topo.servers.count;
    let total = servers + topo.clients;
    // network address, gateway (.1), broadcast.
    if u64::from(total) + 3 > subnet.size() {
        return Err(PlanError::SubnetTooSmall {
            subnet,
            nodes: total,
        });
    }
    let (server_kind, note) = server_kind(topo, facts);
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
    let roles: Vec<(Role, u32)> = (1..=servers)
        .map(|i| (Role::Server, i))
        .chain((1..=topo.clients).map(|i| (Role::Client, i)))
        .collect();
    // Addresses: .1 is the gateway, nodes from .2 in order.
    let hosts: Vec<(String, Ipv4Addr)> = roles
        .iter()
        .enumerate()
        .map(|(index, (role, i))| (node_name(*role, *i), subnet.host(2 + index as u32)))
        .collect();
    // A topology naming a source tree runs that build: images keyed by the tree's content.
    let build = match &topo.glusterfs_src {
        Some(dir) => {
            Some(crate::build::Source::read(dir).map_err(|e| PlanError::Source(e.to_string()))?)
        }
        None => None,
    };
    let images = match &build {
        Some(src) => crate::build::BuildImages::new(topo.release, &src.hash).set(),
        None => ImageSet::for_release(topo.release),
    };
    let ctx = ShapeContext {
        lab,
        release: topo.release,
        facts,
        hosts: &hosts,
        deadlines,
    };
    let mut nodes = Vec::new();
    for ((role, _), (name, ip)) in roles.iter().zip(&hosts) {
        let (role, name, ip) = (*role, name.clone(), *ip);
        let kind = match role {
            Role::Server => server_kind,
            Role::Client => NodeKind::Container,
        };
        let brick_kind = (role == Role::Server).then_some(topo.servers.brick_kind);
        let cname = container_name(lab, &name);
        let mut labels = base_labels(&[
            (LABEL_ROLE, role_name(role)),
            (LABEL_NODE, &name),
            (LABEL_KIND, kind.as_str()),
            (LABEL_IP, &ip.to_string()),
            (LABEL_RELEASE, topo.release.as_str()),
        ]);
        // Every lab node can be rebooted through its kind; thin-LVM servers take snapshots.
        let mut caps = vec![Capability::Reboot.as_str()];
        if brick_kind == Some(BrickKind::ThinLvm) {
            caps.insert(0, Capability::ThinLvm.as_str());
        }
        labels.insert(LABEL_CAPABILITIES.into(), caps.join(","));
        let mounts: &[(&str, &str)] = match role {
            Role::Server => &[
                ("glusterd", "/var/lib/glusterd"),
                ("log", "/var/log/glusterfs"),
                ("bricks", BRICK_ROOT),
            ],
            Role::Client => &[("log", "/var/log/glusterfs")],
        };
        let container = ContainerSpec {
            hostname: name.clone(),
            image: match role {
                Role::Server => images.server.clone(),
                Role::Client => images.client.clone(),
            },
            cmd: agent_cmd(role),
            network: network_name.clone(),
            ip,
            aliases: vec![name.clone()],
            volumes: mounts
                .iter()
                .map(|(suffix, target)| VolumeMount {
                    volume: format!("{cname}-{suffix}"),
                    target: (*target).into(),
                })
                .collect(),
            tmpfs: vec!["/run".into(), "/tmp".into()],
            // SYS_ADMIN: mounts and trusted.* xattrs; NET_ADMIN: partition rules and netem.
            cap_add: vec!["SYS_ADMIN".into(), "NET_ADMIN".into()],
            devices: vec!["/dev/fuse".into()],
            device_cgroup_rules: Vec::new(),
            publish_tcp: vec![AGENT_PORT],
            // The agent is PID 1 and reaps orphans itself (its reaper mode), so no init is asked
            // for: the same on every engine, and Podman needs no catatonit for these nodes.
            init: false,
            labels,
            name: cname,
        };
        let mut node = NodePlan {
            name,
            role,
            kind,
            brick_kind,
            bricks: if role == Role::Server {
                topo.servers.bricks
            } else {
                0
            },
            ip,
            container,
            files: Vec::new(),
            after_start: Vec::new(),
        };
        kind::of(kind).shape(&mut node, &ctx);
        nodes.push(node);
    }
    // Volumes are what the shaped containers mount, labeled like their node.
    let volumes = nodes
        .iter()
        .flat_map(|n| {
            n.container.volumes.iter().map(|m| VolumeSpec {
                name: m.volume.clone(),
                labels: base_labels(&[(LABEL_ROLE, role_name(n.role)), (LABEL_NODE, &n.name)]),
            })
        })
        .collect();
    let mut needs = vec![match build {
        Some(src) => Need::Build(src),
        None => Need::Roles(images),
    }];
    if nodes.iter().any(|n| n.kind == NodeKind::KernelVm) {
        needs.push(Need::KernelVm(topo.release));
    }
    Ok(Plan {
        lab: lab.to_string(),
        topology_hash: hash,
        release: topo.release,
        images: needs,
        pool: (topo.pool && servers > 1).then_some(deadlines.pool),
        network,
        volumes,
        nodes,
        notes: note.into_iter().collect(),
    })
}

fn node_name(role: Role, i: u32) -> String {
    format!("{}{i}", role_name(role))
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
    use crate::facts::Accel;
    use crate::node::{capabilities_of, NodeStep, WaitFor};
    use crate::thin::{LABEL_THIN_VG, THIN_BRICKS_PATH};
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

    fn facts(dm_thin: bool, kvm: bool, accel: Accel) -> HostFacts {
        HostFacts {
            accel,
            kvm,
            dm_thin,
            engine: crate::runtime::EngineInfo {
                product: "Docker Engine".into(),
                version: "20.10".into(),
                api: "1.41".into(),
                ..crate::runtime::EngineInfo::default()
            },
        }
    }

    fn plain() -> HostFacts {
        facts(false, false, Accel::Auto)
    }

    fn input<'a>(lab: &'a str, subnet: &str, facts: &'a HostFacts) -> PlanInput<'a> {
        PlanInput {
            lab,
            subnet: cidr(subnet),
            facts,
            deadlines: Deadlines::default(),
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
            let f = plain();
            let p = plan(
                &topo(c.servers, c.bricks, c.clients),
                &input("t-lab-p", c.subnet, &f),
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
                assert_eq!(spec.cap_add, ["SYS_ADMIN", "NET_ADMIN"]);
                assert!(!spec.init, "the agent reaps as PID 1");
                let has_glusterd = spec.cmd.iter().any(|a| a.starts_with("glusterd="));
                match n.role {
                    Role::Server => {
                        assert_eq!(n.bricks, c.bricks);
                        assert_eq!(n.brick_kind, Some(BrickKind::Dir));
                        assert!(has_glusterd);
                        assert!(spec.volumes.iter().any(|v| v.target == BRICK_ROOT));
                        assert_eq!(spec.image, ImageSet::for_release(Release::Bookworm).server);
                        assert_eq!(spec.devices, ["/dev/fuse", "/dev/loop-control"]);
                        assert_eq!(spec.device_cgroup_rules, ["b 7:* rwm"]);
                    }
                    Role::Client => {
                        assert!(!has_glusterd);
                        assert_eq!(spec.image, ImageSet::for_release(Release::Bookworm).client);
                        assert_eq!(spec.devices, ["/dev/fuse"]);
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
        let f = plain();
        let err = plan(&topo(10, 1, 5), &input("t", "10.0.0.0/28", &f)).expect_err("small");
        assert_eq!(
            err,
            PlanError::SubnetTooSmall {
                subnet: cidr("10.0.0.0/28"),
                nodes: 15
            }
        );
    }

    #[test]
    fn a_rootless_engine_is_refused_before_anything_is_made() {
        let mut f = plain();
        f.engine.product = "Podman".into();
        f.engine.rootless = true;
        let err = plan(&topo(2, 1, 2), &input("t", "10.0.0.0/24", &f)).expect_err("rootless");
        let text = err.to_string();
        assert!(text.starts_with("Podman runs rootless: "), "{text}");
        assert!(
            text.contains("trusted.* xattrs") && text.contains("hint: "),
            "{text}"
        );
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

    fn thin_topology(kind: &str) -> Topology {
        let text = format!(
            "version = 1\nname = \"t\"\n[servers]\ncount = 2\nbrick_kind = \"thin-lvm\"\n{kind}[clients]\ncount = 1\n"
        );
        Topology::parse(&text, Path::new("t.toml")).expect("valid topology")
    }

    fn waits(n: &NodePlan) -> Vec<(WaitFor, Duration)> {
        n.after_start
            .iter()
            .filter_map(|s| match s {
                NodeStep::Wait { what, deadline } => Some((*what, *deadline)),
                _ => None,
            })
            .collect()
    }

    fn runs(n: &NodePlan) -> Vec<&'static str> {
        n.after_start
            .iter()
            .filter_map(|s| match s {
                NodeStep::Run { what, .. } => Some(*what),
                _ => None,
            })
            .collect()
    }

    /// Bricks × explicit kind × host facts → server kind, devices, thin steps, images, notes.
    #[test]
    fn kinds_table() {
        struct Case {
            topology: Topology,
            host: HostFacts,
            kind: NodeKind,
            kvm_device: bool,
            thin_in_container: bool,
            vm_image: bool,
            note: Option<&'static str>,
        }
        let dir = || topo(2, 2, 1);
        let cases = [
            // Plain bricks: containers whatever the host has.
            Case {
                topology: dir(),
                host: plain(),
                kind: NodeKind::Container,
                kvm_device: false,
                thin_in_container: false,
                vm_image: false,
                note: None,
            },
            Case {
                topology: dir(),
                host: facts(true, true, Accel::Auto),
                kind: NodeKind::Container,
                kvm_device: false,
                thin_in_container: false,
                vm_image: false,
                note: None,
            },
            // Thin bricks, no dm-thin: servers become kernel-VM nodes, and say so.
            Case {
                topology: thin_topology(""),
                host: plain(),
                kind: NodeKind::KernelVm,
                kvm_device: false,
                thin_in_container: false,
                vm_image: true,
                note: Some("no dm-thin"),
            },
            Case {
                topology: thin_topology(""),
                host: facts(false, true, Accel::Auto),
                kind: NodeKind::KernelVm,
                kvm_device: true,
                thin_in_container: false,
                vm_image: true,
                note: Some("no dm-thin"),
            },
            Case {
                topology: thin_topology(""),
                host: facts(false, true, Accel::Tcg),
                kind: NodeKind::KernelVm,
                kvm_device: false,
                thin_in_container: false,
                vm_image: true,
                note: Some("no dm-thin"),
            },
            // Thin bricks with dm-thin: loop-backed pools in containers.
            Case {
                topology: thin_topology(""),
                host: facts(true, false, Accel::Auto),
                kind: NodeKind::Container,
                kvm_device: false,
                thin_in_container: true,
                vm_image: false,
                note: Some("loop-backed"),
            },
            // Asked for kernel-VM explicitly: VMs on any host, nothing to say.
            Case {
                topology: thin_topology("kind = \"kernel-vm\"\n"),
                host: facts(true, true, Accel::Kvm),
                kind: NodeKind::KernelVm,
                kvm_device: true,
                thin_in_container: false,
                vm_image: true,
                note: None,
            },
        ];
        for (i, c) in cases.iter().enumerate() {
            let p = plan(&c.topology, &input("lab1", "10.9.0.0/24", &c.host)).expect("plan");
            let servers: Vec<&NodePlan> = p.with_role(Role::Server).collect();
            let client = p.with_role(Role::Client).next().expect("a client");
            for s in &servers {
                assert_eq!(s.kind, c.kind, "case {i}");
                assert_eq!(s.container.labels[LABEL_KIND], c.kind.as_str(), "case {i}");
                assert_eq!(
                    s.container.devices.contains(&"/dev/kvm".to_string()),
                    c.kvm_device,
                    "case {i}"
                );
                assert_eq!(
                    s.container.labels.contains_key(LABEL_THIN_VG),
                    c.thin_in_container,
                    "case {i}"
                );
                let thin = s.brick_kind == Some(BrickKind::ThinLvm);
                assert_eq!(
                    capabilities_of(&s.container.labels).contains(&Capability::ThinLvm),
                    thin,
                    "case {i}"
                );
                let agent_deadline = if c.kind == NodeKind::KernelVm {
                    Deadlines::default().boot
                } else {
                    Deadlines::default().agent
                };
                assert_eq!(
                    waits(s),
                    [
                        (WaitFor::AgentPing, agent_deadline),
                        (WaitFor::Glusterd, Deadlines::default().glusterd)
                    ],
                    "case {i}"
                );
                assert_eq!(
                    runs(s),
                    if c.thin_in_container {
                        vec!["set up thin-LVM bricks"]
                    } else {
                        vec![]
                    },
                    "case {i}"
                );
                if c.kind == NodeKind::KernelVm {
                    assert_eq!(
                        s.container.image,
                        crate::images::vm::image_tag(Release::Bookworm)
                    );
                    assert!(
                        s.container.volumes.is_empty(),
                        "case {i}: state lives in the VM"
                    );
                    let conf = String::from_utf8(s.files[0].data.clone()).expect("utf-8");
                    assert!(
                        conf.contains(&format!("GFLAB_VM_VG=gflab_lab1_{}", s.name)),
                        "{conf}"
                    );
                    assert!(
                        conf.contains("server1=10.9.0.2 server2=10.9.0.3 client1=10.9.0.4"),
                        "{conf}"
                    );
                    assert!(
                        conf.contains(&format!("GFLAB_VM_ACCEL={}", c.host.accel.as_str())),
                        "{conf}"
                    );
                }
                if c.thin_in_container {
                    assert_eq!(s.container.device_cgroup_rules, ["b *:* rwm"]);
                    assert!(s
                        .container
                        .devices
                        .contains(&"/dev/mapper/control".to_string()));
                    assert_eq!(s.files[0].path, THIN_BRICKS_PATH);
                    assert_eq!(s.files[0].mode, 0o755);
                }
            }
            // Clients are plain containers in every case.
            assert_eq!(client.kind, NodeKind::Container);
            assert!(client.files.is_empty());
            assert_eq!(
                capabilities_of(&client.container.labels),
                [Capability::Reboot]
            );
            assert_eq!(
                waits(client),
                [(WaitFor::AgentPing, Deadlines::default().agent)]
            );
            assert_eq!(
                p.images.contains(&Need::KernelVm(Release::Bookworm)),
                c.vm_image,
                "case {i}"
            );
            assert_eq!(
                p.images[0],
                Need::Roles(ImageSet::for_release(Release::Bookworm))
            );
            match c.note {
                Some(n) => assert!(
                    p.notes.iter().any(|x| x.contains(n)),
                    "case {i}: {:?}",
                    p.notes
                ),
                None => assert!(p.notes.is_empty(), "case {i}: {:?}", p.notes),
            }
            // Every mounted volume is planned, and only those.
            let mounted: Vec<&str> = p
                .nodes
                .iter()
                .flat_map(|n| n.container.volumes.iter().map(|v| v.volume.as_str()))
                .collect();
            let planned: Vec<&str> = p.volumes.iter().map(|v| v.name.as_str()).collect();
            assert_eq!(mounted, planned, "case {i}");
        }
    }

    #[test]
    fn the_pool_is_formed_only_with_two_servers_or_more() {
        let f = plain();
        assert_eq!(
            plan(&topo(2, 1, 0), &input("t", "10.0.0.0/24", &f))
                .expect("plan")
                .pool,
            Some(Deadlines::default().pool)
        );
        assert_eq!(
            plan(&topo(1, 1, 1), &input("t", "10.0.0.0/24", &f))
                .expect("plan")
                .pool,
            None
        );
    }
}
