//! The human's login credential: `MOOT_TOKEN`/`MOOT_API_URL` from the
//! environment, else a profile of `~/.moot/credentials` (the Python client's
//! format: TOML, one table per profile with `api_url`, `token`, `user_id`).
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
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Env => f.write_str("MOOT_TOKEN"),
            CredentialSource::File { path } => write!(f, "{}", path.display()),
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
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(Path::new(&home).join(".moot").join("credentials"))
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
    let Some(table) = read_table(&path)? else {
        return Ok(None);
    };
    if table.is_empty() {
        return Ok(None);
    }
    let Some(entry) = table.get(&profile) else {
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
    let table = read_table(&credentials_path()?).ok()??;
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
    let mut table = read_table(&path)?.unwrap_or_default();
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

/// The parsed file, None when it does not exist. A syntax error names
/// file:line:col and never quotes the line (it may hold a token).
fn read_table(path: &Path) -> Result<Option<toml::Table>, Error> {
    // Never blocks on a FIFO and never follows a link (a link would let
    // whatever it points at pose as the credentials).
    let Some(bytes) = crate::fsutil::read_regular(path)? else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::user(
            format!("{}: the credentials file is not UTF-8 text", path.display()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("a\nbc\n", 0), (1, 1));
        assert_eq!(line_col("a\nbc\n", 3), (2, 2));
    }
}
