//! The Docker backend: the one wrapper that owns the bollard client and maps its errors into
//! [`RuntimeError`] variants naming the operation and the object.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointIpamConfig, EndpointSettings, HostConfig, Ipam,
    IpamConfig, Mount, MountType, NetworkCreateRequest, NetworkingConfig, PortBinding,
    VolumeCreateRequest,
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
    BuildSpec, ContainerOp, ContainerSpec, EngineInfo, FileUpload, ImageStore, ImportSpec,
    LabObject, Labels, LineSink, NetworkSpec, ObjectKind, PublishedPort, Runtime, RuntimeError,
    TarStream, VolumeSpec, LABEL_LAB,
};
use crate::topology::Ipv4Cidr;

/// The Docker engine, reached through its local socket, or the engine named by `--engine` or
/// `DOCKER_HOST` (`unix://`, `tcp://HOST:PORT`, `ssh://USER@HOST`).
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    /// The negotiated bollard client.
    docker: Docker,
    /// The engine's address as given (`unix:///var/run/docker.sock` for the local default).
    endpoint: String,
    /// Where published ports are reached from here: loopback for a local engine, the engine's
    /// host otherwise.
    agent_host: IpAddr,
}

/// The engine used when none is named: set once by the command line (`--engine`).
static DEFAULT_ENGINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The local engine's socket.
pub const LOCAL_ENGINE: &str = "unix:///var/run/docker.sock";

/// Sets the engine every later [`DockerRuntime::connect`] reaches (the first call wins).
pub fn set_default_engine(endpoint: &str) {
    let _ = DEFAULT_ENGINE.set(endpoint.to_string());
}

/// The engine [`DockerRuntime::connect`] reaches: `--engine`, else `DOCKER_HOST`, else the local
/// socket.
pub fn default_engine() -> String {
    DEFAULT_ENGINE
        .get()
        .cloned()
        .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| LOCAL_ENGINE.to_string())
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
        Ok(DockerRuntime {
            docker,
            endpoint: endpoint.to_string(),
            agent_host,
        })
    }

    /// The engine's address.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
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
        let code = self
            .docker
            .inspect_exec(&ex.id)
            .await
            .map_err(err)?
            .exit_code;
        Ok(code.unwrap_or(-1))
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
        let v = self
            .docker
            .version()
            .await
            .map_err(|e| RuntimeError::Version {
                message: engine_message(&e),
            })?;
        let product = v
            .platform
            .map(|p| p.name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "Docker Engine".to_string());
        Ok(EngineInfo {
            product,
            version: v.version.unwrap_or_default(),
            api: v.api_version.unwrap_or_default(),
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
        let mut out = Vec::new();
        for n in list {
            let name = n.name.unwrap_or_default();
            for cfg in n.ipam.and_then(|i| i.config).unwrap_or_default() {
                if let Some(c) = cfg.subnet.and_then(|s| s.parse::<Ipv4Cidr>().ok()) {
                    out.push((name.clone(), c));
                }
            }
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
            network_mode: Some(spec.network.clone()),
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
            image: Some(spec.image.clone()),
            cmd: Some(spec.cmd.clone()),
            labels: Some(to_hash(&spec.labels)),
            exposed_ports: Some(
                spec.publish_tcp
                    .iter()
                    .map(|p| format!("{p}/tcp"))
                    .collect(),
            ),
            host_config: Some(host_config),
            networking_config: Some(NetworkingConfig {
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
        match self.docker.inspect_image(tag).await {
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
        let (repo, version) = spec.tag.split_once(':').unwrap_or((&spec.tag, "latest"));
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
        let context = tar_of(&[FileUpload {
            path: "Dockerfile".into(),
            data: spec.dockerfile.as_bytes().to_vec(),
            mode: 0o644,
        }])
        .map_err(|e| err(e.to_string()))?;
        let opts = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(&spec.tag)
            .rm(true)
            .forcerm(true)
            .buildargs(&to_hash(&spec.args))
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
            .remove_image(tag, None::<RemoveImageOptions>, None)
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

#[cfg(test)]
mod tests {
    use super::*;

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
