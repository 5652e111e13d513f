//! The journal's seal: proof that a journal in `.moot/txn/` was written by
//! moot on this machine, for this user. Anything in the checkout can be
//! planted (git checks out whatever a repository commits, `.moot/`
//! included), so a journal is only acted on when it carries an
//! HMAC-SHA256 made with a secret that lives outside every checkout:
//! `$HOME/.moot/journal.key`, 32 random bytes created on the first apply,
//! mode 0600. A planted journal cannot carry a valid seal.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};

const KEY_LEN: usize = 32;

/// The secret, as read from (or first written to) the key file.
pub struct SealKey([u8; KEY_LEN]);

/// `$HOME/.moot/journal.key`, or None when HOME is not set.
pub fn key_path() -> Option<PathBuf> {
    crate::paths::in_home(crate::paths::HOME_JOURNAL_KEY)
}

impl SealKey {
    /// The key, created when missing (apply, before it writes a journal).
    /// None when HOME is not set or the key cannot be created there (a
    /// read-only home): the journal is then written unsealed, apply still
    /// works, and an interrupted apply has to be restored by hand.
    pub fn load_or_create() -> Result<Option<SealKey>> {
        let Some(path) = key_path() else {
            return Ok(None);
        };
        if let Some(key) = Self::read(&path)? {
            return Ok(Some(key));
        }
        let mut bytes = [0u8; KEY_LEN];
        random(&mut bytes)?;
        if create_key_file(&path, &bytes).is_err() {
            return Ok(None);
        }
        // Another apply may have created it first: whichever file won is
        // the key.
        Self::read(&path)?
            .map(Some)
            .ok_or_else(|| Error::Internal(format!("{} vanished", path.display())))
    }

    /// The key if it exists (repair never creates one: without it no
    /// journal can be proven).
    pub fn load() -> Result<Option<SealKey>> {
        match key_path() {
            Some(path) => Self::read(&path),
            None => Ok(None),
        }
    }

    /// The key in `path`, if it exists.
    pub fn read(path: &Path) -> Result<Option<SealKey>> {
        let Some(bytes) = crate::fsutil::read_regular(path)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        let key = decode_hex(text.trim())
            .and_then(|v| <[u8; KEY_LEN]>::try_from(v).ok())
            .ok_or_else(|| {
                Error::user(
                    format!("{} is not a moot journal key", path.display()),
                    format!(
                        "delete {} (moot makes a new one on the next apply)",
                        path.display()
                    ),
                )
            })?;
        Ok(Some(SealKey(key)))
    }

    /// HMAC-SHA256 of `message`, lower-case hex.
    pub fn seal(&self, message: &[u8]) -> String {
        hex(&hmac_sha256(&self.0, message))
    }

    /// Whether `seal` is this key's seal of `message` (compared in constant
    /// time: the seal is a secret-derived value).
    pub fn verify(&self, message: &[u8], seal: &str) -> bool {
        let want = self.seal(message);
        want.len() == seal.len()
            && want
                .bytes()
                .zip(seal.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Writes the key file without ever replacing one: a temporary file, then
/// a hard link to the final name (which fails if the name exists).
fn create_key_file(path: &Path, key: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("no parent for {}", path.display())))?;
    crate::fsutil::create_dir_all_mode(dir, 0o700)?;
    let tmp = dir.join(format!(".journal.key.{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .ctx("creating", &tmp)?;
        f.write_all(hex(key).as_bytes()).ctx("writing", &tmp)?;
        f.sync_all().ctx("syncing", &tmp)?;
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => crate::fsutil::sync_dir(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(Error::io("creating", path, e)),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

fn random(buf: &mut [u8]) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: the pointer and length describe the unfilled tail of buf.
        let n =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::io("reading random bytes from", "getrandom", e));
        }
        filled += n as usize;
    }
    Ok(())
}

/// HMAC (RFC 2104) over SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_seal_verifies_only_its_message_under_its_key() {
        let a = SealKey([1; KEY_LEN]);
        let b = SealKey([2; KEY_LEN]);
        let seal = a.seal(b"journal");
        assert!(a.verify(b"journal", &seal));
        assert!(!a.verify(b"journal!", &seal));
        assert!(!b.verify(b"journal", &seal));
        assert!(!a.verify(b"journal", ""));
    }

    #[test]
    fn the_key_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/journal.key");
        create_key_file(&path, &[7; KEY_LEN]).unwrap();
        create_key_file(&path, &[9; KEY_LEN]).unwrap();
        let key = SealKey::read(&path).unwrap().unwrap();
        assert_eq!(key.0, [7; KEY_LEN]);
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
