//! Pacing of the key pipeline under the platform's exchange rate limit.
//!
//! Every agent key passes through a registration ticket that must be
//! exchanged within its lifetime, and exchanges are rate-limited (429 with
//! `Retry-After`). A ticket minted too early is a key lost: the old key died
//! at mint time and the ticket expires while it waits. So minting follows
//! the exchanges, as TCP's congestion window follows acknowledgements:
//! - at most `window` tickets are outstanding (minted, not yet exchanged);
//!   the window starts at 1 and doubles on each exchange (slow start) up to
//!   `--concurrency`, and halves on a 429;
//! - a first key (first-key, or a creation) kills no key, so a failure
//!   after it costs nothing: until the server limits us, first keys may be
//!   minted up to the number that could all be exchanged within half their
//!   lifetime at the platform's documented rate (300 s tickets, one
//!   exchange per 12 s: 12), capped by `--concurrency`. Only rotations,
//!   each of which kills a key someone holds, start one at a time, so that
//!   a plan that fails at its first mint has killed one key, not four;
//! - once the server has limited us, exchanges are spaced by the interval
//!   it asked for, and a ticket is minted only if the ones ahead of it and
//!   itself can be exchanged within half its lifetime.

use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The pacing parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Requests in flight at most (`--concurrency`).
    pub max_window: usize,
    /// A ticket's lifetime.
    pub lifetime: Duration,
    /// The wait after a 429 without a usable `Retry-After`.
    pub default_retry: Duration,
}

impl Pacing {
    /// The platform's values: tickets live 5 minutes, and about 5
    /// exchanges a minute are allowed (12 s apart). Tests shorten them with
    /// `MOOT_TEST_TICKET_LIFETIME` and `MOOT_TEST_RETRY_AFTER` (seconds;
    /// test-only).
    pub fn from_env(concurrency: usize) -> Pacing {
        Pacing {
            max_window: concurrency.max(1),
            lifetime: crate::apply::pending::ticket_lifetime(),
            default_retry: crate::apply::pending::env_secs("MOOT_TEST_RETRY_AFTER")
                .unwrap_or(Duration::from_secs(12)),
        }
    }
}

/// What a ticket costs at mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mint {
    /// rotate-key: the agent's current key dies at once.
    Rotation,
    /// first-key or a creation: the agent had no key.
    FirstKey,
}

#[derive(Debug)]
struct State {
    window: usize,
    ssthresh: usize,
    outstanding: usize,
    next_slot: Instant,
    /// Set by the first 429: the spacing the server asked for.
    interval: Option<Duration>,
}

#[derive(Debug)]
pub struct Pacer {
    pacing: Pacing,
    state: std::sync::Mutex<State>,
    changed: Notify,
    /// Once limited, one exchange at a time, oldest ticket first (the
    /// mutex is fair): a ticket that got a 429 keeps its turn.
    turn: tokio::sync::Mutex<()>,
}

