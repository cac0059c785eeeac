//! Gfid split-brain resolved from the CLI: on replica 2 with quorum and every heal off, the same
//! names are created on each brick while the other is down, so each copy has a gfid of its own and
//! the parent blames the other brick. Lookups of them fail with EIO and heal info split-brain
//! lists the parent; `split-brain bigger-file` then keeps the bigger copy (and its gfid) of one,
//! `source-brick` the second brick's copy of the other, and the bricks end up agreeing.
//!
//! Ported from GlusterFS `tests/basic/afr/gfid-mismatch-resolution-with-cli.t` (files created
//! with different gfids on the two bricks, resolution by bigger-file and source-brick, the gfid
//! of the chosen copy kept on both bricks) and glusto-tests
//! `tests/functional/afr/test_gfid_split_brain_resolution.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(410, "gfid_split_brain_cli", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = heal::unguarded_volume(&ctx, VolumeSpec::replicate(2)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {}/dir", m.path)).await?;
    let names = ["dir/big".to_string(), "dir/other".to_string()];

    // b1 down: b0 gets 64 KiB copies; b0 down: b1 gets 4 KiB copies of new gfids.
    for (down, size) in [(1, 65536), (0, 4096)] {
        brick::kill(&ctx, &vol, down).await?;
        // Forget what the client knows of the names, so they are created anew.
        ctx.sh(&client, format!("rm -f {0}/dir/big {0}/dir/other", m.path))
            .await?;
        let files: Vec<(String, u64)> = names.iter().map(|n| (n.clone(), size)).collect();
        io::write_files(&ctx, &client, &m.path, &files).await?;
        brick::bring_back(&ctx, &vol).await?;
        brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    }
    let (b0, b1) = (&vol.bricks[0], &vol.bricks[1]);
    let mut gfids = Vec::new();
    for n in &names {
        let (g0, g1) = (
            xattr::gfid_on_brick(&ctx, b0, n).await?,
            xattr::gfid_on_brick(&ctx, b1, n).await?,
        );
        ensure!(g0 != g1, "{n} should have a gfid of its own on each brick: {g0} on both");
        gfids.push((g0, g1));
    }
    let dir0 = xattr::on_brick(&ctx, b0, "dir").await?.afr(&vol.name, 1);
    let dir1 = xattr::on_brick(&ctx, b1, "dir").await?.afr(&vol.name, 0);
    ensure!(
        dir0.is_some_and(|p| p.entry > 0) && dir1.is_some_and(|p| p.entry > 0),
        "dir should blame the other brick for entries on each side: b0 {dir0:?}, b1 {dir1:?}"
    );
    let out = mount::attempt(
        &ctx,
        &client,
        &m.path,
        "cat $M/dir/big > /dev/null",
        Duration::from_secs(60),
    )
    .await?;
    ensure!(
        !out.success() && out.stderr_str().contains("Input/output error"),
        "reading a file with a gfid mismatch should fail with EIO: exit {:?}, {}",
        out.status,
        out.stderr_str()
    );

    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::resolve(&ctx, &vol, &Resolution::BiggerFile("/dir/big".into())).await?;
    heal::resolve(
        &ctx,
        &vol,
        &Resolution::SourceBrick(b1.clone(), Some("/dir/other".into())),
    )
    .await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    for (n, (want, why)) in names.iter().zip([(&gfids[0].0, "b0's, the bigger"), (&gfids[1].1, "b1's, the source brick")]) {
        for b in [b0, b1] {
            ensure_eq!(
                &xattr::gfid_on_brick(&ctx, b, n).await?,
                want,
                "gfid of {n} on {} after resolution should be {why}",
                b.spec()
            );
        }
    }
    let sizes = ctx
        .sh(&client, format!("stat -c %s {0}/dir/big {0}/dir/other", m.path))
        .await?;
    ensure_eq!(
        sizes.split_whitespace().collect::<Vec<_>>(),
        vec!["65536", "4096"],
        "sizes of dir/big and dir/other on the mount after resolution"
    );
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
