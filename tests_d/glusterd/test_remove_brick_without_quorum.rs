//! `remove-brick start` is refused while server quorum is not met: with server quorum on a
//! distribute volume over three servers, the ratio at 95% and glusterd stopped on the third,
//! removing the first brick is refused ("Quorum not met"); no remove-brick task is started and
//! every server still lists the brick, also once glusterd is back and every brick is online.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_remove_brick_when_quorum_not_met.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(781, "remove_brick_without_quorum", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(600)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2, down) = (ctx.server(0)?, ctx.server(1)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::distribute(3)).await?;
    vol.start_and_wait(&ctx).await?;
    mgmt::lose_server_quorum(&ctx, &vol, &down).await?;

    let gone = vol.bricks[0].spec();
    let a = mgmt::attempt(
        &ctx,
        &s1,
        ["volume", "remove-brick", vol.name.as_str(), gone.as_str(), "start"],
    )
    .await?;
    ensure!(!a.ok, "remove-brick start of {gone} succeeded without server quorum: {}", a.message);
    ensure!(
        a.says("Quorum not met"),
        "remove-brick start refused without saying \"Quorum not met\": {}",
        a.message
    );
    ensure_still_listed(&ctx, &vol, &[s1.clone(), s2.clone()]).await?;

    mgmt::regain_server_quorum(&ctx, &vol, &down).await?;
    ensure_still_listed(&ctx, &vol, &ctx.servers()).await?;
    let st = mgmt::attempt(
        &ctx,
        &s1,
        ["volume", "remove-brick", vol.name.as_str(), gone.as_str(), "status"],
    )
    .await?;
    ensure!(
        !st.ok,
        "remove-brick status shows a task for {gone} after the refused start: {}",
        st.message
    );
    Ok(())
}

async fn ensure_still_listed(ctx: &Ctx, vol: &Volume, servers: &[Node]) -> Result<(), TestError> {
    let want: Vec<String> = vol.bricks.iter().map(Brick::spec).collect();
    for s in servers {
        let info = volume::info(ctx, s, &vol.name).await?;
        ensure_eq!(
            info.bricks,
            want.clone(),
            "bricks in volume info on {} after the refused remove-brick",
            s.name()
        );
    }
    Ok(())
}
