//! Fault injection for the transaction tests. `MOOT_FAULT_AT=k` makes the
//! k-th effectful step (1-based: each rotation and agent rename, staged
//! write, journal write, backup move, rename into place, chmod, commit,
//! and the moment after the commit point; the moot.lock write is one of the
//! staged writes and renames) fail, or with `MOOT_FAULT_MODE=kill` (or
//! `abort`) SIGKILL the process on the spot, as a crash would. Unset, a step
//! costs one relaxed atomic increment.
//!
//! Compiled only with the `fault-injection` cargo feature, which the test
//! suite turns on (moot is its own dev-dependency with that feature): a
//! release or `cargo install` build has no such switch, so no environment
//! variable can make a user's apply fail or die on purpose.

#[cfg(feature = "fault-injection")]
pub use enabled::{crash_point, step};

/// Without the feature a step is nothing at all.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn step(_what: &str) -> crate::error::Result<()> {
    Ok(())
}

/// Without the feature a crash point is nothing at all.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn crash_point(_what: &str) {}

#[cfg(feature = "fault-injection")]
mod enabled {

    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::error::{Error, Result};

    static STEP: AtomicUsize = AtomicUsize::new(0);

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Mode {
        Error,
        Abort,
    }

    fn config() -> Option<(usize, Mode)> {
        static CONFIG: OnceLock<Option<(usize, Mode)>> = OnceLock::new();
        *CONFIG.get_or_init(|| {
            let at = std::env::var("MOOT_FAULT_AT").ok()?.trim().parse().ok()?;
            let mode = match std::env::var("MOOT_FAULT_MODE").as_deref() {
                Ok("abort") | Ok("kill") => Mode::Abort,
                _ => Mode::Error,
            };
            Some((at, mode))
        })
    }

    /// Marks one effectful step named `what`; fails or aborts when it is the
    /// configured one.
    pub fn step(what: &str) -> Result<()> {
        let n = STEP.fetch_add(1, Ordering::Relaxed) + 1;
        match config() {
            Some((at, mode)) if at == n => match mode {
                Mode::Error => Err(Error::User {
                    message: format!("injected fault at step {n} ({what})"),
                    hint: None,
                }),
                Mode::Abort => {
                    eprintln!("moot: injected crash at step {n} ({what})");
                    // SIGKILL, as a crash or `kill -9` would: no destructor,
                    // no cleanup, no unwinding.
                    // SAFETY: kill(2) on our own pid has no memory effects.
                    unsafe {
                        libc::kill(libc::getpid(), libc::SIGKILL);
                    }
                    std::process::abort()
                }
            },
            _ => Ok(()),
        }
    }

    /// A step where only a crash can happen (nothing is left to fail once
    /// the apply has committed): counted like the others, it kills the
    /// process in `kill` mode and does nothing in `error` mode.
    pub fn crash_point(what: &str) {
        if matches!(config(), Some((_, Mode::Abort))) {
            let _ = step(what);
        } else {
            STEP.fetch_add(1, Ordering::Relaxed);
        }
    }
}
