//! `snapshot info` by volume and for all snapshots: each volume's view holds exactly its own
//! snapshots, the unfiltered view holds both volumes' (GlusterFS `volume-snapshot.t`).
use crate::prelude::*;

pub const CASE: Case = Case::new(204, "snapshot_info_by_volume_and_all", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0).with(&[Capability::ThinLvm]))
.timeout_secs(900)
.disruptive();

async fn names(ctx: &Ctx, server: &Node, args: &[&str]) -> Result<Vec<String>, TestError> {
    let cmd = format!("gluster {} --xml", args.join(" "));
    let root = gluster_xml(ctx, server, args.iter().copied()).await?;
    let mut n: Vec<String> = snapshot::parse_info(&root, server, &cmd)?
        .into_iter()
        .map(|s| s.name)
        .collect();
    n.sort();
    Ok(n)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let a = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    a.start_and_wait(&ctx).await?;
    let b = volume::create(&ctx, VolumeSpec::distribute(2)).await?;
    b.start_and_wait(&ctx).await?;
    let mut of_a = vec![
        snapshot::create(&ctx, &a, None).await?,
        snapshot::create(&ctx, &a, None).await?,
    ];
    let of_b = vec![snapshot::create(&ctx, &b, None).await?];
    of_a.sort();
    let server = ctx.server(1)?;

    ensure_eq!(
        names(&ctx, &server, &["snapshot", "info", "volume", &a.name]).await?,
        of_a,
        "info volume {}",
        a.name
    );
    ensure_eq!(
        names(&ctx, &server, &["snapshot", "info", "volume", &b.name]).await?,
        of_b,
        "info volume {}",
        b.name
    );
    let all = names(&ctx, &server, &["snapshot", "info"]).await?;
    for s in of_a.iter().chain(&of_b) {
        ensure!(all.contains(s), "{s} missing from `snapshot info`: {all:?}");
    }
    // Info of a snapshot that does not exist is an error, not an empty answer.
    let out = ctx
        .exec(
            &server,
            Command::new("gluster").args(["--mode=script", "snapshot", "info", "no-such-snap"]),
        )
        .await?;
    ensure!(
        !out.success(),
        "`snapshot info no-such-snap` succeeded: {}",
        out.stdout_str()
    );
    Ok(())
}
