//! Every server's identity agrees across the pool: the UUID in its `glusterd.info` is the one the
//! other servers list for it in `peer status`, and the `hostUuid` of each of its bricks in
//! `volume info --xml`; its `operating-version` there is the cluster's op-version.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_validate_glusterd_info.py` (glusterd.info
//! UUID matches peer status on the other nodes, operating-version matches) and
//! `test_host_uuid_in_volume_info_xml.py` (hostUuid of bricks in volume info xml).
use crate::prelude::*;

pub const CASE: Case = Case::new(764, "uuid_consistency", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    let op = upgrade::op_version(&ctx, &s1).await?;
    let mut uuids = Vec::new();
    for s in ctx.servers() {
        let info = ctx.sh(&s, "cat /var/lib/glusterd/glusterd.info").await?;
        let field = |k: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
        };
        let uuid = field("UUID=").ok_or_else(|| {
            TestError::Check(format!("no UUID= in glusterd.info of {}", s.name()))
        })?;
        ensure_eq!(
            field("operating-version="),
            Some(op.to_string()),
            "operating-version in glusterd.info of {}",
            s.name()
        );
        uuids.push((s, uuid));
    }
    let mut distinct: Vec<&String> = uuids.iter().map(|(_, u)| u).collect();
    distinct.sort();
    distinct.dedup();
    ensure_eq!(distinct.len(), uuids.len(), "distinct server UUIDs");

    for (s, _) in &uuids {
        let peers = peer::status(&ctx, s).await?;
        for (o, ou) in uuids.iter().filter(|(o, _)| o.name() != s.name()) {
            let p = peers.iter().find(|p| p.is(o.host())).ok_or_else(|| {
                TestError::Check(format!("{} does not list {}", s.name(), o.host()))
            })?;
            ensure_eq!(
                &p.uuid,
                ou,
                "UUID of {} in peer status on {}",
                o.name(),
                s.name()
            );
        }
    }

    let root = gluster_xml(&ctx, &s1, ["volume", "info", vol.name.as_str()]).await?;
    let bricks: Vec<(String, String)> = root
        .find("bricks")
        .map(|b| {
            b.children("brick")
                .map(|e| {
                    (
                        e.child_text("name").unwrap_or_default().to_string(),
                        e.child_text("hostUuid").unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    ensure_eq!(bricks.len(), vol.bricks.len(), "bricks in volume info --xml");
    for b in &vol.bricks {
        let want = &uuids
            .iter()
            .find(|(s, _)| s.name() == b.node.name())
            .ok_or_else(|| TestError::Check(format!("no server {}", b.node.name())))?
            .1;
        let got = bricks.iter().find(|(n, _)| *n == b.spec()).map(|(_, u)| u);
        ensure_eq!(got, Some(want), "hostUuid of brick {}", b.spec());
    }
    Ok(())
}
