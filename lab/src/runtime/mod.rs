//! The one owner of the container engine: the small [`Runtime`] and [`ImageStore`] traits and
//! their backends.
//!
//! - `docker`: the Docker engine through bollard. It is the only module of the crate that names
//!   bollard (a check in `lab/tests/layering.rs` keeps it so).
//! - `fake`: an in-memory engine for unit tests of the orchestration.
//!
//! The traits speak gflab's own types only. [`Runtime`] has no `exec`: once a node's agent is up,
//! every command goes through the agent, so tests behave the same on containers and real hosts.
//! Labels are the only state: `list` by the `io.gflab.lab` label is what `ls`, `status` and `down` see.
use std::collections::BTreeMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};

use crate::topology::Ipv4Cidr;

pub mod docker;
pub mod fake;

/// Label carrying the lab name, on every object a lab owns.
pub const LABEL_LAB: &str = "io.gflab.lab";
/// Label carrying a node's role (`server` | `client`), on containers and volumes.
pub const LABEL_ROLE: &str = "io.gflab.role";
/// Label carrying the node name, on containers and volumes.
pub const LABEL_NODE: &str = "io.gflab.node";
/// Label carrying the topology hash, on every object.
pub const LABEL_TOPOLOGY: &str = "io.gflab.topology";

/// Labels of one object.
pub type Labels = BTreeMap<String, String>;

/// A lab network to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    /// Docker object name.
    pub name: String,
    /// Its subnet.
    pub subnet: Ipv4Cidr,
    /// Its gateway (the host side).
    pub gateway: Ipv4Addr,
    /// Labels.
    pub labels: Labels,
}

/// A named volume to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    /// Docker object name.
    pub name: String,
    /// Labels.
    pub labels: Labels,
}

/// A named volume mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    /// Volume name.
    pub volume: String,
    /// Path in the container.
    pub target: String,
}

/// A container to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// Docker object name.
    pub name: String,
    /// Hostname inside the container (also its network alias).
    pub hostname: String,
    /// Image reference.
    pub image: String,
    /// The command (the agent's command line).
    pub cmd: Vec<String>,
    /// Network to attach to.
    pub network: String,
    /// Static IPv4 address on that network.
    pub ip: Ipv4Addr,
    /// DNS aliases on that network.
    pub aliases: Vec<String>,
    /// Named volumes.
    pub volumes: Vec<VolumeMount>,
    /// tmpfs mount points.
    pub tmpfs: Vec<String>,
    /// Added capabilities (`SYS_ADMIN`).
    pub cap_add: Vec<String>,
    /// Host devices passed through (`/dev/fuse`).
    pub devices: Vec<String>,
    /// Extra device cgroup rules (`b 7:* rwm`: loop devices made inside the container).
    pub device_cgroup_rules: Vec<String>,
    /// TCP ports published on 127.0.0.1 with a random host port.
    pub publish_tcp: Vec<u16>,
    /// Run an init as PID 1 that reaps orphans.
    pub init: bool,
    /// Labels.
    pub labels: Labels,
}

/// A file written into a created container before it starts.
#[derive(Clone, PartialEq, Eq)]
pub struct FileUpload {
    /// Absolute path in the container.
    pub path: String,
    /// Contents.
    pub data: Vec<u8>,
    /// Unix mode (0o755, 0o600).
    pub mode: u32,
}

impl std::fmt::Debug for FileUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Contents may be a secret: show only the size.
        write!(
            f,
            "FileUpload({}, {} bytes, {:o})",
            self.path,
            self.data.len(),
            self.mode
        )
    }
}

/// Kinds of objects a lab owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// A container (one node).
    Container,
    /// The lab network.
    Network,
    /// A named volume.
    Volume,
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ObjectKind::Container => "container",
            ObjectKind::Network => "network",
            ObjectKind::Volume => "volume",
        })
    }
}

/// A container port published on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PublishedPort {
    /// Port inside the container.
    pub container: u16,
    /// Where it is reachable on the host.
    pub host: SocketAddr,
}

/// One labeled object as the runtime sees it now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LabObject {
    /// Container, network or volume.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// Its labels (include `io.gflab.lab`).
    pub labels: Labels,
    /// Containers: `created`, `running`, `exited`, ...; others: empty.
    pub state: String,
    /// Containers: published ports.
    pub ports: Vec<PublishedPort>,
}

