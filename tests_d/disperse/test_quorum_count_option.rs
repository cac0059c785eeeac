//! `disperse.quorum-count` validation: refused on a volume that is not dispersed, refused for
//! values that are not numbers or lie outside data-bricks..bricks (0, -0, abc, 10abc, 1, 2, 3 and
//! 7 on a 4+2 volume), accepted from 4 to 6; the value reaches the client's disperse translator
//! and `volume reset` puts it back to 0 (which means "the data brick count").
//!
//! Ported from GlusterFS `tests/basic/ec/ec-quorum-count.t` (its option checks on a 4+2 volume
//! and a plain distribute one, and the value read from the mount's translator after set and
//! reset).
use crate::prelude::*;

pub const CASE: Case = Case::new(557, "quorum_count_option_validation", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(300);

const KEY: &str = "disperse.quorum-count";

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Disperse.spec()).await?;
    let plain = volume::create(&ctx, VolumeSpec::distribute(3)).await?;
    let set = |v: &Volume, value: &str| {
        let args = ["volume", "set", v.name.as_str(), KEY, value].map(String::from);
        let (ctx, node) = (&ctx, v.server.clone());
        async move {
            ctx.exec(
                &node,
                Command::new("gluster").arg("--mode=script").args(args),
            )
            .await
        }
    };
    let out = set(&plain, "5").await?;
    ensure!(
        !out.success(),
        "{KEY} 5 was accepted on the distribute volume {}",
        plain.name
    );
    for bad in ["0", "-0", "abc", "10abc", "1", "2", "3", "7"] {
        let out = set(&vol, bad).await?;
        ensure!(!out.success(), "{KEY} {bad} was accepted on a 4+2 volume");
        let msg = format!("{}{}", out.stdout_str(), out.stderr_str());
        ensure!(
            msg.contains("quorum-count") || msg.contains("not a valid") || msg.contains("range"),
            "the refusal of {KEY} {bad} does not say why: {}",
            msg.trim()
        );
    }
    ensure_eq!(vol.get(&ctx, KEY).await?, "0", "{KEY} after refused values");
    vol.set(&ctx, KEY, "4").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    for (action, want) in [("keep", "4"), ("reset", "0"), ("6", "6"), ("5", "5")] {
        match action {
            "keep" => {}
            "reset" => vol.reset(&ctx, KEY).await?,
            v => vol.set(&ctx, KEY, v).await?,
        }
        ensure_eq!(vol.get(&ctx, KEY).await?, want, "volume get {KEY}");
        let what = format!("the client's quorum-count to be {want}");
        wait_for(
            &ctx,
            &what,
            Duration::from_secs(30),
            Duration::from_secs(1),
            || async {
                let got = ec::client_option(&ctx, &m, &vol, 0, "quorum-count").await?;
                Ok(if got.as_deref() == Some(want) {
                    Poll::Ready(())
                } else {
                    Poll::Pending(format!("quorum-count {got:?}"))
                })
            },
        )
        .await?;
    }
    Ok(())
}
