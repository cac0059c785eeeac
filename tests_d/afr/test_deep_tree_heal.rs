//! Heal of a deep directory tree: while a brick of each set is down, a tree five levels deep (63
//! directories, a file in each) is made under an existing directory; the good bricks blame the
//! dead ones for that directory's entries, and once back and healed every brick of each set holds
//! the whole tree with the mount's names, modes and contents, with one gfid per directory on every
//! brick. Runs on every replicated type.
//!
//! Ported from glusto-tests `tests/functional/afr/heal/test_self_heal.py`
//! (`test_entry_self_heal_heal_command`: a deep directory tree created while bricks are down,
//! heal, no split-brain, the bricks' checksums equal the mount's).
use crate::prelude::*;

pub const CASE: Case = Case::new(423, "deep_tree_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::REPLICATED)
    .timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {}/top", m.path)).await?;

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    let made = fileops::deep_tree(&ctx, &client, &format!("{}/top/deep", m.path), 5, 2, 1, 2048).await?;
    ensure_eq!(made, 63, "files in the deep tree (one in each of 63 directories)");
    for (set, &dead) in brick::sets(&vol).iter().zip(&down) {
        let good = &vol.bricks[set[0]];
        let p = xattr::on_brick(&ctx, good, "top").await?.afr(&vol.name, dead).unwrap_or_default();
        ensure!(p.entry > 0, "top on {} should blame brick #{dead} for entries: {p:?}", good.spec());
        let none = ctx.exec(&vol.bricks[dead].node, Command::new("stat").arg(xattr::brick_path(&vol.bricks[dead], "top/deep"))).await?;
        ensure!(!none.success(), "top/deep exists on the dead brick {}", vol.bricks[dead].spec());
    }

    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let t = tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    let dirs = t.entries.keys().filter(|k| k.starts_with("top/deep") && !k.contains("/file")).count();
    ensure_eq!(dirs, 63, "directories of the deep tree on the mount after heal");
    let deepest = "top/deep/dir0.0/dir1.1/dir2.0/dir3.1/dir4.0";
    let copies = xattr::on_bricks(&ctx, &vol, deepest).await?;
    let gfids: Vec<Option<String>> = copies.iter().map(xattr::Xattrs::gfid).collect();
    ensure!(
        gfids.iter().all(|g| g.is_some() && *g == gfids[0]),
        "{deepest} should have one gfid on every brick: {gfids:?}"
    );
    Ok(())
}
