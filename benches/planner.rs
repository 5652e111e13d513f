//! Micro-benchmarks of the pure planner (`moot::plan::build`) and of the
//! workspace scan (`LocalFiles::scan`) on a synthetic desired state of
//! 1,000 / 5,000 / 10,000 managed files of ~1 KB each.
//!
//! The workspace on disk (a tempdir) holds, per 4 files: 2 in sync, 1 that
//! differs from what moot would write, 1 absent. Two observed states are
//! planned against:
//! - `fresh`: no moot.lock (a first `moot plan` in a repository);
//! - `applied`: a moot.lock listing every desired file (every later run, so
//!   the common case), with the sha moot would write.
//!
//! Run: `cargo bench --bench planner` (medians are in the `median` column).
//! After divan's table it prints a 10k/1k ratio for each benchmark, from its
//! own median of a few runs; linear growth is a ratio near 10.

use std::path::Path;
use std::time::{Duration, Instant};

use divan::Bencher;
use moot::desired::{DesiredFile, DesiredState, Policy};
use moot::digest::Digest;
use moot::mode::Mode;
use moot::observed::lockfile::{LOCK_VERSION, Lock, LockEntry};
use moot::observed::workspace::LocalFiles;
use moot::plan::planner::{Observed, PlanOptions};

const SIZES: [usize; 3] = [1_000, 5_000, 10_000];

fn main() {
    divan::main();
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list" || a == "--test") {
        return;
    }
    ratios();
}

/// The path of file `i`: spread over directories of 100, as skills and
/// hooks are, and sorted by construction (zero-padded).
fn path_of(i: usize) -> String {
    format!(".claude/skills/s{:04}/f{:06}.md", i / 100, i)
}

/// ~1 KB of text, distinct per file.
fn content_of(i: usize) -> Vec<u8> {
    let mut s = format!("# file {i}\n\n");
    while s.len() < 1000 {
        s.push_str("moot manages this line of a synthetic skill file. ");
        s.push_str(&i.to_string());
        s.push('\n');
    }
    s.into_bytes()
}

struct Fixture {
    desired: DesiredState,
    dir: tempfile::TempDir,
    /// The paths `observe` would scan: every desired file, plus the fixed ones.
    paths: Vec<String>,
}

impl Fixture {
    fn new(n: usize) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut files = Vec::with_capacity(n);
        for i in 0..n {
            let path = path_of(i);
            let content = content_of(i);
            let abs = dir.path().join(&path);
            match i % 4 {
                0 | 1 => write(&abs, &content),
                2 => {
                    let mut edited = content.clone();
                    edited.extend_from_slice(b"a user's edit\n");
                    write(&abs, &edited)
                }
                _ => {}
            }
            files.push(DesiredFile {
                path,
                policy: Policy::Managed,
                mode: Mode::FILE,
                content,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        paths.extend([".claude/settings.json", ".gitignore", "moot.lock"].map(String::from));
        let desired = DesiredState {
            files,
            settings_hooks: Vec::new(),
            gitignore_lines: vec![".moot/".into()],
            roles: Vec::new(),
            facts: Default::default(),
            bundle_version: "bench".into(),
            unmanaged: Default::default(),
            renderable: Default::default(),
        };
        Fixture {
            desired,
            dir,
            paths,
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn scan(&self) -> LocalFiles {
        LocalFiles::scan(self.root(), self.paths.iter().map(String::as_str)).expect("scan")
    }

    /// The lock an earlier apply would have written: every desired file at
    /// the sha moot would write, sorted by path.
    fn lock(&self) -> Lock {
        Lock {
            version: LOCK_VERSION,
            bundle_version: "bench".into(),
            api_url: String::new(),
            space_id: String::new(),
            space_name: String::new(),
            roles: Default::default(),
            retired: Default::default(),
            files: self
                .desired
                .files
                .iter()
                .map(|f| LockEntry {
                    path: f.path.clone(),
                    policy: f.policy,
                    sha256: Digest::of(&f.content),
                    mode: f.mode,
                })
                .collect(),
        }
    }

    fn observed(&self, with_lock: bool) -> Observed {
        Observed {
            files: self.scan(),
            lock: with_lock.then(|| self.lock()),
            ..Observed::default()
        }
    }
}

fn write(abs: &Path, content: &[u8]) {
    std::fs::create_dir_all(abs.parent().expect("parent")).expect("mkdir");
    std::fs::write(abs, content).expect("write");
}

fn opts() -> PlanOptions {
    PlanOptions {
        offline: true,
        ..PlanOptions::default()
    }
}

#[divan::bench(args = SIZES, sample_count = 30)]
fn plan_fresh(bencher: Bencher, n: usize) {
    let fx = Fixture::new(n);
    let obs = fx.observed(false);
    let opts = opts();
    bencher.bench_local(|| moot::plan::build(&fx.desired, &obs, &opts).expect("plan"));
}

#[divan::bench(args = SIZES, sample_count = 30)]
fn plan_applied(bencher: Bencher, n: usize) {
    let fx = Fixture::new(n);
    let obs = fx.observed(true);
    let opts = opts();
    bencher.bench_local(|| moot::plan::build(&fx.desired, &obs, &opts).expect("plan"));
}

#[divan::bench(args = SIZES, sample_count = 30)]
fn scan(bencher: Bencher, n: usize) {
    let fx = Fixture::new(n);
    bencher.bench_local(|| fx.scan());
}

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort_unstable();
    t[runs / 2]
}

fn ratios() {
    println!();
    println!("growth (median of 11 runs each; linear = 10.0x for 10k/1k)");
    println!(
        "{:<14} {:>12} {:>12} {:>12} {:>10}",
        "benchmark", "1k", "5k", "10k", "10k/1k"
    );
    let opts = opts();
    let mut rows: Vec<(&str, Vec<Duration>)> = vec![
        ("plan_fresh", Vec::new()),
        ("plan_applied", Vec::new()),
        ("scan", Vec::new()),
    ];
    for n in SIZES {
        let fx = Fixture::new(n);
        let fresh = fx.observed(false);
        let applied = fx.observed(true);
        rows[0].1.push(median(11, || {
            divan::black_box(moot::plan::build(&fx.desired, &fresh, &opts).expect("plan"));
        }));
        rows[1].1.push(median(11, || {
            divan::black_box(moot::plan::build(&fx.desired, &applied, &opts).expect("plan"));
        }));
        rows[2].1.push(median(11, || {
            divan::black_box(fx.scan());
        }));
    }
    for (name, t) in rows {
        println!(
            "{:<14} {:>12.3?} {:>12.3?} {:>12.3?} {:>9.1}x",
            name,
            t[0],
            t[1],
            t[2],
            t[2].as_secs_f64() / t[0].as_secs_f64()
        );
    }
}
