//! Files created and deleted, and deleted and recreated, while a brick of each set is down: a file
//! that lived only while the brick was down leaves nothing on it after heal (name or gfid link), a
//! file deleted while it was down is removed from it, and a file deleted and created again under
//! the same name reaches it with the new gfid and contents, the old gfid gone. Runs on every
//! replicated type.
//!
//! Ported from GlusterFS `tests/basic/afr/entry-self-heal.t` (names created, deleted and replaced
//! by new files of the same name while a brick is down; after heal the sink matches, with the new
//! gfids) with the "create then delete" case of `tests/basic/afr/granular-esh/granular-esh.t`.
use crate::prelude::*;

pub const CASE: Case = Case::new(424, "create_delete_while_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::REPLICATED)
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    io::write_files(&ctx, &client, &m.path, &io::files("d/gone", 4, 4096)).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("d/again", 4, 4096)).await?;
    let mut old = Vec::new();
    for i in 0..4 {
        old.push(xattr::gfid_on_mount(&ctx, &client, &format!("{}/d/again-{i}", m.path)).await?);
    }

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    let d = format!("{}/d", m.path);
    io::write_files(&ctx, &client, &m.path, &io::files("d/brief", 4, 4096)).await?;
    let mut brief = Vec::new();
    for i in 0..4 {
        brief.push(xattr::gfid_on_mount(&ctx, &client, &format!("{d}/brief-{i}")).await?);
    }
    ctx.sh(&client, format!("rm -f {d}/brief-* {d}/gone-* {d}/again-*")).await?;
    let again = io::write_files(&ctx, &client, &m.path, &io::files("d/again", 4, 12345)).await?;

    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let t = tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    let names: Vec<&String> = t.entries.keys().filter(|k| k.starts_with("d/")).collect();
    ensure_eq!(names.len(), 4, "names under d after heal: {names:?}");
    io::verify(&ctx, &client, &m.path, &again).await?;
    for &i in &down {
        let b = &vol.bricks[i];
        for g in old.iter().chain(&brief) {
            let link = format!("{}/.glusterfs/{}/{}/{g}", b.path, &g[0..2], &g[2..4]);
            let out = ctx.exec(&b.node, Command::new("stat").arg(&link)).await?;
            ensure!(!out.success(), "gfid link {g} of a deleted file still on the healed {}", b.spec());
        }
    }
    for (i, before) in old.iter().enumerate() {
        let rel = format!("d/again-{i}");
        let now = xattr::gfid_on_mount(&ctx, &client, &format!("{}/{rel}", m.path)).await?;
        ensure!(&now != before, "{rel} kept its old gfid after being recreated");
        for x in xattr::on_bricks(&ctx, &vol, &rel).await?.iter().filter(|x| !x.values.is_empty()) {
            ensure_eq!(x.gfid().unwrap_or_default(), now, "gfid of {rel} at {}:{}", x.node, x.path);
        }
    }
    Ok(())
}
