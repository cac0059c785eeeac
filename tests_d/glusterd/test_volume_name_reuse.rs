//! `volume create` with the name of an existing volume is refused ("already exists") and leaves
//! that volume as it was (same bricks, same volume ID, on every server); `volume list` on every
//! server lists a volume once created and no longer once deleted, after which its name can be
//! used again.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_volume_create.py` (creating a
//! volume with the name of an existing one fails) and `test_volume_delete.py` (the deleted
//! volume is gone from `volume list`).
use crate::prelude::*;

pub const CASE: Case = Case::new(770, "volume_name_reuse_and_list", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .timeout_secs(300);

/// Checks that every server's `volume list` has `name` (or not).
async fn ensure_listed(ctx: &Ctx, name: &str, listed: bool) -> Result<(), TestError> {
    for s in ctx.servers() {
        let l = volume::list(ctx, &s).await?;
        ensure_eq!(
            l.iter().filter(|v| *v == name).count(),
            usize::from(listed),
            "times {name} is in volume list on {} ({l:?})",
            s.name()
        );
    }
    Ok(())
}

/// The volume ID of `name` as `server` reports it (`volume info --xml`).
async fn volume_id(ctx: &Ctx, server: &Node, name: &str) -> Result<String, TestError> {
    let root = gluster_xml(ctx, server, ["volume", "info", name]).await?;
    root.find("volume")
        .and_then(|v| v.child_text("id"))
        .map(str::to_string)
        .ok_or_else(|| TestError::Check(format!("volume info {name} on {} has no <id>", server.name())))
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2) = (ctx.server(0)?, ctx.server(1)?);
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    let n = vol.name.as_str();
    ensure_listed(&ctx, n, true).await?;
    let info = vol.info(&ctx).await?;
    let id = volume_id(&ctx, &s1, n).await?;

    // Another volume under the same name, on new brick directories (removed at the end).
    let dirs: Vec<(Node, String)> = [&s1, &s2]
        .iter()
        .map(|s| ((*s).clone(), format!("{}/{}", s.brick_root(), ctx.unique("dup"))))
        .collect();
    for (node, dir) in &dirs {
        ctx.defer(Cleanup::Command {
            node: node.clone(),
            command: Command::shell(format!("rm -rf {dir}")),
        });
        ctx.sh(node, format!("mkdir -p {dir}")).await?;
    }
    let bricks: Vec<String> = dirs
        .iter()
        .map(|(node, dir)| format!("{}:{dir}/b", node.host()))
        .collect();
    for from in [&s1, &s2] {
        let mut args = vec!["volume".to_string(), "create".into(), n.to_string()];
        args.extend(["replica".to_string(), "2".into()]);
        args.extend(bricks.iter().cloned());
        args.push("force".into());
        let a = mgmt::attempt(&ctx, from, args).await?;
        ensure!(
            !a.ok && a.says(&format!("Volume {n} already exists")),
            "volume create {n} (name in use) from {} answered {:?}, not \"Volume {n} already exists\"",
            from.name(),
            a.message
        );
    }
    for s in ctx.servers() {
        let now = volume::info(&ctx, &s, n).await?;
        ensure_eq!(&now.bricks, &info.bricks, "bricks of {n} on {} after the refused create", s.name());
        ensure_eq!(volume_id(&ctx, &s, n).await?, id.clone(), "volume ID of {n} on {}", s.name());
    }
    for (node, dir) in &dirs {
        let made = ctx.sh(node, format!("ls -A {dir}")).await?;
        ensure!(
            made.trim().is_empty(),
            "the refused create made {:?} in {dir} on {}",
            made.trim(),
            node.name()
        );
    }
    ensure_listed(&ctx, n, true).await?;

    vol.delete(&ctx).await?;
    ensure_listed(&ctx, n, false).await?;
    for s in ctx.servers() {
        let a = mgmt::attempt(&ctx, &s, ["volume", "info", n]).await?;
        ensure!(
            !a.ok && a.says("does not exist"),
            "volume info of deleted {n} on {} answered {:?}",
            s.name(),
            a.message
        );
    }

    // The name is free again: a new volume may take it (deleted at the end by the cleanup
    // registered for the first one, which goes by name).
    let mut args = vec!["volume".to_string(), "create".into(), n.to_string()];
    args.extend(["replica".to_string(), "2".into()]);
    args.extend(bricks.iter().cloned());
    args.push("force".into());
    let a = mgmt::attempt(&ctx, &s1, args).await?;
    ensure!(a.ok, "volume create {n} after its delete failed: {}", a.message);
    ensure_listed(&ctx, n, true).await?;
    let again = volume::info(&ctx, &s1, n).await?;
    ensure_eq!(&again.bricks, &bricks, "bricks of the new {n}");
    ensure!(
        volume_id(&ctx, &s1, n).await? != id,
        "the new {n} has the deleted volume's ID {id}"
    );
    Ok(())
}
