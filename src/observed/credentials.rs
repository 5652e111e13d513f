//! The human's login credential: `MOOT_TOKEN`/`MOOT_API_URL` from the
//! environment, else a profile of `~/.moot/credentials` (the Python client's
//! format: TOML, one table per profile with `api_url`, `token`, `user_id`),
//! else a static-token profile of the TypeScript client's
//! `~/.mootup/credentials.json` (JSON, one object per profile), which moot
//! reads and never writes.
//!
//! Both files hold tokens, so both are read as untrusted: never through a
//! symbolic link, only a regular file owned by the user and readable by
//! nobody else, under a size cap.
//!
//! The file is written atomically (temp file in the same directory, fsync,
//! rename, fsync the directory), mode 0600 from its first byte, in a 0700
//! `~/.moot`. Other profiles and keys moot does not know are kept. No error
//! ever quotes the file's content: it holds tokens.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext};
use crate::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `MOOT_TOKEN` in the environment.
    Env,
    /// A profile of the credentials file.
    File { path: PathBuf },
    /// A static-token profile of the TypeScript client's file.
    MootupFile { path: PathBuf },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Env => f.write_str("MOOT_TOKEN"),
            CredentialSource::File { path } | CredentialSource::MootupFile { path } => {
                write!(f, "{}", path.display())
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub api_url: String,
    pub token: Secret,
    pub profile: String,
    pub source: CredentialSource,
}

/// The profile asked for: the argument, else `MOOT_PROFILE`, else `default`.
pub fn profile_name(profile: Option<&str>) -> String {
    profile
        .map(str::to_string)
        .or_else(|| env_non_empty("MOOT_PROFILE"))
        .unwrap_or_else(|| "default".to_string())
}

/// `$HOME/.moot/credentials`, or None when HOME is not set.
pub fn credentials_path() -> Option<PathBuf> {
    crate::paths::in_home(crate::paths::HOME_CREDENTIALS)
}

/// The credential to use, or None when nothing is configured. `MOOT_TOKEN`
/// wins (the file is then not read at all, as on CI); `MOOT_API_URL` wins
/// over the profile's `api_url`.
pub fn resolve(profile: Option<&str>) -> Result<Option<Credentials>, Error> {
    let profile = profile_name(profile);
    let env_url = env_non_empty("MOOT_API_URL");
    if let Some(token) = env_non_empty("MOOT_TOKEN") {
        return Ok(Some(Credentials {
            api_url: env_url.unwrap_or_else(|| crate::DEFAULT_API_URL.to_string()),
            token: Secret::new(token.trim()),
            profile,
            source: CredentialSource::Env,
        }));
    }
    let Some(path) = credentials_path() else {
        return Ok(None);
    };
    let table = read_table(&path, Use::Token)?.filter(|t| !t.is_empty());
    let Some(entry) = table.as_ref().and_then(|t| t.get(&profile)) else {
        // Not in moot's own file: the TypeScript client's login, if any.
        if let Some(found) = mootup::resolve(&profile, env_url)? {
            return Ok(Some(found));
        }
        let Some(table) = table else {
            return Ok(None);
        };
        let names: Vec<&str> = table.keys().map(String::as_str).collect();
        return Err(Error::user(
            format!(
                "no profile `{profile}` in {} (it has: {})",
                path.display(),
                names.join(", ")
            ),
            format!("run `moot login --profile {profile}`, or pick one of the profiles listed"),
        ));
    };
    let Some(entry) = entry.as_table() else {
        return Err(Error::user(
            format!("profile `{profile}` in {} is not a table", path.display()),
            format!("fix the file, or run `moot login --profile {profile}` to rewrite it"),
        ));
    };
    let token = match entry.get("token") {
        Some(toml::Value::String(t)) if !t.trim().is_empty() => Secret::new(t.trim()),
        _ => {
            return Err(Error::user(
                format!(
                    "profile `{profile}` in {} has no token (a non-empty string)",
                    path.display()
                ),
                format!("run `moot login --profile {profile}`"),
            ));
        }
    };
    let api_url = match (env_url, entry.get("api_url")) {
        (Some(url), _) => url,
        (None, Some(toml::Value::String(url))) if !url.trim().is_empty() => url.trim().to_string(),
        (None, None) => crate::DEFAULT_API_URL.to_string(),
        (None, Some(_)) => {
            return Err(Error::user(
                format!(
                    "profile `{profile}` in {}: `api_url` must be a non-empty string",
                    path.display()
                ),
                format!("fix the file, or run `moot login --profile {profile} --api-url URL`"),
            ));
        }
    };
    Ok(Some(Credentials {
        api_url,
        token,
        profile,
        source: CredentialSource::File { path },
    }))
}

