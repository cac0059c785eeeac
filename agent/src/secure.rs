//! The encrypted link: after a short cleartext version exchange, client and agent run a Noise
//! `NNpsk0` handshake (X25519, ChaCha20-Poly1305, SHA-256, through the `snow` crate) keyed with a
//! pre-shared key derived from the shared secret. Each side contributes a fresh ephemeral key, so every
//! connection gets its own keys; a peer without the secret fails the handshake, and the secret never
//! crosses the wire.
//!
//! After the handshake every byte on the wire is a record: a u32 big-endian length and one Noise
//! transport message (ChaCha20-Poly1305 over at most [`RECORD_PLAIN`] bytes of the plaintext frame
//! stream, with a 16-byte tag). Each direction numbers its records with a counter used as the AEAD nonce,
//! so a flipped bit, a replayed, reordered, dropped or injected record fails to decrypt, and the
//! connection is closed.
use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use snow::{HandshakeState, StatelessTransportState};

use crate::secret::Secret;

/// The Noise protocol name: the pattern and the primitives.
pub const NOISE_PARAMS: &str = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";
/// Largest Noise message (the Noise specification's limit).
pub const RECORD_MAX: usize = 65535;
/// AEAD tag bytes in each record.
const TAG_LEN: usize = 16;
/// Plaintext bytes one record carries at most.
pub const RECORD_PLAIN: usize = RECORD_MAX - TAG_LEN;
/// Domain separation for the pre-shared key.
const PSK_LABEL: &[u8] = b"gflab-agent noise psk v2";

/// Why the handshake or a record failed.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The Noise library refused (wrong key, corrupted message).
    #[error("{0}")]
    Noise(#[from] snow::Error),
    /// A record failed authentication.
    #[error("record {record} failed authentication (altered, replayed, reordered or injected)")]
    Forged {
        /// Its number in its direction.
        record: u64,
    },
}

/// HMAC-SHA256(secret, label): the 32-byte Noise pre-shared key.
fn psk(secret: &Secret) -> [u8; 32] {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret.expose()) {
        Ok(m) => m,
        // HMAC takes keys of any length.
        Err(_) => return [0; 32],
    };
    mac.update(PSK_LABEL);
    mac.finalize().into_bytes().into()
}

/// One side of a handshake in progress.
pub struct Handshake {
    /// The Noise state.
    state: HandshakeState,
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("initiator", &self.state.is_initiator())
            .finish()
    }
}

