use super::*;

#[test]
fn appends_only_what_is_missing() {
    let wanted = vec![".moot/".to_string(), ".worktrees/".to_string()];
    assert_eq!(missing(b"target\n/.moot\n", &wanted), vec![".worktrees/"]);
    let out = append(b"target", &[".worktrees/"]);
    assert_eq!(
        out,
        b"target\n\n# moot (agent keys and machine-local state)\n.worktrees/\n"
    );
    assert!(missing(&out, &wanted).iter().all(|l| *l == ".moot/"));
    assert_eq!(
        append(b"", &[".moot/"]),
        b"# moot (agent keys and machine-local state)\n.moot/\n"
    );
}

#[test]
fn the_user_bytes_are_kept_and_crlf_followed() {
    let user = b"caf\xe9/\r\ntarget\r\n";
    let out = append(user, &[".moot/"]);
    assert!(out.starts_with(user));
    assert_eq!(
        &out[user.len()..],
        b"\r\n# moot (agent keys and machine-local state)\r\n.moot/\r\n"
    );
    assert!(missing(&out, &[".moot/".to_string()]).is_empty());
}

#[test]
fn negations_and_odd_spellings_are_read_as_git_reads_them() {
    let key = ".moot/actors.json";
    let ignored = |text: &str| verdict(text.as_bytes(), key, false).is_ignored();
    assert!(ignored(".moot/\n"));
    assert!(ignored("/.moot\n"));
    assert!(ignored(".moot/ \n"), "trailing spaces are dropped");
    assert!(ignored(".moot/\n!.moot/actors.json\n"), "cannot re-include");
    assert!(
        !ignored(".moot/\n!.moot/\n"),
        "the directory is re-included"
    );
    assert!(!ignored(" .moot/\n"), "a leading space is part of the name");
    assert!(!ignored(".moot/*\n!.moot/actors.json\n"));
    assert!(!ignored(".moot/*\n!*.json\n"));
    assert!(!ignored("#.moot/\n"));
    assert!(ignored("\\#x\n.m[o]?t/\n"));
    assert!(ignored("**/.moot\n"));
    assert!(!ignored("sub/.moot/\n"), "anchored elsewhere");
    assert!(!ignored(".moot/\\ \n"), "an escaped space stays");
    assert_eq!(
        verdict(b".moot/\n!.moot/\n", key, false),
        Verdict::ReIncluded { line: 2 }
    );
}

#[test]
fn a_huge_pattern_is_only_walked_as_far_as_it_matches() {
    let mut text = "x".repeat(4 << 20);
    text.push_str("\n.moot/\n");
    assert!(verdict(text.as_bytes(), ".moot/actors.json", false).is_ignored());
}

#[test]
fn stars_cannot_make_matching_slow() {
    let pattern = format!("{}b\n", "*a".repeat(200));
    let path = format!("{}/x", "a".repeat(200));
    assert!(!verdict(pattern.as_bytes(), &path, false).is_ignored());
}

/// The same verdicts as git itself, for a corpus of `.gitignore` texts and
/// the paths moot cares about (skipped where git is not installed; it is
/// on CI).
#[test]
fn verdicts_agree_with_git_check_ignore() {
    use std::process::Command;
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("git not found: skipped");
        return;
    }
    let corpus: &[&str] = &[
        ".moot/\n",
        ".moot/\n!.moot/actors.json\n",
        ".moot/\n!.moot/\n",
        " .moot/\n",
        ".moot/ \n",
        ".moot/\\ \n",
        ".moot\r\n",
        "/.moot\n",
        ".moot/*\n!.moot/actors.json\n",
        "*\n!.moot\n",
        ".m*t/\n",
        ".moot/**\n",
        "**/.moot\n",
        ".moot/\n!*.json\n",
        ".moot/*\n!*.json\n",
        "\\!.moot\n",
        "!.moot\n.moot\n",
        "actors.json\n",
        "/actors.json\n",
        ".moot/**/journal.json\n",
        ".moot/txn/\n",
        "*.json\n!.moot/txn/*\n",
        ".[m]oot/\n",
        ".[!x]oot/\n",
        ".[a-z]oot/\n",
        ".moo[[:alpha:]]/\n",
        ".moot/a*.json\n",
        "**/actors.json\n!/.moot/actors.json\n",
        ".moot\n!.moot/actors.json\n",
        "#.moot\n",
        ".worktrees\n",
        ".claude/\n!.claude/settings.local.json\n",
        ".claude/*\n!.claude/settings.local.json\n",
        "settings.local.json\n",
        "/.claude/settings.local.json/\n",
    ];
    let paths = [
        ".moot/actors.json",
        ".moot/txn/journal.json",
        ".worktrees/x",
        ".claude/settings.local.json",
    ];
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", root)
            .output()
            .unwrap()
    };
    assert!(git(&["init", "-q"]).status.success());
    for p in paths {
        let full = root.join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, "x").unwrap();
    }
    let mut disagree = Vec::new();
    for text in corpus {
        std::fs::write(root.join(".gitignore"), text).unwrap();
        for p in paths {
            let by_git = git(&["check-ignore", "-q", "--no-index", p]).status.code() == Some(0);
            let ours = verdict(text.as_bytes(), p, false).is_ignored();
            if by_git != ours {
                disagree.push(format!("{text:?} {p}: git {by_git}, moot {ours}"));
            }
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}
