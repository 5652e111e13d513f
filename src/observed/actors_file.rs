//! `.moot/actors.json`: the runtime's key file (format fixed by the
//! runtime, docs/harnesses.md "The files the runtime reads"). Read here;
//! written only by apply.

use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

pub use crate::paths::RETIRED_KEYS_PATH;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorsFile {
    #[serde(default)]
    pub space_id: String,
    #[serde(default)]
    pub space_name: String,
    #[serde(default)]
    pub api_url: String,
    #[serde(default)]
    pub actors: IndexMap<String, ActorEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorEntry {
    pub actor_id: String,
    #[serde(with = "secret_string")]
    pub api_key: Secret,
    #[serde(default)]
    pub display_name: String,
}

mod secret_string {
    use crate::secret::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        String::deserialize(de).map(Secret::new)
    }
}

impl ActorsFile {
    /// Parses the file. Errors never quote the content (it holds keys).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<ActorsFile> {
        serde_json::from_slice(bytes).map_err(|e| {
            Error::user(
                format!(
                    "{}:{}:{}: invalid key file ({})",
                    path.display(),
                    e.line(),
                    e.column(),
                    match e.classify() {
                        serde_json::error::Category::Syntax => "not valid JSON",
                        serde_json::error::Category::Eof => "truncated JSON",
                        serde_json::error::Category::Data => "unexpected shape",
                        serde_json::error::Category::Io => "unreadable",
                    }
                ),
                format!(
                    "move {} aside and run `moot apply --rotate-all` to issue fresh keys",
                    path.display()
                ),
            )
        })
    }

    /// The runtime's format: two-space JSON with a trailing newline.
    pub fn render(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// What the planner may know of the key file: no keys, only their prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeldKeys {
    pub space_id: String,
    pub space_name: String,
    pub api_url: String,
    /// Role key -> what is held for it.
    pub roles: IndexMap<String, HeldKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldKey {
    pub actor_id: String,
    pub display_name: String,
    /// First 8 characters of the held key ("" when the key is empty).
    pub prefix: String,
    /// Whether `GET /api/actors/me` with this key answered as this agent:
    /// the only proof that a key works (many keys share their first 8
    /// characters, `convo_ke`). None when not checked (offline).
    pub live: Option<bool>,
}

impl From<&ActorsFile> for HeldKeys {
    fn from(f: &ActorsFile) -> Self {
        HeldKeys {
            space_id: f.space_id.clone(),
            space_name: f.space_name.clone(),
            api_url: f.api_url.clone(),
            roles: f
                .actors
                .iter()
                .map(|(k, e)| {
                    (
                        k.clone(),
                        HeldKey {
                            actor_id: e.actor_id.clone(),
                            display_name: e.display_name.clone(),
                            prefix: e.api_key.prefix().to_string(),
                            live: None,
                        },
                    )
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_runtime_format_and_hides_keys() {
        let src = br#"{"space_id":"spc_1","space_name":"S","api_url":"https://mootup.io",
            "actors":{"product":{"actor_id":"agt_1","api_key":"convo_key_secret123","display_name":"Product"}}}"#;
        let f = ActorsFile::parse(src, Path::new(".moot/actors.json")).unwrap();
        let held = HeldKeys::from(&f);
        assert_eq!(held.roles["product"].prefix, "convo_ke");
        assert!(!format!("{f:?}").contains("secret123"));
        assert!(f.render().contains("convo_key_secret123"));
        let err = ActorsFile::parse(
            b"{\"actors\": {\"x\": {\"api_key\": \"convo_zzz\"",
            Path::new("a"),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("convo_zzz"));
    }
}