impl Handshake {
    /// The client's side; `prologue` is what both sides agreed on in clear (bound into the keys).
    pub fn initiator(secret: &Secret, prologue: &[u8]) -> Result<Handshake, CryptoError> {
        Handshake::build(secret, prologue, true)
    }
    /// The agent's side.
    pub fn responder(secret: &Secret, prologue: &[u8]) -> Result<Handshake, CryptoError> {
        Handshake::build(secret, prologue, false)
    }
    /// Either side.
    fn build(secret: &Secret, prologue: &[u8], initiator: bool) -> Result<Handshake, CryptoError> {
        let params = NOISE_PARAMS.parse()?;
        let key = psk(secret);
        let builder = snow::Builder::new(params).psk(0, &key).prologue(prologue);
        let state = if initiator {
            builder.build_initiator()?
        } else {
            builder.build_responder()?
        };
        Ok(Handshake { state })
    }
    /// The next handshake message, carrying `payload` (encrypted once keys exist).
    pub fn write(&mut self, payload: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; RECORD_MAX];
        let n = self.state.write_message(payload, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
    /// Reads the peer's handshake message; returns its payload. Fails when the peer does not hold the
    /// secret or the message was altered.
    pub fn read(&mut self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; RECORD_MAX];
        let n = self.state.read_message(message, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
    /// The transport keys, once both messages went through: (sealer for what this side sends, opener
    /// for what it receives).
    pub fn finish(self) -> Result<(Sealer, Opener), CryptoError> {
        let keys = Arc::new(self.state.into_stateless_transport_mode()?);
        let sealer = Sealer(Direction {
            keys: keys.clone(),
            nonce: 0,
        });
        Ok((sealer, Opener(Direction { keys, nonce: 0 })))
    }
}

/// One direction of a connection: the keys and the number of the next record.
struct Direction {
    /// This connection's keys (shared by both directions).
    keys: Arc<StatelessTransportState>,
    /// The next record's number, the AEAD nonce.
    nonce: u64,
}

impl std::fmt::Debug for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direction")
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

/// Encrypts what one side sends, numbering its records.
#[derive(Debug)]
pub struct Sealer(Direction);

impl Sealer {
    /// Appends `plain` to `out` as one or more records.
    pub fn seal(&mut self, plain: &[u8], out: &mut BytesMut) -> Result<(), CryptoError> {
        for chunk in plain.chunks(RECORD_PLAIN) {
            let start = out.len();
            out.put_u32(0);
            out.resize(start + 4 + chunk.len() + TAG_LEN, 0);
            let d = &mut self.0;
            let n = d
                .keys
                .write_message(d.nonce, chunk, &mut out[start + 4..])?;
            d.nonce += 1;
            out.truncate(start + 4 + n);
            out[start..start + 4].copy_from_slice(&(n as u32).to_be_bytes());
        }
        Ok(())
    }
}

/// Decrypts what one side receives, expecting its records in order.
#[derive(Debug)]
pub struct Opener(Direction);

impl Opener {
    /// Decrypts one record (without its length header), appending the plaintext to `out`. An altered,
    /// replayed, reordered or foreign record is an error.
    pub fn open(&mut self, record: &[u8], out: &mut BytesMut) -> Result<(), CryptoError> {
        let start = out.len();
        out.resize(start + record.len(), 0);
        let d = &mut self.0;
        match d.keys.read_message(d.nonce, record, &mut out[start..]) {
            Ok(n) => {
                d.nonce += 1;
                out.truncate(start + n);
                Ok(())
            }
            Err(_) => {
                out.truncate(start);
                Err(CryptoError::Forged { record: d.nonce })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One side's keys.
    type Keys = (Sealer, Opener);

    /// A completed handshake between two sides holding these secrets: (client keys, agent keys).
    fn pair(a: &Secret, b: &Secret) -> Result<(Keys, Keys), CryptoError> {
        let prologue = b"test prologue";
        let mut client = Handshake::initiator(a, prologue)?;
        let mut agent = Handshake::responder(b, prologue)?;
        agent.read(&client.write(&[])?)?;
        let version = client.read(&agent.write(b"v")?)?;
        assert_eq!(version, b"v");
        Ok((client.finish()?, agent.finish()?))
    }

    /// Splits sealed bytes into records (without their headers).
    fn records(mut sealed: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !sealed.is_empty() {
            let len = u32::from_be_bytes([sealed[0], sealed[1], sealed[2], sealed[3]]) as usize;
            out.push(sealed[4..4 + len].to_vec());
            sealed = &sealed[4 + len..];
        }
        out
    }

    #[test]
    fn a_large_frame_spans_records_and_comes_back_whole() {
        let secret = Secret::generate();
        let ((mut seal, _), (_, mut open)) = pair(&secret, &secret).unwrap();
        let plain: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut sealed = BytesMut::new();
        seal.seal(&plain, &mut sealed).unwrap();
        let recs = records(&sealed);
        assert_eq!(recs.len(), 4);
        assert!(recs.iter().all(|r| r.len() <= RECORD_MAX));
        let mut back = BytesMut::new();
        for r in &recs {
            open.open(r, &mut back).unwrap();
        }
        assert_eq!(&back[..], &plain[..]);
    }

    #[test]
    fn records_out_of_order_or_twice_are_refused() {
        let secret = Secret::generate();
        let ((mut seal, _), (_, mut open)) = pair(&secret, &secret).unwrap();
        let mut sealed = BytesMut::new();
        seal.seal(b"first", &mut sealed).unwrap();
        seal.seal(b"second", &mut sealed).unwrap();
        let recs = records(&sealed);
        let mut out = BytesMut::new();
        assert!(matches!(
            open.open(&recs[1], &mut out),
            Err(CryptoError::Forged { record: 0 })
        ));
        open.open(&recs[0], &mut out).unwrap();
        assert!(
            open.open(&recs[0], &mut out).is_err(),
            "a replay was accepted"
        );
        open.open(&recs[1], &mut out).unwrap();
        assert_eq!(&out[..], b"firstsecond");
    }

    #[test]
    fn each_connection_gets_its_own_keys() {
        let secret = Secret::generate();
        let ((mut seal1, _), _) = pair(&secret, &secret).unwrap();
        let (_, (_, mut open2)) = pair(&secret, &secret).unwrap();
        let mut sealed = BytesMut::new();
        seal1.seal(b"hello", &mut sealed).unwrap();
        let mut out = BytesMut::new();
        assert!(open2.open(&records(&sealed)[0], &mut out).is_err());
    }

    #[test]
    fn a_peer_without_the_secret_fails_the_handshake() {
        assert!(pair(&Secret::generate(), &Secret::generate()).is_err());
    }
}
