//! Put (atomic: temporary file in the target's directory, fsync, rename; removed on any failure) and get
//! (streamed in chunks).
use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::Control;
use crate::proto::{Reply, ServerMsg};
use crate::secret::{open_new_with_mode, temp_path};

/// Bytes per chunk of a file being read.
const FILE_CHUNK: usize = 1024 * 1024;

fn check_absolute(path: &str) -> Result<&Path, String> {
    let p = Path::new(path);
    if p.is_absolute() {
        Ok(p)
    } else {
        Err(format!("path {path:?} is not absolute"))
    }
}

/// Receives `size` bytes from the control channel into `path` with `mode`.
pub(crate) async fn put(
    path: &str,
    mode: u32,
    size: u64,
    ctl: &mut mpsc::UnboundedReceiver<Control>,
) -> Result<(), String> {
    let target = check_absolute(path)?;
    let tmp = temp_path(target);
    let result = async {
        let file = open_new_with_mode(&tmp, mode).map_err(|e| e.to_string())?;
        let mut file = tokio::fs::File::from_std(file);
        let mut received: u64 = 0;
        while received < size {
            match ctl.recv().await {
                Some(Control::Data(chunk)) => {
                    received += chunk.len() as u64;
                    if received > size {
                        return Err(format!("received {received} bytes, expected {size}"));
                    }
                    file.write_all(&chunk).await.map_err(|e| e.to_string())?;
                }
                Some(Control::Cancel) => return Err("cancelled".into()),
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

/// Streams the file at `path` as chunks, then the end marker.
pub(crate) async fn get(id: u64, path: &str, out: &mpsc::Sender<ServerMsg>) -> Result<(), String> {
    let target = check_absolute(path)?;
    let mut file = tokio::fs::File::open(target)
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let mut buf = Vec::with_capacity(FILE_CHUNK);
        let n = (&mut file)
            .take(FILE_CHUNK as u64)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| e.to_string())?;
        let reply = if n == 0 {
            Reply::FileEnd
        } else {
            Reply::FileChunk(buf)
        };
        let last = n == 0;
        if out.send(ServerMsg::Reply { id, reply }).await.is_err() || last {
            return Ok(());
        }
    }
}
