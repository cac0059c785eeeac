//! Self-heal: index and full heal, heal info and its variants (summary, split-brain, counts per
//! brick), waits on them, and split-brain resolution from the CLI (bigger-file, latest-mtime,
//! source-brick) and through `cluster.favorite-child-policy`.
use std::collections::BTreeMap;
use std::time::Duration;

use super::mount::Mount;
use super::volume::{Brick, Volume, VolumeSpec};
use super::{brick, io};
use super::{gluster, gluster_cmd, gluster_xml, wait_for, Poll};
use crate::xml::Element;
use crate::{Ctx, TestError};

/// One brick's line of `heal info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealBrick {
    /// `host:/path`.
    pub brick: String,
    /// `Connected`, `Transport endpoint is not connected`, ...
    pub status: String,
    /// Pending entries; `None` when the brick could not be asked.
    pub entries: Option<u64>,
    /// The entries listed (path, or `<gfid:...>` when the path is not known).
    pub files: Vec<String>,
}

impl HealBrick {
    /// Connected with nothing pending.
    pub fn clean(&self) -> bool {
        self.status == "Connected" && self.entries == Some(0)
    }
}

/// Parses `heal ... info --xml` output (every `<brick>` under `<healInfo>`).
pub fn parse_heal_info(root: &Element) -> Vec<HealBrick> {
    let Some(bricks) = root.find("healInfo").and_then(|h| h.find("bricks")) else {
        return Vec::new();
    };
    bricks
        .children("brick")
        .map(|b| HealBrick {
            brick: b.child_text("name").unwrap_or_default().to_string(),
            status: b.child_text("status").unwrap_or_default().to_string(),
            entries: b.child_text("numberOfEntries").and_then(|n| n.parse().ok()),
            files: b.children("file").map(|f| f.text.clone()).collect(),
        })
        .collect()
}

/// `volume heal VOL info`: pending entries per brick.
pub async fn info(ctx: &Ctx, vol: &Volume) -> Result<Vec<HealBrick>, TestError> {
    let root = gluster_xml(ctx, &vol.server, ["volume", "heal", &vol.name, "info"]).await?;
    Ok(parse_heal_info(&root))
}

/// `volume heal VOL info split-brain`: entries in split-brain per brick.
pub async fn split_brain(ctx: &Ctx, vol: &Volume) -> Result<Vec<HealBrick>, TestError> {
    let root = gluster_xml(
        ctx,
        &vol.server,
        ["volume", "heal", &vol.name, "info", "split-brain"],
    )
    .await?;
    Ok(parse_heal_info(&root))
}

/// Fails if any brick reports split-brain entries.
pub async fn ensure_no_split_brain(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    let sb = split_brain(ctx, vol).await?;
    let bad: Vec<String> = sb
        .iter()
        .filter(|b| b.entries.unwrap_or(0) > 0)
        .map(|b| format!("{}: {} entries", b.brick, b.entries.unwrap_or(0)))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(TestError::Check(format!(
            "split-brain on {}: {}",
            vol.name,
            bad.join(", ")
        )))
    }
}

/// `volume heal VOL` (index heal). Returns whether gluster accepted it (the self-heal daemon may still
/// be starting; that is not an error here).
pub async fn trigger(ctx: &Ctx, vol: &Volume) -> Result<bool, TestError> {
    Ok(ctx
        .exec(
            &vol.server,
            gluster_cmd(["volume", "heal", vol.name.as_str()]),
        )
        .await?
        .success())
}

/// Triggers heal and waits until every brick is connected with no pending entries.
pub async fn wait_complete(ctx: &Ctx, vol: &Volume, timeout: Duration) -> Result<(), TestError> {
    let what = format!("heal of {} to complete", vol.name);
    let mut polls = 0u32;
    wait_for(ctx, &what, timeout, Duration::from_secs(2), || {
        polls += 1;
        let retrigger = polls % 5 == 1;
        async move {
            if retrigger {
                trigger(ctx, vol).await?;
            }
            let bricks = info(ctx, vol).await?;
            if bricks.len() < vol.bricks.len() {
                return Ok(Poll::Pending(format!(
                    "heal info lists {} of {} bricks",
                    bricks.len(),
                    vol.bricks.len()
                )));
            }
            Ok(if bricks.iter().all(HealBrick::clean) {
                Poll::Ready(())
            } else {
                Poll::Pending(
                    bricks
                        .iter()
                        .map(|b| format!("{} {} {:?}", b.brick, b.status, b.entries))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })
        }
    })
    .await
}

/// One brick's line of `heal info summary`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealSummary {
    /// `host:/path`.
    pub brick: String,
    /// `Connected`, ...
    pub status: String,
    /// All entries needing heal; `None` when the brick could not be asked.
    pub total: Option<u64>,
    /// Of them, pending heal.
    pub pending: Option<u64>,
    /// Of them, in split-brain.
    pub split_brain: Option<u64>,
    /// Of them, possibly being healed now.
    pub healing: Option<u64>,
}

