//! The Docker backend: the one wrapper that owns the bollard client and maps its errors into
//! [`RuntimeError`] variants naming the operation and the object.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointIpamConfig, EndpointSettings, HostConfig, Ipam,
    IpamConfig, Mount, MountType, NetworkCreateRequest, NetworkingConfig, PortBinding,
    ResourcesUlimits, VolumeCreateRequest,
};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, CreateImageOptionsBuilder,
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptions, RemoveVolumeOptionsBuilder,
    RestartContainerOptions, StartContainerOptions, StopContainerOptions,
    UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures::StreamExt;

use super::{
    host_routes, BuildSpec, ContainerOp, ContainerSpec, EngineInfo, EngineKind, FileUpload,
    ImageStore, ImportSpec, LabObject, Labels, LineSink, NetworkSpec, ObjectKind, PublishedPort,
    Runtime, RuntimeError, TarStream, VolumeSpec, LABEL_LAB,
};
use crate::topology::Ipv4Cidr;

/// An engine that speaks the Docker API: Docker Engine, or Podman's API service. Reached through
/// the engine named by `--engine`, `DOCKER_HOST` or `CONTAINER_HOST` (`unix://`,
/// `tcp://HOST:PORT`, `ssh://USER@HOST`), else the local socket ([`default_engine`]).
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    /// The negotiated bollard client.
    docker: Docker,
    /// Which product answers (image names and exec results differ).
    kind: EngineKind,
    /// Resource limits every container is given: on a local Podman, those Podman would raise
    /// beyond what its own process may (see [`podman_ulimits`]); empty otherwise.
    ulimits: Vec<ResourcesUlimits>,
    /// The engine's address as given (`unix:///var/run/docker.sock` for the local default).
    endpoint: String,
    /// Where published ports are reached from here: loopback for a local engine, the engine's
    /// host otherwise.
    agent_host: IpAddr,
}

/// The engine used when none is named: set once by the command line (`--engine`).
static DEFAULT_ENGINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The local Docker engine's socket.
pub const LOCAL_ENGINE: &str = "unix:///var/run/docker.sock";

/// Rootful Podman's API socket (`podman system service`, or systemd's `podman.socket`).
pub const PODMAN_ENGINE: &str = "unix:///run/podman/podman.sock";

/// Where the engine address was found, in the order [`choose_engine`] looks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineHints {
    /// `--engine`.
    pub flag: Option<String>,
    /// `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// `CONTAINER_HOST` (Podman's variable).
    pub container_host: Option<String>,
    /// `XDG_RUNTIME_DIR`, where a rootless Podman's socket lives (only when not root).
    pub user_runtime_dir: Option<String>,
}

impl EngineHints {
    /// This process's hints (`--engine` as set by [`set_default_engine`]).
    pub fn here() -> EngineHints {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        EngineHints {
            flag: DEFAULT_ENGINE.get().cloned(),
            docker_host: var("DOCKER_HOST"),
            container_host: var("CONTAINER_HOST"),
            user_runtime_dir: (!nix::unistd::Uid::effective().is_root())
                .then(|| var("XDG_RUNTIME_DIR"))
                .flatten(),
        }
    }
}

/// The engine to reach: `--engine`, else `DOCKER_HOST`, else `CONTAINER_HOST`, else the first
/// socket that exists of Docker's, rootful Podman's and (not as root) rootless Podman's, else
/// Docker's (so the error names it). `exists` tells whether a socket path is there.
pub fn choose_engine(hints: &EngineHints, exists: impl Fn(&str) -> bool) -> String {
    if let Some(e) = [&hints.flag, &hints.docker_host, &hints.container_host]
        .into_iter()
        .flatten()
        .next()
    {
        return e.clone();
    }
    let rootless = hints
        .user_runtime_dir
        .as_ref()
        .map(|d| format!("unix://{d}/podman/podman.sock"));
    [LOCAL_ENGINE, PODMAN_ENGINE]
        .into_iter()
        .map(String::from)
        .chain(rootless)
        .find(|e| exists(e.trim_start_matches("unix://")))
        .unwrap_or_else(|| LOCAL_ENGINE.to_string())
}