/// The `api_url` a profile of the credentials file names, if it can be read.
pub fn stored_api_url(profile: &str) -> Option<String> {
    let table = read_table(&credentials_path()?, Use::Rewrite).ok()??;
    let url = table.get(profile)?.get("api_url")?.as_str()?.trim();
    (!url.is_empty()).then(|| url.to_string())
}

/// Stores the token under `profile`, keeping every other profile and key.
/// Returns the file's path.
pub fn store(
    profile: &str,
    api_url: &str,
    token: &Secret,
    user_id: Option<&str>,
) -> Result<PathBuf, Error> {
    if profile.is_empty()
        || !profile
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Error::user(
            format!("invalid profile name `{profile}`"),
            "use letters, digits, `-`, `_` or `.`",
        ));
    }
    let path = credentials_path().ok_or_else(|| {
        Error::user(
            "HOME is not set: nowhere to store the credential",
            "set HOME, or pass the token to each command in MOOT_TOKEN",
        )
    })?;
    let dir = path.parent().expect("credentials path has a parent");
    create_private_dir(dir)?;
    let mut table = read_table(&path, Use::Rewrite)?.unwrap_or_default();
    let entry = table
        .entry(profile.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if !entry.is_table() {
        *entry = toml::Value::Table(toml::Table::new());
    }
    let entry = entry.as_table_mut().expect("just made a table");
    entry.insert("api_url".into(), toml::Value::String(api_url.to_string()));
    entry.insert(
        "token".into(),
        toml::Value::String(token.expose().to_string()),
    );
    match user_id {
        Some(id) => {
            entry.insert("user_id".into(), toml::Value::String(id.to_string()));
        }
        None => {
            entry.remove("user_id");
        }
    }
    let text = toml::to_string(&table)
        .map_err(|e| Error::Internal(format!("cannot serialize the credentials: {e}")))?;
    crate::fsutil::write_atomic(&path, text.as_bytes(), 0o600)?;
    Ok(path)
}

/// Removes `profile` from `~/.moot/credentials`, keeping every other
/// profile and the file's 0600 mode; atomic (temp file, fsync, rename).
/// Returns the file's path, or None when there was no such profile.
pub fn remove(profile: &str) -> Result<Option<PathBuf>, Error> {
    let Some(path) = credentials_path() else {
        return Ok(None);
    };
    let Some(mut table) = read_table(&path, Use::Rewrite)? else {
        return Ok(None);
    };
    if table.remove(profile).is_none() {
        return Ok(None);
    }
    let text = toml::to_string(&table)
        .map_err(|e| Error::Internal(format!("cannot serialize the credentials: {e}")))?;
    crate::fsutil::write_atomic(&path, text.as_bytes(), 0o600)?;
    Ok(Some(path))
}

/// The names of the profiles in `~/.moot/credentials` (for messages).
pub fn profile_names() -> Vec<String> {
    credentials_path()
        .and_then(|p| read_table(&p, Use::Rewrite).ok().flatten())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

/// Far above any real credentials file.
const CREDENTIALS_CAP: u64 = 1 << 20;

/// Whether a credentials file is read to use its token (then it must be
/// private) or to rewrite it at 0600 (`login`, `logout`: the rewrite fixes
/// a loose mode, so it is not refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Token,
    Rewrite,
}

