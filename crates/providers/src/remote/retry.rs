//! When to try a remote call again and how long to wait: exponential backoff with jitter,
//! stretched to a server's `Retry-After` (seconds form) when it sends one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Longest `Retry-After` honoured; a server asking for more gets this.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(120);

/// Retries of one request after a timeout, a connection failure, 429 or 5xx.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts after the first (LightRAG's default 3).
    pub max_retries: usize,
    /// Backoff before the first retry; doubles on each further one.
    pub base_delay: Duration,
    /// Upper bound of a backoff (a `Retry-After` may ask for more, up to [`RETRY_AFTER_CAP`]).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): a random point in the upper half of
    /// `base * 2^retry` (capped at `max_delay`), or `retry_after` when that is longer.
    pub fn delay(&self, retry: usize, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.min(20))
            .min(self.max_delay);
        let half = exp / 2;
        let jitter = half.mul_f64(unit_random());
        let backoff = half + jitter;
        match retry_after {
            Some(ra) => backoff.max(ra.min(RETRY_AFTER_CAP)),
            None => backoff,
        }
    }
}

/// Parses a `Retry-After` value in its seconds form (an HTTP date is ignored).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// A number in [0, 1): splitmix64 over the clock and a counter. Jitter only needs to spread
/// concurrent clients apart, not to be unpredictable.
fn unit_random() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut z = nanos.wrapping_add(
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for _ in 0..50 {
            let d0 = p.delay(0, None);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100));
            let d3 = p.delay(3, None);
            assert!(d3 >= Duration::from_millis(400) && d3 <= Duration::from_millis(800));
            assert!(p.delay(10, None) <= Duration::from_millis(1000));
        }
        let ra = p.delay(0, Some(Duration::from_secs(2)));
        assert_eq!(ra, Duration::from_secs(2));
        assert_eq!(p.delay(0, Some(Duration::from_secs(999))), RETRY_AFTER_CAP);
    }

    #[test]
    fn retry_after_seconds_only() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