impl LabObject {
    /// The lab it belongs to.
    pub fn lab(&self) -> &str {
        self.labels.get(LABEL_LAB).map_or("", String::as_str)
    }
    /// A label's value, or "".
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map_or("", String::as_str)
    }
}

/// Everything a runtime can fail with; each names the operation, the object and the engine's words.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine cannot be reached at all.
    #[error("failed to reach the engine: {message}\nhint: start Docker (systemctl start docker) or Podman's API service (podman system service --time=0 unix:///run/podman/podman.sock &), set DOCKER_HOST, or check your access to the socket; gflab doctor says more")]
    Unreachable {
        /// The engine's (or the socket's) words.
        message: String,
    },
    /// Creating an object failed.
    #[error("failed to create {kind} {name}: {message}")]
    Create {
        /// What.
        kind: ObjectKind,
        /// Which.
        name: String,
        /// The engine's words.
        message: String,
    },
    /// Uploading files into a created container failed.
    #[error("failed to upload {path} into container {name}: {message}")]
    Upload {
        /// Container.
        name: String,
        /// First file path of the upload.
        path: String,
        /// The engine's words.
        message: String,
    },
    /// A lifecycle operation on a container failed.
    #[error("failed to {op} container {name}: {message}")]
    Control {
        /// What was asked.
        op: ContainerOp,
        /// Container.
        name: String,
        /// The engine's words.
        message: String,
    },
    /// An image operation failed.
    #[error("failed to {op} image {tag}: {message}")]
    Image {
        /// What was being done (`inspect`, `import`, `build`, `remove`).
        op: &'static str,
        /// The image.
        tag: String,
        /// The engine's words.
        message: String,
    },
    /// Asking the engine for its version failed.
    #[error("failed to ask the engine for its version: {message}")]
    Version {
        /// The engine's words.
        message: String,
    },
    /// Listing objects failed.
    #[error("failed to list {kind}s: {message}")]
    List {
        /// What.
        kind: ObjectKind,
        /// The engine's words.
        message: String,
    },
    /// Removing an object failed.
    #[error("failed to remove {kind} {name}: {message}")]
    Remove {
        /// What.
        kind: ObjectKind,
        /// Which.
        name: String,
        /// The engine's words.
        message: String,
    },
}

/// A lifecycle operation on one container (what a node kind's restart, stop and start are made of).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerOp {
    /// Start a created or stopped container.
    Start,
    /// Stop it (SIGTERM, then SIGKILL after the engine's grace period).
    Stop,
    /// Stop and start it again; its published ports may change.
    Restart,
}

impl std::fmt::Display for ContainerOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ContainerOp::Start => "start",
            ContainerOp::Stop => "stop",
            ContainerOp::Restart => "restart",
        })
    }
}

/// Which engine answers, and its versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EngineInfo {
    /// Docker Engine or Podman (what differs between them is decided by this).
    pub kind: EngineKind,
    /// The product as shown (`Docker Engine`, `Podman`).
    pub product: String,
    /// Its version (`20.10.24`, `4.3.1`).
    pub version: String,
    /// The Docker API version it speaks (`1.41`).
    pub api: String,
    /// The engine runs without root (rootless Podman or rootless Docker): containers get
    /// capabilities only inside a user namespace.
    pub rootless: bool,
}

/// The engine products gflab drives through the Docker API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Docker Engine (dockerd).
    #[default]
    Docker,
    /// Podman's API service (`podman system service`).
    Podman,
}

impl EngineKind {
    /// Its product name.
    pub fn product(self) -> &'static str {
        match self {
            EngineKind::Docker => "Docker Engine",
            EngineKind::Podman => "Podman",
        }
    }
}

