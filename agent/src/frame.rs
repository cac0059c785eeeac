//! The bytes on the wire: every message is one frame, a u32 big-endian length followed by that many
//! bytes of postcard-encoded payload. Frames are bounded ([`MAX_FRAME_LEN`]); a larger length is a protocol
//! error, detected from the 4-byte header before anything is allocated.
//!
//! Once the handshake has set up keys ([`FrameReader::encrypt`], [`FrameWriter::encrypt`]), the same
//! frames travel inside encrypted records (see [`crate::secure`]): the writer seals everything queued at
//! each flush, the reader opens records and decodes frames from the plaintext.
use bytes::{Buf, BufMut, BytesMut};

use crate::secure::{Opener, Sealer, RECORD_MAX};
use serde::{de::DeserializeOwned, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest payload one frame may carry (16 MiB).
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Why a frame could not be read or decoded.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The header announced more bytes than allowed.
    #[error("frame of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge { len: usize, limit: usize },
    /// The payload is not a valid message.
    #[error("failed to decode message: {0}")]
    Decode(String),
    /// The message could not be encoded.
    #[error("failed to encode message: {0}")]
    Encode(String),
    /// The peer closed the connection in the middle of a frame.
    #[error("connection closed in the middle of a frame")]
    Truncated,
    /// An encrypted record failed authentication, or could not be sealed.
    #[error("integrity check failed: {0}")]
    Crypto(String),
    /// Reading or writing the socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Takes one whole frame's payload off the front of `buf`, if one is there. `Ok(None)` means more bytes
/// are needed; an oversize header is an error as soon as its 4 bytes are in.
pub fn decode(buf: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
    decode_limited(buf, MAX_FRAME_LEN)
}

/// [`decode`] with a lower size limit (the handshake allows only small frames). The buffer is never
/// grown ahead of the bytes actually received, so a header announcing a large frame costs nothing.
pub fn decode_limited(buf: &mut BytesMut, limit: usize) -> Result<Option<BytesMut>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > limit.min(MAX_FRAME_LEN) {
        return Err(FrameError::TooLarge { len, limit });
    }
    if buf.len() < 4 + len {
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(len)))
}

/// Appends one frame carrying `payload` to `out`.
pub fn encode(payload: &[u8], out: &mut BytesMut) -> Result<(), FrameError> {
    if payload.len() > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge {
            len: payload.len(),
            limit: MAX_FRAME_LEN,
        });
    }
    out.reserve(4 + payload.len());
    out.put_u32(payload.len() as u32);
    out.put_slice(payload);
    Ok(())
}

/// Serializes a message into one frame appended to `out`.
pub fn encode_msg<T: Serialize>(msg: &T, out: &mut BytesMut) -> Result<(), FrameError> {
    let payload = postcard::to_stdvec(msg).map_err(|e| FrameError::Encode(e.to_string()))?;
    encode(&payload, out)
}

/// Deserializes one message from a frame's payload.
pub fn decode_msg<T: DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    postcard::from_bytes(payload).map_err(|e| FrameError::Decode(e.to_string()))
}

