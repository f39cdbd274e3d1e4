//! When and how long to wait before another attempt: exponential backoff with full jitter, and the
//! service's `Retry-After` (seconds or an HTTP date) up to a cap.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// How failed calls are retried. Only failures where a retry can help are retried: rate limits
/// (not quota), 500/502/503/504, and connections that could not be opened.
///
/// Start from [`RetryPolicy::default`] or [`RetryPolicy::none`] and change what you need with the
/// `with_*` setters (fields may be added, so the struct cannot be written out literally):
///
/// ```
/// # use std::time::Duration;
/// let retry = seedream_client::RetryPolicy::default().with_max_attempts(5).with_max_delay(Duration::from_secs(20));
/// # assert_eq!(retry.max_attempts, 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retries). Default 3.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled for each one after. Default 500 ms.
    pub base_delay: Duration,
    /// Largest backoff. Default 8 s.
    pub max_delay: Duration,
    /// Largest wait taken from a `Retry-After` header (a longer one is cut to this). Default 60 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The same policy with `max_attempts` set (attempts in all, the first included; the client
    /// counts 0 as 1).
    pub fn with_max_attempts(self, max_attempts: u32) -> Self {
        Self { max_attempts, ..self }
    }

    /// The same policy with `base_delay` set (the backoff before the second attempt).
    pub fn with_base_delay(self, base_delay: Duration) -> Self {
        Self { base_delay, ..self }
    }

    /// The same policy with `max_delay` set (the largest backoff).
    pub fn with_max_delay(self, max_delay: Duration) -> Self {
        Self { max_delay, ..self }
    }

    /// The same policy with `max_retry_after` set (the largest wait taken from `Retry-After`).
    pub fn with_max_retry_after(self, max_retry_after: Duration) -> Self {
        Self { max_retry_after, ..self }
    }

    /// The wait after failed attempt number `attempt` (1-based): the service's `Retry-After` when it
    /// gave one (capped at `max_retry_after`), else a random time between zero and
    /// `base_delay · 2^(attempt-1)` capped at `max_delay` ("full jitter": clients that failed together
    /// do not come back together).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_retry_after);
        }
        let exponent = attempt.saturating_sub(1).min(30);
        let ceiling = self.base_delay.saturating_mul(1 << exponent).min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }
}

/// Reads `Retry-After`: delay-seconds (a fraction is accepted) or an HTTP date (a date in the
/// past means now). Anything else is ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, value.parse().unwrap());
        headers
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(retry_after(&headers("3")), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(&headers(" 0.25 ")), Some(Duration::from_millis(250)));
        assert_eq!(retry_after(&headers("-1")), None);
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let wait = retry_after(&headers(&future)).unwrap();
        assert!(wait > Duration::from_secs(27) && wait <= Duration::from_secs(30), "{wait:?}");
        assert_eq!(retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_is_capped() {
        let policy = RetryPolicy { max_retry_after: Duration::from_secs(5), ..RetryPolicy::default() };
        assert_eq!(policy.delay(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(policy.delay(1, Some(Duration::from_secs(3600))), Duration::from_secs(5));
    }

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_ceiling() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for (attempt, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (60, 1000)] {
            let delays: Vec<_> = (0..400).map(|_| policy.delay(attempt, None)).collect();
            let max = delays.iter().max().unwrap();
            let min = delays.iter().min().unwrap();
            assert!(*max <= Duration::from_millis(ceiling), "attempt {attempt}: {max:?}");
            // Full jitter spreads over the whole range, not just near the ceiling.
            assert!(*min < Duration::from_millis(ceiling / 4), "attempt {attempt}: {min:?}");
            assert!(*max > Duration::from_millis(ceiling * 3 / 4), "attempt {attempt}: {max:?}");
        }
    }
}
