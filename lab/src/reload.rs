//! `gflab reload LAB`: puts a new GlusterFS build into a running lab's nodes through their agents,
//! without recreating containers, keeping volumes and data.
//!
//! Every node at once: the build's tar is uploaded, the files it replaces are saved
//! (`/var/tmp/gflab-rollback.tar`, and the list of files it adds), FUSE mounts are noted and
//! unmounted, every GlusterFS process stops, the tar is extracted. Then servers start glusterd
//! (which restarts the bricks and daemons of started volumes); a server whose glusterd does not
//! come up is rolled back to the files it had and started again, and the reload says so. Then the
//! bricks of started volumes are waited for, and the noted mounts are mounted again.
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use gflab_agent::{Client, Command, NodeList, Role, Secret, ServiceAction};

use crate::node::NODE_BUILD_FILE;

/// Where the build's tar goes on a node.
const TAR: &str = "/var/tmp/gflab-build.tar.gz";

/// What happened on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeOutcome {
    /// Runs the new build.
    Reloaded {
        /// The build it ran before.
        was: String,
    },
    /// glusterd did not start on the new build: the node runs its previous build again.
    RolledBack {
        /// The build it runs again.
        to: String,
        /// Why the new build was refused.
        why: String,
    },
    /// Something failed that a rollback could not cover (the node may be half-updated).
    Failed(String),
}

/// One node's result.
#[derive(Debug, Clone)]
pub struct NodeReport {
    /// Node name.
    pub node: String,
    /// Outcome.
    pub outcome: NodeOutcome,
}

/// A node to reload.
#[derive(Debug, Clone)]
pub struct Target {
    /// Node name.
    pub name: String,
    /// Server or client.
    pub role: Role,
    /// Its agent.
    pub client: Client,
}

/// Runs `script` with `sh -c`, failing with its stderr (or stdout) when it exits non-zero.
async fn sh(client: &Client, what: &str, script: &str) -> Result<String, String> {
    let out = client
        .exec(Command::shell(script).timeout(Duration::from_secs(300)))
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    if out.success() {
        Ok(out.stdout_str())
    } else {
        let mut text = out.stderr_str();
        if text.trim().is_empty() {
            text = out.stdout_str();
        }
        Err(format!("{what} failed ({:?}): {}", out.status, text.trim()))
    }
}

