//! What the handshake's cleartext part carries: the agent's nonce, and the prologue both sides bind into
//! the Noise handshake (see [`crate::secure`]).

/// Bytes in the agent's hello nonce.
pub const NONCE_LEN: usize = 32;

/// Domain separation for the prologue.
const PROLOGUE_LABEL: &[u8] = b"gflab-agent protocol";

/// Fresh random nonce.
pub fn nonce() -> Vec<u8> {
    let mut n = vec![0u8; NONCE_LEN];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut n);
    n
}

/// The Noise prologue: the label, the protocol version and the agent's hello nonce. Both sides compute
/// it from the hello, so a hello altered on the way makes the handshake fail.
pub fn prologue(version: u32, nonce: &[u8]) -> Vec<u8> {
    let mut p = PROLOGUE_LABEL.to_vec();
    p.extend_from_slice(&version.to_be_bytes());
    p.extend_from_slice(nonce);
    p
}