/// A credentials file's bytes, read as untrusted (see the module's doc):
/// None when it does not exist.
fn read_private(path: &Path, what: &str, purpose: Use) -> Result<Option<Vec<u8>>, Error> {
    let hint = format!(
        "replace it with a regular file owned by you (`chmod 600 {}`), or move it aside and run `moot login`",
        path.display()
    );
    let Some(file) = crate::observed::untrusted::read(path, CREDENTIALS_CAP, what, &hint)? else {
        return Ok(None);
    };
    if purpose == Use::Rewrite {
        return Ok(Some(file.bytes));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if file.uid != me {
        return Err(Error::user(
            format!(
                "{} ({what}) belongs to another user (uid {})",
                path.display(),
                file.uid
            ),
            hint,
        ));
    }
    if file.mode & 0o077 != 0 {
        return Err(Error::user(
            format!(
                "{} ({what}) is readable or writable by others (mode {:04o}); it holds a token",
                path.display(),
                file.mode
            ),
            format!(
                "run `chmod 600 {}`, and revoke the token if others could read it",
                path.display()
            ),
        ));
    }
    Ok(Some(file.bytes))
}

/// The parsed file, None when it does not exist. A syntax error names
/// file:line:col and never quotes the line (it may hold a token).
fn read_table(path: &Path, purpose: Use) -> Result<Option<toml::Table>, Error> {
    // Never blocks on a FIFO and never follows a link (a link would let
    // whatever it points at pose as the credentials).
    let Some(bytes) = read_private(path, "moot's credentials", purpose)? else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::user(
            format!("{}: not UTF-8 text", path.display()),
            "move it aside and run `moot login` again",
        )
    })?;
    match toml::from_str::<toml::Table>(&text) {
        Ok(table) => Ok(Some(table)),
        Err(e) => {
            let (line, col) = e
                .span()
                .map(|span| line_col(&text, span.start))
                .unwrap_or((1, 1));
            let message = crate::observed::api::redact(e.message().trim(), &[]);
            Err(Error::user(
                format!(
                    "{}:{line}:{col}: the credentials file is not valid TOML: {message}",
                    path.display()
                ),
                format!(
                    "fix the file by hand, or move it aside and run `moot login` again (it \
                     holds tables like `[default]` with api_url, token and user_id): {}",
                    path.display()
                ),
            ))
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.chars().count(), |i| before[i + 1..].chars().count())
        + 1;
    (line, col)
}

fn env_non_empty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .ctx("create directory", dir)?;
    let mode = fs::metadata(dir).ctx("inspect", dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).ctx("chmod", dir)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir).ctx("create directory", dir)
}

/// The TypeScript client's `~/.mootup/credentials.json` (format of its
/// `credential.ts`): `{"<profile>": {"api_url", "token", "user_id",
/// "credential_type"?, "refresh_token_ref"?, ...}}`. Only a static-token
/// profile is used: an OAuth one holds a short-lived access token that only
/// that client can refresh.
pub mod mootup {
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    use super::{CredentialSource, Credentials};
    use crate::error::Error;
    use crate::secret::Secret;

    /// `$HOME/.mootup/credentials.json`.
    pub fn path() -> Option<PathBuf> {
        crate::paths::in_home(crate::paths::HOME_MOOTUP_CREDENTIALS)
    }