/// Parses `heal ... info summary --xml` output.
pub fn parse_summary(root: &Element) -> Vec<HealSummary> {
    let Some(bricks) = root.find("healInfo").and_then(|h| h.find("bricks")) else {
        return Vec::new();
    };
    let num = |b: &Element, n: &str| b.child_text(n).and_then(|t| t.parse().ok());
    bricks
        .children("brick")
        .map(|b| HealSummary {
            brick: b.child_text("name").unwrap_or_default().to_string(),
            status: b.child_text("status").unwrap_or_default().to_string(),
            total: num(b, "totalNumberOfEntries"),
            pending: num(b, "numberOfEntriesInHealPending"),
            split_brain: num(b, "numberOfEntriesInSplitBrain"),
            healing: num(b, "numberOfEntriesPossiblyHealing"),
        })
        .collect()
}

/// `volume heal VOL info summary`: per brick, entries pending, in split-brain and being healed.
pub async fn summary(ctx: &Ctx, vol: &Volume) -> Result<Vec<HealSummary>, TestError> {
    let root = gluster_xml(
        ctx,
        &vol.server,
        ["volume", "heal", &vol.name, "info", "summary"],
    )
    .await?;
    Ok(parse_summary(&root))
}

/// Parses `heal VOL statistics heal-count` (`Brick host:/path` then `Number of entries: N`).
pub fn parse_heal_count(out: &str) -> BTreeMap<String, Option<u64>> {
    let mut counts = BTreeMap::new();
    let mut brick: Option<String> = None;
    for line in out.lines().map(str::trim) {
        if let Some(b) = line.strip_prefix("Brick ") {
            brick = Some(b.trim().to_string());
        } else if let Some(n) = line.strip_prefix("Number of entries:") {
            if let Some(b) = brick.take() {
                counts.insert(b, n.trim().parse().ok());
            }
        }
    }
    counts
}

/// `volume heal VOL statistics heal-count`: entries to heal per brick (`host:/path` → count;
/// `None` where the brick could not be asked). Gluster offers no XML for it, and refuses it while
/// the self-heal daemon is off (use [`summary`] then).
pub async fn counts(ctx: &Ctx, vol: &Volume) -> Result<BTreeMap<String, Option<u64>>, TestError> {
    let out = gluster(
        ctx,
        &vol.server,
        ["volume", "heal", &vol.name, "statistics", "heal-count"],
    )
    .await?;
    Ok(parse_heal_count(&out))
}

/// Entries pending heal over all bricks (`heal info`); a brick that cannot be asked is an error.
pub async fn pending_count(ctx: &Ctx, vol: &Volume) -> Result<u64, TestError> {
    let bricks = info(ctx, vol).await?;
    bricks.iter().try_fold(0, |sum, b| {
        b.entries.map(|n| sum + n).ok_or_else(|| {
            TestError::Check(format!(
                "heal info cannot count entries on {}: {}",
                b.brick, b.status
            ))
        })
    })
}

/// Entries pending heal over the bricks `heal info` can ask; a dead brick counts none (for
/// counting what the live bricks record while one is down).
pub async fn pending_on_live(ctx: &Ctx, vol: &Volume) -> Result<u64, TestError> {
    Ok(info(ctx, vol).await?.iter().filter_map(|b| b.entries).sum())
}

/// Entries in split-brain over all bricks (`heal info split-brain`).
pub async fn split_brain_count(ctx: &Ctx, vol: &Volume) -> Result<u64, TestError> {
    Ok(split_brain(ctx, vol)
        .await?
        .iter()
        .map(|b| b.entries.unwrap_or(0))
        .sum())
}

/// `volume heal VOL` (index heal: what the bricks' indices list); an error if gluster refuses.
pub async fn index(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    ctx.step(format!("index heal of {}", vol.name));
    gluster(ctx, &vol.server, ["volume", "heal", &vol.name])
        .await
        .map(|_| ())
}

