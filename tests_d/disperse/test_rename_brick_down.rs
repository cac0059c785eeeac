//! Renames across a brick outage: files, directories of files, hardlinks and symlinks are made;
//! a third of the files are renamed with all bricks up, a third with a brick of each set down,
//! the rest after it returns. After heal every new name reads back its data from the mount, no
//! old name is left on the mount or on any brick (the returned brick included), the hardlinks
//! still share their inode, the symlinks resolve, and every file's fragments agree.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_file_rename_on_brick_down.py`
//! (files, directories with files, soft and hard links, renames in several rounds with a brick
//! brought down and back between them, no data loss and every file renamed). One client is
//! used, not two.
use crate::prelude::*;

pub const CASE: Case = Case::new(564, "rename_with_brick_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::DISPERSED)
    .timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let mut names = io::files("file", 9, 20_000);
    for d in 1..=3 {
        names.extend(io::files(&format!("dir{d}/file"), 3, 20_000));
    }
    let sums = io::write_files(&ctx, &client, &m.path, &names).await?;
    ctx.sh(
        &client,
        format!(
            "set -e; cd {}; for i in 4 5 6; do ln file-$i hard-$i; done; \
             ln -s hard-5 soft-7; ln -s hard-6 soft-8; ln -s dir1 softdir",
            m.path
        ),
    )
    .await?;

    let rename = |from: &io::FileSum| {
        let (ctx, client, p) = (&ctx, &client, &m.path);
        let to = renamed(&from.name);
        let from = from.name.clone();
        async move { fileops::rename(ctx, client, &format!("{p}/{from}"), &format!("{p}/{to}")).await }
    };
    let thirds: Vec<&[io::FileSum]> = sums.chunks(sums.len().div_ceil(3)).collect();
    for s in thirds[0] {
        rename(s).await?;
    }
    brick::take_down(&ctx, &vol, Select::One).await?;
    for s in thirds[1] {
        rename(s).await?;
    }
    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    for s in thirds[2] {
        rename(s).await?;
    }
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;

    let now: Vec<io::FileSum> = sums
        .iter()
        .map(|s| io::FileSum {
            name: renamed(&s.name),
            ..s.clone()
        })
        .collect();
    io::verify(&ctx, &client, &m.path, &now).await?;
    let old = io::present(&ctx, &client, &m.path, &sums).await?;
    ensure!(old.is_empty(), "old names still on the mount: {old:?}");
    for b in &vol.bricks {
        let on_brick = io::brick_files(&ctx, &b.node, &b.path).await?;
        let stale: Vec<&String> = on_brick
            .iter()
            .filter(|f| sums.iter().any(|s| &s.name == *f))
            .collect();
        ensure!(
            stale.is_empty(),
            "old names left on brick {}: {stale:?}",
            b.spec()
        );
    }
    for s in &now {
        ec::wait_healed(&ctx, &vol, &s.name, Duration::from_secs(60)).await?;
    }
    let links = ctx
        .sh(
            &client,
            format!(
                "cd {}; stat -c %h hard-4 hard-5 hard-6 | tr '\\n' ' '; cat soft-7 soft-8 | wc -c; ls softdir | wc -l",
                m.path
            ),
        )
        .await?;
    ensure_eq!(
        links.split_whitespace().collect::<Vec<_>>(),
        vec!["2", "2", "2", "40000", "3"],
        "hardlink counts, bytes behind the symlinks, entries behind the directory symlink"
    );
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::METADATA).await?;
    Ok(())
}

/// `dir1/file-2` → `dir1/renamed-2`; top-level names likewise.
fn renamed(name: &str) -> String {
    name.replace("file-", "renamed-")
}
