//! `volume status VOL clients` and `volume status VOL detail` as typed rows (from `--xml`): which
//! clients each brick serves, and each brick's filesystem (size, free space, inodes, device).
use super::volume::Volume;
use super::{gluster_xml, req};
use crate::xml::Element;
use crate::{Ctx, TestError};

/// One client connection of a brick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `ip:port` of the client's end.
    pub addr: String,
    /// Bytes the brick read from it.
    pub bytes_read: u64,
    /// Bytes the brick wrote to it.
    pub bytes_write: u64,
}

impl Client {
    /// The address without its port.
    pub fn ip(&self) -> &str {
        self.addr.rsplit_once(':').map_or(&self.addr, |(ip, _)| ip)
    }
}

/// The clients of one brick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrickClients {
    /// Host as gluster names it.
    pub host: String,
    /// Brick directory.
    pub path: String,
    /// `clientCount` as gluster reports it.
    pub count: usize,
    /// The connections listed.
    pub clients: Vec<Client>,
}

/// One brick's filesystem, from `volume status VOL detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrickDetail {
    /// Host as gluster names it.
    pub host: String,
    /// Brick directory.
    pub path: String,
    /// Whether the brick process is up.
    pub online: bool,
    /// Filesystem size in bytes.
    pub size_total: u64,
    /// Free bytes.
    pub size_free: u64,
    /// Inodes in all.
    pub inodes_total: u64,
    /// Free inodes.
    pub inodes_free: u64,
    /// Block size.
    pub block_size: u64,
    /// Filesystem type (`ext4`, `xfs`).
    pub fs_name: String,
    /// Device.
    pub device: String,
}

fn brick_nodes(root: &Element) -> Vec<&Element> {
    root.find("volStatus")
        .and_then(|s| s.find("volume"))
        .map(|v| {
            v.children("node")
                .filter(|n| n.child_text("path").is_some_and(|p| p.starts_with('/')))
                .collect()
        })
        .unwrap_or_default()
}

fn num(el: &Element, name: &str, cmd: &str, vol: &Volume) -> Result<u64, TestError> {
    let t = req(el, name, cmd, &vol.server)?;
    t.trim().parse().map_err(|_| TestError::Parse {
        node: vol.server.name().to_string(),
        command: cmd.to_string(),
        message: format!("<{name}> is not a number: {t:?}"),
    })
}

/// Parses `volume status VOL clients --xml`.
pub fn parse_clients(
    root: &Element,
    vol: &Volume,
    cmd: &str,
) -> Result<Vec<BrickClients>, TestError> {
    brick_nodes(root)
        .into_iter()
        .map(|n| {
            let cs = n.child("clientsStatus");
            let clients = cs
                .map(|c| {
                    c.children("client")
                        .map(|e| {
                            Ok(Client {
                                addr: req(e, "hostname", cmd, &vol.server)?.to_string(),
                                bytes_read: num(e, "bytesRead", cmd, vol)?,
                                bytes_write: num(e, "bytesWrite", cmd, vol)?,
                            })
                        })
                        .collect::<Result<Vec<_>, TestError>>()
                })
                .transpose()?
                .unwrap_or_default();
            Ok(BrickClients {
                host: n.child_text("hostname").unwrap_or_default().to_string(),
                path: n.child_text("path").unwrap_or_default().to_string(),
                count: cs
                    .and_then(|c| c.child_text("clientCount"))
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(clients.len()),
                clients,
            })
        })
        .collect()
}

/// `volume status VOL clients`: per brick, the connected clients.
pub async fn clients(ctx: &Ctx, vol: &Volume) -> Result<Vec<BrickClients>, TestError> {
    let root = gluster_xml(ctx, &vol.server, ["volume", "status", &vol.name, "clients"]).await?;
    parse_clients(&root, vol, "gluster volume status VOL clients --xml")
}

/// Parses `volume status VOL detail --xml`.
pub fn parse_detail(
    root: &Element,
    vol: &Volume,
    cmd: &str,
) -> Result<Vec<BrickDetail>, TestError> {
    brick_nodes(root)
        .into_iter()
        .map(|n| {
            Ok(BrickDetail {
                host: n.child_text("hostname").unwrap_or_default().to_string(),
                path: n.child_text("path").unwrap_or_default().to_string(),
                online: n.child_text("status") == Some("1"),
                size_total: num(n, "sizeTotal", cmd, vol)?,
                size_free: num(n, "sizeFree", cmd, vol)?,
                inodes_total: num(n, "inodesTotal", cmd, vol)?,
                inodes_free: num(n, "inodesFree", cmd, vol)?,
                block_size: num(n, "blockSize", cmd, vol)?,
                fs_name: n.child_text("fsName").unwrap_or_default().to_string(),
                device: n.child_text("device").unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// `volume status VOL detail`: per brick, its filesystem.
pub async fn detail(ctx: &Ctx, vol: &Volume) -> Result<Vec<BrickDetail>, TestError> {
    let root = gluster_xml(ctx, &vol.server, ["volume", "status", &vol.name, "detail"]).await?;
    parse_detail(&root, vol, "gluster volume status VOL detail --xml")
}
