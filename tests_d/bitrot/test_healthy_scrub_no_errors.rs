//! A healthy volume scrubs clean: on a replica 3 volume with bitrot enabled and a short signing
//! time, once copies of the files written are signed (`trusted.bit-rot.signature` on the brick),
//! an on-demand scrub completes on every server with every copy it holds either scrubbed
//! (signed) or skipped (not signed yet), some scrubbed, an error count of 0 and no corrupted
//! object; no copy is marked bad and the files read back unchanged.
//!
//! Ported from GlusterFS `tests/bitrot/bug-1207627-bitrot-scrub-status.t` and
//! `tests/bugs/bitrot/bug-1245981.t` (files signed after the signing time; the scrub status
//! fields), the clean half of `tests/bitrot/bug-1700078.t` (an on-demand scrub marks no good
//! file bad). GlusterFS 10.3's signer sometimes never signs on one node (with two bricks of a
//! volume on one server, often on one of them), so the test waits for signed copies, not for
//! every copy. Disruptive: enabling bitrot restarts the signer and scrubber every volume of the
//! node shares.
use crate::prelude::*;

pub const CASE: Case = Case::new(873, "healthy_scrub_no_errors", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let client = ctx.client(0)?;
    bitrot::enable_and_wait(&ctx, &vol, Some(2)).await?;

    let sums = io::write_files(&ctx, &client, &m.path, &io::files("clean", 12, 64 << 10)).await?;
    let names: Vec<&str> = sums.iter().map(|s| s.name.as_str()).collect();
    bitrot::wait_any_signed(&ctx, &vol, &names, Duration::from_secs(120)).await?;
    // Let the other copies be signed too, when their signer works (not required).
    let _ = bitrot::wait_signed(&ctx, &vol, &names, Duration::from_secs(20)).await;
    let mut held = Vec::new();
    for n in &names {
        held.push(bitrot::holders(&ctx, &vol, n).await?);
    }

    let st = bitrot::scrub_ondemand(&ctx, &vol, Duration::from_secs(180)).await?;
    for s in bitrot::brick_servers(&vol) {
        let copies = held
            .iter()
            .flatten()
            .filter(|b| b.node.name() == s.name())
            .count() as u64;
        let row = st.node(&s).ok_or_else(|| {
            TestError::Check(format!("scrub status has no row for {}: {:?}", s.name(), st.nodes))
        })?;
        ensure_eq!(
            row.scrubbed + row.skipped,
            copies,
            "files scrubbed and skipped on {} (it holds {copies} copies): {row:?}",
            s.name()
        );
        ensure_eq!(row.errors, 0, "error count on {}: {row:?}", s.name());
        ensure!(
            row.corrupted.is_empty(),
            "{} reports corrupted objects on a healthy volume: {:?}",
            s.name(),
            row.corrupted
        );
        ensure!(
            row.last_completed.is_some(),
            "{} has no completed scrub after the on-demand scrub",
            s.name()
        );
    }
    let scrubbed: u64 = st.nodes.iter().map(|n| n.scrubbed).sum();
    ensure!(
        scrubbed >= 1,
        "no copy scrubbed, though some were signed: {:?}",
        st.nodes
    );
    for (name, bricks) in names.iter().zip(&held) {
        for b in bricks {
            ensure!(
                !bitrot::is_bad(&ctx, b, name).await?,
                "{name} on {} is marked bad ({}) on a healthy volume",
                b.spec(),
                bitrot::BAD_FILE
            );
        }
    }
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
