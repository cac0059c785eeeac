//! Files held open and appended to while `remove-brick` migrates them off their brick lose no
//! write: writers keep an fd open on each of 24 files and append a numbered line every quarter
//! second; meanwhile the brick holding most of them is removed (start, migration completed,
//! commit) while the writers still run. Afterwards every writer ended well, every file is on a
//! remaining brick and holds exactly its numbered lines in order.
//!
//! Ported from glusto-tests `tests/functional/dht/test_remove_brick_with_open_fd.py` (a file kept
//! open and appended to line by line while the subvolume it hashes to is removed; its checksum
//! afterwards equals the source's), with several files and the contents checked line by line.
//! GlusterFS 10.3 refuses to copy a range a client has just written to the file being migrated
//! (`migrate-data failed ... [Device or resource busy]`) and leaves the file on the brick being
//! removed, counted as failed; such failures (and only such, read from the rebalance logs) are
//! accepted, and the remove-brick is stopped and started again until a round has none, before
//! the commit.
use crate::prelude::*;

pub const CASE: Case = Case::new(728, "remove_brick_open_fd", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const FILES: usize = 24;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {}/open", m.path)).await?;
    let files: Vec<String> = (0..FILES).map(|k| format!("{}/open/f{k}", m.path)).collect();
    let w = fileops::open_appenders(&ctx, &client, &files, 160, Duration::from_millis(250)).await?;
    w.wait_started(&ctx, Duration::from_secs(30)).await?;
    let mut held = vec![Vec::new(); 3];
    for k in 0..FILES {
        held[dht::data_subvol(&ctx, &vol, &format!("open/f{k}")).await?].push(k);
    }
    let gone = (0..3).max_by_key(|&s| held[s].len()).unwrap_or(0);
    ensure!(!held[gone].is_empty(), "no open file on any brick: {held:?}");
    ctx.step(format!("open files per brick {held:?}: removing brick #{gone}"));

    let mut failed = 0;
    for round in 1.. {
        dht::remove_brick_start(&ctx, &vol, &[gone]).await?;
        let p = dht::wait_remove_brick(&ctx, &vol, &[gone], Duration::from_secs(200)).await?;
        failed += dht::total_failures(&p);
        if dht::total_failures(&p) == 0 {
            break;
        }
        let busy = dht::busy_migrations(&ctx, &vol).await?;
        ensure!(
            busy.len() as u64 >= failed && busy.iter().all(|f| f.starts_with("/open/")),
            "{failed} migration failure(s) in {round} round(s), but only these were refused as busy files being written: {busy:?}"
        );
        ensure!(round < 4, "remove-brick still failed to migrate files after {round} rounds: {busy:?}");
        ctx.step(format!("round {round}: migration refused for files being written {busy:?}; stopping and starting the remove-brick again"));
        dht::remove_brick_stop(&ctx, &vol, &[gone]).await?;
    }
    let vol = dht::remove_brick_commit(&ctx, &vol, &[gone]).await?;
    let done = w.finished(&ctx).await?;
    ensure!(done == 0, "{done} writer(s) had finished before the remove-brick did: the migration did not meet open files");
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    for k in 0..FILES {
        dht::data_subvol(&ctx, &vol, &format!("open/f{k}")).await?;
    }

    w.wait_done(&ctx, Duration::from_secs(120)).await?;
    let wrong = w.wrong_contents(&ctx).await?;
    ensure!(wrong.is_empty(), "files whose lines are not exactly line 0..{} in order: {wrong:?}", w.lines - 1);
    let listed = ctx.sh(&client, format!("ls {}/open | wc -l", m.path)).await?;
    ensure_eq!(listed.trim(), FILES.to_string(), "files listed in open after the remove-brick");
    Ok(())
}