/// `volume heal VOL full` (crawls every brick, heals whatever differs); an error if refused.
pub async fn full(ctx: &Ctx, vol: &Volume) -> Result<(), TestError> {
    ctx.step(format!("full heal of {}", vol.name));
    gluster(ctx, &vol.server, ["volume", "heal", &vol.name, "full"])
        .await
        .map(|_| ())
}

/// Waits until every brick is connected and nothing is pending, without triggering heal (what the
/// self-heal daemon or the clients do on their own).
pub async fn wait_no_pending(ctx: &Ctx, vol: &Volume, timeout: Duration) -> Result<(), TestError> {
    let what = format!("nothing pending heal on {}", vol.name);
    wait_for(ctx, &what, timeout, Duration::from_secs(2), || async {
        let bricks = info(ctx, vol).await?;
        Ok(
            if bricks.len() >= vol.bricks.len() && bricks.iter().all(HealBrick::clean) {
                Poll::Ready(())
            } else {
                Poll::Pending(describe(&bricks))
            },
        )
    })
    .await
}

/// Waits until `heal info split-brain` counts exactly `want` entries over all bricks.
pub async fn wait_split_brain_count(
    ctx: &Ctx,
    vol: &Volume,
    want: u64,
    timeout: Duration,
) -> Result<(), TestError> {
    let what = format!("{want} split-brain entries on {}", vol.name);
    wait_for(ctx, &what, timeout, Duration::from_secs(2), || async {
        let sb = split_brain(ctx, vol).await?;
        let n: u64 = sb.iter().map(|b| b.entries.unwrap_or(0)).sum();
        Ok(if n == want {
            Poll::Ready(())
        } else {
            Poll::Pending(describe(&sb))
        })
    })
    .await
}

