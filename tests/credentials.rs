//! `credentials::resolve` and `store`: one test in a test binary of its own,
//! because it changes the process environment (HOME, MOOT_*), which every
//! other test in the same process would see (the in-process applies of
//! tests/it read HOME for the journal key).

use moot::observed::credentials::{self, CredentialSource};
use moot::secret::Secret;

fn set(name: &str, value: Option<&str>) {
    // SAFETY: this binary runs a single test, so no other thread reads the
    // environment while it changes.
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

#[test]
fn resolve_prefers_the_environment_then_the_profile() {
    let home = tempfile::tempdir().unwrap();
    set("HOME", Some(home.path().to_str().unwrap()));
    for var in ["MOOT_TOKEN", "MOOT_API_URL", "MOOT_PROFILE"] {
        set(var, None);
    }

    // Nothing configured.
    assert!(credentials::resolve(None).unwrap().is_none());

    // Stored profiles.
    let path = credentials::store(
        "default",
        "https://a.example",
        &Secret::new("mootup_pat_a"),
        Some("usr_a"),
    )
    .unwrap();
    credentials::store(
        "work",
        "https://w.example",
        &Secret::new("mootup_pat_w"),
        None,
    )
    .unwrap();
    assert_eq!(path, home.path().join(".moot/credentials"));
    let c = credentials::resolve(None).unwrap().unwrap();
    assert_eq!(
        (c.api_url.as_str(), c.token.expose(), c.profile.as_str()),
        ("https://a.example", "mootup_pat_a", "default")
    );
    assert_eq!(c.source, CredentialSource::File { path: path.clone() });
    let w = credentials::resolve(Some("work")).unwrap().unwrap();
    assert_eq!(w.token.expose(), "mootup_pat_w");
    set("MOOT_PROFILE", Some("work"));
    assert_eq!(credentials::resolve(None).unwrap().unwrap().profile, "work");
    set("MOOT_PROFILE", None);

    // MOOT_API_URL overrides the profile's URL.
    set("MOOT_API_URL", Some("http://127.0.0.1:1"));
    let c = credentials::resolve(None).unwrap().unwrap();
    assert_eq!(c.api_url, "http://127.0.0.1:1");
    assert_eq!(c.token.expose(), "mootup_pat_a");

    // A profile that does not exist names the ones that do.
    let err = credentials::resolve(Some("nope")).unwrap_err();
    let text = format!("{err} {}", err.hint().unwrap());
    assert!(
        text.contains("nope") && text.contains("default, work"),
        "{text}"
    );
    assert!(!text.contains("mootup_pat_"), "{text}");

    // MOOT_TOKEN wins and the file is not even read.
    std::fs::write(&path, "[default\ntoken = \"mootup_pat_a\"").unwrap();
    set("MOOT_TOKEN", Some("mootup_pat_env"));
    let c = credentials::resolve(None).unwrap().unwrap();
    assert_eq!(c.token.expose(), "mootup_pat_env");
    assert_eq!(c.source, CredentialSource::Env);
    assert_eq!(c.api_url, "http://127.0.0.1:1");
    set("MOOT_API_URL", None);
    assert_eq!(
        credentials::resolve(None).unwrap().unwrap().api_url,
        moot::DEFAULT_API_URL
    );
    set("MOOT_TOKEN", None);

    // A broken file: file:line:col, a hint, no token.
    let err = credentials::resolve(None).unwrap_err();
    let text = format!("{err} {}", err.hint().unwrap());
    assert!(text.contains("credentials:1:"), "{text}");
    assert!(!text.contains("mootup_pat_a"), "{text}");
    // ...and store refuses to overwrite it.
    assert!(credentials::store("x", "https://x", &Secret::new("mootup_pat_x"), None).is_err());
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("[default\n")
    );

    // A profile without a token.
    std::fs::write(&path, "[default]\napi_url = \"https://a\"\n").unwrap();
    let err = credentials::resolve(None).unwrap_err();
    assert!(err.to_string().contains("no token"), "{err}");

    // Bad profile names are refused.
    assert!(credentials::store("a b", "https://x", &Secret::new("mootup_pat_x"), None).is_err());
}
