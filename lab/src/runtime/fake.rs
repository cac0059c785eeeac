//! An in-memory runtime for unit tests: records every call, holds objects with their labels, and
//! fails on request (`fail_on`), so orchestration (plan → steps, teardown on failure) is testable
//! without an engine.
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use super::{
    BuildSpec, ContainerOp, ContainerSpec, EngineInfo, FileUpload, ImageStore, ImportSpec,
    LabObject, LineSink, NetworkSpec, ObjectKind, PublishedPort, Runtime, RuntimeError, TarStream,
    VolumeSpec, LABEL_LAB,
};
use crate::topology::Ipv4Cidr;

/// What the fake holds.
#[derive(Debug, Default)]
struct State {
    /// Existing objects.
    objects: Vec<LabObject>,
    /// Every call, as `op name` (`create-container gflab-x-server1`).
    calls: Vec<String>,
    /// Next host port handed out.
    next_port: u16,
}

/// The fake runtime.
#[derive(Debug, Default)]
pub struct FakeRuntime {
    /// Objects and the call log.
    state: Mutex<State>,
    /// Calls (as in the log) that fail.
    fail_on: Vec<String>,
    /// Networks that exist outside any lab (name, subnet).
    foreign_subnets: Vec<(String, Ipv4Cidr)>,
}

impl FakeRuntime {
    /// An empty engine.
    pub fn new() -> FakeRuntime {
        FakeRuntime::default()
    }
    /// Makes the call `op name` fail (`"start-container gflab-t-client1"`).
    pub fn fail_on(mut self, call: &str) -> FakeRuntime {
        self.fail_on.push(call.to_string());
        self
    }
    /// Adds a network that exists outside gflab.
    pub fn with_network(mut self, name: &str, subnet: Ipv4Cidr) -> FakeRuntime {
        self.foreign_subnets
            .push((format!("network {name}"), subnet));
        self
    }
    /// The call log.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }
    /// Objects now held.
    pub fn objects(&self) -> Vec<LabObject> {
        self.lock().objects.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in another test thread must not hide this test's result.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn call(&self, op: &str, name: &str) -> Result<(), String> {
        let call = format!("{op} {name}");
        self.lock().calls.push(call.clone());
        if self.fail_on.contains(&call) {
            return Err(format!("injected failure of {call}"));
        }
        Ok(())
    }

    fn add(&self, kind: ObjectKind, name: &str, labels: &super::Labels, ports: Vec<PublishedPort>) {
        let mut s = self.lock();
        s.objects.push(LabObject {
            kind,
            name: name.to_string(),
            labels: labels.clone(),
            state: if kind == ObjectKind::Container {
                "created".into()
            } else {
                String::new()
            },
            ports,
        });
    }
}

impl Runtime for FakeRuntime {
    async fn info(&self) -> Result<EngineInfo, RuntimeError> {
        Ok(EngineInfo {
            product: "Fake Engine".into(),
            version: "0".into(),
            api: "1.41".into(),
            ..EngineInfo::default()
        })
    }

