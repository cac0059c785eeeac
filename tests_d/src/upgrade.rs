//! GlusterFS versions and upgrades from a test: the version each node runs, the cluster's
//! op-version (get, the highest the cluster supports, bump), and upgrading a node to another release
//! through the runner's node control (its container replaced, its state kept).
use crate::gluster::{gluster, gluster_xml};
use crate::{Ctx, Node, TestError};

/// The release labs upgrade to: the one after bookworm's GlusterFS 10.3 (trixie, GlusterFS 11.1).
pub const NEXT_RELEASE: &str = "trixie";

/// The op-version of GlusterFS 11.
pub const OP_VERSION_11: u32 = 110_000;

/// A GlusterFS version as `glusterfs --version` prints it (`10.3` → (10, 3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Parses the first line of `glusterfs --version` (`glusterfs 10.3`).
pub fn parse_version(out: &str) -> Option<Version> {
    let word = out.lines().next()?.split_whitespace().nth(1)?;
    let mut parts = word.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()
        .and_then(|m| m.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    Some(Version { major, minor })
}

/// The GlusterFS version `node` runs.
pub async fn version(ctx: &Ctx, node: &Node) -> Result<Version, TestError> {
    let out = ctx.sh(node, "glusterfs --version").await?;
    parse_version(&out).ok_or_else(|| TestError::Parse {
        node: node.name().to_string(),
        command: "glusterfs --version".into(),
        message: format!("no version in {:?}", out.lines().next().unwrap_or("")),
    })
}

/// An op-version as `volume get all` shows it.
async fn get_all(ctx: &Ctx, server: &Node, key: &str) -> Result<u32, TestError> {
    let root = gluster_xml(ctx, server, ["volume", "get", "all", key]).await?;
    let value = root
        .find("Opt")
        .and_then(|o| o.child_text("Value"))
        .unwrap_or_default()
        .to_string();
    value.trim().parse().map_err(|_| TestError::Parse {
        node: server.name().to_string(),
        command: format!("gluster volume get all {key}"),
        message: format!("not a number: {value:?}"),
    })
}

/// The cluster's op-version.
pub async fn op_version(ctx: &Ctx, server: &Node) -> Result<u32, TestError> {
    get_all(ctx, server, "cluster.op-version").await
}

/// The highest op-version every peer of the cluster supports.
pub async fn max_op_version(ctx: &Ctx, server: &Node) -> Result<u32, TestError> {
    get_all(ctx, server, "cluster.max-op-version").await
}

/// Sets the cluster's op-version (what the upgrade guide says to do once every node is upgraded).
pub async fn bump_op_version(ctx: &Ctx, server: &Node, to: u32) -> Result<(), TestError> {
    gluster(
        ctx,
        server,
        [
            "volume",
            "set",
            "all",
            "cluster.op-version",
            &to.to_string(),
        ],
    )
    .await
    .map(drop)
}

/// Upgrades `node` to `release` through the runner's node control: its container is replaced by
/// one of the release's image with its state kept; returns when it is back (a server: the pool is
/// whole and its bricks online, heal done). Real hosts: the test is skipped with the reason.
pub async fn node(ctx: &Ctx, node: &Node, release: &str) -> Result<(), TestError> {
    let control = ctx.control()?;
    match control.kind(&node.entry) {
        "host" => {
            return Err(TestError::Skip(format!(
                "{} is a real host: its owner upgrades it, not the runner",
                node.name()
            )))
        }
        "kernel-vm" => {
            return Err(TestError::Skip(format!(
                "{} is a kernel-VM node: its GlusterFS lives on the VM's disk image, which \
                 replacing the node's container image does not upgrade",
                node.name()
            )))
        }
        _ => {}
    }
    let before = version(ctx, node).await?;
    ctx.step(format!(
        "upgrade {} (GlusterFS {before}) to {release}",
        node.name()
    ));
    control
        .upgrade(&node.entry, &node.client, release)
        .await
        .map_err(|e| TestError::Nodes(format!("failed to upgrade {}: {e}", node.name())))?;
    let after = version(ctx, node).await?;
    ctx.step(format!("{} runs GlusterFS {after}", node.name()));
    Ok(())
}

/// The generic rolling upgrade of every server, one at a time, as GlusterFS's upgrade guide
/// describes it: after each server is back, wait until the bricks of `vol` are online and heal
/// has nothing pending before the next (replicated and dispersed volumes).
pub async fn servers_rolling(
    ctx: &Ctx,
    vol: &crate::gluster::volume::Volume,
    release: &str,
    heal_timeout: std::time::Duration,
) -> Result<(), TestError> {
    use crate::gluster::volume::Layout;
    for s in ctx.servers() {
        node(ctx, &s, release).await?;
        vol.wait_online(ctx, heal_timeout).await?;
        if !matches!(vol.layout, Layout::Distribute { .. }) {
            crate::gluster::heal::wait_complete(ctx, vol, heal_timeout).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        let v = parse_version("glusterfs 10.3\nRepository revision: git://...").expect("10.3");
        assert_eq!(
            v,
            Version {
                major: 10,
                minor: 3
            }
        );
        assert_eq!(
            parse_version("glusterfs 11.1rc2").expect("11.1"),
            Version {
                major: 11,
                minor: 1
            }
        );
        assert_eq!(parse_version("glusterfs 9").map(|v| v.minor), Some(0));
        assert!(parse_version("nothing").is_none());
        assert!(
            Version {
                major: 10,
                minor: 3
            } < Version {
                major: 11,
                minor: 1
            }
        );
        assert_eq!(
            Version {
                major: 11,
                minor: 1
            }
            .to_string(),
            "11.1"
        );
    }
}
