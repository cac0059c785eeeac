//! What the arbiter's quorum prevents, shown by turning it off: with the self-heal daemon off and
//! `cluster.quorum-type none`, the first data brick and the arbiter go down and the file is
//! rewritten, they come back, then the second data brick and the arbiter go down and it is
//! rewritten again. Each data brick now blames the other: the file is in data split-brain
//! (heal info split-brain lists it), and writing it fails with EIO, still so (EIO or ENOTCONN)
//! after the daemon and `quorum-type auto` are back on.
//!
//! Ported from glusto-tests `tests/functional/arbiter/test_split_brain.py` (the same option
//! changes, the two rounds of a data brick and the arbiter offline with a write each, split-brain
//! detected, writes failing before and after self-heal and quorum are turned back on).
use crate::prelude::*;

pub const CASE: Case = Case::new(516, "split_brain_without_quorum", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(&[VolumeType::Arbiter])
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "off").await?;
    vol.set(&ctx, "cluster.quorum-type", "none").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let file = [("test_file".to_string(), 1024)];
    io::write_files(&ctx, &client, &m.path, &file).await?;

    for data in [0, 1] {
        brick::kill_many(&ctx, &vol, &[data, 2]).await?;
        io::write_files(&ctx, &client, &m.path, &file).await?;
        brick::bring_back(&ctx, &vol).await?;
        brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    }
    for (i, other) in [(0, 1), (1, 0)] {
        let p = xattr::on_brick(&ctx, &vol.bricks[i], "test_file").await?.afr(&vol.name, other).unwrap_or_default();
        ensure!(p.data > 0, "{} does not blame brick #{other} for data: {p:?}", vol.bricks[i].spec());
    }
    let (c, v) = (&ctx, &vol);
    wait_for(&ctx, "heal info split-brain to list the file", Duration::from_secs(60), Duration::from_secs(2), move || async move {
        let n = heal::split_brain_count(c, v).await?;
        Ok(if n > 0 { Poll::Ready(()) } else { Poll::Pending("no split-brain entry".into()) })
    })
    .await?;

    let write = "head -c 1024 /dev/urandom > \"$M/test_file\"";
    for when in ["in split-brain", "with self-heal and quorum back on"] {
        if when != "in split-brain" {
            vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
            vol.set(&ctx, "cluster.quorum-type", "auto").await?;
        }
        let out = mount::attempt(&ctx, &client, &m.path, write, Duration::from_secs(60)).await?;
        ensure!(!out.success(), "a write to the file succeeded {when}");
        // In split-brain the file answers EIO; just after the options change the new client
        // graph may answer ENOTCONN instead (seen on GlusterFS 11).
        let accepted: &[&str] = if when == "in split-brain" {
            &["Input/output error"]
        } else {
            &["Input/output error", "Transport endpoint is not connected"]
        };
        ensure!(
            accepted.iter().any(|e| out.stderr_str().contains(e)),
            "a write to the file {when} failed, but not with {accepted:?}: {}",
            out.stderr_str().trim()
        );
    }
    Ok(())
}
