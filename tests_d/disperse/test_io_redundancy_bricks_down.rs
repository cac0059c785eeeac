//! I/O with `redundancy` bricks of every disperse set down: files written before read back
//! intact (decoded from the surviving fragments, parity included), every kind of file operation
//! still succeeds, files created meanwhile have no fragment on the dead bricks; once the bricks
//! are back, heal gives them their fragments and the set agrees on `trusted.ec.size` and
//! `trusted.ec.version`.
//!
//! Ported from GlusterFS `tests/basic/ec/ec-quorum-count.t` (its second part: default quorum,
//! two of six bricks killed, then create, mkdir, mknod, symlink, hardlink, rename, unlink, rmdir,
//! write, truncate, setfattr, chmod all succeed) and glusto-tests
//! `tests/functional/disperse/test_ec_fops_brickdown.py` (fops with redundant bricks down, data
//! intact after they return and heal).
use crate::prelude::*;

pub const CASE: Case = Case::new(550, "io_with_redundancy_bricks_down", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.runs_on(VolumeType::DISPERSED)
.timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("old/f", 8, 100_000)).await?;
    ctx.sh(
        &client,
        format!(
            "set -e; cd {}; touch src del-me a; mkdir dir1; setfattr -n user.def -v def a",
            m.path
        ),
    )
    .await?;

    let down = brick::take_down(&ctx, &vol, Select::KeepQuorum).await?;
    io::verify(&ctx, &client, &m.path, &before).await?;
    let during = io::write_files(&ctx, &client, &m.path, &io::files("new/f", 8, 100_000)).await?;
    let fops = "set -e; cd \"$M\"; touch a2; mkdir dir2; mknod b2 b 4 5; ln -s a symlink; \
                ln a link; mv src dst; rm -f del-me; rmdir dir1; \
                dd if=/dev/zero of=a bs=64k count=2 conv=notrunc status=none; \
                truncate -s 1000 a; setfattr -n user.abc -v abc a; setfattr -x user.def a; \
                chmod +x a";
    let out = mount::attempt(&ctx, &client, &m.path, fops, Duration::from_secs(120)).await?;
    ensure!(
        out.success(),
        "file operations with {} brick(s) down failed: {}",
        down.len(),
        out.stderr_str().trim()
    );
    for s in &during {
        let f = ec::fragments(&ctx, &vol, &s.name).await?;
        for &d in &down {
            ensure!(
                !brick::sets(&vol)[f.set].contains(&d) || f.on(d).is_none(),
                "{} was created while brick #{d} ({}) was down, yet it has a fragment there: {}",
                s.name,
                vol.bricks[d].spec(),
                f.describe()
            );
        }
    }

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    for s in before.iter().chain(&during) {
        let f = ec::wait_healed(&ctx, &vol, &s.name, Duration::from_secs(60)).await?;
        let want = ec::fragment_len(&vol.layout, s.size);
        let got = f.on(f.bricks[0].0).map(|x| x.len);
        ensure_eq!(
            got,
            Some(want),
            "fragment length of {} ({} bytes)",
            s.name,
            s.size
        );
    }
    io::verify(&ctx, &client, &m.path, &before).await?;
    io::verify(&ctx, &client, &m.path, &during).await?;
    let size = fileops::stat(&ctx, &client, &format!("{}/a", m.path), "%s %h").await?;
    ensure_eq!(
        size,
        "1000 2",
        "size and link count of a after truncate and hardlink"
    );
    Ok(())
}
