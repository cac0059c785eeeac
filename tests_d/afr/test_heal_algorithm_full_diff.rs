//! Data heal with each `cluster.data-self-heal-algorithm`: for `full` and then `diff`, files are
//! overwritten in part while a brick of each set is down; the heal brings every data brick to the
//! mount's contents with the algorithm set, and nothing stays blamed. Runs on every replicated type.
//!
//! Ported from glusto-tests `tests/functional/afr/test_self_heal_with_diff_algorithm.py` and
//! `tests/functional/afr/test_self_heal_with_full_algorithm.py` (the algorithm set, bricks down,
//! files modified, bricks back, heal, no split-brain, checksums of the bricks equal).
use crate::prelude::*;

pub const CASE: Case = Case::new(431, "heal_algorithm_full_diff", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::REPLICATED)
    .timeout_secs(500);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let files = io::write_files(&ctx, &client, &m.path, &io::files("f", 8, 1 << 20)).await?;
    let names: Vec<String> = files.iter().map(|s| s.name.clone()).collect();
    for algo in ["full", "diff"] {
        vol.set(&ctx, "cluster.data-self-heal-algorithm", algo).await?;
        ensure_eq!(vol.get(&ctx, "cluster.data-self-heal-algorithm").await?, algo, "algorithm set");
        brick::take_down(&ctx, &vol, Select::One).await?;
        let line: String = names
            .iter()
            .map(|n| format!("dd if=/dev/urandom of={}/{n} bs=4k seek=64 count=8 conv=notrunc status=none; ", m.path))
            .collect();
        ctx.sh(&client, line).await?;
        let want = io::checksums(&ctx, &client, &m.path, &names).await?;
        brick::bring_back(&ctx, &vol).await?;
        heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
        heal::ensure_no_split_brain(&ctx, &vol).await?;
        for (i, b) in vol.bricks.iter().enumerate() {
            let here: Vec<String> = io::brick_files(&ctx, &b.node, &b.path)
                .await?
                .into_iter()
                .filter(|f| names.contains(f))
                .collect();
            if brick::holds_data(&vol, i) {
                let got = io::checksums(&ctx, &b.node, &b.path, &here).await?;
                for n in &here {
                    ensure_eq!(got.get(n), want.get(n), "{n} on {} after heal with algorithm {algo}", b.spec());
                }
            }
            for n in &here {
                let x = xattr::on_brick(&ctx, b, n).await?;
                ensure!(x.afr_clean(&vol.name), "{n} on {} still blames after {algo} heal: {:?}", b.spec(), x.afr_all(&vol.name));
            }
        }
    }
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
