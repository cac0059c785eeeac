//! The shared secret (32 random bytes) that authenticates runner and agent. `Debug` never shows it.
use std::path::Path;

/// A shared secret; never printed.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    /// 32 fresh random bytes.
    pub fn generate() -> Secret {
        todo!("contract")
    }
    /// Reads a secret file (raw bytes, at least 16).
    pub fn read_file(_path: &Path) -> std::io::Result<Secret> {
        todo!("contract")
    }
    /// Writes the secret to `path` with mode 0600, atomically.
    pub fn write_file(&self, _path: &Path) -> std::io::Result<()> {
        todo!("contract")
    }
    /// The raw bytes (for HMAC only).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}
