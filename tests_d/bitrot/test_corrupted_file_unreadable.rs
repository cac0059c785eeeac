//! On a volume without redundancy a file whose only copy rotted cannot be read once the
//! scrubber found it: after an on-demand scrub reports the file's gfid as corrupted and marks
//! the copy bad, reading it through a new mount fails with an I/O error, while the other files
//! of the volume still read back unchanged.
//!
//! Ported from GlusterFS `tests/bitrot/bug-1207627-bitrot-scrub-status.t` (corruption found by an
//! on-demand scrub, bad-file xattr) and the read check of `tests/bitrot/bug-1700078.t` (reads of
//! a file are refused only when it is marked bad). Disruptive: enabling bitrot restarts the
//! signer and scrubber every volume of the node shares.
use crate::prelude::*;

pub const CASE: Case = Case::new(875, "corrupted_file_unreadable", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = ctx.client(0)?;
    bitrot::enable_and_wait(&ctx, &vol, Some(2)).await?;

    let sums = io::write_files(&ctx, &client, &m.path, &io::files("d", 6, 128 << 10)).await?;
    let names: Vec<&str> = sums.iter().map(|s| s.name.as_str()).collect();
    let (name, brick) = bitrot::wait_any_signed(&ctx, &vol, &names, Duration::from_secs(120)).await?;
    let victim = sums.iter().find(|s| s.name == name).expect("a written file");
    let held = bitrot::holders(&ctx, &vol, &victim.name).await?;
    ensure_eq!(held.len(), 1, "bricks holding {} on a distribute volume", victim.name);
    let gfid = xattr::gfid_on_mount(&ctx, &client, &format!("{}/{}", m.path, victim.name)).await?;
    bitrot::corrupt_on_brick(&ctx, &brick, &victim.name).await?;

    let st = bitrot::scrub_ondemand(&ctx, &vol, Duration::from_secs(180)).await?;
    ensure_eq!(
        st.corrupted_gfids(),
        vec![gfid.clone()],
        "corrupted gfids in scrub status (only {}, on {})",
        victim.name,
        brick.spec()
    );
    ensure_eq!(st.total_errors(), 1, "total error count: {:?}", st.nodes);
    ensure!(
        bitrot::is_bad(&ctx, &brick, &victim.name).await?,
        "{} on {} is not marked bad ({}) after the scrub reported it",
        victim.name,
        brick.spec(),
        bitrot::BAD_FILE
    );

    let fresh = mount::mount(&ctx, &ctx.client(1)?, &vol).await?;
    mount::ensure_fails(
        &ctx,
        &fresh,
        &format!("cat \"$M\"/{} > /dev/null", victim.name),
        &["Input/output error"],
    )
    .await?;
    let others: Vec<io::FileSum> = sums.iter().filter(|s| s.name != name).cloned().collect();
    io::verify(&ctx, &fresh.node, &fresh.path, &others).await?;
    Ok(())
}
