//! The handshake's proofs: each side shows it holds the shared secret by an HMAC over both nonces,
//! so the secret itself never crosses the wire.
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;

/// Bytes in each handshake nonce.
pub const NONCE_LEN: usize = 32;

/// Fresh random nonce.
pub fn nonce() -> Vec<u8> {
    let mut n = vec![0u8; NONCE_LEN];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut n);
    n
}

/// HMAC-SHA256 keyed with the secret over `label ‖ len(first) ‖ first ‖ second`; `None` never happens
/// in practice (HMAC takes keys of any length).
fn mac_over(secret: &Secret, label: &[u8], first: &[u8], second: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose()).ok()?;
    mac.update(label);
    mac.update(&(first.len() as u32).to_be_bytes());
    mac.update(first);
    mac.update(second);
    Some(mac)
}

/// Domain separation for the client's proof.
const CLIENT_LABEL: &[u8] = b"gflab-agent client proof v1";
/// Domain separation for the agent's proof.
const SERVER_LABEL: &[u8] = b"gflab-agent server proof v1";

/// The MAC bytes (empty in the case that never happens, which then fails every check).
fn proof(secret: &Secret, label: &[u8], first: &[u8], second: &[u8]) -> Vec<u8> {
    mac_over(secret, label, first, second)
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default()
}

/// Whether `mac` is the MAC over the inputs, compared in constant time.
fn verify(secret: &Secret, label: &[u8], first: &[u8], second: &[u8], mac: &[u8]) -> bool {
    mac_over(secret, label, first, second).is_some_and(|m| m.verify_slice(mac).is_ok())
}

/// The client's proof that it holds the secret.
pub fn client_proof(secret: &Secret, server_nonce: &[u8], client_nonce: &[u8]) -> Vec<u8> {
    proof(secret, CLIENT_LABEL, server_nonce, client_nonce)
}

/// Checks a client proof in constant time.
pub fn verify_client_proof(
    secret: &Secret,
    server_nonce: &[u8],
    client_nonce: &[u8],
    mac: &[u8],
) -> bool {
    verify(secret, CLIENT_LABEL, server_nonce, client_nonce, mac)
}

/// The agent's proof that it holds the secret.
pub fn server_proof(secret: &Secret, server_nonce: &[u8], client_nonce: &[u8]) -> Vec<u8> {
    proof(secret, SERVER_LABEL, client_nonce, server_nonce)
}

/// Checks an agent proof in constant time.
pub fn verify_server_proof(
    secret: &Secret,
    server_nonce: &[u8],
    client_nonce: &[u8],
    mac: &[u8],
) -> bool {
    verify(secret, SERVER_LABEL, client_nonce, server_nonce, mac)
}
