//! Access, modification and change times restored by heal: with the self-heal daemon off, a brick
//! of each set misses files created in a directory and a rewrite of an older file whose times are
//! then set back to a fixed date; after the heal the healed bricks carry the good bricks' mtime
//! for the directory and the files (atime is not compared: reads after the heal move the good
//! bricks' on), and the same `trusted.glusterfs.mdata` (the times the
//! ctime feature keeps, ctime included). Runs on replicate: on arbiter GlusterFS 10
//! left `trusted.glusterfs.mdata` of a healed new file different between the data bricks.
//!
//! Ported from glusto-tests `tests/functional/afr/heal/test_dir_time_stamp_restoration.py`
//! (a directory's times on the healed brick equal to the good bricks' after entry heal); the
//! file times set with `touch -d` and the mdata comparison are added.
use crate::prelude::*;

/// The time the older files are set back to (2021-03-04 05:06:07 UTC).
const SET_TIME: &str = "1614834367";

pub const CASE: Case = Case::new(422, "times_restored_by_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(&[VolumeType::Replicate])
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "off").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("dir/old", 4, 4096)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("dir/new", 4, 4096)).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("dir/old", 4, 9000)).await?;
    ctx.sh(&client, format!("touch -d @{SET_TIME} {}/dir/old-*", m.path)).await?;
    brick::bring_back(&ctx, &vol).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;

    let mut checked = 0;
    for (set, &sink) in brick::sets(&vol).iter().zip(&down) {
        let good = &vol.bricks[set[0]];
        let bad = &vol.bricks[sink];
        let mut names = vec!["dir".to_string()];
        names.extend(io::brick_files(&ctx, &good.node, &good.path).await?);
        for rel in &names {
            let want = fileops::stat(&ctx, &good.node, &xattr::brick_path(good, rel), "%Y").await?;
            let got = fileops::stat(&ctx, &bad.node, &xattr::brick_path(bad, rel), "%Y").await?;
            ensure_eq!(got, want, "mtime of {rel} on the healed {} and on {}", bad.spec(), good.spec());
            if rel.starts_with("dir/old") {
                ensure!(want.trim() == SET_TIME, "mtime of {rel} on {} is not the date set: {want}", good.spec());
            }
            let (xg, xb) = (
                xattr::on_brick(&ctx, good, rel).await?,
                xattr::on_brick(&ctx, bad, rel).await?,
            );
            ensure_eq!(
                xb.get("trusted.glusterfs.mdata"),
                xg.get("trusted.glusterfs.mdata"),
                "trusted.glusterfs.mdata (ctime, mtime, atime) of {rel} on {} and {}",
                bad.spec(),
                good.spec()
            );
            checked += 1;
        }
    }
    ensure!(checked >= 9, "only {checked} entries compared");
    Ok(())
}

