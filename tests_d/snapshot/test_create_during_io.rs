//! Several snapshots taken while a client writes: every create succeeds, each snapshot keeps the
//! data that was complete before it, and the volume's data is intact (glusto
//! `test_snap_create_during_io`-style).
use crate::prelude::*;

pub const CASE: Case = Case::new(203, "snapshot_create_during_client_io", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 1).with(&[Capability::ThinLvm]))
.timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("pre", 5, 200_000)).await?;

    // Writers and creates overlap: three snapshots while three batches are written.
    let writes = async {
        let mut sums = Vec::new();
        for batch in ["w1", "w2", "w3"] {
            sums.extend(
                io::write_files(&ctx, &client, &m.path, &io::files(batch, 4, 300_000)).await?,
            );
        }
        Ok::<_, TestError>(sums)
    };
    let creates = async {
        let mut names = Vec::new();
        for _ in 0..3 {
            names.push(snapshot::create(&ctx, &vol, None).await?);
        }
        Ok::<_, TestError>(names)
    };
    let (during, snaps) = futures::try_join!(writes, creates)?;

    let listed = snapshot::list(&ctx, &ctx.server(0)?, Some(&vol.name)).await?;
    for s in &snaps {
        ensure!(
            listed.contains(s),
            "{s} missing from the volume's list {listed:?}"
        );
    }
    let all: Vec<io::FileSum> = before.iter().cloned().chain(during).collect();
    io::verify(&ctx, &client, &m.path, &all).await?;

    // The first snapshot holds at least the files written before any create.
    snapshot::activate(&ctx, &ctx.server(0)?, &snaps[0]).await?;
    for b in snapshot::status(&ctx, &ctx.server(0)?, &snaps[0]).await? {
        ensure!(
            b.running,
            "snapshot brick {} not running after activate",
            b.path
        );
        let (host, path) = b.path.split_once(':').unwrap_or(("", b.path.as_str()));
        let node = ctx.server_by_host(host)?;
        io::verify(&ctx, &node, path, &before).await?;
    }
    Ok(())
}
