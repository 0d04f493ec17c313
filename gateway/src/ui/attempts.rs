//! Failed logins remembered for a window, per account and per address: an account is
//! held after the configured number of failures, an address (an office behind one
//! NAT has many operators) after four times as many. Successful logins cost nothing.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys remembered at most; beyond it the oldest failures are forgotten first.
const MAX_KEYS: usize = 100_000;

/// Failures per key.
pub struct Failures<K> {
    limit: usize,
    seen: Mutex<HashMap<K, Vec<Instant>>>,
}

impl<K: Eq + Hash + Clone> Failures<K> {
    /// At most `limit` failures per key in the window.
    pub fn new(limit: usize) -> Failures<K> {
        Failures { limit: limit.max(1), seen: Mutex::new(HashMap::new()) }
    }

    /// True when `key` has used up its failures.
    pub fn blocked(&self, key: &K, now: Instant) -> bool {
        let Ok(mut seen) = self.seen.lock() else { return true };
        match seen.get_mut(key) {
            Some(times) => {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                times.len() >= self.limit
            }
            None => false,
        }
    }

    /// Remembers a failure of `key`.
    pub fn record(&self, key: K, now: Instant) {
        let Ok(mut seen) = self.seen.lock() else { return };
        if seen.len() >= MAX_KEYS {
            seen.retain(|_, times| times.last().is_some_and(|t| now.duration_since(*t) < WINDOW));
            if seen.len() >= MAX_KEYS {
                seen.clear();
            }
        }
        seen.entry(key).or_default().push(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_held_after_its_failures_until_they_age() {
        let failures = Failures::new(3);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(!failures.blocked(&"a", start));
            failures.record("a", start);
        }
        assert!(failures.blocked(&"a", start) && !failures.blocked(&"b", start));
        assert!(!failures.blocked(&"a", start + WINDOW));
    }
}
