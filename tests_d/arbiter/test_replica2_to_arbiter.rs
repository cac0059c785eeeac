//! Converting replica 2 to an arbiter volume heals what the new arbiter lacks: on a replica 2
//! volume with the self-heal daemon off, a directory and a file are made, a brick goes down and
//! another directory is made and the file rewritten 1 MiB long, and the brick returns with heal
//! pending. `add-brick replica 2 arbiter 1` and `replica 3 arbiter 2` are refused, `replica 3
//! arbiter 1` is accepted. With the daemon on, heal completes: the arbiter lists the same names as
//! both data bricks, its copies are empty, the data bricks agree on the 1 MiB file, and new
//! entries land on all three. `replica 4` (with or without an arbiter) is refused, and three
//! more bricks as `replica 3 arbiter 1` make it 2 x (2 + 1).
//!
//! Ported from GlusterFS `tests/basic/afr/arbiter-add-brick.t` (the same steps and refusals,
//! `ls` of the bricks compared, sizes on the mount and 0 on the arbiter).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(511, "replica2_to_arbiter", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.set(&ctx, "performance.stat-prefetch", "off").await?;
    vol.start_and_wait(&ctx).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "off").await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    ctx.sh(&client, format!("mkdir {}/dir1", m.path)).await?;
    io::write_files(&ctx, &client, &m.path, &[("file1".into(), 1024)]).await?;
    brick::kill(&ctx, &vol, 1).await?;
    ctx.sh(&client, format!("mkdir {}/dir2", m.path)).await?;
    io::write_files(&ctx, &client, &m.path, &[("file1".into(), MIB)]).await?;
    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;

    let third = ctx.server(2)?;
    let probe = format!("{}:{}/{}/refused", third.host(), third.brick_root(), vol.name);
    for words in [["replica", "2", "arbiter", "1"], ["replica", "3", "arbiter", "2"]] {
        let mut args = vec!["volume", "add-brick", vol.name.as_str()];
        args.extend(words);
        args.push(&probe);
        let refused = gluster(&ctx, &vol.server, args).await;
        ensure!(refused.is_err(), "add-brick {} was accepted", words.join(" "));
    }
    let vol = arbiter::add_bricks(&ctx, &vol, Layout::Arbiter { sets: 1 }, &[third]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let info = vol.info(&ctx).await?;
    ensure_eq!(
        (info.brick_count, info.replica_count, info.arbiter_count),
        (3, 3, 1),
        "bricks, replica and arbiter count after add-brick replica 3 arbiter 1"
    );

    heal::set_self_heal(&ctx, &vol, false, false).await?;
    ctx.sh(&client, format!("cd {} && stat dir1 dir2 file1 >/dev/null", m.path)).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    ctx.sh(&client, format!("mkdir {}/dir3", m.path)).await?;
    io::write_files(&ctx, &client, &m.path, &[("file2".into(), MIB)]).await?;

    let mut listings = Vec::new();
    for b in &vol.bricks {
        listings.push(ctx.sh(&b.node, format!("ls {} | sort", b.path)).await?);
    }
    ensure_eq!(listings[2], listings[0], "names on the arbiter vs the first data brick");
    ensure_eq!(listings[2], listings[1], "names on the arbiter vs the second data brick");
    ensure_eq!(listings[0].lines().count(), 5, "names at the root: {}", listings[0]);
    for f in ["file1", "file2"] {
        let size = fileops::stat(&ctx, &client, &format!("{}/{f}", m.path), "%s").await?;
        ensure_eq!(size.trim(), MIB.to_string(), "size of {f} on the mount");
    }
    ensure_eq!(arbiter::ensure_healed(&ctx, &vol, &m).await?, 2, "files on the arbiter");

    for words in [&["replica", "4"][..], &["replica", "4", "arbiter", "1"][..]] {
        let mut args = vec!["volume", "add-brick", vol.name.as_str()];
        args.extend(words);
        args.push(&probe);
        let refused = gluster(&ctx, &vol.server, args).await;
        ensure!(refused.is_err(), "add-brick {} was accepted", words.join(" "));
    }
    let servers: Vec<Node> = (0..3).map(|i| ctx.server(i)).collect::<Result<_, _>>()?;
    let vol = arbiter::add_bricks(&ctx, &vol, Layout::Arbiter { sets: 2 }, &servers).await?;
    let info = vol.info(&ctx).await?;
    ensure_eq!(
        (info.brick_count, info.replica_count, info.arbiter_count, info.type_str.as_str()),
        (6, 3, 1, "Distributed-Replicate"),
        "geometry after adding a second arbiter set"
    );
    Ok(())
}