/// The IPv4 routes of a `/proc/net/route` text as (interface, subnet), default routes left out:
/// the subnets this host already reaches, whichever engine (or none) made their bridges.
pub fn host_routes(text: &str) -> Vec<(String, Ipv4Cidr)> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (iface, dest, mask) = (f.first()?, f.get(1)?, f.get(7)?);
            // Addresses are the bytes in network order, printed as a native-endian hex word.
            let bytes = |h: &str| u32::from_str_radix(h, 16).ok().map(u32::to_ne_bytes);
            let (dest, mask) = (bytes(dest)?, bytes(mask)?);
            let prefix = u32::from_be_bytes(mask).leading_ones() as u8;
            (prefix > 0).then(|| {
                (
                    (*iface).to_string(),
                    Ipv4Cidr {
                        addr: std::net::Ipv4Addr::from(dest),
                        prefix,
                    },
                )
            })
        })
        .collect()
}

/// A place where lab nodes run. Small enough to fake by hand.
pub trait Runtime: Sync {
    /// The engine's identity and versions.
    fn info(&self) -> impl Future<Output = Result<EngineInfo, RuntimeError>> + Send;
    /// Subnets in use, each with what uses it (`Docker network bridge`): every network the engine
    /// has, and what else the engine's host routes (to pick or check a lab subnet).
    fn subnets(&self)
        -> impl Future<Output = Result<Vec<(String, Ipv4Cidr)>, RuntimeError>> + Send;
    /// Creates a network.
    fn create_network(
        &self,
        spec: &NetworkSpec,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;
    /// Creates a named volume.
    fn create_volume(
        &self,
        spec: &VolumeSpec,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;
    /// Creates a container (not started) and writes `files` into it.
    fn create_container(
        &self,
        spec: &ContainerSpec,
        files: &[FileUpload],
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;
    /// Starts, stops or restarts a container.
    fn control(
        &self,
        name: &str,
        op: ContainerOp,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;
    /// Every object labeled with `io.gflab.lab` (= `lab` when given), containers first.
    fn list(
        &self,
        lab: Option<&str>,
    ) -> impl Future<Output = Result<Vec<LabObject>, RuntimeError>> + Send;
    /// Removes one object (containers by force, with their anonymous volumes).
    fn remove(&self, obj: &LabObject) -> impl Future<Output = Result<(), RuntimeError>> + Send;
}

/// A root filesystem tar to import as an image.
pub type TarStream = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// Where a long image operation reports its output lines (import status, build steps).
pub type LineSink<'a> = &'a (dyn Fn(&str) + Sync);

/// An image to import from a root filesystem tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSpec {
    /// `repo:tag`.
    pub tag: String,
    /// Image changes (`LABEL k=v`, `CMD [...]`, `ENTRYPOINT [...]`).
    pub changes: Vec<String>,
}

/// An image to build from a Dockerfile and the files it adds (builds need no network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSpec {
    /// `repo:tag`.
    pub tag: String,
    /// The Dockerfile's text.
    pub dockerfile: String,
    /// The image its `FROM ${BASE}` names (given as the `BASE` build argument, in the engine's
    /// local spelling).
    pub base: String,
    /// Other build arguments.
    pub args: Labels,
    /// Labels on the image.
    pub labels: Labels,
    /// Files beside the Dockerfile in the build context (`ADD install.tar /`).
    pub context: Vec<FileUpload>,
}

/// Where images live. Small enough to fake by hand.
pub trait ImageStore: Sync {
    /// Whether an image exists.
    fn image_exists(&self, tag: &str) -> impl Future<Output = Result<bool, RuntimeError>> + Send;
    /// Imports a root filesystem tar as an image; `status` gets the engine's progress lines.
    fn import_image(
        &self,
        spec: &ImportSpec,
        tar: TarStream,
        status: LineSink<'_>,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;
    /// Builds an image; `output` gets the build's output lines.
    fn build_image(
        &self,
        spec: &BuildSpec,
        output: LineSink<'_>,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;
    /// Removes an image (absent is fine).
    fn remove_image(&self, tag: &str) -> impl Future<Output = Result<(), RuntimeError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_routes_are_read_in_network_order_without_the_default_route() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            br-84\t0000D20A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
            podman1\t0000590A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
            garbled\n";
        let got: Vec<(String, String)> = host_routes(text)
            .into_iter()
            .map(|(i, c)| (i, c.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("br-84".to_string(), "10.210.0.0/24".to_string()),
                ("podman1".to_string(), "10.89.0.0/16".to_string())
            ]
        );
    }
}