/// The reading half of a framed connection.
#[derive(Debug)]
pub struct FrameReader<R> {
    /// The socket (or any byte stream).
    inner: R,
    /// Bytes read but not yet consumed as frames.
    buf: BytesMut,
    /// Largest frame accepted.
    limit: usize,
    /// Decrypts records, once the handshake set up keys.
    opener: Option<Opener>,
    /// Decrypted bytes not yet consumed as frames.
    plain: BytesMut,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Wraps a byte stream.
    pub fn new(inner: R) -> FrameReader<R> {
        FrameReader {
            inner,
            buf: BytesMut::with_capacity(8 * 1024),
            limit: MAX_FRAME_LEN,
            opener: None,
            plain: BytesMut::new(),
        }
    }
    /// From now on, every byte read is an encrypted record: anything not opened by `opener` is an
    /// error.
    pub fn encrypt(&mut self, opener: Opener) {
        // Whatever followed the last handshake frame is already a record.
        self.plain = BytesMut::with_capacity(8 * 1024);
        self.opener = Some(opener);
    }
    /// Whether records are being decrypted.
    pub fn is_encrypted(&self) -> bool {
        self.opener.is_some()
    }
    /// Accepts only frames up to `limit` bytes (at most [`MAX_FRAME_LEN`]).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(MAX_FRAME_LEN);
    }
    /// The next message; `Ok(None)` on a clean end of stream between frames.
    pub async fn read<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        loop {
            match &mut self.opener {
                None => {
                    if let Some(payload) = decode_limited(&mut self.buf, self.limit)? {
                        return decode_msg(&payload).map(Some);
                    }
                }
                Some(opener) => {
                    if let Some(payload) = decode_limited(&mut self.plain, self.limit)? {
                        return decode_msg(&payload).map(Some);
                    }
                    let mut opened = false;
                    while let Some(record) = decode_limited(&mut self.buf, RECORD_MAX)? {
                        opener
                            .open(&record, &mut self.plain)
                            .map_err(|e| FrameError::Crypto(e.to_string()))?;
                        opened = true;
                    }
                    if opened {
                        continue;
                    }
                }
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(8 * 1024);
            }
            let n = self.inner.read_buf(&mut self.buf).await?;
            if n == 0 {
                return if self.buf.is_empty() && self.plain.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated)
                };
            }
        }
    }
}

/// The writing half of a framed connection.
#[derive(Debug)]
pub struct FrameWriter<W> {
    /// The socket (or any byte stream).
    inner: W,
    /// Encoded frames (or sealed records) not yet written.
    buf: BytesMut,
    /// Seals queued frames into records at each flush, once the handshake set up keys.
    sealer: Option<Sealer>,
    /// Frames queued and not yet sealed (only while encrypting).
    plain: BytesMut,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// Wraps a byte stream.
    pub fn new(inner: W) -> FrameWriter<W> {
        FrameWriter {
            inner,
            buf: BytesMut::with_capacity(8 * 1024),
            sealer: None,
            plain: BytesMut::new(),
        }
    }
    /// From now on, everything written is sealed into encrypted records by `sealer`.
    pub fn encrypt(&mut self, sealer: Sealer) {
        self.plain = BytesMut::with_capacity(8 * 1024);
        self.sealer = Some(sealer);
    }
    /// Where queued frames go: straight to the output, or to the plaintext sealed at flush.
    fn pending(&mut self) -> &mut BytesMut {
        if self.sealer.is_some() {
            &mut self.plain
        } else {
            &mut self.buf
        }
    }
    /// Queues one message; call [`FrameWriter::flush`] to send queued messages.
    pub fn queue<T: Serialize>(&mut self, msg: &T) -> Result<(), FrameError> {
        encode_msg(msg, self.pending())
    }
    /// Queues bytes that are already one or more whole frames (see [`encode_msg`]).
    pub fn queue_encoded(&mut self, frames: &[u8]) {
        self.pending().extend_from_slice(frames);
    }
    /// Bytes queued and not yet sent.
    pub fn queued(&self) -> usize {
        self.buf.len() + self.plain.len()
    }
    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), FrameError> {
        if let Some(sealer) = &mut self.sealer {
            if !self.plain.is_empty() {
                sealer
                    .seal(&self.plain, &mut self.buf)
                    .map_err(|e| FrameError::Crypto(e.to_string()))?;
                self.plain.clear();
            }
        }
        while !self.buf.is_empty() {
            let n = self.inner.write(&self.buf).await?;
            if n == 0 {
                return Err(FrameError::Io(std::io::ErrorKind::WriteZero.into()));
            }
            self.buf.advance(n);
        }
        self.inner.flush().await?;
        Ok(())
    }
    /// Queues and sends one message.
    pub async fn send<T: Serialize>(&mut self, msg: &T) -> Result<(), FrameError> {
        self.queue(msg)?;
        self.flush().await
    }
    /// The wrapped stream.
    pub fn into_inner(self) -> W {
        self.inner
    }
    /// Closes the writing side.
    pub async fn shutdown(&mut self) -> Result<(), FrameError> {
        self.inner.shutdown().await?;
        Ok(())
    }
}