fn describe(bricks: &[HealBrick]) -> String {
    bricks
        .iter()
        .map(|b| {
            let n = b.entries.map_or("-".to_string(), |n| n.to_string());
            if b.files.is_empty() {
                format!("{} {} {n}", b.brick, b.status)
            } else {
                format!("{} {} {n} [{}]", b.brick, b.status, b.files.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How `volume heal VOL split-brain ...` picks the good copy.
#[derive(Debug, Clone)]
// Built once per call; boxing the brick would only add noise at every call site.
#[allow(clippy::large_enum_variant)]
pub enum Resolution {
    /// The bigger copy of this file (path from the volume root, or `gfid:<uuid>`).
    BiggerFile(String),
    /// The copy with the latest modification time.
    LatestMtime(String),
    /// The copy on this brick: for one file, or (`None`) for every file in split-brain.
    SourceBrick(Brick, Option<String>),
}

/// Resolves a split-brain from the CLI; gluster's refusal (the file is not in split-brain, the
/// sizes are equal) is an error with its message.
pub async fn resolve(ctx: &Ctx, vol: &Volume, how: &Resolution) -> Result<String, TestError> {
    let mut args: Vec<String> = vec![
        "volume".into(),
        "heal".into(),
        vol.name.clone(),
        "split-brain".into(),
    ];
    match how {
        Resolution::BiggerFile(f) => args.extend(["bigger-file".into(), f.clone()]),
        Resolution::LatestMtime(f) => args.extend(["latest-mtime".into(), f.clone()]),
        Resolution::SourceBrick(b, f) => {
            args.extend(["source-brick".into(), b.spec()]);
            args.extend(f.clone());
        }
    }
    ctx.step(format!("resolve split-brain on {}: {how:?}", vol.name));
    gluster(ctx, &vol.server, args).await
}

/// Values of `cluster.favorite-child-policy`: how AFR resolves split-brain on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FavoriteChild {
    /// No automatic resolution (the default).
    None,
    /// The bigger file.
    Size,
    /// The latest modification time.
    Mtime,
    /// The latest change time.
    Ctime,
    /// The copy most bricks agree on.
    Majority,
}

impl FavoriteChild {
    /// The option's value.
    pub fn value(self) -> &'static str {
        match self {
            FavoriteChild::None => "none",
            FavoriteChild::Size => "size",
            FavoriteChild::Mtime => "mtime",
            FavoriteChild::Ctime => "ctime",
            FavoriteChild::Majority => "majority",
        }
    }
}

/// Sets `cluster.favorite-child-policy`.
pub async fn favorite_child_policy(
    ctx: &Ctx,
    vol: &Volume,
    policy: FavoriteChild,
) -> Result<(), TestError> {
    vol.set(ctx, "cluster.favorite-child-policy", policy.value())
        .await
}

/// Turns the self-heal daemon and the client-side heals (data, metadata, entry) on or off.
pub async fn set_self_heal(
    ctx: &Ctx,
    vol: &Volume,
    daemon: bool,
    client: bool,
) -> Result<(), TestError> {
    let onoff = |b: bool| if b { "on" } else { "off" };
    vol.set(ctx, "cluster.self-heal-daemon", onoff(daemon))
        .await?;
    for key in [
        "cluster.data-self-heal",
        "cluster.metadata-self-heal",
        "cluster.entry-self-heal",
    ] {
        vol.set(ctx, key, onoff(client)).await?;
    }
    Ok(())
}

/// A volume where copies can diverge, for split-brain scenarios: creates `spec` with client
/// quorum off (`cluster.quorum-type none`) and the self-heal daemon and client-side heals off,
/// starts it and mounts it on the first client. Turn the daemon on when the heal step comes.
pub async fn unguarded_volume(ctx: &Ctx, spec: VolumeSpec) -> Result<(Volume, Mount), TestError> {
    let vol = super::volume::create(ctx, spec).await?;
    vol.set(ctx, "cluster.quorum-type", "none").await?;
    set_self_heal(ctx, &vol, false, false).await?;
    vol.start_and_wait(ctx).await?;
    let client = ctx.client(0)?;
    let m = super::mount::mount(ctx, &client, &vol).await?;
    Ok((vol, m))
}

/// Makes copies of one file diverge, as split-brain scenarios need: for each round, the bricks
/// listed are killed, `rel` (a path under the mount) is rewritten with `size` random bytes from
/// the mount, the bricks are brought back and the client waits until it sees them up. The caller
/// turns heals off (and relaxes client quorum) first; what each brick then blames is up to the
/// rounds: `&[(&[1], 1 << 20), (&[0], 2 << 20)]` leaves a replica 2 file in data split-brain.
pub async fn diverge(
    ctx: &Ctx,
    vol: &Volume,
    m: &Mount,
    rel: &str,
    rounds: &[(&[usize], u64)],
) -> Result<(), TestError> {
    for (down, size) in rounds {
        brick::kill_many(ctx, vol, down).await?;
        io::write_files(ctx, &m.node, &m.path, &[(rel.to_string(), *size)]).await?;
        brick::bring_back(ctx, vol).await?;
        brick::wait_client_up(ctx, m, vol, Duration::from_secs(60)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml;

    #[test]
    fn parses_heal_info() {
        let doc = r#"<cliOutput><healInfo><bricks>
          <brick hostUuid="a"><name>server1:/bricks/v/b0</name><file gfid="x">/f</file><status>Connected</status><numberOfEntries>1</numberOfEntries></brick>
          <brick hostUuid="b"><name>server2:/bricks/v/b1</name><status>Transport endpoint is not connected</status><numberOfEntries>-</numberOfEntries></brick>
          </bricks></healInfo><opRet>0</opRet></cliOutput>"#;
        let h = parse_heal_info(&xml::parse(doc).expect("xml"));
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].entries, Some(1));
        assert!(!h[0].clean());
        assert_eq!(h[1].entries, None);
        assert_eq!(h[0].files, ["/f"]);
    }

    #[test]
    fn parses_summary_and_heal_count() {
        let doc = r#"<cliOutput><healInfo><bricks>
          <brick hostUuid="a"><name>server1:/b0</name><status>Connected</status><totalNumberOfEntries>3</totalNumberOfEntries><numberOfEntriesInHealPending>2</numberOfEntriesInHealPending><numberOfEntriesInSplitBrain>1</numberOfEntriesInSplitBrain><numberOfEntriesPossiblyHealing>0</numberOfEntriesPossiblyHealing></brick>
          </bricks></healInfo><opRet>0</opRet></cliOutput>"#;
        let s = parse_summary(&xml::parse(doc).expect("xml"));
        assert_eq!(s[0].total, Some(3));
        assert_eq!(s[0].split_brain, Some(1));
        let c = parse_heal_count(
            "Gathering count of entries to be healed on volume v has been successful\n\n\
             Brick server1:/b0\nNumber of entries: 4\n\nBrick server2:/b1\nNumber of entries: 0\n",
        );
        assert_eq!(c.get("server1:/b0"), Some(&Some(4)));
        assert_eq!(c.get("server2:/b1"), Some(&Some(0)));
    }
}