    async fn subnets(&self) -> Result<Vec<(String, Ipv4Cidr)>, RuntimeError> {
        let s = self.lock();
        let mut out = self.foreign_subnets.clone();
        for o in s.objects.iter().filter(|o| o.kind == ObjectKind::Network) {
            if let Some(c) = o.labels.get("fake.subnet").and_then(|c| c.parse().ok()) {
                out.push((format!("network {}", o.name), c));
            }
        }
        Ok(out)
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<(), RuntimeError> {
        self.call("create-network", &spec.name)
            .map_err(|message| RuntimeError::Create {
                kind: ObjectKind::Network,
                name: spec.name.clone(),
                message,
            })?;
        let mut labels = spec.labels.clone();
        labels.insert("fake.subnet".into(), spec.subnet.to_string());
        self.add(ObjectKind::Network, &spec.name, &labels, Vec::new());
        Ok(())
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<(), RuntimeError> {
        self.call("create-volume", &spec.name)
            .map_err(|message| RuntimeError::Create {
                kind: ObjectKind::Volume,
                name: spec.name.clone(),
                message,
            })?;
        self.add(ObjectKind::Volume, &spec.name, &spec.labels, Vec::new());
        Ok(())
    }

    async fn create_container(
        &self,
        spec: &ContainerSpec,
        files: &[FileUpload],
    ) -> Result<(), RuntimeError> {
        self.call("create-container", &spec.name)
            .map_err(|message| RuntimeError::Create {
                kind: ObjectKind::Container,
                name: spec.name.clone(),
                message,
            })?;
        let ports = {
            let mut s = self.lock();
            spec.publish_tcp
                .iter()
                .map(|p| {
                    s.next_port += 1;
                    PublishedPort {
                        container: *p,
                        host: SocketAddr::from((Ipv4Addr::LOCALHOST, 40000 + s.next_port)),
                    }
                })
                .collect()
        };
        self.add(ObjectKind::Container, &spec.name, &spec.labels, ports);
        for f in files {
            self.call("upload", &format!("{}:{}", spec.name, f.path))
                .map_err(|message| RuntimeError::Upload {
                    name: spec.name.clone(),
                    path: f.path.clone(),
                    message,
                })?;
        }
        Ok(())
    }

    async fn control(&self, name: &str, op: ContainerOp) -> Result<(), RuntimeError> {
        self.call(&format!("{op}-container"), name)
            .map_err(|message| RuntimeError::Control {
                op,
                name: name.to_string(),
                message,
            })?;
        let mut s = self.lock();
        for o in s.objects.iter_mut().filter(|o| o.name == name) {
            o.state = match op {
                ContainerOp::Start | ContainerOp::Restart => "running",
                ContainerOp::Stop => "exited",
            }
            .into();
        }
        Ok(())
    }

    async fn list(&self, lab: Option<&str>) -> Result<Vec<LabObject>, RuntimeError> {
        let s = self.lock();
        let mut v: Vec<LabObject> = s
            .objects
            .iter()
            .filter(|o| match lab {
                Some(l) => o.labels.get(LABEL_LAB).map(String::as_str) == Some(l),
                None => o.labels.contains_key(LABEL_LAB),
            })
            .cloned()
            .collect();
        v.sort_by_key(|o| o.kind);
        Ok(v)
    }

    async fn remove(&self, obj: &LabObject) -> Result<(), RuntimeError> {
        self.call(&format!("remove-{}", obj.kind), &obj.name)
            .map_err(|message| RuntimeError::Remove {
                kind: obj.kind,
                name: obj.name.clone(),
                message,
            })?;
        let mut s = self.lock();
        if obj.kind != ObjectKind::Container {
            // Like Docker: a network or volume in use by a container cannot be removed.
            let in_use = s.objects.iter().any(|o| {
                o.kind == ObjectKind::Container
                    && o.labels.get(LABEL_LAB) == obj.labels.get(LABEL_LAB)
            });
            if in_use {
                return Err(RuntimeError::Remove {
                    kind: obj.kind,
                    name: obj.name.clone(),
                    message: "in use by a container".into(),
                });
            }
        }
        s.objects
            .retain(|o| !(o.kind == obj.kind && o.name == obj.name));
        Ok(())
    }
}

/// Every image exists in the fake engine: orchestration tests never build one.
impl ImageStore for FakeRuntime {
    async fn image_exists(&self, tag: &str) -> Result<bool, RuntimeError> {
        self.call("image-exists", tag)
            .map_err(|message| RuntimeError::Image {
                op: "inspect",
                tag: tag.into(),
                message,
            })?;
        Ok(true)
    }

    async fn import_image(
        &self,
        spec: &ImportSpec,
        _tar: TarStream,
        _status: LineSink<'_>,
    ) -> Result<(), RuntimeError> {
        self.call("import-image", &spec.tag)
            .map_err(|message| RuntimeError::Image {
                op: "import",
                tag: spec.tag.clone(),
                message,
            })
    }

    async fn build_image(
        &self,
        spec: &BuildSpec,
        _output: LineSink<'_>,
    ) -> Result<(), RuntimeError> {
        self.call("build-image", &spec.tag)
            .map_err(|message| RuntimeError::Image {
                op: "build",
                tag: spec.tag.clone(),
                message,
            })
    }

    async fn remove_image(&self, tag: &str) -> Result<(), RuntimeError> {
        self.call("remove-image", tag)
            .map_err(|message| RuntimeError::Image {
                op: "remove",
                tag: tag.into(),
                message,
            })
    }
}
