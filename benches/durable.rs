//! How to make a batch of small files durable before they are renamed into
//! place: the cost the local transaction pays for "after apply returns, a
//! power loss leaves the old tree or the new one". Each strategy writes
//! N files of 2 KiB into a staging directory, makes them durable, renames
//! them into a target directory and makes the renames durable:
//! - `per_file`: fsync each file, then fsync each directory (what
//!   PostgreSQL's `durable_rename` does per file);
//! - `overlapped`: the same fsyncs, issued from worker threads at once so
//!   the filesystem can fold them into fewer journal commits;
//! - `syncfs`: no per-file fsync; one `syncfs(2)` on the filesystem after
//!   staging and one after the renames (`moot::fsutil::sync_filesystem`).
//!
//! The directory lives under the target directory (the filesystem a
//! workspace is on), not /tmp, which may be a tmpfs where syncs are free.
//! Run: `cargo bench --bench durable`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use divan::Bencher;

const SIZES: [usize; 3] = [8, 24, 64];

fn main() {
    divan::main();
}

fn scratch() -> tempfile::TempDir {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&base).unwrap();
    tempfile::Builder::new()
        .prefix("bench-durable")
        .tempdir_in(base)
        .unwrap()
}

fn stage(dir: &Path, n: usize) -> Vec<(PathBuf, File)> {
    let staged = dir.join("staged");
    std::fs::create_dir_all(&staged).unwrap();
    std::fs::create_dir_all(dir.join("tree")).unwrap();
    let body = vec![b'x'; 2048];
    (0..n)
        .map(|i| {
            let p = staged.join(i.to_string());
            let mut f = File::create(&p).unwrap();
            f.write_all(&body).unwrap();
            (p, f)
        })
        .collect()
}

fn rename_all(dir: &Path, files: &[(PathBuf, File)]) {
    for (i, (p, _)) in files.iter().enumerate() {
        std::fs::rename(p, dir.join("tree").join(i.to_string())).unwrap();
    }
}

fn sync_dirs(dir: &Path) {
    for d in ["staged", "tree"] {
        File::open(dir.join(d)).unwrap().sync_all().unwrap();
    }
}

/// `make_durable(dir, files, renamed)` is called once after staging and
/// once after the renames.
type Strategy = fn(&Path, &[(PathBuf, File)], bool);

fn run(bencher: Bencher, n: usize, make_durable: Strategy) {
    bencher
        .with_inputs(|| {
            let dir = scratch();
            let files = stage(dir.path(), n);
            (dir, files)
        })
        .bench_local_values(|(dir, files)| {
            make_durable(dir.path(), &files, false);
            rename_all(dir.path(), &files);
            make_durable(dir.path(), &files, true);
            dir
        });
}

#[divan::bench(args = SIZES, sample_count = 20, sample_size = 1)]
fn per_file(bencher: Bencher, n: usize) {
    run(bencher, n, |dir, files, renamed| {
        if !renamed {
            for (_, f) in files {
                f.sync_all().unwrap();
            }
        }
        sync_dirs(dir);
    });
}

#[divan::bench(args = SIZES, sample_count = 20, sample_size = 1)]
fn overlapped(bencher: Bencher, n: usize) {
    run(bencher, n, |dir, files, renamed| {
        if renamed {
            return sync_dirs(dir);
        }
        std::thread::scope(|s| {
            for chunk in files.chunks(files.len().div_ceil(8)) {
                s.spawn(move || {
                    for (_, f) in chunk {
                        f.sync_all().unwrap();
                    }
                });
            }
        });
        sync_dirs(dir);
    });
}

#[divan::bench(args = SIZES, sample_count = 20, sample_size = 1)]
fn syncfs(bencher: Bencher, n: usize) {
    run(bencher, n, |dir, _, _| {
        moot::fsutil::sync_filesystem(dir).unwrap();
    });
}