/// The build a node runs now: its record, or the packaged version.
pub async fn current_build(client: &Client) -> String {
    let script = format!(
        "cat {NODE_BUILD_FILE} 2>/dev/null || \
         echo \"$(glusterfs --version 2>/dev/null | sed -n '1s/^glusterfs //p') packaged\""
    );
    sh(client, "reading the build", &script)
        .await
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// Uploads, saves what will be replaced, notes and unmounts mounts, stops GlusterFS, installs.
async fn install(t: &Target, tar: Arc<Vec<u8>>, describe: &str) -> Result<(), String> {
    t.client
        .put_file(TAR, tar.as_ref().clone(), 0o600)
        .await
        .map_err(|e| format!("uploading the build: {e}"))?;
    let prepare = format!(
        r#"set -e
cd /
tar -tzf {TAR} | sed 's#^\./##' | grep -v -e '/$' -e '^$' > /var/tmp/gflab-build.list
: > /var/tmp/gflab-rollback.keep
: > /var/tmp/gflab-rollback.new
while IFS= read -r f; do
    if [ -e "/$f" ] || [ -L "/$f" ]; then echo "$f" >> /var/tmp/gflab-rollback.keep
    else echo "$f" >> /var/tmp/gflab-rollback.new; fi
done < /var/tmp/gflab-build.list
tar -cf /var/tmp/gflab-rollback.tar -C / -T /var/tmp/gflab-rollback.keep
cat {NODE_BUILD_FILE} > /var/tmp/gflab-rollback.build 2>/dev/null ||
    echo "$(glusterfs --version | sed -n '1s/^glusterfs //p') packaged" > /var/tmp/gflab-rollback.build
awk '$3 == "fuse.glusterfs" {{ print $1, $2 }}' /proc/mounts > /var/tmp/gflab-mounts
"#
    );
    sh(&t.client, "saving the files the build replaces", &prepare).await?;
    if t.role == Role::Server {
        t.client
            .service("glusterd", ServiceAction::Stop)
            .await
            .map_err(|e| format!("stopping glusterd: {e}"))?;
    }
    let stop = format!(
        r#"while read -r src dst; do umount -l "$dst" || true; done < /var/tmp/gflab-mounts
pkill -x glusterfsd || true; pkill -x glusterfs || true; pkill -x glusterd || true
for i in $(seq 50); do pgrep -x 'glusterfsd|glusterfs|glusterd' >/dev/null || break; sleep 0.1; done
pkill -9 -x 'glusterfsd|glusterfs|glusterd' || true
tar -xzf {TAR} -C / && ldconfig && echo '{describe}' > {NODE_BUILD_FILE}
"#
    );
    sh(
        &t.client,
        "stopping GlusterFS and installing the build",
        &stop,
    )
    .await?;
    Ok(())
}

/// Starts glusterd and waits until it answers and stays up.
async fn start_glusterd(client: &Client) -> Result<(), String> {
    client
        .service("glusterd", ServiceAction::Start)
        .await
        .map_err(|e| format!("starting glusterd: {e}"))?;
    let check = "for i in $(seq 60); do \
                 if gluster --mode=script volume list >/dev/null 2>&1; then \
                   sleep 1; pgrep -x glusterd >/dev/null && exit 0; fi; sleep 0.5; done; \
                 echo 'glusterd did not answer within 30 s; its log ends:'; \
                 tail -n 5 /var/log/glusterfs/glusterd.log; exit 1";
    sh(client, "waiting for glusterd", check).await.map(drop)
}

/// Puts back the files the build replaced and removes the ones it added.
async fn roll_back(client: &Client) -> Result<String, String> {
    let script = format!(
        r#"set -e
pkill -9 -x 'glusterfsd|glusterfs|glusterd' || true
tar -xf /var/tmp/gflab-rollback.tar -C /
while IFS= read -r f; do rm -f "/$f"; done < /var/tmp/gflab-rollback.new
ldconfig
cp /var/tmp/gflab-rollback.build {NODE_BUILD_FILE}
cat {NODE_BUILD_FILE}
"#
    );
    sh(client, "rolling back", &script)
        .await
        .map(|s| s.trim().to_string())
}

/// Mounts again what was mounted before the reload.
async fn remount(client: &Client) -> Result<(), String> {
    let script = r#"failed=0
while read -r src dst; do
    mount -t glusterfs "$src" "$dst" || { echo "mount $src on $dst failed" >&2; failed=1; }
done < /var/tmp/gflab-mounts
exit $failed"#;
    sh(client, "remounting", script).await.map(drop)
}

/// Waits until every brick of every started volume is online (seen from `server`).
async fn wait_bricks(server: &Client, timeout: Duration) -> Result<(), String> {
    let script = format!(
        "for i in $(seq {}); do \
           down=$(gluster --mode=script volume status all 2>/dev/null | \
                  awk '/^Brick / && $(NF-1) == \"N\" {{ print $2 }}'); \
           [ -z \"$down\" ] && exit 0; sleep 1; done; \
         echo \"bricks still offline: $down\"; exit 1",
        timeout.as_secs().max(1)
    );
    sh(server, "waiting for the bricks", &script)
        .await
        .map(drop)
}

/// Reloads every node of `targets` with the build `tar` (described as `describe`).
pub async fn reload(targets: &[Target], tar: Vec<u8>, describe: &str) -> Vec<NodeReport> {
    let tar = Arc::new(tar);
    let was: Vec<String> = join_all(targets.iter().map(|t| current_build(&t.client))).await;
    let installed: Vec<Result<(), String>> =
        join_all(targets.iter().map(|t| install(t, tar.clone(), describe))).await;
    // Servers first: glusterd serves the clients' volfiles.
    let starts = join_all(targets.iter().zip(&installed).map(|(t, ok)| async move {
        match (ok, t.role) {
            (Err(e), _) => NodeOutcome::Failed(e.clone()),
            (Ok(()), Role::Server) => match start_glusterd(&t.client).await {
                Ok(()) => NodeOutcome::Reloaded { was: String::new() },
                Err(why) => match roll_back(&t.client).await {
                    Ok(to) => match start_glusterd(&t.client).await {
                        Ok(()) => NodeOutcome::RolledBack { to, why },
                        Err(e) => NodeOutcome::Failed(format!(
                            "{why}; rolled back to {to}, but glusterd did not start either: {e}"
                        )),
                    },
                    Err(e) => NodeOutcome::Failed(format!("{why}; {e}")),
                },
            },
            (Ok(()), _) => NodeOutcome::Reloaded { was: String::new() },
        }
    }))
    .await;
    let mut outcomes: Vec<NodeOutcome> = starts
        .into_iter()
        .zip(&was)
        .map(|(o, w)| match o {
            NodeOutcome::Reloaded { .. } => NodeOutcome::Reloaded { was: w.clone() },
            other => other,
        })
        .collect();
    if let Some(server) = targets
        .iter()
        .zip(&outcomes)
        .find(|(t, o)| t.role == Role::Server && !matches!(o, NodeOutcome::Failed(_)))
    {
        if let Err(e) = wait_bricks(&server.0.client, Duration::from_secs(120)).await {
            for (t, o) in targets.iter().zip(outcomes.iter_mut()) {
                if t.role == Role::Server && matches!(o, NodeOutcome::Reloaded { .. }) {
                    *o = NodeOutcome::Failed(e.clone());
                }
            }
        }
    }
    let remounts = join_all(targets.iter().map(|t| remount(&t.client))).await;
    for (o, r) in outcomes.iter_mut().zip(remounts) {
        if let (Err(e), false) = (r, matches!(o, NodeOutcome::Failed(_))) {
            *o = NodeOutcome::Failed(e);
        }
    }
    targets
        .iter()
        .zip(outcomes)
        .map(|(t, outcome)| NodeReport {
            node: t.name.clone(),
            outcome,
        })
        .collect()
}

/// The build each agent at `addrs` reports ([`current_build`]); `None` for one that does not
/// answer within `timeout`.
pub async fn builds(
    addrs: &[String],
    secret: &Secret,
    opts: &gflab_agent::ClientOptions,
    timeout: Duration,
) -> Vec<Option<String>> {
    join_all(addrs.iter().map(|addr| async move {
        let ask = async {
            let c = Client::connect(addr, secret.clone(), opts.clone())
                .await
                .ok()?;
            Some(current_build(&c).await)
        };
        tokio::time::timeout(timeout, ask).await.ok().flatten()
    }))
    .await
}

/// Records in `list` the build each node runs (nothing for the release's packaged one), as the
/// node list shows it.
pub async fn record_builds(list: &mut NodeList, secret: &Secret) {
    let addrs: Vec<String> = list.nodes.iter().map(|n| n.agent.clone()).collect();
    let found = builds(
        &addrs,
        secret,
        &crate::runner::client_options(),
        Duration::from_secs(60),
    )
    .await;
    for (n, b) in list.nodes.iter_mut().zip(found) {
        n.glusterfs = b.filter(|b| !b.ends_with(" packaged") && !b.starts_with("unknown"));
    }
}
