//! The retry policy: exponential back-off with full jitter, capped, and a peer's
//! `Retry-After` respected.

use std::time::Duration;

use crate::config::file::RetrySection;

/// How long to wait after the `attempt`-th failure (1 for the first): a random time
/// up to `min(cap, base · 2^(attempt−1))`, or what the peer asked for if longer.
pub fn backoff(policy: &RetrySection, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exponent = attempt.saturating_sub(1).min(32);
    let ceiling = policy.base_ms.saturating_mul(1u64 << exponent).min(policy.cap_ms);
    let jittered = Duration::from_millis(rand::random_range(0..=ceiling));
    match retry_after {
        Some(asked) => jittered.max(asked.min(Duration::from_secs(3600))),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetrySection {
        RetrySection { base_ms: 100, cap_ms: 1000, ..RetrySection::default() }
    }

    #[test]
    fn grows_exponentially_within_the_cap() {
        for _ in 0..200 {
            assert!(backoff(&policy(), 1, None) <= Duration::from_millis(100));
            assert!(backoff(&policy(), 3, None) <= Duration::from_millis(400));
            assert!(backoff(&policy(), 30, None) <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn the_jitter_is_full() {
        let samples: Vec<Duration> = (0..500).map(|_| backoff(&policy(), 4, None)).collect();
        assert!(samples.iter().any(|d| *d < Duration::from_millis(200)));
        assert!(samples.iter().any(|d| *d > Duration::from_millis(600)));
    }

    #[test]
    fn retry_after_is_respected() {
        assert!(backoff(&policy(), 1, Some(Duration::from_secs(7))) >= Duration::from_secs(7));
    }
}
