//! schemas/team.schema.json is generated from the Rust model; this keeps
//! the committed file in step. `MOOT_UPDATE_SCHEMAS=1 cargo test --test it
//! schemas` rewrites it.

use std::path::Path;

use moot::desired::TeamFile;

fn generated() -> String {
    let schema = schemars::schema_for!(TeamFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap();
    text.push('\n');
    text
}

#[test]
fn team_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/team.schema.json");
    let want = generated();
    if std::env::var_os("MOOT_UPDATE_SCHEMAS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date; run `MOOT_UPDATE_SCHEMAS=1 cargo test --test it schemas` and commit it",
        path.display()
    );
}

/// What editors check with the schema agrees with moot on good and bad files.
#[test]
fn schema_accepts_the_fixture_and_rejects_bad_shapes() {
    let schema: serde_json::Value = serde_json::from_str(&generated()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid-team/team.toml");
    let good: serde_json::Value =
        toml::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    assert!(validator.is_valid(&good));
    for bad in [
        "[team]\nname = \"t\"\n",
        "[team]\nname = \"t\"\n[[roles]]\nname = \"Bad Name\"\n",
        "[team]\nname = \"t\"\n[[roles]]\nname = \"a\"\nharness = \"vim\"\n",
        "[team]\nname = \"t\"\n[[roles]]\nname = \"a\"\ndisplayname = \"A\"\n",
        "toml_schema_version = \"2\"\n[team]\nname = \"t\"\n[[roles]]\nname = \"a\"\n",
    ] {
        let value: serde_json::Value = toml::from_str(bad).unwrap();
        assert!(!validator.is_valid(&value), "schema accepted:\n{bad}");
    }
}

/// The complete example in docs/team-toml.md is a valid team.toml.
#[test]
fn docs_example_validates() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/team-toml.md"))
            .unwrap();
    let after = doc.split("## A complete example").nth(1).unwrap();
    let example = after
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap();
    let team = moot::desired::parse_team(example, Path::new("docs/team-toml.md"))
        .unwrap_or_else(|e| panic!("{e}\nhint: {}", e.hint().unwrap_or_default()));
    assert_eq!(team.roles.len(), 4);
}
