//! EC's own xattrs are not the user's: from the mount, `trusted.ec.config`, `.size`, `.version`
//! and `.heal` can be neither set nor removed, and (but `.heal`, a virtual key) not read; a
//! listing of the file's xattrs shows no `trusted.ec.*` at all, while an ordinary trusted xattr
//! is stored and read back as the only trusted one. On the bricks the fragments do carry
//! `trusted.ec.config`, `.size` and `.version`, the size equal to the file's.
//!
//! Ported from GlusterFS `tests/basic/ec/ec-internal-xattrs.t` (set, remove and get of each
//! internal xattr refused from the mount, none listed, `trusted.abc` set and read back, one
//! trusted xattr listed). The brick-side check is added.
use crate::prelude::*;

pub const CASE: Case = Case::new(573, "internal_xattrs_hidden", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Disperse.spec()).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::write_files(&ctx, &client, &m.path, &[("a".into(), 3000)]).await?;
    let a = format!("{}/a", m.path);
    for x in [
        "trusted.ec.config",
        "trusted.ec.size",
        "trusted.ec.version",
        "trusted.ec.heal",
    ] {
        let mut tries = vec![
            format!("setfattr -n {x} -v abc {a}"),
            format!("setfattr -x {x} {a}"),
        ];
        if x != "trusted.ec.heal" {
            tries.push(format!("getfattr -n {x} {a}"));
        }
        for line in tries {
            let out =
                mount::attempt(&ctx, &client, &m.path, &line, Duration::from_secs(60)).await?;
            ensure!(
                !out.success(),
                "`{line}` succeeded from the mount: {}",
                out.stdout_str().trim()
            );
        }
    }
    let listing = ctx
        .sh(
            &client,
            format!("getfattr -d -m. -e hex {a} 2>/dev/null || true"),
        )
        .await?;
    ensure!(
        !listing.contains("trusted.ec."),
        "the mount lists EC's xattrs: {listing}"
    );
    ctx.sh(&client, format!("setfattr -n trusted.abc -v 0x616263 {a}"))
        .await?;
    let x = xattr::read(&ctx, &client, &a).await?;
    ensure_eq!(
        x.get("trusted.abc"),
        Some(&b"abc"[..]),
        "trusted.abc read back from the mount"
    );
    let trusted: Vec<&String> = x
        .values
        .keys()
        .filter(|k| k.starts_with("trusted."))
        .collect();
    ensure_eq!(
        trusted,
        vec!["trusted.abc"],
        "trusted xattrs listed on the mount"
    );

    // The write's eager lock keeps the fragments dirty until it is released (its timeout, longer
    // on a busy machine).
    let started = std::time::Instant::now();
    let f = loop {
        match ec::ensure_healed(&ctx, &vol, "a").await {
            Ok(f) => break f,
            Err(e) if started.elapsed() < Duration::from_secs(60) => {
                ctx.step(format!("not settled yet: {e}"));
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(e),
        }
    };
    for (i, frag) in &f.bricks {
        let frag = frag
            .as_ref()
            .ok_or_else(|| TestError::Check(format!("no fragment of a on #{i}")))?;
        ensure!(
            frag.xattrs.get("trusted.ec.config").is_some() && frag.size() == Some(3000),
            "fragment of a on brick #{i} should carry trusted.ec.config and size 3000: {}",
            f.describe()
        );
    }
    Ok(())
}
