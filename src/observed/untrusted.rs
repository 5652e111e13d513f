//! Reading a file moot did not write and must not trust: another client's
//! `moot.toml`, `.moot/actors.json` or `~/.mootup/credentials.json`. The
//! last component is opened without following a link (`O_NOFOLLOW`), without
//! blocking on a FIFO (`O_NONBLOCK`), then checked to be a regular file on
//! the open descriptor (no race between the check and the read), and read
//! up to a size cap. Errors never quote the content.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fsutil::Opened;

/// A file's bytes and its permission bits.
#[derive(Debug)]
pub struct Untrusted {
    pub bytes: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
}

/// The file's content, None when it does not exist. `what` names the file
/// in messages ("moot.toml"); `hint` says what to do when it is refused.
pub fn read(path: &Path, cap: u64, what: &str, hint: &str) -> Result<Option<Untrusted>> {
    let refuse = |why: &str| {
        Error::user(
            format!("{} ({what}): {why}", path.display()),
            hint.to_string(),
        )
    };
    let (file, meta) = match crate::fsutil::open_nofollow(path)? {
        Opened::Missing => return Ok(None),
        Opened::NotRegular(kind, _) => return Err(refuse(&not_a_file(kind))),
        Opened::Regular(file, meta) => (file, meta),
    };
    if meta.len() > cap {
        return Err(refuse(&format!(
            "is {} bytes, more than the {cap} bytes such a file can sensibly hold",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between fstat and read: never read past the cap.
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("reading", path, e))?;
    if bytes.len() as u64 > cap {
        return Err(refuse(&format!("grew past {cap} bytes while being read")));
    }
    Ok(Some(Untrusted {
        bytes,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
    }))
}

fn not_a_file(kind: crate::fsutil::Kind) -> String {
    format!(
        "is {}, not a regular file; moot reads it only as a file",
        kind.describe()
    )
}

/// Refuses a directory on the way to a file that is a link or not a
/// directory (`.moot` as a symlink would redirect `.moot/actors.json`).
pub fn check_dir(dir: &Path, what: &str, hint: &str) -> Result<bool> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_dir() => Ok(true),
        Ok(_) => Err(Error::user(
            format!(
                "{} ({what}) is not a plain directory (a symbolic link or a file)",
                dir.display()
            ),
            hint.to_string(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("inspecting", dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_links_fifos_and_big_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(read(&p, 10, "f", "h").unwrap().unwrap().bytes, b"hello");
        let err = read(&p, 3, "f", "h").unwrap_err();
        assert!(err.to_string().contains("more than the 3 bytes"), "{err}");
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        let err = read(&link, 10, "f", "h").unwrap_err();
        assert!(err.to_string().contains("is a symlink"), "{err}");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read(&fifo, 10, "f", "h").unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(
            read(&dir.path().join("none"), 10, "f", "h")
                .unwrap()
                .is_none()
        );
        assert!(read(dir.path(), 10, "f", "h").is_err());
    }
}
