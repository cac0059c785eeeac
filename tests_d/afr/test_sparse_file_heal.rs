//! Sparse files healed sparse: while a brick is down, a 64 MiB file with two 64 KiB extents and a
//! file grown to 64 MiB by truncate are written; after the heal (data-self-heal-algorithm `diff`,
//! then `full` for a second round) the healed copy reads the same as the mount and allocates about
//! what the good copy does, not the file's full size.
//!
//! Ported from GlusterFS `tests/basic/afr/sparse-file-self-heal.t` (sparse files written while a
//! brick is down, healed with the diff and the full algorithm; the sink's md5sum equals the
//! source's and its disk usage stays small). Replica 3 here.
use crate::prelude::*;

pub const CASE: Case = Case::new(428, "sparse_file_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const DOWN: usize = 2;
const SIZE: u64 = 64 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Replicate.spec()).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    for algo in ["diff", "full"] {
        vol.set(&ctx, "cluster.data-self-heal-algorithm", algo).await?;
        brick::kill(&ctx, &vol, DOWN).await?;
        let (a, b) = (format!("sparse-{algo}"), format!("grown-{algo}"));
        fileops::sparse(&ctx, &client, &format!("{}/{a}", m.path), SIZE, &[(0, 65536), (32 << 20, 65536)]).await?;
        fileops::truncate(&ctx, &client, &format!("{}/{b}", m.path), SIZE).await?;
        brick::bring_back(&ctx, &vol).await?;
        heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
        let names = vec![a.clone(), b.clone()];
        let want = io::checksums(&ctx, &client, &m.path, &names).await?;
        let (good, sink) = (&vol.bricks[0], &vol.bricks[DOWN]);
        let got = io::checksums(&ctx, &sink.node, &sink.path, &names).await?;
        ensure_eq!(got, want, "sparse files on the healed {} (algorithm {algo})", sink.spec());
        for n in &names {
            let g = fileops::allocated(&ctx, &good.node, &xattr::brick_path(good, n)).await?;
            let s = fileops::allocated(&ctx, &sink.node, &xattr::brick_path(sink, n)).await?;
            ensure!(
                s <= g + (1 << 20) && s < SIZE / 4,
                "{n} healed with {algo} allocates {s} bytes on {} (the good copy {g}, size {SIZE})",
                sink.spec()
            );
        }
    }
    Ok(())
}
