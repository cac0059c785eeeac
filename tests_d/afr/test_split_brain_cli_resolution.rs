//! Data split-brain and its resolution from the CLI: on replica 2 with quorum and every heal off,
//! each brick in turn misses appends, so the two copies blame each other; reads fail with EIO and
//! heal info split-brain lists the files. Then `split-brain bigger-file` (by path and by gfid),
//! `source-brick` (one file, then every remaining file) and `latest-mtime` each pick the copy
//! they promise, the files read again, the bricks agree, and asking to resolve a healed file fails.
//!
//! Ported from GlusterFS `tests/basic/afr/split-brain-healing.t` (one replica set of two bricks
//! here instead of two sets; the same appends, resolutions and checks, with the checksum of each
//! chosen copy compared instead of its size alone). `features.ctime` is turned off, as it did not
//! exist when the original was written: with it on, GlusterFS 10.3 refuses `latest-mtime`.
use std::collections::BTreeMap;

use crate::prelude::*;

pub const CASE: Case = Case::new(404, "split_brain_cli_resolution", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 1))
.timeout_secs(600);

const FILES: [&str; 6] = ["file1", "file2", "file3", "file4", "file5", "file6"];

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.set(&ctx, "cluster.quorum-type", "none").await?;
    // With the ctime feature on (the default), `latest-mtime` refuses ("No difference in mtime")
    // although the bricks' mtimes differ by seconds: AFR then compares the times kept in
    // trusted.glusterfs.mdata. The original test predates that feature.
    vol.set(&ctx, "features.ctime", "off").await?;
    heal::set_self_heal(&ctx, &vol, false, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let append = |line: &'static str| {
        let script: String = FILES
            .iter()
            .map(|f| format!("echo '{line}' >> {}/{f}\n", m.path))
            .collect();
        let client = client.clone();
        let ctx = ctx.clone();
        async move { ctx.sh(&client, script).await.map(|_| ()) }
    };
    append("initial content").await?;

    // Each brick misses what the other got: b1 holds the smaller copy, b0 the bigger and newer.
    brick::kill(&ctx, &vol, 0).await?;
    append("b0 is down").await?;
    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    brick::kill(&ctx, &vol, 1).await?;
    append("b1 is down").await?;
    append("more content to make this copy the bigger one").await?;
    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;

    let names: Vec<String> = FILES.iter().map(|f| f.to_string()).collect();
    let (b0, b1) = (&vol.bricks[0], &vol.bricks[1]);
    let big = io::checksums(&ctx, &b0.node, &b0.path, &names).await?;
    let small = io::checksums(&ctx, &b1.node, &b1.path, &names).await?;
    for f in FILES {
        let x0 = xattr::on_brick(&ctx, b0, f).await?.afr(&vol.name, 1);
        let x1 = xattr::on_brick(&ctx, b1, f).await?.afr(&vol.name, 0);
        ensure!(
            x0.is_some_and(|p| p.data > 0) && x1.is_some_and(|p| p.data > 0),
            "{f}: the copies should blame each other for data; b0 blames b1 {x0:?}, b1 blames \
             b0 {x1:?}"
        );
        let out = mount::attempt(
            &ctx,
            &client,
            &m.path,
            &format!("cat $M/{f}"),
            Duration::from_secs(60),
        )
        .await?;
        ensure!(
            !out.success() && out.stderr_str().contains("Input/output error"),
            "reading {f} in split-brain should fail with EIO: exit {:?}, {}",
            out.status,
            out.stderr_str()
        );
    }
    heal::wait_split_brain_count(&ctx, &vol, 2 * FILES.len() as u64, Duration::from_secs(60))
        .await?;
    for b in heal::split_brain(&ctx, &vol).await? {
        for f in FILES {
            ensure!(
                b.files.iter().any(|p| p == &format!("/{f}")),
                "heal info split-brain on {} does not list /{f}: {:?}",
                b.brick,
                b.files
            );
        }
    }

    for b in [b0, b1] {
        let st = fileops::stat(&ctx, &b.node, &xattr::brick_path(b, "file4"), "%y %s").await?;
        ctx.step(format!("file4 on {}: mtime and size {st}", b.spec()));
    }
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    let gfid2 = xattr::gfid_on_brick(&ctx, b0, "file2").await?;
    heal::resolve(&ctx, &vol, &Resolution::BiggerFile("/file1".into())).await?;
    heal::resolve(&ctx, &vol, &Resolution::BiggerFile(format!("gfid:{gfid2}"))).await?;
    heal::resolve(
        &ctx,
        &vol,
        &Resolution::SourceBrick(b1.clone(), Some("/file3".into())),
    )
    .await?;
    heal::resolve(&ctx, &vol, &Resolution::LatestMtime("/file4".into())).await?;
    heal::resolve(&ctx, &vol, &Resolution::SourceBrick(b0.clone(), None)).await?;

    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let want: BTreeMap<&str, (&String, &str)> = FILES
        .iter()
        .map(|f| match *f {
            "file3" => (*f, (&small[*f], "b1, the source brick")),
            "file4" => (*f, (&big[*f], "b0, the latest mtime")),
            "file1" | "file2" => (*f, (&big[*f], "b0, the bigger file")),
            _ => (*f, (&big[*f], "b0, the source brick for the rest")),
        })
        .collect();
    let got = io::checksums(&ctx, &client, &m.path, &names).await?;
    for (f, (sum, why)) in &want {
        ensure_eq!(
            got.get(*f),
            Some(*sum),
            "{f} on the mount after resolution should be the copy of {why}"
        );
    }
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;

    let again = heal::resolve(&ctx, &vol, &Resolution::BiggerFile("/file1".into())).await;
    ensure!(
        again.is_err(),
        "bigger-file on a file no longer in split-brain should fail: {again:?}"
    );
    Ok(())
}
