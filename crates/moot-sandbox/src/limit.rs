//! The ticket exchange's rate limit: one token bucket per client address, as
//! the platform limits exchanges per IP. A refused request takes no token, so
//! waiting `Retry-After` and asking again always gets through eventually.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How fast exchanges may come from one address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExchangeRate {
    /// Tokens added per second (5 a minute is 5.0 / 60.0).
    pub per_second: f64,
    /// How many exchanges may come at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl ExchangeRate {
    /// The platform's: about 5 a minute, five at once.
    pub const PLATFORM: ExchangeRate = ExchangeRate {
        per_second: 5.0 / 60.0,
        burst: 5,
    };

    /// `5/min`, `1/s`, `0.5/s`, or a bare number (per minute).
    pub fn parse(text: &str) -> Result<ExchangeRate, String> {
        let (number, per) = match text.split_once('/') {
            Some((n, unit)) => (n, unit.trim()),
            None => (text, "min"),
        };
        let seconds = match per {
            "s" | "sec" | "second" => 1.0,
            "m" | "min" | "minute" => 60.0,
            other => return Err(format!("unknown unit `{other}` (use /s or /min)")),
        };
        let n: f64 = number
            .trim()
            .parse()
            .map_err(|_| format!("`{number}` is not a number"))?;
        if !n.is_finite() || n <= 0.0 {
            return Err(format!("the rate must be above 0, not `{number}`"));
        }
        Ok(ExchangeRate {
            per_second: n / seconds,
            burst: 1,
        })
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every address seen.
#[derive(Debug)]
pub struct Limiter {
    rate: ExchangeRate,
    buckets: HashMap<IpAddr, Bucket>,
}

impl Limiter {
    pub fn new(rate: ExchangeRate) -> Limiter {
        Limiter {
            rate,
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for `ip` at `now`, or says how long until one is there.
    pub fn take(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.rate.burst.max(1));
        let bucket = self.buckets.entry(ip).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate.per_second).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64(
            (1.0 - bucket.tokens) / self.rate.per_second,
        ))
    }
}

/// `Retry-After` is whole seconds: round up, and never 0 (a client told to
/// wait 0 s would come back before the token is there).
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn rates_parse() {
        assert_eq!(ExchangeRate::parse("5/min").unwrap().per_second, 5.0 / 60.0);
        assert_eq!(ExchangeRate::parse("2/s").unwrap().per_second, 2.0);
        assert_eq!(ExchangeRate::parse("30").unwrap().per_second, 0.5);
        assert_eq!(ExchangeRate::parse("0.5/s").unwrap().per_second, 0.5);
        for bad in ["0/s", "-1", "x/min", "1/h", "NaN"] {
            assert!(ExchangeRate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bucket_refills_at_the_rate_and_caps_at_the_burst() {
        let mut l = Limiter::new(ExchangeRate {
            per_second: 2.0,
            burst: 2,
        });
        let t0 = Instant::now();
        assert!(l.take(A, t0).is_ok());
        assert!(l.take(A, t0).is_ok());
        let wait = l.take(A, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // A refusal takes nothing: the same wait from the same instant.
        assert_eq!(l.take(A, t0).unwrap_err(), wait);
        // Another address has its own bucket.
        assert!(l.take(B, t0).is_ok());
        assert!(l.take(A, t0 + Duration::from_millis(500)).is_ok());
        // A long quiet spell gives back the burst, not more.
        let later = t0 + Duration::from_secs(60);
        assert!(l.take(A, later).is_ok());
        assert!(l.take(A, later).is_ok());
        assert!(l.take(A, later).is_err());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(12)), 12);
    }
}