impl Pacer {
    pub fn new(pacing: Pacing) -> Pacer {
        Pacer {
            pacing,
            state: std::sync::Mutex::new(State {
                window: 1,
                ssthresh: pacing.max_window,
                outstanding: 0,
                next_slot: Instant::now(),
                interval: None,
            }),
            changed: Notify::new(),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether the server has limited the exchanges.
    pub fn is_limited(&self) -> bool {
        self.lock().interval.is_some()
    }

    /// The exchange turn (see `turn`); hold it across `slot` and the call.
    pub async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many first keys may be outstanding before the server has said
    /// anything about its limit (see the module comment).
    fn eager(&self) -> usize {
        let per_half_life = self.pacing.lifetime.as_secs_f64()
            / 2.0
            / self.pacing.default_retry.as_secs_f64().max(0.001);
        (per_half_life as usize).clamp(1, self.pacing.max_window)
    }

    /// Waits until one more ticket may be minted, and counts it.
    pub async fn acquire_mint(&self, mint: Mint) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = self.lock();
                let ahead = s.outstanding as u32 + 1;
                let in_time = s
                    .interval
                    .is_none_or(|i| i.saturating_mul(ahead) <= self.pacing.lifetime / 2);
                let window = match (mint, s.interval) {
                    (Mint::FirstKey, None) => s.window.max(self.eager()),
                    (Mint::FirstKey, Some(_)) | (Mint::Rotation, _) => s.window,
                };
                if s.outstanding == 0 || (s.outstanding < window && in_time) {
                    s.outstanding += 1;
                    return;
                }
            }
            notified.await;
        }
    }

    /// Counts a ticket that will be exchanged without being minted here
    /// (a creation's, or one left by an interrupted apply).
    pub fn adopt(&self) {
        self.lock().outstanding += 1;
    }

    /// Waits for this exchange's turn: at once until the server limits
    /// us. Only a turn in the future goes through the timer, which rounds
    /// every deadline up to its next millisecond tick: sleeping until "now"
    /// would cost each exchange up to a millisecond for nothing.
    pub async fn slot(&self) {
        let at = {
            let mut s = self.lock();
            let now = Instant::now();
            let at = s.next_slot.max(now);
            if let Some(i) = s.interval {
                s.next_slot = at + i;
            }
            (at > now).then_some(at)
        };
        if let Some(at) = at {
            tokio::time::sleep_until(at).await;
        }
    }

    /// The server answered 429: back off and space the exchanges. Returns
    /// the wait it implies.
    pub fn limited(&self, retry_after: Option<Duration>) -> Duration {
        let wait = retry_after
            .unwrap_or(self.pacing.default_retry)
            .max(Duration::from_millis(50));
        // A little later than asked: the server measures from its own
        // clock, and `Retry-After` is rounded to whole seconds.
        let wait = wait + wait / 20 + Duration::from_millis(10);
        let mut s = self.lock();
        s.interval = Some(wait);
        s.next_slot = s.next_slot.max(Instant::now() + wait);
        s.ssthresh = (s.window / 2).max(1);
        s.window = s.ssthresh;
        wait
    }

    /// A ticket was exchanged, or the attempt ended: one fewer outstanding.
    pub fn release(&self, exchanged: bool) {
        {
            let mut s = self.lock();
            s.outstanding = s.outstanding.saturating_sub(1);
            if exchanged {
                s.window = if s.window < s.ssthresh {
                    s.window * 2
                } else {
                    s.window + 1
                }
                .min(self.pacing.max_window);
            }
        }
        self.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    fn pacer(max: usize) -> Pacer {
        Pacer::new(Pacing {
            max_window: max,
            lifetime: Duration::from_secs(300),
            default_retry: Duration::from_secs(12),
        })
    }

    #[tokio::test]
    async fn window_grows_like_slow_start_and_halves_on_429() {
        let p = pacer(16);
        p.acquire_mint(Mint::Rotation).await;
        assert_eq!(p.lock().window, 1);
        p.release(true);
        assert_eq!(p.lock().window, 2);
        p.release(true);
        assert_eq!(p.lock().window, 4);
        p.limited(Some(Duration::from_secs(1)));
        assert_eq!(p.lock().window, 2);
        p.release(true);
        assert_eq!(p.lock().window, 3, "additive increase after a 429");
    }

    #[tokio::test]
    async fn no_ticket_is_minted_that_cannot_be_exchanged_in_half_its_lifetime() {
        let p = Pacer::new(Pacing {
            max_window: 16,
            lifetime: Duration::from_millis(2500),
            default_retry: Duration::from_secs(1),
        });
        p.acquire_mint(Mint::Rotation).await;
        p.limited(None);
        {
            let mut s = p.lock();
            s.window = 16;
        }
        // 2 x 1 s > 1.25 s: the second ticket waits for the first.
        let second =
            tokio::time::timeout(Duration::from_millis(50), p.acquire_mint(Mint::Rotation)).await;
        assert!(second.is_err());
        p.release(true);
        p.acquire_mint(Mint::Rotation).await;
    }

    #[tokio::test]
    async fn first_keys_start_as_many_as_the_documented_rate_allows() {
        // 300 s tickets, 12 s per exchange: 12 fit in half a lifetime.
        let p = pacer(16);
        for _ in 0..12 {
            p.acquire_mint(Mint::FirstKey).await;
        }
        let thirteenth =
            tokio::time::timeout(Duration::from_millis(50), p.acquire_mint(Mint::FirstKey));
        assert!(thirteenth.await.is_err());
        // Capped by --concurrency.
        let p = pacer(4);
        for _ in 0..4 {
            p.acquire_mint(Mint::FirstKey).await;
        }
        let fifth = tokio::time::timeout(Duration::from_millis(50), p.acquire_mint(Mint::FirstKey));
        assert!(fifth.await.is_err());
    }

    #[tokio::test]
    async fn rotations_start_one_at_a_time_and_a_limit_ends_the_eager_start() {
        let p = pacer(16);
        p.acquire_mint(Mint::FirstKey).await;
        let rotation =
            tokio::time::timeout(Duration::from_millis(50), p.acquire_mint(Mint::Rotation));
        assert!(
            rotation.await.is_err(),
            "a key dies only after the first exchange"
        );
        p.limited(Some(Duration::from_millis(100)));
        let first_key =
            tokio::time::timeout(Duration::from_millis(50), p.acquire_mint(Mint::FirstKey));
        assert!(first_key.await.is_err(), "once limited, the window rules");
    }

    #[tokio::test]
    async fn an_exchange_waits_for_nothing_until_the_server_limits_us() {
        let p = pacer(4);
        let ready = |p: &Pacer| {
            let mut slot = std::pin::pin!(p.slot());
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            slot.as_mut().poll(&mut cx).is_ready()
        };
        assert!(ready(&p), "an unlimited slot is ready on its first poll");
        assert!(ready(&p));
        p.limited(Some(Duration::from_secs(1)));
        assert!(!ready(&p), "a limited slot waits for its turn");
    }

    #[test]
    fn short_tickets_or_a_slow_rate_leave_one_at_a_time() {
        let p = Pacer::new(Pacing {
            max_window: 16,
            lifetime: Duration::from_millis(2500),
            default_retry: Duration::from_secs(1),
        });
        assert_eq!(p.eager(), 1);
    }

    #[test]
    fn the_default_wait_applies_without_retry_after() {
        let p = pacer(4);
        assert_eq!(p.limited(None), Duration::from_millis(12_610));
        assert_eq!(
            p.limited(Some(Duration::from_secs(2))),
            Duration::from_millis(2_110)
        );
    }
}
