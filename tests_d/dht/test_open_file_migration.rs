//! Files held open and appended to while a rebalance migrates them lose no write: writers keep an
//! fd open on each of 30 files and append a numbered line every quarter second; meanwhile a brick
//! is added and a rebalance completes, moving some of those files to the new brick while their
//! writers are still running. Afterwards every writer ended well, every file holds exactly its
//! numbered lines in order, and the mount lists the same files as before.
//!
//! Ported from glusto-tests `tests/functional/dht/test_open_file_migration.py` (fds kept open and
//! written during add-brick and rebalance; the writes complete, no file lost, no rebalance
//! failure), with the contents checked line by line and the migration of open files checked on
//! the bricks. GlusterFS 10.3 refuses to copy a range a client has just written to the file
//! being migrated (`migrate-data failed ... [Device or resource busy]`), counts the file as
//! failed and leaves it on its brick; such failures (and only such, read from the rebalance logs)
//! are accepted, and the rebalance is started again until a round has none.
use crate::prelude::*;

pub const CASE: Case = Case::new(725, "open_file_migration", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const FILES: usize = 30;
const LINES: usize = 120;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {}/open", m.path)).await?;
    let files: Vec<String> = (0..FILES).map(|k| format!("{}/open/f{k}", m.path)).collect();
    let w = fileops::open_appenders(&ctx, &client, &files, LINES, Duration::from_millis(250)).await?;
    let before = ctx.sh(&client, format!("ls {}/open | sort", m.path)).await?;
    w.wait_started(&ctx, Duration::from_secs(30)).await?;
    let mut held = Vec::new();
    for k in 0..FILES {
        held.push(dht::data_subvol(&ctx, &vol, &format!("open/f{k}")).await?);
    }

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let mut failed = 0;
    let mut migrated = 0;
    for round in 1.. {
        dht::rebalance_start(&ctx, &vol, dht::Rebalance::Full).await?;
        let p = dht::wait_rebalance(&ctx, &vol, Duration::from_secs(200)).await?;
        ensure!(p.iter().all(|n| n.status.contains("completed")), "rebalance round {round} should complete on every node: {p:?}");
        migrated += dht::total_files(&p);
        failed += dht::total_failures(&p);
        if dht::total_failures(&p) == 0 {
            break;
        }
        let busy = dht::busy_migrations(&ctx, &vol).await?;
        ensure!(
            busy.len() as u64 >= failed && busy.iter().all(|f| f.starts_with("/open/")),
            "{failed} migration failure(s) in {round} round(s), but only these were refused as busy files being written: {busy:?}"
        );
        ensure!(round < 4, "rebalance still failed to migrate files after {round} rounds: {busy:?}");
        ctx.step(format!("round {round}: migration refused for files being written {busy:?}; starting the rebalance again"));
    }
    let done = w.finished(&ctx).await?;
    ensure!(done == 0, "{done} writer(s) had finished before the rebalance did: the migration did not meet open files");
    ensure!(migrated > 0, "rebalance migrated no file");
    let mut moved = Vec::new();
    for (k, was) in held.iter().enumerate() {
        let now = dht::data_subvol(&ctx, &vol, &format!("open/f{k}")).await?;
        if now != *was {
            moved.push(format!("f{k}: {was}->{now}"));
        }
    }
    ensure!(!moved.is_empty(), "no file held open was migrated: {held:?}");
    ctx.step(format!("files migrated while open: {moved:?}"));

    w.wait_done(&ctx, Duration::from_secs(120)).await?;
    let wrong = w.wrong_contents(&ctx).await?;
    ensure!(wrong.is_empty(), "files whose lines are not exactly line 0..{} in order: {wrong:?}", LINES - 1);
    ensure_eq!(ctx.sh(&client, format!("ls {}/open | sort", m.path)).await?, before, "files on the mount after the rebalance");
    Ok(())
}
