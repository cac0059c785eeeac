//! The trusted storage pool is formed: every server lists every server, all connected.
//!
//! This file is also the skeleton to copy: a `CASE` constant (id, name, needs, timeout) and an async
//! body that talks to nodes only through `ctx` and the library.
use crate::prelude::*;

/// Registered by `build.rs` (tests_d/<component>/test_*.rs → `CASE`).
pub const CASE: Case = Case::new(101, "pool_formed", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .timeout_secs(120);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    // On a lab the pool exists already; on fresh real hosts this probes the missing servers.
    peer::ensure_pool(&ctx, Duration::from_secs(60)).await?;
    let servers = ctx.servers();
    for s in &servers {
        let pool = peer::pool_list(&ctx, s).await?;
        ensure_eq!(
            pool.len(),
            servers.len(),
            "pool size as seen from {}",
            s.name()
        );
        ensure!(
            pool.iter().all(|p| p.connected),
            "{} sees a disconnected pool member: {pool:?}",
            s.name()
        );
        let peers = peer::status(&ctx, s).await?;
        for other in servers.iter().filter(|o| o.name() != s.name()) {
            ensure!(
                peers.iter().any(|p| p.is(other.host()) && p.healthy()),
                "{} does not see {} as a connected cluster peer: {peers:?}",
                s.name(),
                other.host()
            );
        }
    }
    Ok(())
}