/// Whether a socket path is there.
fn socket_exists(path: &str) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    std::fs::metadata(path)
        .map(|m| m.file_type().is_socket())
        .unwrap_or(false)
}

/// Sets the engine every later [`DockerRuntime::connect`] reaches (the first call wins).
pub fn set_default_engine(endpoint: &str) {
    let _ = DEFAULT_ENGINE.set(endpoint.to_string());
}

/// The engine [`DockerRuntime::connect`] reaches ([`choose_engine`] with this process's hints).
pub fn default_engine() -> String {
    choose_engine(&EngineHints::here(), socket_exists)
}

/// The host part of an engine address and whether agents on it are reached over loopback:
/// `unix://` is this machine; `tcp://`/`http://`/`ssh://` name a host (resolved here).
pub fn engine_host(endpoint: &str) -> Result<IpAddr, String> {
    let rest = match endpoint.split_once("://") {
        Some(("unix", _)) => return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        Some(("tcp" | "http" | "ssh", rest)) => rest,
        _ => {
            return Err(format!(
                "unsupported engine address {endpoint:?}: use unix:///path, tcp://HOST:PORT or \
                 ssh://USER@HOST"
            ))
        }
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let hostport = authority.rsplit('@').next().unwrap_or_default();
    let host = match hostport.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => hostport.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err(format!("engine address {endpoint:?} names no host"));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    use std::net::ToSocketAddrs as _;
    (host, 0)
        .to_socket_addrs()
        .map_err(|e| format!("failed to resolve the engine host {host:?} of {endpoint:?}: {e}"))?
        .map(|a| a.ip())
        .find(IpAddr::is_ipv4)
        .ok_or_else(|| format!("the engine host {host:?} of {endpoint:?} has no IPv4 address"))
}

/// Image operations can take minutes; bollard's default request timeout is 2 minutes.
const IMAGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// The engine's own words for a bollard error.
fn engine_message(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        bollard::errors::Error::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

fn to_hash(l: &Labels) -> HashMap<String, String> {
    l.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn from_hash(l: Option<&HashMap<String, String>>) -> Labels {
    l.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// A label filter for list calls.
fn lab_filter(lab: Option<&str>) -> HashMap<String, Vec<String>> {
    let value = match lab {
        Some(l) => format!("{LABEL_LAB}={l}"),
        None => LABEL_LAB.to_string(),
    };
    HashMap::from([("label".to_string(), vec![value])])
}

/// An in-memory tar of `files` (no temporary files).
pub fn tar_of(files: &[FileUpload]) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for f in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(f.data.len() as u64);
        h.set_mode(f.mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        let rel = f.path.trim_start_matches('/');
        b.append_data(&mut h, rel, f.data.as_slice())?;
    }
    b.into_inner()
}

impl DockerRuntime {
    /// Connects to the default engine ([`default_engine`]) and negotiates the API version.
    pub async fn connect() -> Result<DockerRuntime, RuntimeError> {
        DockerRuntime::connect_to(&default_engine()).await
    }

    /// Connects to the engine at `endpoint` and negotiates the API version.
    pub async fn connect_to(endpoint: &str) -> Result<DockerRuntime, RuntimeError> {
        let unreachable = |e: bollard::errors::Error| RuntimeError::Unreachable {
            message: format!("{endpoint}: {}", engine_message(&e)),
        };
        let agent_host =
            engine_host(endpoint).map_err(|message| RuntimeError::Unreachable { message })?;
        let docker = Docker::connect_with_host(endpoint).map_err(unreachable)?;
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        docker.ping().await.map_err(unreachable)?;
        let version = docker.version().await.map_err(unreachable)?;
        let kind = engine_kind(&version);
        let ulimits = match (kind, endpoint.strip_prefix("unix://")) {
            (EngineKind::Podman, Some(path)) => podman_ulimits(&listener_limits(path)),
            _ => Vec::new(),
        };
        Ok(DockerRuntime {
            kind,
            ulimits,
            docker,
            endpoint: endpoint.to_string(),
            agent_host,
        })
    }

    /// The engine's address.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Which product answers.
    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    /// An image name as this engine stores it locally. Podman qualifies a bare `gflab/base:x` with
    /// a registry (`docker.io/...`, and a build's `FROM` would then pull it): gflab's images are
    /// named `localhost/gflab/...` there, which never leaves the machine. Docker keeps the name.
    fn local_name(&self, tag: &str) -> String {
        local_image_name(self.kind, tag)
    }

    /// Runs `argv` in a container through the engine's exec API (create, start, wait, inspect:
    /// what `docker exec` does) and returns its exit code. Only `gflab bench` uses it, to compare
    /// with the agent: nodes are never driven this way.
    pub async fn exec_via_engine(
        &self,
        container: &str,
        argv: &[&str],
    ) -> Result<i64, RuntimeError> {
        let err = |e: bollard::errors::Error| RuntimeError::Control {
            op: ContainerOp::Start,
            name: format!("{container} (exec {})", argv.join(" ")),
            message: engine_message(&e),
        };
        let ex = self
            .docker
            .create_exec(
                container,
                CreateExecOptions::<String> {
                    cmd: Some(argv.iter().map(|a| (*a).to_string()).collect()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(err)?;
        if let StartExecResults::Attached { mut output, .. } =
            self.docker.start_exec(&ex.id, None).await.map_err(err)?
        {
            while output.next().await.is_some() {}
        }
        // Docker has the exit code once the output ends; Podman records it a moment later.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let inspect = self.docker.inspect_exec(&ex.id).await.map_err(err)?;
            match (inspect.running, inspect.exit_code) {
                (Some(false) | None, Some(code)) => return Ok(code),
                _ if tokio::time::Instant::now() >= deadline => return Ok(-1),
                _ => tokio::time::sleep(std::time::Duration::from_millis(1)).await,
            }
        }
    }

    async fn list_containers(&self, lab: Option<&str>) -> Result<Vec<LabObject>, RuntimeError> {
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&lab_filter(lab))
            .build();
        let list =
            self.docker
                .list_containers(Some(opts))
                .await
                .map_err(|e| RuntimeError::List {
                    kind: ObjectKind::Container,
                    message: engine_message(&e),
                })?;
        Ok(list
            .into_iter()
            .map(|c| {
                let name = c
                    .names
                    .as_ref()
                    .and_then(|n| n.first())
                    .map(|n| n.trim_start_matches('/').to_string())
                    .or_else(|| c.id.clone())
                    .unwrap_or_default();
                let ports = c
                    .ports
                    .iter()
                    .flatten()
                    .filter_map(|p| {
                        let host_port = p.public_port?;
                        let ip: IpAddr =
                            p.ip.as_deref()
                                .and_then(|s| s.parse().ok())
                                .filter(|ip: &IpAddr| !ip.is_unspecified() && !ip.is_loopback())
                                .unwrap_or(self.agent_host);
                        // Only IPv4 bindings: we publish on one IPv4 address.
                        ip.is_ipv4().then_some(PublishedPort {
                            container: p.private_port,
                            host: SocketAddr::new(ip, host_port),
                        })
                    })
                    .collect();
                LabObject {
                    kind: ObjectKind::Container,
                    name,
                    labels: from_hash(c.labels.as_ref()),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    ports,
                }
            })
            .collect())
    }

    async fn list_networks(&self, lab: Option<&str>) -> Result<Vec<LabObject>, RuntimeError> {
        let opts = ListNetworksOptionsBuilder::default()
            .filters(&lab_filter(lab))
            .build();
        let list = self
            .docker
            .list_networks(Some(opts))
            .await
            .map_err(|e| RuntimeError::List {
                kind: ObjectKind::Network,
                message: engine_message(&e),
            })?;
        Ok(list
            .into_iter()
            .map(|n| LabObject {
                kind: ObjectKind::Network,
                name: n.name.clone().unwrap_or_default(),
                labels: from_hash(n.labels.as_ref()),
                state: String::new(),
                ports: Vec::new(),
            })
            .collect())
    }

    async fn list_volumes(&self, lab: Option<&str>) -> Result<Vec<LabObject>, RuntimeError> {
        let opts = ListVolumesOptionsBuilder::default()
            .filters(&lab_filter(lab))
            .build();
        let list = self
            .docker
            .list_volumes(Some(opts))
            .await
            .map_err(|e| RuntimeError::List {
                kind: ObjectKind::Volume,
                message: engine_message(&e),
            })?;
        Ok(list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| LabObject {
                kind: ObjectKind::Volume,
                name: v.name,
                labels: from_hash(Some(&v.labels)),
                state: String::new(),
                ports: Vec::new(),
            })
            .collect())
    }
}

impl Runtime for DockerRuntime {
    async fn info(&self) -> Result<EngineInfo, RuntimeError> {
        let err = |e: bollard::errors::Error| RuntimeError::Version {
            message: engine_message(&e),
        };
        let v = self.docker.version().await.map_err(err)?;
        let kind = engine_kind(&v);
        let info = self.docker.info().await.map_err(err)?;
        // Both products list `name=rootless` among their security options when they run so.
        let rootless = info
            .security_options
            .iter()
            .flatten()
            .any(|o| o.split(',').any(|kv| kv == "name=rootless"));
        Ok(EngineInfo {
            kind,
            product: kind.product().to_string(),
            version: v.version.unwrap_or_default(),
            api: v.api_version.unwrap_or_default(),
            rootless,
        })
    }

    async fn subnets(&self) -> Result<Vec<(String, Ipv4Cidr)>, RuntimeError> {
        let list = self
            .docker
            .list_networks(None::<bollard::query_parameters::ListNetworksOptions>)
            .await
            .map_err(|e| RuntimeError::List {
                kind: ObjectKind::Network,
                message: engine_message(&e),
            })?;
        let product = match self.kind {
            EngineKind::Docker => "Docker",
            EngineKind::Podman => "Podman",
        };
        let mut out = Vec::new();
        for n in list {
            let name = n.name.unwrap_or_default();
            for cfg in n.ipam.and_then(|i| i.config).unwrap_or_default() {
                if let Some(c) = cfg.subnet.and_then(|s| s.parse::<Ipv4Cidr>().ok()) {
                    out.push((format!("{product} network {name}"), c));
                }
            }
        }
        if self.agent_host.is_loopback() {
            // Another engine on this host (Docker beside Podman) has bridges this one does not
            // list: the host's routes show them.
            let routes = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
            out.extend(
                host_routes(&routes)
                    .into_iter()
                    .map(|(iface, c)| (format!("the host's route on {iface}"), c)),
            );
        }
        Ok(out)
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<(), RuntimeError> {
        let req = NetworkCreateRequest {
            name: spec.name.clone(),
            driver: Some("bridge".into()),
            ipam: Some(Ipam {
                driver: Some("default".into()),
                config: Some(vec![IpamConfig {
                    subnet: Some(spec.subnet.to_string()),
                    gateway: Some(spec.gateway.to_string()),
                    ..Default::default()
                }]),
                options: None,
            }),
            labels: Some(to_hash(&spec.labels)),
            ..Default::default()
        };
        self.docker
            .create_network(req)
            .await
            .map(|_| ())
            .map_err(|e| RuntimeError::Create {
                kind: ObjectKind::Network,
                name: spec.name.clone(),
                message: engine_message(&e),
            })
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<(), RuntimeError> {
        let req = VolumeCreateRequest {
            name: Some(spec.name.clone()),
            labels: Some(to_hash(&spec.labels)),
            ..Default::default()
        };
        self.docker
            .create_volume(req)
            .await
            .map(|_| ())
            .map_err(|e| RuntimeError::Create {
                kind: ObjectKind::Volume,
                name: spec.name.clone(),
                message: engine_message(&e),
            })
    }

    async fn create_container(
        &self,
        spec: &ContainerSpec,
        files: &[FileUpload],
    ) -> Result<(), RuntimeError> {
        let port_bindings: HashMap<String, Option<Vec<PortBinding>>> = spec
            .publish_tcp
            .iter()
            .map(|p| {
                (
                    format!("{p}/tcp"),
                    Some(vec![PortBinding {
                        // A remote engine's agents must be reachable from this machine.
                        host_ip: Some(if self.agent_host.is_loopback() {
                            "127.0.0.1".into()
                        } else {
                            "0.0.0.0".into()
                        }),
                        host_port: Some(String::new()),
                    }]),
                )
            })
            .collect();
        let host_config = HostConfig {
            init: Some(spec.init),
            cap_add: Some(spec.cap_add.clone()),
            devices: Some(
                spec.devices
                    .iter()
                    .map(|d| DeviceMapping {
                        path_on_host: Some(d.clone()),
                        path_in_container: Some(d.clone()),
                        cgroup_permissions: Some("rwm".into()),
                    })
                    .collect(),
            ),
            device_cgroup_rules: Some(spec.device_cgroup_rules.clone()),
            tmpfs: Some(
                spec.tmpfs
                    .iter()
                    .map(|t| (t.clone(), String::new()))
                    .collect(),
            ),
            mounts: Some(
                spec.volumes
                    .iter()
                    .map(|v| Mount {
                        target: Some(v.target.clone()),
                        source: Some(v.volume.clone()),
                        typ: Some(MountType::VOLUME),
                        ..Default::default()
                    })
                    .collect(),
            ),
            port_bindings: Some(port_bindings),
            ulimits: (!self.ulimits.is_empty()).then(|| self.ulimits.clone()),
            // No network named: the engine's default one (a builder container, reached only
            // through its published agent port).
            network_mode: (!spec.network.is_empty()).then(|| spec.network.clone()),
            ..Default::default()
        };
        let endpoint = EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: Some(spec.ip.to_string()),
                ..Default::default()
            }),
            aliases: Some(spec.aliases.clone()),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            hostname: Some(spec.hostname.clone()),
            image: Some(self.local_name(&spec.image)),
            cmd: Some(spec.cmd.clone()),
            labels: Some(to_hash(&spec.labels)),
            exposed_ports: Some(
                spec.publish_tcp
                    .iter()
                    .map(|p| format!("{p}/tcp"))
                    .collect(),
            ),
            host_config: Some(host_config),
            networking_config: (!spec.network.is_empty()).then(|| NetworkingConfig {
                endpoints_config: Some(HashMap::from([(spec.network.clone(), endpoint)])),
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        self.docker
            .create_container(Some(opts), body)
            .await
            .map_err(|e| RuntimeError::Create {
                kind: ObjectKind::Container,
                name: spec.name.clone(),
                message: engine_message(&e),
            })?;
        if files.is_empty() {
            return Ok(());
        }
        let upload_err = |message: String| RuntimeError::Upload {
            name: spec.name.clone(),
            path: files[0].path.clone(),
            message,
        };
        let tar = tar_of(files).map_err(|e| upload_err(e.to_string()))?;
        let opts = UploadToContainerOptionsBuilder::default().path("/").build();
        self.docker
            .upload_to_container(&spec.name, Some(opts), bollard::body_full(tar.into()))
            .await
            .map_err(|e| upload_err(engine_message(&e)))
    }

    async fn control(&self, name: &str, op: ContainerOp) -> Result<(), RuntimeError> {
        let res = match op {
            ContainerOp::Start => {
                self.docker
                    .start_container(name, None::<StartContainerOptions>)
                    .await
            }
            ContainerOp::Stop => {
                self.docker
                    .stop_container(name, None::<StopContainerOptions>)
                    .await
            }
            ContainerOp::Restart => {
                self.docker
                    .restart_container(name, None::<RestartContainerOptions>)
                    .await
            }
        };
        res.map_err(|e| RuntimeError::Control {
            op,
            name: name.to_string(),
            message: engine_message(&e),
        })
    }

    async fn list(&self, lab: Option<&str>) -> Result<Vec<LabObject>, RuntimeError> {
        let mut all = self.list_containers(lab).await?;
        all.extend(self.list_networks(lab).await?);
        all.extend(self.list_volumes(lab).await?);
        Ok(all)
    }

    async fn remove(&self, obj: &LabObject) -> Result<(), RuntimeError> {
        let res = match obj.kind {
            ObjectKind::Container => {
                let opts = RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build();
                self.docker.remove_container(&obj.name, Some(opts)).await
            }
            ObjectKind::Network => self.docker.remove_network(&obj.name).await,
            ObjectKind::Volume => {
                let opts = RemoveVolumeOptionsBuilder::default().force(true).build();
                self.docker.remove_volume(&obj.name, Some(opts)).await
            }
        };
        match res {
            Ok(()) => Ok(()),
            // Already gone (a concurrent `down`, or a container's volume removed with it).
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(RuntimeError::Remove {
                kind: obj.kind,
                name: obj.name.clone(),
                message: engine_message(&e),
            }),
        }
    }
}

impl ImageStore for DockerRuntime {
    async fn image_exists(&self, tag: &str) -> Result<bool, RuntimeError> {
        match self.docker.inspect_image(&self.local_name(tag)).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(RuntimeError::Image {
                op: "inspect",
                tag: tag.into(),
                message: engine_message(&e),
            }),
        }
    }

    async fn import_image(
        &self,
        spec: &ImportSpec,
        tar: TarStream,
        status: LineSink<'_>,
    ) -> Result<(), RuntimeError> {
        // Podman's import ignores `tag` (the image would be `:latest`) but takes `repo:tag`.
        let name = self.local_name(&spec.tag);
        let (repo, version) = match self.kind {
            EngineKind::Docker => name.split_once(':').unwrap_or((&name, "latest")),
            EngineKind::Podman => (name.as_str(), ""),
        };
        let opts = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(repo)
            .tag(version)
            .changes(spec.changes.clone())
            .build();
        let body = bollard::body_try_stream(tokio_util::io::ReaderStream::new(tar));
        let docker = self.docker.clone().with_timeout(IMAGE_TIMEOUT);
        let mut s = docker.create_image(Some(opts), Some(body), None);
        let mut last = Ok(());
        while let Some(item) = s.next().await {
            match item {
                Ok(info) => {
                    if let Some(st) = info.status {
                        status(&st);
                    }
                }
                Err(e) => {
                    last = Err(RuntimeError::Image {
                        op: "import",
                        tag: spec.tag.clone(),
                        message: engine_message(&e),
                    })
                }
            }
        }
        last
    }

    async fn build_image(
        &self,
        spec: &BuildSpec,
        output: LineSink<'_>,
    ) -> Result<(), RuntimeError> {
        let err = |message: String| RuntimeError::Image {
            op: "build",
            tag: spec.tag.clone(),
            message,
        };
        let mut files = vec![FileUpload {
            path: "Dockerfile".into(),
            data: spec.dockerfile.as_bytes().to_vec(),
            mode: 0o644,
        }];
        files.extend(spec.context.iter().cloned());
        let context = tar_of(&files).map_err(|e| err(e.to_string()))?;
        let mut args = to_hash(&spec.args);
        args.insert("BASE".into(), self.local_name(&spec.base));
        let opts = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(&self.local_name(&spec.tag))
            .rm(true)
            .forcerm(true)
            .buildargs(&args)
            .labels(&to_hash(&spec.labels))
            .build();
        let docker = self.docker.clone().with_timeout(IMAGE_TIMEOUT);
        let mut s = docker.build_image(opts, None, Some(bollard::body_full(context.into())));
        while let Some(item) = s.next().await {
            match item {
                Ok(info) => {
                    if let Some(line) = info.stream {
                        let line = line.trim_end();
                        if !line.is_empty() {
                            output(line);
                        }
                    }
                }
                Err(e) => return Err(err(engine_message(&e))),
            }
        }
        Ok(())
    }

    async fn remove_image(&self, tag: &str) -> Result<(), RuntimeError> {
        match self
            .docker
            .remove_image(&self.local_name(tag), None::<RemoveImageOptions>, None)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(RuntimeError::Image {
                op: "remove",
                tag: tag.into(),
                message: engine_message(&e),
            }),
        }
    }
}

/// Which product a version answer comes from: Podman lists a `Podman Engine` component.
fn engine_kind(v: &bollard::models::SystemVersion) -> EngineKind {
    let podman = v
        .components
        .iter()
        .flatten()
        .any(|c| c.name.eq_ignore_ascii_case("Podman Engine"));
    if podman {
        EngineKind::Podman
    } else {
        EngineKind::Docker
    }
}

/// What rootful Podman gives a container that names no limits (its `RLimitDefaultValue`, and
/// 4194304 processes): it raises the hard limits to these, which fails with "error setting rlimit"
/// where its own process may not (no CAP_SYS_RESOURCE, as in some containers and CI machines).
const PODMAN_DEFAULT_LIMITS: [(&str, &str, u64); 2] = [
    ("nofile", "Max open files", 1_048_576),
    ("nproc", "Max processes", 4_194_304),
];

/// The hard limits of the process listening on a local socket (its `/proc/PID/limits` text,
/// found through SO_PEERCRED); empty when it cannot be read.
fn listener_limits(path: &str) -> String {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    let Ok(stream) = std::os::unix::net::UnixStream::connect(path) else {
        return String::new();
    };
    let Ok(cred) = getsockopt(&stream, PeerCredentials) else {
        return String::new();
    };
    std::fs::read_to_string(format!("/proc/{}/limits", cred.pid())).unwrap_or_default()
}

/// The limits to give Podman's containers, from its process's `/proc/PID/limits`: each of
/// [`PODMAN_DEFAULT_LIMITS`] whose hard limit there is lower, at that hard limit (what Docker's
/// containers inherit from dockerd). Unreadable or unlimited: Podman's defaults stand.
pub fn podman_ulimits(limits: &str) -> Vec<ResourcesUlimits> {
    PODMAN_DEFAULT_LIMITS
        .iter()
        .filter_map(|(name, row, default)| {
            let rest = limits.lines().find_map(|l| l.strip_prefix(row))?;
            let hard: u64 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (hard < *default).then(|| ResourcesUlimits {
                name: Some((*name).to_string()),
                soft: i64::try_from(hard).ok(),
                hard: i64::try_from(hard).ok(),
            })
        })
        .collect()
}

/// An image name in `kind`'s local spelling: on Podman a name without a registry gets
/// `localhost/`, so nothing is resolved against a registry; Docker's names are kept.
pub fn local_image_name(kind: EngineKind, name: &str) -> String {
    let first = name.split('/').next().unwrap_or_default();
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    match kind {
        EngineKind::Podman if !has_registry => format!("localhost/{name}"),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_chosen_by_flag_variables_then_sockets() {
        let none = |_: &str| false;
        let only = |p: &'static str| move |s: &str| s == p;
        let hints = EngineHints::default();
        assert_eq!(choose_engine(&hints, none), LOCAL_ENGINE);
        assert_eq!(
            choose_engine(&hints, only("/var/run/docker.sock")),
            LOCAL_ENGINE
        );
        assert_eq!(
            choose_engine(&hints, only("/run/podman/podman.sock")),
            PODMAN_ENGINE
        );
        assert_eq!(
            choose_engine(&hints, |_: &str| true),
            LOCAL_ENGINE,
            "Docker first"
        );
        let user = EngineHints {
            user_runtime_dir: Some("/run/user/1000".into()),
            ..EngineHints::default()
        };
        assert_eq!(
            choose_engine(&user, only("/run/user/1000/podman/podman.sock")),
            "unix:///run/user/1000/podman/podman.sock"
        );
        let vars = EngineHints {
            container_host: Some("unix:///c.sock".into()),
            ..user.clone()
        };
        assert_eq!(choose_engine(&vars, |_: &str| true), "unix:///c.sock");
        let vars = EngineHints {
            docker_host: Some("tcp://h:2375".into()),
            ..vars
        };
        assert_eq!(choose_engine(&vars, none), "tcp://h:2375");
        let flag = EngineHints {
            flag: Some("unix:///f.sock".into()),
            ..vars
        };
        assert_eq!(choose_engine(&flag, none), "unix:///f.sock");
    }

    #[test]
    fn podman_containers_get_the_limits_its_process_can_give() {
        let limits =
            "Limit                     Soft Limit           Hard Limit           Units     \n\
            Max processes             32768                32768                processes \n\
            Max open files            20000                20000                files     \n";
        let got: Vec<(String, i64, i64)> = podman_ulimits(limits)
            .into_iter()
            .map(|u| {
                (
                    u.name.unwrap_or_default(),
                    u.soft.unwrap_or(0),
                    u.hard.unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("nofile".to_string(), 20000, 20000),
                ("nproc".to_string(), 32768, 32768)
            ]
        );
        let roomy =
            "Max processes             unlimited            unlimited            processes \n\
            Max open files            1048576              1048576              files     \n";
        assert!(podman_ulimits(roomy).is_empty());
        assert!(podman_ulimits("").is_empty());
    }

    #[test]
    fn podman_names_images_under_localhost_docker_keeps_them() {
        let p = |n| local_image_name(EngineKind::Podman, n);
        assert_eq!(
            p("gflab/base:bookworm-0123"),
            "localhost/gflab/base:bookworm-0123"
        );
        assert_eq!(p("localhost/gflab/base:x"), "localhost/gflab/base:x");
        assert_eq!(p("reg.test:5000/a/b:c"), "reg.test:5000/a/b:c");
        assert_eq!(p("debian:bookworm"), "localhost/debian:bookworm");
        assert_eq!(
            local_image_name(EngineKind::Docker, "gflab/base:x"),
            "gflab/base:x"
        );
    }

    #[test]
    fn tar_has_paths_and_modes() {
        let files = [
            FileUpload {
                path: "/usr/local/bin/gflab-agent".into(),
                data: b"bin".to_vec(),
                mode: 0o755,
            },
            FileUpload {
                path: "/etc/gflab/secret".into(),
                data: vec![7; 32],
                mode: 0o600,
            },
        ];
        let bytes = tar_of(&files).expect("tar");
        let mut ar = tar::Archive::new(bytes.as_slice());
        let got: Vec<(String, u32, u64)> = ar
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                let h = e.header();
                (
                    e.path().expect("path").display().to_string(),
                    h.mode().expect("mode"),
                    h.size().expect("size"),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("usr/local/bin/gflab-agent".to_string(), 0o755, 3),
                ("etc/gflab/secret".to_string(), 0o600, 32)
            ]
        );
    }
}
