//! Truncate and append while a brick of each set is down: files are truncated to zero, shrunk,
//! grown by truncate (a hole), appended to and overwritten in the middle; the good bricks blame
//! the dead ones for data, and once healed every data brick holds the mount's sizes and contents
//! and nothing stays blamed. Runs on every replicated type.
//!
//! Ported from GlusterFS `tests/basic/afr/data-self-heal.t` (files truncated, extended, appended
//! and overwritten while a brick is down, then healed; the sink's contents and sizes equal the
//! source's and the pending xattrs are cleared).
use crate::prelude::*;

pub const CASE: Case = Case::new(425, "truncate_append_while_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::REPLICATED)
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let made = io::write_files(&ctx, &client, &m.path, &io::files("f", 6, 100_000)).await?;
    let names: Vec<String> = made.iter().map(|s| s.name.clone()).collect();

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    let p = |i: usize| format!("{}/{}", m.path, names[i]);
    fileops::truncate(&ctx, &client, &p(0), 0).await?;
    fileops::truncate(&ctx, &client, &p(1), 1000).await?;
    fileops::truncate(&ctx, &client, &p(2), 300_000).await?;
    fileops::append(&ctx, &client, &p(3), 50_000).await?;
    ctx.sh(&client, format!("dd if=/dev/urandom of={} bs=1k seek=10 count=20 conv=notrunc 2>/dev/null", p(4))).await?;
    fileops::truncate(&ctx, &client, &p(5), 10).await?;
    fileops::append(&ctx, &client, &p(5), 7000).await?;
    let want = io::checksums(&ctx, &client, &m.path, &names).await?;
    let sizes = ctx.sh(&client, format!("cd {} && stat -c '%n %s' {}", m.path, names.join(" "))).await?;
    ctx.step(format!("sizes on the mount: {}", sizes.replace('\n', ", ")));

    for (set, &dead) in brick::sets(&vol).iter().zip(&down) {
        let good = &vol.bricks[set[0]];
        for f in io::brick_files(&ctx, &good.node, &good.path).await? {
            let pnd = xattr::on_brick(&ctx, good, &f).await?.afr(&vol.name, dead).unwrap_or_default();
            ensure!(pnd.data > 0, "{f} on {} should blame brick #{dead} for data: {pnd:?}", good.spec());
        }
    }
    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    for (i, b) in vol.bricks.iter().enumerate() {
        let here = io::brick_files(&ctx, &b.node, &b.path).await?;
        for n in names.iter().filter(|n| here.contains(n)) {
            if brick::holds_data(&vol, i) {
                let got = io::checksums(&ctx, &b.node, &b.path, std::slice::from_ref(n)).await?;
                ensure_eq!(got.get(n), want.get(n), "{n} on {} after heal", b.spec());
            }
            let x = xattr::on_brick(&ctx, b, n).await?;
            ensure!(x.afr_clean(&vol.name), "{n} on {} still blames: {:?}", b.spec(), x.afr_all(&vol.name));
        }
    }
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
