//! Snapshots: create, list, info, status, activate, deactivate, delete, restore, clone, config.
//!
//! Snapshots need every brick on its own thin LVM volume (`thin-lvm` capability). Snapshots of a volume
//! created through [`super::volume::create`] are deleted with it at the end of the test.
use std::collections::BTreeMap;

use super::volume::{Layout, Volume};
use super::{gluster, gluster_xml, req};
use crate::ctx::{Cleanup, Node};
use crate::xml::Element;
use crate::{Ctx, TestError};

/// Parsed `snapshot info` of one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapInfo {
    /// Snapshot name.
    pub name: String,
    /// Snapshot UUID.
    pub uuid: String,
    /// Creation time as gluster prints it.
    pub created: String,
    /// The origin volume's name.
    pub origin: String,
    /// `Started` when activated, `Stopped` otherwise.
    pub status: String,
}

impl SnapInfo {
    /// Whether the snapshot is activated.
    pub fn active(&self) -> bool {
        self.status == "Started"
    }
}

/// One snapshot brick from `snapshot status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapBrick {
    /// `host:/path` of the snapshot brick.
    pub path: String,
    /// The LVM volume group.
    pub volume_group: String,
    /// Whether its brick process runs (`Yes`/`No`).
    pub running: bool,
    /// Thin LV data usage, when reported.
    pub data_percentage: Option<String>,
}

