//! `replace-brick ... commit force` is refused while server quorum is not met: with server
//! quorum on a 2 x 3 volume over three servers, the ratio at 95% and glusterd stopped on one,
//! every brick on the two others goes offline; replacing one of them is refused ("Quorum not
//! met"). Once glusterd is back every brick is online again and every server still lists the
//! old brick, not the new one.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_replace_brick_quorum_not_met.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(782, "replace_brick_without_quorum", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(600)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, down) = (ctx.server(0)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    vol.start_and_wait(&ctx).await?;
    mgmt::lose_server_quorum(&ctx, &vol, &down).await?;

    let old = vol.bricks[1].spec();
    let new = format!(
        "{}:{}/{}/new",
        vol.bricks[1].node.host(),
        vol.bricks[1].node.brick_root(),
        vol.name
    );
    let a = mgmt::attempt(
        &ctx,
        &s1,
        [
            "volume",
            "replace-brick",
            vol.name.as_str(),
            old.as_str(),
            new.as_str(),
            "commit",
            "force",
        ],
    )
    .await?;
    ensure!(!a.ok, "replace-brick of {old} succeeded without server quorum: {}", a.message);
    ensure!(
        a.says("Quorum not met"),
        "replace-brick refused without saying \"Quorum not met\": {}",
        a.message
    );

    mgmt::regain_server_quorum(&ctx, &vol, &down).await?;
    let want: Vec<String> = vol.bricks.iter().map(Brick::spec).collect();
    for s in ctx.servers() {
        let info = volume::info(&ctx, &s, &vol.name).await?;
        ensure!(
            !info.bricks.contains(&new),
            "volume info on {} lists {new}, whose replace-brick was refused",
            s.name()
        );
        ensure_eq!(info.bricks, want.clone(), "bricks in volume info on {}", s.name());
    }
    Ok(())
}
