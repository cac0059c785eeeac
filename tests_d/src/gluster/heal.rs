//! Self-heal: info, trigger, wait until nothing is pending, split-brain check.
use std::time::Duration;

use super::volume::Volume;
use super::{gluster_cmd, gluster_xml, wait_for, Poll};
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
    }
}
