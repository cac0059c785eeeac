//! A file whose DHT link file names a subvolume that is no longer in the client's graph stays
//! accessible to a non-root user. With `performance.parallel-readdir` on, DHT's subvolumes are
//! `<vol>-readdir-ahead-N`, so a rename across subvolumes leaves a link file whose linkto names
//! one of them; once the option is off (a new client graph whose subvolumes are
//! `<vol>-client-N`) that linkto is stale. `ls -lR` of the mount as an unprivileged user
//! succeeds and lists the file, and the user reads it with its checksum.
//!
//! Ported from glusto-tests `tests/functional/dht/test_access_file_with_stale_linkto_xattr.py`
//! (parallel-readdir and readdir-ahead on, rename to form a link file, both off, `ls -lR` as a
//! non-root user succeeds), with the stale linkto checked on the brick and the contents read.
use crate::prelude::*;

pub const CASE: Case = Case::new(739, "stale_linkto_access", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn set_parallel_readdir(ctx: &Ctx, vol: &Volume, on: bool) -> Result<(), TestError> {
    let v = if on { "on" } else { "off" };
    vol.set(ctx, "performance.readdir-ahead", v).await?;
    vol.set(ctx, "performance.parallel-readdir", v).await
}

/// Waits until the client's active graph has (or has no) readdir-ahead translator under DHT.
async fn wait_graph(ctx: &Ctx, m: &mount::Mount, vol: &Volume, readdir_ahead: bool) -> Result<(), TestError> {
    let xl = format!("{}/.meta/graphs/active/{}-readdir-ahead-0", m.path, vol.name);
    let what = format!("the client graph of {} {} readdir-ahead under DHT", vol.name, if readdir_ahead { "with" } else { "without" });
    wait_for(ctx, &what, Duration::from_secs(60), Duration::from_secs(1), || async {
        let there = ctx.exec(&m.node, Command::shell(format!("test -d {xl}"))).await?.success();
        Ok(if there == readdir_ahead { Poll::Ready(()) } else { Poll::Pending(format!("{xl} present: {there}")) })
    })
    .await
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distribute(3)).await?;
    vol.set(&ctx, "cluster.min-free-disk", hashing::MIN_FREE_DISK).await?;
    set_parallel_readdir(&ctx, &vol, true).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    wait_graph(&ctx, &m, &vol, true).await?;
    ctx.sh(&client, format!("chmod -R 777 {}", m.path)).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &[("FILE-1".to_string(), 16 << 10)]).await?;
    ctx.sh(&client, format!("chmod 644 {}/FILE-1", m.path)).await?;

    let s = dht::data_subvol(&ctx, &vol, "FILE-1").await?;
    let by = dht::names_by_subvol(&ctx, &vol, &m, "", "new-", 30).await?;
    let dst = by.iter().enumerate().find(|(i, n)| *i != s && !n.is_empty()).map(|(_, n)| n[0].clone())
        .ok_or_else(|| TestError::Check(format!("no name of 30 hashes away from subvolume {s}: {by:?}")))?;
    fileops::rename(&ctx, &client, &format!("{}/FILE-1", m.path), &format!("{}/{dst}", m.path)).await?;
    let links = dht::links(&ctx, &vol, &dst).await?;
    let stale = format!("{}-readdir-ahead-{s}", vol.name);
    ensure!(links.len() == 1 && links[0].1 == stale, "link files of {dst} after the rename: {links:?}, expected one naming {stale}");

    set_parallel_readdir(&ctx, &vol, false).await?;
    wait_graph(&ctx, &m, &vol, false).await?;
    let user = fileops::user(&ctx, &client, "gflabdht", 47391).await?;
    let listing = fileops::as_user(&ctx, &client, &user, &format!("ls -lR {}", m.path)).await?;
    ensure!(listing.contains(&dst), "ls -lR as {} does not list {dst}: {listing}", user.name);
    let sum = fileops::as_user(&ctx, &client, &user, &format!("sha256sum {}/{dst}", m.path)).await?;
    let want = &sums[0].sha256;
    ensure!(sum.starts_with(want.as_str()), "{dst} read as {}: {sum}, expected sha256 {want}", user.name);
    ensure_eq!(dht::data_subvol(&ctx, &vol, &dst).await?, s, "subvolume holding {dst}'s data");
    Ok(())
}