/// `snapshot create NAME VOL no-timestamp [description ...]`; returns the snapshot name.
pub async fn create(
    ctx: &Ctx,
    vol: &Volume,
    description: Option<&str>,
) -> Result<String, TestError> {
    let name = ctx.unique("snap");
    let mut args = vec!["snapshot", "create", &name, &vol.name, "no-timestamp"];
    if let Some(d) = description {
        args.extend(["description", d]);
    }
    ctx.step(format!("create snapshot {name} of {}", vol.name));
    let root = gluster_xml(ctx, &vol.server, args).await?;
    Ok(root
        .find("snapCreate")
        .and_then(|c| c.find("name"))
        .map(|n| n.text.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or(name))
}

/// `snapshot list [VOL]`: snapshot names.
pub async fn list(
    ctx: &Ctx,
    server: &Node,
    volume: Option<&str>,
) -> Result<Vec<String>, TestError> {
    let mut args = vec!["snapshot", "list"];
    args.extend(volume);
    let root = gluster_xml(ctx, server, args).await?;
    Ok(root
        .find("snapList")
        .map(|l| l.children("snapshot").map(|s| s.text.clone()).collect())
        .unwrap_or_default())
}

/// Parses the `<snapshot>` elements of `snapshot info --xml`.
pub fn parse_info(root: &Element, node: &Node, cmd: &str) -> Result<Vec<SnapInfo>, TestError> {
    let Some(snaps) = root.find("snapInfo").and_then(|i| i.find("snapshots")) else {
        return Ok(Vec::new());
    };
    snaps
        .children("snapshot")
        .map(|s| {
            let vol = s.child("snapVolume");
            Ok(SnapInfo {
                name: req(s, "name", cmd, node)?.to_string(),
                uuid: s.child_text("uuid").unwrap_or_default().to_string(),
                created: s.child_text("createTime").unwrap_or_default().to_string(),
                origin: vol
                    .and_then(|v| v.path(&["originVolume", "name"]))
                    .map(|e| e.text.clone())
                    .unwrap_or_default(),
                status: vol
                    .and_then(|v| v.child_text("status"))
                    .unwrap_or_default()
                    .to_string(),
            })
        })
        .collect()
}

/// `snapshot info NAME`.
pub async fn info(ctx: &Ctx, server: &Node, snap: &str) -> Result<SnapInfo, TestError> {
    let cmd = format!("gluster snapshot info {snap} --xml");
    let root = gluster_xml(ctx, server, ["snapshot", "info", snap]).await?;
    parse_info(&root, server, &cmd)?
        .into_iter()
        .find(|s| s.name == snap)
        .ok_or_else(|| TestError::Parse {
            node: server.name().to_string(),
            command: cmd,
            message: format!("snapshot {snap} not in the output"),
        })
}

/// The description of snapshot `snap` as `snapshot info` reports it ("" when it has none).
pub async fn description(ctx: &Ctx, server: &Node, snap: &str) -> Result<String, TestError> {
    let root = gluster_xml(ctx, server, ["snapshot", "info", snap]).await?;
    Ok(root
        .find("snapInfo")
        .and_then(|i| i.find("snapshots"))
        .and_then(|s| {
            s.children("snapshot")
                .find(|s| s.child_text("name") == Some(snap))
        })
        .and_then(|s| s.child_text("description"))
        .unwrap_or_default()
        .to_string())
}

/// `snapshot status NAME`: the snapshot's bricks.
pub async fn status(ctx: &Ctx, server: &Node, snap: &str) -> Result<Vec<SnapBrick>, TestError> {
    let root = gluster_xml(ctx, server, ["snapshot", "status", snap]).await?;
    let mut out = Vec::new();
    if let Some(st) = root.find("snapStatus") {
        collect_bricks(st, &mut out);
    }
    Ok(out)
}

fn collect_bricks(el: &Element, out: &mut Vec<SnapBrick>) {
    for c in &el.children {
        if c.name == "brick" {
            out.push(SnapBrick {
                path: c.child_text("path").unwrap_or_default().to_string(),
                volume_group: c.child_text("volumeGroup").unwrap_or_default().to_string(),
                running: c.child_text("brick_running") == Some("Yes"),
                data_percentage: c.child_text("data_percentage").map(str::to_string),
            });
        } else {
            collect_bricks(c, out);
        }
    }
}

/// `snapshot activate NAME`.
pub async fn activate(ctx: &Ctx, server: &Node, snap: &str) -> Result<(), TestError> {
    gluster(ctx, server, ["snapshot", "activate", snap])
        .await
        .map(|_| ())
}

/// `snapshot deactivate NAME`.
pub async fn deactivate(ctx: &Ctx, server: &Node, snap: &str) -> Result<(), TestError> {
    gluster(ctx, server, ["snapshot", "deactivate", snap])
        .await
        .map(|_| ())
}

/// `snapshot delete NAME`.
pub async fn delete(ctx: &Ctx, server: &Node, snap: &str) -> Result<(), TestError> {
    gluster(ctx, server, ["snapshot", "delete", snap])
        .await
        .map(|_| ())
}

/// `snapshot restore NAME` (the origin volume must be stopped; the snapshot is consumed).
pub async fn restore(ctx: &Ctx, server: &Node, snap: &str) -> Result<(), TestError> {
    gluster(ctx, server, ["snapshot", "restore", snap])
        .await
        .map(|_| ())
}

/// `snapshot clone CLONE SNAP`: a new volume from an activated snapshot; deleted when the test ends.
pub async fn clone(ctx: &Ctx, origin: &Volume, snap: &str) -> Result<Volume, TestError> {
    let name = ctx.unique("clone");
    ctx.defer(Cleanup::Volume {
        server: origin.server.clone(),
        name: name.clone(),
        dirs: Vec::new(),
        unmount: Vec::new(),
    });
    gluster(ctx, &origin.server, ["snapshot", "clone", &name, snap]).await?;
    let info = super::volume::info(ctx, &origin.server, &name).await?;
    let bricks = info
        .bricks
        .iter()
        .map(|spec| {
            let (host, path) = spec.split_once(':').unwrap_or((spec.as_str(), ""));
            Ok(super::volume::Brick {
                node: ctx.server_by_host(host)?,
                path: path.to_string(),
            })
        })
        .collect::<Result<Vec<_>, TestError>>()?;
    let layout: Layout = origin.layout;
    Ok(Volume {
        name,
        server: origin.server.clone(),
        bricks,
        layout,
    })
}

/// `snapshot config [VOL]`: system-wide (and the volume's) settings as key → value.
pub async fn config(
    ctx: &Ctx,
    server: &Node,
    volume: Option<&str>,
) -> Result<BTreeMap<String, String>, TestError> {
    let mut args = vec!["snapshot", "config"];
    args.extend(volume);
    let root = gluster_xml(ctx, server, args).await?;
    let mut out = BTreeMap::new();
    if let Some(cfg) = root.find("snapConfig") {
        flatten(cfg, "", &mut out);
    }
    Ok(out)
}

fn flatten(el: &Element, prefix: &str, out: &mut BTreeMap<String, String>) {
    for c in &el.children {
        let key = if prefix.is_empty() {
            c.name.clone()
        } else {
            format!("{prefix}.{}", c.name)
        };
        if c.children.is_empty() {
            out.insert(key, c.text.clone());
        } else {
            let key = match c.child_text("name") {
                Some(n) if c.name == "volume" => format!("{key}.{n}"),
                _ => key,
            };
            flatten(c, &key, out);
        }
    }
}

/// `snapshot config [VOL] KEY VALUE` (`snap-max-hard-limit`, `snap-max-soft-limit`, `auto-delete`,
/// `activate-on-create`).
pub async fn config_set(
    ctx: &Ctx,
    server: &Node,
    volume: Option<&str>,
    key: &str,
    value: &str,
) -> Result<(), TestError> {
    let mut args = vec!["snapshot", "config"];
    args.extend(volume);
    args.extend([key, value]);
    gluster(ctx, server, args).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml;

    #[test]
    fn flattens_config() {
        let doc = r#"<cliOutput><snapConfig><systemConfig><hardLimit>256</hardLimit><softLimit>90%</softLimit>
          <autoDelete>disable</autoDelete></systemConfig><volumeConfig><volume><name>v</name>
          <hardLimit>256</hardLimit></volume></volumeConfig></snapConfig></cliOutput>"#;
        let root = xml::parse(doc).expect("xml");
        let mut m = BTreeMap::new();
        flatten(root.find("snapConfig").expect("cfg"), "", &mut m);
        assert_eq!(
            m.get("systemConfig.hardLimit").map(String::as_str),
            Some("256")
        );
        assert_eq!(
            m.get("systemConfig.autoDelete").map(String::as_str),
            Some("disable")
        );
        assert_eq!(
            m.get("volumeConfig.volume.v.hardLimit").map(String::as_str),
            Some("256")
        );
    }
}
