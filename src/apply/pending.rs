//! Registration tickets between mint and the commit of the apply that
//! minted them: `.moot/pending-tickets.json` (mode 0600, in the gitignored
//! `.moot/`). A ticket is a bearer secret for its lifetime and the only way
//! to the key it stands for (the agent's old key died when it was minted),
//! so it is written here before it is exchanged: after a crash, the next
//! `apply` redeems the tickets still alive, and `plan`/`check` report them.
//! The ids never appear in any output, the lock or the report.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::apply::pacer::Mint;
use crate::error::{Error, Result};
use crate::secret::Secret;

pub use crate::paths::PENDING_PATH;

/// How long a ticket lives (the platform's five minutes). Tests shorten it
/// with `MOOT_TEST_TICKET_LIFETIME` (seconds; test-only, undocumented for
/// users).
pub fn ticket_lifetime() -> Duration {
    env_secs("MOOT_TEST_TICKET_LIFETIME").unwrap_or(Duration::from_secs(300))
}

pub(crate) fn env_secs(name: &str) -> Option<Duration> {
    let secs: f64 = std::env::var(name).ok()?.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0 && secs < 86_400.0).then(|| Duration::from_secs_f64(secs))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingTicket {
    pub role: String,
    pub role_key: String,
    pub actor_id: String,
    pub display_name: String,
    /// Seconds since the Unix epoch.
    pub minted_at: u64,
    /// Set once the exchange was sent: the ticket is used up then.
    #[serde(default)]
    pub exchanged: bool,
    #[serde(with = "secret_serde")]
    pub ticket: Secret,
}

impl PendingTicket {
    pub fn expired(&self, now: SystemTime) -> bool {
        let minted = UNIX_EPOCH + Duration::from_secs(self.minted_at);
        now.duration_since(minted).unwrap_or_default() >= ticket_lifetime()
    }
}

mod secret_serde {
    use crate::secret::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        String::deserialize(de).map(Secret::new)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    tickets: Vec<PendingTicket>,
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn path(root: &Path) -> PathBuf {
    root.join(PENDING_PATH)
}

/// The pending tickets, if any. Anything but a regular file is refused.
pub fn load(root: &Path) -> Result<Vec<PendingTicket>> {
    let p = path(root);
    // Never through a link, never blocking on a FIFO: `.moot/` may hold
    // anything a checkout committed.
    let Some(bytes) = crate::fsutil::read_regular(&p)? else {
        return Ok(Vec::new());
    };
    let file: File = serde_json::from_slice(&bytes).map_err(|e| {
        Error::user(
            format!(
                "{}:{}:{}: not a pending-ticket file",
                p.display(),
                e.line(),
                e.column()
            ),
            "remove it; keys it stood for can be issued again with `moot apply --replace ROLE`",
        )
    })?;
    Ok(file.tickets)
}

/// Replaces the file with `tickets` (removes it when empty), durably:
/// written to a temporary file (0600, never through a link), synced,
/// renamed, the directory synced. A ticket must be on disk before its
/// exchange is sent, or a crash loses the key it stands for.
pub fn save(root: &Path, tickets: &[PendingTicket]) -> Result<()> {
    remove_stale_temps(root);
    write(root, tickets, true)
}

fn write(root: &Path, tickets: &[PendingTicket], durable: bool) -> Result<()> {
    let p = path(root);
    if tickets.is_empty() {
        return match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("removing", &p, e)),
            _ => Ok(()),
        };
    }
    let body = serde_json::to_vec_pretty(&File {
        tickets: tickets.to_vec(),
    })
    .map_err(|e| Error::Internal(format!("serializing pending tickets: {e}")))?;
    match durable {
        true => crate::fsutil::write_atomic(&p, &body, 0o600),
        false => crate::fsutil::write_replace(&p, &body, 0o600),
    }
}

