//! A copy corrupted on a brick behind GlusterFS's back is found by the scrubber: on a replica 3
//! volume, a first on-demand scrub reports no error; then a signed copy of a file has bytes
//! flipped on its brick; an on-demand scrub then reports on that brick's server an error count of 1 with the file's
//! gfid (and the brick and path) among the corrupted objects, the other servers none; that copy
//! alone is marked bad (`trusted.bit-rot.bad-file`). Reading the file through a new mount serves
//! the good data from the other replicas, and a later append through the mount reaches the good
//! copies only (the bad one keeps its size).
//!
//! Ported from GlusterFS `tests/bitrot/bug-1207627-bitrot-scrub-status.t` (corruption on a brick
//! found by an on-demand scrub, bad-file xattr set), `tests/bitrot/bug-1294786.t` (a replica's bad
//! copy is not read: the good brick serves the file) and `tests/bugs/bitrot/bug-1288490.t` (a
//! write does not reach the bad copy). Disruptive: enabling bitrot restarts the signer and
//! scrubber every volume of the node shares.
use crate::prelude::*;

pub const CASE: Case = Case::new(874, "corrupted_copy_reported", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(400)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let client = ctx.client(0)?;
    bitrot::enable_and_wait(&ctx, &vol, Some(2)).await?;

    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 3, 256 << 10)).await?;
    let names: Vec<&str> = sums.iter().map(|s| s.name.as_str()).collect();
    let (name, bad) = bitrot::wait_any_signed(&ctx, &vol, &names, Duration::from_secs(120)).await?;
    let st = bitrot::scrub_ondemand(&ctx, &vol, Duration::from_secs(180)).await?;
    ensure!(
        st.total_errors() == 0 && st.corrupted_gfids().is_empty(),
        "a scrub before any corruption reports errors: {:?}",
        st.nodes
    );

    let victim = sums.iter().find(|s| s.name == name).expect("a written file").clone();
    let bad_index = vol
        .bricks
        .iter()
        .position(|b| b.spec() == bad.spec())
        .expect("a brick of the volume");
    let gfid = xattr::gfid_on_mount(&ctx, &client, &format!("{}/{}", m.path, victim.name)).await?;
    bitrot::corrupt_on_brick(&ctx, &bad, &victim.name).await?;

    let st = bitrot::scrub_ondemand(&ctx, &vol, Duration::from_secs(180)).await?;
    let row = st.node(&bad.node).ok_or_else(|| {
        TestError::Check(format!(
            "scrub status has no row for {}: {:?}",
            bad.node.name(),
            st.nodes
        ))
    })?;
    ensure_eq!(
        row.errors,
        1,
        "error count on {} after corrupting {} there: {row:?}",
        bad.node.name(),
        victim.name
    );
    let listed = row.corrupted.iter().find(|c| c.gfid == gfid);
    ensure!(
        listed.is_some(),
        "scrub status of {} does not list {}'s gfid {gfid} as corrupted: {:?}",
        bad.node.name(),
        victim.name,
        row.corrupted
    );
    let listed = listed.expect("checked");
    ensure_eq!(
        listed.brick.as_deref(),
        Some(bad.path.as_str()),
        "brick of the corrupted object"
    );
    ensure_eq!(
        listed.path.as_deref(),
        Some(format!("/{}", victim.name).as_str()),
        "path of the corrupted object"
    );
    for other in st.nodes.iter().filter(|n| n.server.as_deref() != Some(bad.node.name())) {
        ensure!(
            other.errors == 0 && other.corrupted.is_empty(),
            "{} (holding a good copy) reports errors: {other:?}",
            other.name
        );
    }
    for (i, b) in vol.bricks.iter().enumerate() {
        ensure_eq!(
            bitrot::is_bad(&ctx, b, &victim.name).await?,
            i == bad_index,
            "{} on {} marked bad ({})",
            victim.name,
            b.spec(),
            bitrot::BAD_FILE
        );
        for other in names.iter().filter(|n| **n != victim.name) {
            ensure!(
                !bitrot::is_bad(&ctx, b, other).await?,
                "{other} (not corrupted) is marked bad on {}",
                b.spec()
            );
        }
    }

    // A client that never cached the file reads the good data.
    let fresh = mount::mount(&ctx, &ctx.client(1)?, &vol).await?;
    io::verify(&ctx, &fresh.node, &fresh.path, &sums).await?;

    let path = format!("{}/{}", fresh.path, victim.name);
    ctx.sh(
        &fresh.node,
        format!("head -c 4096 /dev/urandom >> {}", gflab_agent::shell::quote(&path)),
    )
    .await?;
    let grown = victim.size + 4096;
    for (i, b) in vol.bricks.iter().enumerate() {
        let p = xattr::brick_path(b, &victim.name);
        let size: u64 = ctx
            .sh(&b.node, format!("stat -c %s {}", gflab_agent::shell::quote(&p)))
            .await?
            .trim()
            .parse()
            .map_err(|_| TestError::Check(format!("stat of {p} printed no size")))?;
        let want = if i == bad_index { victim.size } else { grown };
        ensure_eq!(
            size,
            want,
            "size of {} on {} after an append through the mount (bad copy: {})",
            victim.name,
            b.spec(),
            i == bad_index
        );
    }
    Ok(())
}
