//! The shared secret (32 random bytes) that authenticates runner and agent. `Debug` never shows it.
use std::io::Write;
use std::path::Path;

use rand::RngCore;

/// The fewest bytes a secret file may hold.
pub const MIN_SECRET_LEN: usize = 16;

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
        let mut bytes = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Secret(bytes)
    }
    /// Wraps raw bytes (at least 16).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Secret, std::io::Error> {
        if bytes.len() < MIN_SECRET_LEN {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "secret is too short ({} bytes, need at least {MIN_SECRET_LEN})",
                    bytes.len()
                ),
            ));
        }
        Ok(Secret(bytes))
    }
    /// Reads a secret file (raw bytes, at least 16). Like ssh with a private key, a file that its
    /// group or others may read or write is refused: the secret is the whole of the access control.
    pub fn read_file(path: &Path) -> std::io::Result<Secret> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("failed to read secret file {}: {e}", path.display()),
            )
        })?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "secret file {} has mode {mode:04o}: its group or others can access it, so the \
                     secret may be known to others; refusing it\nhint: chmod 600 {} (and consider \
                     generating a new secret)",
                    path.display(),
                    path.display()
                ),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("failed to read secret file {}: {e}", path.display()),
            )
        })?;
        Secret::from_bytes(bytes).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("invalid secret file {}: {e}", path.display()),
            )
        })
    }
    /// Writes the secret to `path` with mode 0600, atomically.
    pub fn write_file(&self, path: &Path) -> std::io::Result<()> {
        write_atomic(path, &self.0, 0o600).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("failed to write secret file {}: {e}", path.display()),
            )
        })
    }
    /// The raw bytes (for HMAC only).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

/// Writes `data` to `path` through a temporary file in the same directory (created with `mode`), fsynced
/// and renamed over `path`; the temporary file is removed on failure.
pub(crate) fn write_atomic(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = open_new_with_mode(&tmp, mode)?;
        file.write_all(data)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A unique sibling path for a temporary file next to `path`.
pub(crate) fn temp_path(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let unique = rand::random::<u64>();
    path.with_file_name(format!(".{name}.tmp.{}.{unique:016x}", std::process::id()))
}

/// Creates a new file with exactly `mode` (the umask does not apply: the mode is set explicitly).
pub(crate) fn open_new_with_mode(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode & 0o7777)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
    Ok(file)
}
