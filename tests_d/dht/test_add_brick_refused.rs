//! `add-brick` refuses what would break a volume, and a refusal changes nothing: a brick already
//! in the volume, a directory nested in one of its bricks, a brick already in another volume, a
//! volume that does not exist, a host that is not in the pool, and (on a replica 2 volume) a brick
//! count that is not a multiple of the replica count.
//!
//! Ported from glusto-tests `tests/functional/dht/test_negative_exercise_add_brick_command.py`
//! (duplicate brick, nested brick, non-existent volume, peer not in the cluster, brick of another
//! volume: each refused with gluster's message).
use crate::prelude::*;

pub const CASE: Case = Case::new(708, "add_brick_refused", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(300);

async fn refused(ctx: &Ctx, vol: &Volume, words: Vec<String>, want: &[&str]) -> Result<(), TestError> {
    let msg = dht::attempt_add_brick(ctx, vol, &words)
        .await?
        .ok_or_else(|| TestError::Check(format!("add-brick {} was accepted", words.join(" "))))?;
    ensure!(want.iter().any(|w| msg.contains(w)), "add-brick {} refused with {msg:?}, expected one of {want:?}", words.join(" "));
    ensure_eq!(vol.info(ctx).await?.bricks.len(), vol.bricks.len(), "bricks of {} after a refused add-brick", vol.name);
    Ok(())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distribute(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let other = volume::create(&ctx, VolumeSpec::distribute(1)).await?;
    let existing = vol.bricks[0].spec();
    refused(&ctx, &vol, vec![existing.clone()], &["Brick may be containing or be contained by an existing brick", "already part of"]).await?;
    refused(&ctx, &vol, vec![format!("{existing}/nested")], &["Brick may be containing or be contained by an existing brick"]).await?;
    refused(&ctx, &vol, vec![other.bricks[0].spec()], &["Brick may be containing or be contained by an existing brick", "already part of"]).await?;
    let s2 = ctx.server(2)?;
    let fresh = format!("{}:{}/{}/{}", s2.host(), s2.brick_root(), vol.name, ctx.unique("x"));
    refused(&ctx, &vol, vec![format!("abc.def.ghi.jkl:{}/{}", s2.brick_root(), ctx.unique("y"))], &["Pre-validation failed", "not in 'Peer in Cluster' state", "resolve"]).await?;

    let missing = ctx.unique("novolume");
    let msg = gluster(&ctx, &vol.server, ["volume", "add-brick", missing.as_str(), fresh.as_str()]).await;
    match msg {
        Ok(out) => return Err(TestError::Check(format!("add-brick to a missing volume was accepted: {out}"))),
        Err(e) => ensure!(
            ["does not exist", "Unable to get volinfo for volume name"].iter().any(|w| e.to_string().contains(w)),
            "add-brick to a missing volume refused for another reason: {e}"
        ),
    }

    let rep = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    rep.start_and_wait(&ctx).await?;
    refused(&ctx, &rep, vec!["replica".into(), "2".into(), fresh.clone(), "force".into()], &["Incorrect number of bricks", "multiple of replica count", "Operation failed"]).await?;
    Ok(())
}