    /// The profile's credential, None when the file or the profile is absent.
    pub fn resolve(profile: &str, env_url: Option<String>) -> Result<Option<Credentials>, Error> {
        let Some(path) = path() else { return Ok(None) };
        let Some(bytes) = super::read_private(&path, "moot-cli's credentials", super::Use::Token)?
        else {
            return Ok(None);
        };
        let Some((api_url, token)) = parse(&bytes, profile, &path)? else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            api_url: env_url.unwrap_or(api_url),
            token,
            profile: profile.to_string(),
            source: CredentialSource::MootupFile { path },
        }))
    }

    /// The profile's API URL and token. Errors name the file (and line and
    /// column of a syntax error) and never quote its content.
    pub fn parse(
        bytes: &[u8],
        profile: &str,
        path: &Path,
    ) -> Result<Option<(String, Secret)>, Error> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
            Error::user(
                format!(
                    "{}:{}:{}: not valid JSON",
                    path.display(),
                    e.line(),
                    e.column()
                ),
                "log in again with moot-cli (or with `moot login`); moot never writes this file",
            )
        })?;
        let Some(obj) = doc.as_object() else {
            return Err(bad(path, "is not a JSON object of profiles"));
        };
        let Some(entry) = obj.get(profile) else {
            return Ok(None);
        };
        let field = |k: &str| entry.get(k).and_then(Value::as_str).map(str::trim);
        let oauth =
            field("credential_type") == Some("oauth") || field("refresh_token_ref").is_some();
        if oauth {
            return Err(Error::user(
                format!(
                    "profile `{profile}` of {} is an OAuth login, which moot cannot use",
                    path.display()
                ),
                format!(
                    "create a personal access token on the platform and run `moot login --profile {profile}`"
                ),
            ));
        }
        let (Some(api_url), Some(token)) = (field("api_url"), field("token")) else {
            return Err(bad(
                path,
                &format!("profile `{profile}` lacks `api_url` or `token` (strings)"),
            ));
        };
        if !token.starts_with("mootup_pat_") {
            return Err(Error::user(
                format!(
                    "profile `{profile}` of {} does not hold a personal access token",
                    path.display()
                ),
                format!(
                    "run `moot login --profile {profile}` with your personal access token (`mootup_pat_...`)"
                ),
            ));
        }
        let api_url = if api_url.is_empty() {
            crate::DEFAULT_API_URL
        } else {
            api_url
        };
        Ok(Some((api_url.to_string(), Secret::new(token))))
    }

    fn bad(path: &Path, why: &str) -> Error {
        Error::user(
            format!("{}: {why}", path.display()),
            "log in again with moot-cli, or use `moot login` (moot never writes this file)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mootup_profiles() {
        let p = Path::new("credentials.json");
        let file = br#"{"default": {"api_url": "https://a.example", "token": "mootup_pat_a", "user_id": "usr_1"},
            "work": {"api_url": "https://w.example", "token": "mootup_pat_w", "user_id": "usr_1", "credential_type": "static_token"},
            "oauth": {"api_url": "https://a.example", "token": "eyJsecret", "user_id": "usr_1", "credential_type": "oauth"},
            "agent": {"api_url": "https://a.example", "token": "convo_key_secret", "user_id": "usr_1"},
            "broken": {"token": 3}}"#;
        let (url, token) = mootup::parse(file, "default", p).unwrap().unwrap();
        assert_eq!(
            (url.as_str(), token.expose()),
            ("https://a.example", "mootup_pat_a")
        );
        let (url, _) = mootup::parse(file, "work", p).unwrap().unwrap();
        assert_eq!(url, "https://w.example");
        assert!(mootup::parse(file, "none", p).unwrap().is_none());
        for bad in ["oauth", "agent", "broken"] {
            let err = mootup::parse(file, bad, p).unwrap_err();
            assert!(!err.to_string().contains("secret"), "{err}");
            assert!(err.hint().is_some());
        }
        let err = mootup::parse(b"{\n \"default\": mootup_pat_x", "default", p).unwrap_err();
        assert!(err.to_string().starts_with("credentials.json:2:"), "{err}");
        assert!(!err.to_string().contains("mootup_pat_x"));
        assert!(mootup::parse(b"[]", "default", p).is_err());
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("a\nbc\n", 0), (1, 1));
        assert_eq!(line_col("a\nbc\n", 3), (2, 2));
    }
}
