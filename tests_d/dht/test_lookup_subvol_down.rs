//! A file renamed so that its hashed subvolume (link file) and cached subvolume (data) differ stays
//! reachable while only the hashed one is down: a fresh mount (a new lookup) stats it and reads
//! its contents. With the cached subvolume down instead it cannot be accessed (an error, never
//! stale or empty data), and the other files on that brick fail likewise while those on live
//! bricks read back with their checksums. Once the brick is back every file reads again.
//!
//! Ported from glusto-tests `tests/functional/dht/test_access_file.py` (rename so hashed and
//! cached differ; hashed down: stat through a fresh mount works; cached down: stat fails), with
//! the reads of the other files added.
use crate::prelude::*;

pub const CASE: Case = Case::new(709, "access_file_subvol_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const ERRORS: &[&str] = &["Transport endpoint is not connected", "No such file or directory", "Input/output error"];

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let mut sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 30, 8192)).await?;
    let test = io::write_files(&ctx, &client, &m.path, &[("testfile".to_string(), 20_000)]).await?;
    let s = dht::data_subvol(&ctx, &vol, "testfile").await?;
    let by = dht::names_by_subvol(&ctx, &vol, &m, "", "dst", 30).await?;
    let (t, dst) = by
        .iter()
        .enumerate()
        .find(|(i, n)| *i != s && !n.is_empty())
        .map(|(i, n)| (i, n[0].clone()))
        .ok_or_else(|| TestError::Check(format!("no name hashes away from subvolume {s}: {by:?}")))?;
    fileops::rename(&ctx, &client, &format!("{}/testfile", m.path), &format!("{}/{dst}", m.path)).await?;
    ensure_eq!(dht::links(&ctx, &vol, &dst).await?.iter().map(|l| l.0).collect::<Vec<_>>(), vec![t], "link file of {dst}");
    let mut renamed = test[0].clone();
    renamed.name = dst.clone();
    sums.push(renamed.clone());

    // Hashed subvolume down: a fresh lookup still finds the data on the cached one.
    brick::kill(&ctx, &vol, t).await?;
    let fresh = mount::mount(&ctx, &client, &vol).await?;
    ctx.sh(&client, format!("stat {}/{dst} > /dev/null", fresh.path)).await?;
    io::verify(&ctx, &client, &fresh.path, std::slice::from_ref(&renamed)).await?;
    brick::bring_back(&ctx, &vol).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;

    // Cached subvolume down: the file and every other file on that brick are unreachable.
    let on_s = io::brick_files(&ctx, &vol.bricks[s].node, &vol.bricks[s].path).await?;
    brick::kill(&ctx, &vol, s).await?;
    let out = mount::attempt(&ctx, &client, &m.path, &format!("stat \"$M/{dst}\""), Duration::from_secs(60)).await?;
    ensure!(!out.success(), "{dst} could be stat'ed with its data brick #{s} down");
    let (lost, alive): (Vec<_>, Vec<_>) = sums.iter().cloned().partition(|f| on_s.contains(&f.name));
    io::verify(&ctx, &client, &m.path, &alive).await?;
    for f in &lost {
        let out = mount::attempt(&ctx, &client, &m.path, &format!("cat \"$M/{}\" > /dev/null", f.name), Duration::from_secs(60)).await?;
        ensure!(!out.success(), "{} (on the down brick #{s}) was readable", f.name);
        let err = out.stderr_str();
        ensure!(ERRORS.iter().any(|e| err.contains(e)), "reading {} failed with an unexpected error: {err}", f.name);
    }

    brick::bring_back(&ctx, &vol).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
