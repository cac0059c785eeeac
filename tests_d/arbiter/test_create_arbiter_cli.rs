//! `volume create` accepts an arbiter only as the last brick of a three-brick set: `arbiter 3`
//! without a replica count, `arbiter 1` before `replica 3`, `replica 3 arbiter 2` and
//! `replica 4 arbiter 1` are refused and create nothing; `replica 2 arbiter 1` (the newer
//! spelling) and `replica 3 arbiter 1` make a 1 x (2 + 1) volume with arbiter count 1.
//!
//! Ported from GlusterFS `tests/basic/afr/arbiter-cli.t` (the same four refusals and two
//! accepted forms).
use crate::prelude::*;

pub const CASE: Case = Case::new(517, "create_arbiter_cli", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(120);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let servers: Vec<Node> = (0..3).map(|i| ctx.server(i)).collect::<Result<_, _>>()?;
    let cli = servers[0].clone();
    let bricks = |name: &str, n: usize| -> Vec<String> {
        (0..n)
            .map(|i| {
                let s = &servers[i % servers.len()];
                format!("{}:{}/{name}/b{i}", s.host(), s.brick_root())
            })
            .collect()
    };
    let refused: [(&[&str], usize); 4] = [
        (&["arbiter", "3"], 3),
        (&["arbiter", "1", "replica", "3"], 3),
        (&["replica", "3", "arbiter", "2"], 3),
        (&["replica", "4", "arbiter", "1"], 4),
    ];
    for (words, n) in refused {
        let name = ctx.unique("bad");
        let mut args: Vec<String> = vec!["volume".into(), "create".into(), name.clone()];
        args.extend(words.iter().map(|w| w.to_string()));
        args.extend(bricks(&name, n));
        args.push("force".into());
        ensure!(
            gluster(&ctx, &cli, args).await.is_err(),
            "volume create {} was accepted",
            words.join(" ")
        );
        ensure!(
            !volume::list(&ctx, &cli).await?.contains(&name),
            "a refused create left volume {name}"
        );
    }
    for words in [["replica", "2", "arbiter", "1"], ["replica", "3", "arbiter", "1"]] {
        let name = ctx.unique("arb");
        ctx.defer(Cleanup::Volume {
            server: cli.clone(),
            name: name.clone(),
            dirs: servers
                .iter()
                .map(|s| (s.clone(), format!("{}/{name}", s.brick_root())))
                .collect(),
            unmount: Vec::new(),
        });
        for s in &servers {
            ctx.sh(s, format!("mkdir -p {}/{name}", s.brick_root())).await?;
        }
        let mut args: Vec<String> = vec!["volume".into(), "create".into(), name.clone()];
        args.extend(words.iter().map(|w| w.to_string()));
        args.extend(bricks(&name, 3));
        args.push("force".into());
        gluster(&ctx, &cli, args).await?;
        let info = volume::info(&ctx, &cli, &name).await?;
        ensure_eq!(
            (info.brick_count, info.replica_count, info.arbiter_count),
            (3, 3, 1),
            "bricks, replica and arbiter count of `{}`",
            words.join(" ")
        );
    }
    Ok(())
}
