//! `gluster get-state` writes a file describing glusterd's view: its op-version, every other
//! server as a peer in the cluster, the volume with its bricks; a killed brick shows as stopped
//! there, and as started again after `volume start force`.
//!
//! Ported from glusto-tests
//! `tests/functional/glusterd/test_getstate_shows_correct_brick_status_when_brick_killed.py`
//! (brick status in get-state follows a kill and a start force) and
//! `test_get_state_on_brick_unmount.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(758, "get_state_file", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(300);

/// The value of `Volume<N>.Brick<M>.status` for `brick` (found by its path).
fn brick_status(st: &mgmt::GlusterdState, vol: &str, brick: &Brick) -> Option<String> {
    let vkey = st
        .entries
        .iter()
        .find(|(_, k, v)| k.starts_with("Volume") && k.ends_with(".name") && v == vol)?
        .1
        .trim_end_matches(".name")
        .to_string();
    let bkey = st
        .entries
        .iter()
        .find(|(_, k, v)| {
            k.starts_with(&format!("{vkey}.Brick"))
                && k.ends_with(".path")
                && v.ends_with(&brick.path)
        })?
        .1
        .trim_end_matches(".path")
        .to_string();
    st.get(&format!("{bkey}.status")).map(str::to_string)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;

    let st = mgmt::get_state(&ctx, &s1).await?;
    let op = upgrade::op_version(&ctx, &s1).await?;
    ensure_eq!(
        st.get("op-version"),
        Some(op.to_string().as_str()),
        "op-version in {}",
        st.path
    );
    let peers = st.values_ending(".primary_hostname");
    for other in ctx.servers().iter().skip(1) {
        ensure!(
            peers.contains(&other.host()),
            "get-state of {} does not list peer {}: {peers:?}",
            s1.name(),
            other.host()
        );
    }
    let states = st.values_ending(".state");
    ensure!(
        states.iter().filter(|s| s.contains("Peer in Cluster")).count() >= peers.len(),
        "not every peer is in the cluster in get-state: {states:?}"
    );
    ensure!(
        st.values_ending(".name").contains(&vol.name.as_str()),
        "get-state does not list volume {}",
        vol.name
    );
    // The brick on this server, as glusterd knows it.
    let mine = vol
        .bricks
        .iter()
        .position(|b| b.node.name() == s1.name())
        .ok_or_else(|| TestError::Check("no brick on the first server".into()))?;
    ensure_eq!(
        brick_status(&st, &vol.name, &vol.bricks[mine]).as_deref(),
        Some("Started"),
        "status of brick {} in get-state",
        vol.bricks[mine].spec()
    );

    brick::kill(&ctx, &vol, mine).await?;
    let st = mgmt::get_state(&ctx, &s1).await?;
    ensure_eq!(
        brick_status(&st, &vol.name, &vol.bricks[mine]).as_deref(),
        Some("Stopped"),
        "status of killed brick {} in get-state",
        vol.bricks[mine].spec()
    );
    brick::bring_back(&ctx, &vol).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let st = mgmt::get_state(&ctx, &s1).await?;
    ensure_eq!(
        brick_status(&st, &vol.name, &vol.bricks[mine]).as_deref(),
        Some("Started"),
        "status of brick {} in get-state after start force",
        vol.bricks[mine].spec()
    );
    Ok(())
}
