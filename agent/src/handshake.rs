//! The handshake both sides run on a new connection (see [`crate::proto`] for the messages): a
//! cleartext version exchange, then the Noise handshake of [`crate::secure`], after which the reader
//! and writer encrypt every frame.
use tokio::io::{AsyncRead, AsyncWrite};

use crate::frame::{FrameError, FrameReader, FrameWriter};
use crate::proto::{self, ClientMsg, ServerMsg, PROTOCOL_VERSION};
use crate::secret::Secret;
use crate::secure::Handshake;

/// Largest frame either side accepts before the handshake completed.
pub const HANDSHAKE_FRAME_LIMIT: usize = 4096;

/// Why the client's handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The peer broke the protocol (closed, sent garbage, oversize frames).
    #[error("{0}")]
    Protocol(String),
    /// The agent refused us, or we refused the agent (version, secret).
    #[error("{0}")]
    Refused(String),
    /// The agent has no free connection slot now (worth retrying later).
    #[error("{0}")]
    Busy(String),
}

/// The error for an agent's error frame during the handshake.
fn refusal(message: String) -> HandshakeError {
    if message.starts_with(proto::BUSY) {
        HandshakeError::Busy(message)
    } else {
        HandshakeError::Refused(message)
    }
}

/// The hint shown with every version mismatch.
const VERSION_HINT: &str =
    "hint: install the gflab-agent built with this gflab (`gflab hosts upgrade`)";

/// The client's side: checks the agent's version, runs the Noise handshake and switches `reader` and
/// `writer` to encrypted records. Returns the agent's version string.
pub async fn client<R, W>(
    reader: &mut FrameReader<R>,
    writer: &mut FrameWriter<W>,
    secret: &Secret,
) -> Result<String, HandshakeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let protocol = HandshakeError::Protocol;
    let refused = HandshakeError::Refused;
    reader.set_limit(HANDSHAKE_FRAME_LIMIT);
    let read = |m: Result<Option<ServerMsg>, FrameError>| match m {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(protocol("connection closed during the handshake".into())),
        Err(e) => Err(protocol(format!("during the handshake: {e}"))),
    };
    let server_nonce = match read(reader.read::<ServerMsg>().await)? {
        ServerMsg::Hello { version, nonce } if version == PROTOCOL_VERSION => nonce,
        ServerMsg::Hello { version, .. } => {
            return Err(refused(format!(
                "protocol version mismatch: agent speaks version {version}, client speaks version \
                 {PROTOCOL_VERSION}; {VERSION_HINT}"
            )))
        }
        ServerMsg::Fatal { message } => return Err(refusal(message)),
        other => return Err(protocol(format!("expected hello, got {other:?}"))),
    };
    let crypto = |e| protocol(format!("failed to set up encryption: {e}"));
    let mut noise = Handshake::initiator(secret, &proto::prologue(PROTOCOL_VERSION, &server_nonce))
        .map_err(crypto)?;
    let first = noise.write(&[]).map_err(crypto)?;
    writer
        .send(&ClientMsg::Handshake {
            version: PROTOCOL_VERSION,
            noise: first,
        })
        .await
        .map_err(|e| protocol(format!("failed to send the handshake: {e}")))?;
    let agent_version = match read(reader.read::<ServerMsg>().await)? {
        ServerMsg::Welcome { noise: second } => match noise.read(&second) {
            Ok(payload) => String::from_utf8_lossy(&payload).into_owned(),
            Err(_) => {
                return Err(refused(
                    "the agent failed to prove it holds the secret".into(),
                ))
            }
        },
        ServerMsg::Fatal { message } => return Err(refusal(message)),
        other => return Err(protocol(format!("expected welcome, got {other:?}"))),
    };
    let (sealer, opener) = noise.finish().map_err(crypto)?;
    writer.encrypt(sealer);
    reader.encrypt(opener);
    reader.set_limit(crate::frame::MAX_FRAME_LEN);
    Ok(agent_version)
}

/// The agent's side: says hello, checks the client's version and secret through the Noise handshake,
/// calls `admit` (which may refuse, e.g. for lack of slots) before welcoming the client, and switches
/// `reader` and `writer` to encrypted records. `Err` is the message for the error frame.
pub async fn server<R, W, P>(
    reader: &mut FrameReader<R>,
    writer: &mut FrameWriter<W>,
    secret: &Secret,
    admit: impl FnOnce() -> Result<P, String>,
) -> Result<P, String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    reader.set_limit(HANDSHAKE_FRAME_LIMIT);
    let nonce = proto::nonce();
    let prologue = proto::prologue(PROTOCOL_VERSION, &nonce);
    writer
        .send(&ServerMsg::Hello {
            version: PROTOCOL_VERSION,
            nonce,
        })
        .await
        .map_err(|e| format!("failed to send hello: {e}"))?;
    let msg = match reader.read::<ClientMsg>().await {
        Ok(Some(m)) => m,
        Ok(None) => return Err("connection closed before the handshake".into()),
        Err(e) => return Err(format!("invalid handshake: {e}")),
    };
    let ClientMsg::Handshake {
        version,
        noise: first,
    } = msg
    else {
        return Err("invalid handshake: expected authentication first".into());
    };
    if version != PROTOCOL_VERSION {
        return Err(format!(
            "protocol version mismatch: client speaks version {version}, agent speaks version \
             {PROTOCOL_VERSION}; {VERSION_HINT}"
        ));
    }
    let crypto = |e| format!("failed to set up encryption: {e}");
    let mut noise = Handshake::responder(secret, &prologue).map_err(crypto)?;
    if noise.read(&first).is_err() {
        return Err("authentication failed: wrong secret".into());
    }
    let admitted = admit()?;
    let second = noise
        .write(env!("CARGO_PKG_VERSION").as_bytes())
        .map_err(crypto)?;
    writer
        .send(&ServerMsg::Welcome { noise: second })
        .await
        .map_err(|e| format!("failed to send welcome: {e}"))?;
    let (sealer, opener) = noise.finish().map_err(crypto)?;
    writer.encrypt(sealer);
    reader.encrypt(opener);
    reader.set_limit(crate::frame::MAX_FRAME_LEN);
    Ok(admitted)
}
