//! Hard links, symlinks and renames made while a brick of each set is down are healed: files get
//! hard links and symlinks (to files and to a directory), files and a directory are renamed, one
//! over an existing name; once healed, each brick holds the same names, the hard links share an
//! inode on every brick, symlinks point where they did (one to the renamed directory now dangling), the overwritten file's old gfid is gone,
//! and the mount reads every link. Runs on every replicated type.
//!
//! Ported from glusto-tests `tests/functional/afr/heal/test_self_heal_with_link_files.py`
//! (hard links and symlinks created with bricks down, heal, links on every brick, checksums) and
//! GlusterFS `tests/basic/afr/rename-data-loss.t` (a rename over an existing name while a brick is
//! down loses nothing after heal).
use crate::prelude::*;

pub const CASE: Case = Case::new(421, "links_renames_healed", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::REPLICATED)
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("d/f", 6, 20000)).await?;
    ctx.sh(&client, format!("mkdir -p {0}/d/sub && echo keep > {0}/d/sub/inner", m.path)).await?;
    let old_gfid = xattr::gfid_on_mount(&ctx, &client, &format!("{}/d/f-5", m.path)).await?;

    brick::take_down(&ctx, &vol, Select::One).await?;
    let d = format!("{}/d", m.path);
    for i in 0..3 {
        fileops::hardlink(&ctx, &client, &format!("{d}/f-{i}"), &format!("{d}/hard-{i}")).await?;
        fileops::symlink(&ctx, &client, &format!("f-{i}"), &format!("{d}/soft-{i}")).await?;
    }
    fileops::symlink(&ctx, &client, "sub", &format!("{d}/subdir-link")).await?;
    fileops::rename(&ctx, &client, &format!("{d}/f-3"), &format!("{d}/renamed-3")).await?;
    fileops::rename(&ctx, &client, &format!("{d}/f-4"), &format!("{d}/f-5")).await?;
    fileops::rename(&ctx, &client, &format!("{d}/sub"), &format!("{d}/sub-moved")).await?;
    fileops::symlink(&ctx, &client, "sub-moved", &format!("{d}/moved-link")).await?;

    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let t = tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    for i in 0..3 {
        let hard = &t.entries[&format!("d/hard-{i}")];
        ensure!(hard.contains(&format!("link=d/f-{i}")) || t.entries[&format!("d/f-{i}")].contains(&format!("link=d/hard-{i}")),
            "d/hard-{i} and d/f-{i} are not one hardlink group after heal: {hard}");
    }
    let f4 = sums.iter().find(|s| s.name == "d/f-4").cloned();
    let f3 = sums.iter().find(|s| s.name == "d/f-3").cloned();
    let (Some(f4), Some(f3)) = (f4, f3) else {
        return Err(TestError::Check("written files d/f-3, d/f-4 not reported".into()));
    };
    let want = vec![
        io::FileSum { name: "d/f-5".into(), ..f4 },
        io::FileSum { name: "d/renamed-3".into(), ..f3 },
    ];
    io::verify(&ctx, &client, &m.path, &want).await?;
    // subdir-link named "sub", which was moved: it dangles, as on any filesystem.
    let out = ctx
        .sh(
            &client,
            format!(
                "cmp {d}/soft-0 {d}/f-0 && cat {d}/moved-link/inner && readlink {d}/subdir-link \
                 && ! test -e {d}/subdir-link && echo dangling"
            ),
        )
        .await?;
    ensure_eq!(out, "keep\nsub\ndangling\n", "reads through the symlinks after heal");
    for set in brick::sets(&vol) {
        for &i in &set {
            let b = &vol.bricks[i];
            let link = format!("{}/.glusterfs/{}/{}/{old_gfid}", b.path, &old_gfid[0..2], &old_gfid[2..4]);
            let out = ctx.exec(&b.node, Command::new("stat").arg(&link)).await?;
            ensure!(!out.success(), "the gfid link of the overwritten d/f-5 is still on {}", b.spec());
        }
    }
    Ok(())
}
