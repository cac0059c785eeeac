//! Put (atomic: temporary file in the target's directory, fsync, rename; removed on any failure) and get
//! (streamed in chunks).
use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::inflow::Inflow;
use super::{Control, Inbox};
use crate::proto::{Reply, ServerMsg, CHUNK_LEN, STREAM_WINDOW};
use crate::secret::{open_new_with_mode, temp_path};

fn check_absolute(path: &str) -> Result<&Path, String> {
    let p = Path::new(path);
    if p.is_absolute() {
        Ok(p)
    } else {
        Err(format!("path {path:?} is not absolute"))
    }
}

/// Receives `size` bytes, granted through `inflow`, into `path` with `mode`.
pub(crate) async fn put(
    path: &str,
    mode: u32,
    size: u64,
    mut inflow: Inflow,
    inbox: &mut Inbox,
) -> Result<(), String> {
    let target = check_absolute(path)?;
    let tmp = temp_path(target);
    let result = async {
        let file = open_new_with_mode(&tmp, mode).map_err(|e| e.to_string())?;
        let mut file = tokio::fs::File::from_std(file);
        let mut received: u64 = 0;
        while received < size {
            if !inflow.top_up().await {
                return Err("connection closed before all data arrived".into());
            }
            let msg = tokio::select! {
                m = inbox.rx.recv() => m,
                _ = inbox.cancel.cancelled() => return Err("cancelled".into()),
            };
            match msg {
                Some(Control::Data(chunk)) => {
                    received += chunk.len() as u64;
                    if received > size {
                        return Err(format!("received {received} bytes, expected {size}"));
                    }
                    file.write_all(&chunk).await.map_err(|e| e.to_string())?;
                    inflow.consumed(chunk.len());
                }
                Some(Control::Credit(_)) => {}
                None => return Err("connection closed before all data arrived".into()),
            }
        }
        file.sync_all().await.map_err(|e| e.to_string())?;
        drop(file);
        tokio::fs::rename(&tmp, target)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

/// Streams the file at `path` as chunks under the client's credit (at most a window ahead of what it
/// consumed), then the end marker.
pub(crate) async fn get(
    id: u64,
    path: &str,
    out: &mpsc::Sender<ServerMsg>,
    inbox: &mut Inbox,
) -> Result<(), String> {
    let target = check_absolute(path)?;
    let mut file = tokio::fs::File::open(target)
        .await
        .map_err(|e| e.to_string())?;
    let mut credit = i64::from(STREAM_WINDOW);
    loop {
        while credit <= 0 {
            let msg = tokio::select! {
                m = inbox.rx.recv() => m,
                _ = inbox.cancel.cancelled() => return Ok(()),
            };
            match msg {
                Some(Control::Credit(n)) => credit += i64::from(n),
                Some(Control::Data(_)) => {}
                None => return Ok(()),
            }
        }
        // Credit that arrived meanwhile.
        while let Ok(Control::Credit(n)) = inbox.rx.try_recv() {
            credit += i64::from(n);
        }
        let want = credit.clamp(1, CHUNK_LEN as i64) as u64;
        let mut buf = Vec::with_capacity(want as usize);
        let n = (&mut file)
            .take(want)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| e.to_string())?;
        let reply = if n == 0 {
            Reply::FileEnd
        } else {
            Reply::FileChunk(buf)
        };
        let last = n == 0;
        credit -= n as i64;
        if out.send(ServerMsg::Reply { id, reply }).await.is_err() || last {
            return Ok(());
        }
    }
}
