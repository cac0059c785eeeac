//! After `add-brick` without a rebalance, existing directories keep their old layout (no hash range
//! on the new brick, so no new file in them lands there) while a directory created afterwards is
//! spread over every brick. Setting the virtual xattr `distribute.fix.layout` on a directory through
//! the mount fixes that one directory's layout (a range on the new brick, the hash space covered,
//! no data moved), and the same request on a regular file is refused.
//!
//! Ported from GlusterFS `tests/bugs/distribute/disallow-fixlayout-on-files.t` (add a brick,
//! `setfattr -n distribute.fix.layout` succeeds on the root and a directory and fails on a file,
//! the mount survives; `cluster.lookup-optimize off` as there), with the layouts checked on the
//! bricks before and after.
use crate::prelude::*;

pub const CASE: Case = Case::new(714, "manual_fix_layout", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    // As in the `.t`: with lookup-optimize on, a directory whose layout was fixed but whose files
    // were not migrated answers ENOENT for the files now hashed to the new brick.
    vol.set(&ctx, "cluster.lookup-optimize", "off").await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("foo/a", 10, 8 << 10)).await?;
    let before = dht::layout(&ctx, &vol, "foo").await?;

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    ctx.sh(&client, format!("stat {0}/foo > /dev/null; ls {0}/foo > /dev/null", m.path)).await?;

    // The old directory: the same ranges on the old bricks, none on the new one.
    let old = dht::layout(&ctx, &vol, "foo").await?;
    ensure_eq!(old[..2].to_vec(), before, "layout of foo on the old bricks after add-brick");
    ensure!(old[2].is_none(), "foo got a range on the added brick without any fix-layout: {old:?}");
    let by = dht::names_by_subvol(&ctx, &vol, &m, "foo", "o", 30).await?;
    ensure!(by[2].is_empty(), "new files in foo landed on the added brick before its layout was fixed: {by:?}");

    // A directory made now is spread over the three bricks.
    ctx.sh(&client, format!("mkdir {}/bar", m.path)).await?;
    let r = dht::ensure_layout_complete(&ctx, &vol, "bar").await?;
    ensure!(r.len() == 3 && r[2].stop > r[2].start, "bar, made after add-brick, has no range on the added brick: {r:?}");

    // The virtual xattr fixes the layout of foo only.
    ctx.sh(&client, format!("setfattr -n distribute.fix.layout -v yes {}/foo", m.path)).await?;
    let r = dht::ensure_layout_complete(&ctx, &vol, "foo").await?;
    ensure!(r[2].stop > r[2].start, "foo has no range on the added brick after distribute.fix.layout: {r:?}");
    let new = &vol.bricks[2];
    ensure!(io::brick_files(&ctx, &new.node, &new.path).await?.is_empty(), "fixing the layout of foo moved data onto the added brick");

    // On a file: refused, and the mount still answers.
    let out = mount::attempt(&ctx, &client, &m.path, "setfattr -n distribute.fix.layout -v yes \"$M/foo/a-0\"", Duration::from_secs(30)).await?;
    ensure!(!out.success(), "distribute.fix.layout on the regular file foo/a-0 should be refused, it succeeded");
    ctx.sh(&client, format!("ls {} > /dev/null", m.path)).await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
