//! The bad-input corpus: every file under tests/corpus/team/ is an invalid
//! team.toml whose header says what must be reported, one line per problem
//! in source order: `# expect: LINE:COL: message fragment`.
//!
//! Each file is checked through the library (`parse_team`) and through the
//! binary (`moot init --template <dir>` must refuse it and write nothing).

use std::path::{Path, PathBuf};

use moot::desired::parse_team;

#[derive(Debug)]
struct Expect {
    line: usize,
    column: usize,
    fragment: String,
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/team");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn expectations(src: &str, file: &Path) -> Vec<Expect> {
    let expects: Vec<Expect> = src
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|rest| {
            let mut parts = rest.splitn(3, ':');
            let mut num = || parts.next().unwrap().trim().parse::<usize>().unwrap();
            let (line, column) = (num(), num());
            let fragment = parts.next().unwrap().trim().to_string();
            Expect {
                line,
                column,
                fragment,
            }
        })
        .collect();
    assert!(
        !expects.is_empty(),
        "{} has no `# expect:` line",
        file.display()
    );
    expects
}

#[test]
fn corpus_has_at_least_30_files() {
    assert!(corpus().len() >= 30, "only {} files", corpus().len());
}

#[test]
fn corpus_through_parse_team() {
    let mut failures = Vec::new();
    for file in corpus() {
        let src = std::fs::read_to_string(&file).unwrap();
        let expects = expectations(&src, &file);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let Err(err) = parse_team(&src, Path::new("team.toml")) else {
            failures.push(format!("{name}: parsed without error"));
            continue;
        };
        let got: Vec<String> = err
            .diagnostics
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect();
        if got.len() != expects.len() {
            failures.push(format!(
                "{name}: expected {} problems, got {got:#?}",
                expects.len()
            ));
            continue;
        }
        for (d, e) in err.diagnostics.iter().zip(&expects) {
            if (d.line, d.column) != (e.line, e.column) || !d.message.contains(&e.fragment) {
                failures.push(format!(
                    "{name}: expected {}:{}: …{}…, got {}:{}: {}",
                    e.line, e.column, e.fragment, d.line, d.column, d.message
                ));
            }
            if d.hint.trim().is_empty() {
                failures.push(format!("{name}: no hint for {}", d.message));
            }
        }
        assert!(err.hint().is_some());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_through_init_template() {
    let mut failures = Vec::new();
    for file in corpus() {
        let src = std::fs::read_to_string(&file).unwrap();
        let first = &expectations(&src, &file)[0];
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let template = tmp.path().join("template");
        let workspace = tmp.path().join("workspace");
        std::fs::create_dir_all(&template).unwrap();
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::write(template.join("team.toml"), &src).unwrap();

        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let out = crate::support::moot(&workspace, &home, None)
            .args(["--color", "never", "init", "--template"])
            .arg(&template)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let position = format!("team.toml:{}:{}: ", first.line, first.column);
        if out.status.code() != Some(1) {
            failures.push(format!("{name}: exit {:?}", out.status.code()));
        }
        if !stderr.starts_with("error: ")
            || !stderr.contains(&position)
            || !stderr.contains(&first.fragment)
            || !stderr.contains("\n\nhint: ")
        {
            failures.push(format!(
                "{name}: stderr lacks `{position}{}` or hint:\n{stderr}",
                first.fragment
            ));
        }
        if workspace.join("team.toml").exists() {
            failures.push(format!("{name}: init wrote a team.toml anyway"));
        }
        if std::fs::read_dir(&workspace).unwrap().next().is_some() {
            failures.push(format!("{name}: init left files in the workspace"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
