//! `gluster pool list` on every server lists each server of the pool exactly once, connected: the
//! server itself as `localhost` with the UUID of its `glusterd.info`, the others with the same
//! UUIDs every server reports; `peer status` there lists the same pool minus itself.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_validate_peer_probe_ip_fqdn_hostname.py`
//! (after probes, `peer status` and `pool list` show every node connected) and
//! `test_peer_status.py` (peer status of each node lists the others).
use std::collections::BTreeSet;

use crate::prelude::*;

pub const CASE: Case = Case::new(773, "pool_list_every_server", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .timeout_secs(120);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let servers = ctx.servers();
    let mut own = Vec::new();
    for s in &servers {
        let info = ctx.sh(s, "cat /var/lib/glusterd/glusterd.info").await?;
        let uuid = info
            .lines()
            .find_map(|l| l.strip_prefix("UUID="))
            .map(|u| u.trim().to_string())
            .ok_or_else(|| TestError::Check(format!("no UUID= in glusterd.info of {}: {info:?}", s.name())))?;
        own.push(uuid);
    }
    let all: BTreeSet<&str> = own.iter().map(String::as_str).collect();
    ensure_eq!(all.len(), servers.len(), "distinct UUIDs among the servers ({own:?})");

    for (s, me) in servers.iter().zip(&own) {
        let pool = peer::pool_list(&ctx, s).await?;
        let uuids: Vec<&str> = pool.iter().map(|p| p.uuid.as_str()).collect();
        ensure_eq!(
            uuids.iter().copied().collect::<BTreeSet<_>>(),
            all.clone(),
            "UUIDs in pool list on {}",
            s.name()
        );
        ensure_eq!(uuids.len(), servers.len(), "entries in pool list on {} ({uuids:?})", s.name());
        let local: Vec<&peer::Peer> = pool.iter().filter(|p| p.hostname == "localhost").collect();
        ensure!(
            local.len() == 1 && local[0].uuid == *me,
            "pool list on {} should show itself ({me}) once as localhost: {local:?}",
            s.name()
        );
        for (other, uuid) in servers.iter().zip(&own).filter(|(o, _)| o.name() != s.name()) {
            let p = pool.iter().find(|p| p.uuid == *uuid).expect("every UUID is listed");
            ensure!(
                p.is(other.host()) && p.connected,
                "pool list on {} shows {} ({uuid}) as {:?}, connected={}",
                s.name(),
                other.host(),
                p.hostname,
                p.connected
            );
        }
        let peers = peer::status(&ctx, s).await?;
        let peer_uuids: BTreeSet<&str> = peers.iter().map(|p| p.uuid.as_str()).collect();
        let want: BTreeSet<&str> = all.iter().copied().filter(|u| u != me).collect();
        ensure_eq!(peer_uuids, want, "UUIDs in peer status on {} (the pool without itself)", s.name());
        ensure!(
            peers.iter().all(peer::Peer::healthy),
            "peer status on {} has a peer not connected in the cluster: {peers:?}",
            s.name()
        );
    }
    Ok(())
}
