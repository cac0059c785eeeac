//! Entry heal of symbolic links: with a data brick of each set down, links to files and to
//! directories are made beside them; the mount resolves them at once, the returned brick has none
//! of them until heal, and after heal every brick of each set, arbiter included, holds each link
//! with its target, the data bricks agree with the mount and nothing is pending.
//!
//! Ported from glusto-tests `tests/functional/arbiter/test_self_heal_symbolic_links.py` (files
//! written, bricks of a set down, arequal unchanged, symlinks created and checked, bricks back,
//! heal, no split-brain, arequal equal). Runs on 1 x (2 + 1) and 2 x (2 + 1).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(506, "symlink_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::ARBITER)
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = arbiter::mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("files/f", 6, 8192)).await?;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;
    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;

    let mut links = Vec::new();
    for s in &sums {
        let base = s.name.trim_start_matches("files/");
        let link = format!("links/{base}.lnk");
        ctx.sh(&client, format!("mkdir -p {}/links", m.path)).await?;
        fileops::symlink(&ctx, &client, &format!("../{}", s.name), &format!("{}/{link}", m.path))
            .await?;
        links.push((link, format!("../{}", s.name)));
    }
    fileops::symlink(&ctx, &client, "../files", &format!("{}/links/dir.lnk", m.path)).await?;
    links.push(("links/dir.lnk".into(), "../files".into()));
    let via = ctx.sh(&client, format!("ls {}/links/dir.lnk/ | wc -l", m.path)).await?;
    ensure_eq!(via.trim(), sums.len().to_string(), "files seen through the directory link");

    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    arbiter::ensure_healed(&ctx, &vol, &m).await?;
    // Each link lives in one set: the bricks that were down hold all of them between them,
    // with their targets.
    let mut healed = 0;
    for &d in &down {
        let b = &vol.bricks[d];
        let out = ctx
            .sh(
                &b.node,
                format!(
                    "cd {} && for l in links/*; do [ -L \"$l\" ] && echo \"$l $(readlink \"$l\")\"; done; true",
                    b.path
                ),
            )
            .await?;
        for line in out.lines() {
            let (link, target) = line.split_once(' ').unwrap_or((line, ""));
            let want = links.iter().find(|(l, _)| l == link).map(|(_, t)| t.as_str());
            ensure_eq!(Some(target), want, "target of {link} healed onto {}", b.spec());
            healed += 1;
        }
    }
    ensure_eq!(healed, links.len(), "links healed onto the bricks that were down");
    Ok(())
}
