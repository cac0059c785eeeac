//! `add-brick` is refused while server quorum is not met: with server quorum on a distribute
//! volume over three servers, the ratio at 95% and glusterd stopped on the third, the bricks on
//! the two others stop; adding a brick is then refused ("Quorum not met"), and neither then nor
//! once glusterd is back (every brick online again) does any server list the new brick or
//! count more than three.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_add_brick_when_quorum_not_met.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(780, "add_brick_without_quorum", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(600)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2, down) = (ctx.server(0)?, ctx.server(1)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::distribute(3)).await?;
    vol.start_and_wait(&ctx).await?;
    mgmt::lose_server_quorum(&ctx, &vol, &down).await?;

    let new = format!("{}:{}/{}/new", s1.host(), s1.brick_root(), vol.name);
    let a = mgmt::attempt(&ctx, &s1, ["volume", "add-brick", vol.name.as_str(), new.as_str()]).await?;
    ensure!(!a.ok, "add-brick of {new} succeeded without server quorum: {}", a.message);
    ensure!(
        a.says("Quorum not met"),
        "add-brick refused without saying \"Quorum not met\": {}",
        a.message
    );
    ensure_bricks_unchanged(&ctx, &vol, &[s1.clone(), s2.clone()], &new).await?;

    mgmt::regain_server_quorum(&ctx, &vol, &down).await?;
    ensure_bricks_unchanged(&ctx, &vol, &ctx.servers(), &new).await
}

async fn ensure_bricks_unchanged(
    ctx: &Ctx,
    vol: &Volume,
    servers: &[Node],
    new: &str,
) -> Result<(), TestError> {
    let want: Vec<String> = vol.bricks.iter().map(Brick::spec).collect();
    for s in servers {
        let info = volume::info(ctx, s, &vol.name).await?;
        ensure!(
            !info.bricks.iter().any(|b| b == new),
            "volume info on {} lists {new}, whose add-brick was refused",
            s.name()
        );
        ensure_eq!(info.bricks, want.clone(), "bricks in volume info on {}", s.name());
    }
    Ok(())
}