/// Temporary files of a save a crash interrupted (the apply that writes
/// holds the workspace lock, so none is in use). Best effort: a leftover
/// is litter, not a danger.
pub fn remove_stale_temps(root: &Path) {
    let p = path(root);
    let (Some(dir), Some(name)) = (p.parent(), p.file_name()) else {
        return;
    };
    // fsutil's temporary name for it: `.<name>.moot-tmp.<pid>`.
    let prefix = format!(".{}.moot-tmp.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Forgets the tickets no apply can redeem any more (exchanged or
/// expired): once a plan has reported them, they are only noise.
pub fn drop_spent(root: &Path) -> Result<()> {
    let now = SystemTime::now();
    let tickets = load(root)?;
    let live: Vec<PendingTicket> = tickets
        .iter()
        .filter(|t| !t.exchanged && !t.expired(now))
        .cloned()
        .collect();
    if live.len() != tickets.len() {
        save(root, &live)?;
    }
    Ok(())
}

/// The store shared by the tasks of one remote phase.
///
/// New tickets are written by group commit: each `add` changes the list,
/// then waits until a write that began after its change has reached the
/// file, and for a rotation's ticket also the disk (see [`Store::add`]).
/// Tickets minted together (the pipeline mints several at once) share one
/// write instead of paying for one each, and the write runs on the blocking pool, so the exchanges
/// already sent go on meanwhile. Marks (a ticket sent for exchange) are
/// only noted: they ride along with the next write, and `flush` writes them
/// at the end of the remote phase. Losing one costs nothing but a refused
/// redemption.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    tickets: std::sync::Mutex<Listed>,
    /// How far the file has caught up with the list; held while writing,
    /// so one write runs at a time and waiters see whether it covered
    /// their change.
    written: tokio::sync::Mutex<Written>,
}

#[derive(Debug)]
struct Listed {
    tickets: Vec<PendingTicket>,
    /// Bumped on every change.
    version: u64,
    /// The last version whose change must be fsynced (a rotation's ticket).
    needs_sync: u64,
}

/// The versions the file holds: `written` renamed into place, `synced`
/// also fsynced.
#[derive(Debug, Default)]
struct Written {
    written: u64,
    synced: u64,
}

impl Written {
    fn covers(&self, version: u64, cost: Mint) -> bool {
        match cost {
            Mint::Rotation => self.synced >= version,
            Mint::FirstKey => self.written >= version,
        }
    }
}

impl Store {
    pub fn new(root: &Path, existing: Vec<PendingTicket>) -> Store {
        Store {
            root: root.to_path_buf(),
            tickets: std::sync::Mutex::new(Listed {
                tickets: existing,
                version: 0,
                needs_sync: 0,
            }),
            written: tokio::sync::Mutex::new(Written::default()),
        }
    }

    fn listed(&self) -> std::sync::MutexGuard<'_, Listed> {
        // A panic elsewhere leaves the list as consistent as before it.
        self.tickets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the tickets in memory; returns the version that holds it.
    fn change(&self, f: impl FnOnce(&mut Vec<PendingTicket>)) -> u64 {
        let mut l = self.listed();
        f(&mut l.tickets);
        l.version += 1;
        l.version
    }

    /// Records a ticket; returns once it is in the file, and only then may
    /// its exchange be sent. A rotation's ticket is the only way back to a
    /// key someone held (it died at mint), so it is also fsynced: a power
    /// loss keeps it too. A first key's or a creation's is written (renamed
    /// into place) but not fsynced: a crash of moot still finds it, and a
    /// power loss costs only a `--replace` for an agent no one held a key
    /// for, which is not worth a millisecond of fsyncs on every setup.
    pub async fn add(&self, t: PendingTicket, cost: Mint) -> Result<()> {
        let version = self.change(|v| {
            v.retain(|x| x.actor_id != t.actor_id);
            v.push(t);
        });
        if cost == Mint::Rotation {
            self.listed().needs_sync = version;
        }
        self.written(version, cost).await
    }

    /// Waits until `version` (or a later one) is in the file as `cost`
    /// asks, writing it unless a write that began after it was made does
    /// so meanwhile. A write is fsynced when any change it carries needs
    /// it.
    async fn written(&self, version: u64, cost: Mint) -> Result<()> {
        // Let the tasks whose answers arrived with this one list their
        // tickets first, so the write that follows carries them all.
        tokio::task::yield_now().await;
        let mut written = self.written.lock().await;
        if written.covers(version, cost) {
            return Ok(());
        }
        let (tickets, latest, sync) = {
            let l = self.listed();
            (l.tickets.clone(), l.version, l.needs_sync > written.synced)
        };
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || write(&root, &tickets, sync))
            .await
            .map_err(|e| Error::Internal(format!("writing pending tickets: {e}")))??;
        written.written = latest;
        if sync {
            written.synced = latest;
        }
        Ok(())
    }

    /// Notes that a ticket was sent for exchange (it cannot be redeemed
    /// again); written with the next write or by `flush`.
    pub fn mark_exchanged(&self, actor_id: &str) {
        self.change(|v| {
            for t in v.iter_mut().filter(|t| t.actor_id == actor_id) {
                t.exchanged = true;
            }
        });
    }

    /// Writes the marks noted since the last write (not synced: see the
    /// type's comment).
    pub fn flush(&self) -> Result<()> {
        let l = self.listed();
        let unwritten = self
            .written
            .try_lock()
            .map_or(true, |w| w.written < l.version);
        match unwritten {
            true => write(&self.root, &l.tickets, false),
            false => Ok(()),
        }
    }

    /// Forgets the tickets already exchanged or expired; keeps the live
    /// ones for the next apply, and returns how many.
    pub fn drop_spent(&self) -> Result<usize> {
        let now = SystemTime::now();
        let mut l = self.listed();
        l.tickets.retain(|t| !t.exchanged && !t.expired(now));
        l.version += 1;
        write(&self.root, &l.tickets, true)?;
        Ok(l.tickets.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(actor_id: &str) -> PendingTicket {
        PendingTicket {
            role: actor_id.into(),
            role_key: actor_id.into(),
            actor_id: actor_id.into(),
            display_name: actor_id.into(),
            minted_at: now_unix(),
            exchanged: false,
            ticket: Secret::new(format!("tkt_{actor_id}")),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(crate::paths::MOOT_DIR)).unwrap();
        let store = Store::new(dir.path(), Vec::new());
        (dir, store)
    }

    fn on_file(root: &Path) -> Vec<String> {
        load(root)
            .unwrap()
            .into_iter()
            .map(|t| t.actor_id)
            .collect()
    }

    #[tokio::test]
    async fn a_first_keys_ticket_is_in_the_file_before_its_exchange_but_not_fsynced() {
        let (dir, store) = store();
        store.add(ticket("agt_a"), Mint::FirstKey).await.unwrap();
        assert_eq!(on_file(dir.path()), ["agt_a"]);
        let w = store.written.lock().await;
        assert_eq!((w.written, w.synced), (1, 0));
    }

    #[tokio::test]
    async fn a_rotations_ticket_is_fsynced_and_so_is_every_ticket_written_with_it() {
        let (dir, store) = store();
        store.add(ticket("agt_a"), Mint::FirstKey).await.unwrap();
        // Answered together: the write that carries the rotation's ticket
        // is fsynced, whatever else it carries.
        let (first, rotation) = tokio::join!(
            store.add(ticket("agt_b"), Mint::FirstKey),
            store.add(ticket("agt_c"), Mint::Rotation)
        );
        first.unwrap();
        rotation.unwrap();
        assert_eq!(on_file(dir.path()), ["agt_a", "agt_b", "agt_c"]);
        let w = store.written.lock().await;
        assert_eq!((w.written, w.synced), (3, 3));
    }
}
