//! Failed attempts remembered for a window, per key (an account, an address, a pair
//! of both): a key is held once it has used up its failures. An attempt is reserved
//! *before* its password is checked, atomically, so that concurrent guesses cannot
//! all be checked before the first of them is counted; a successful attempt gives its
//! reservation back and costs nothing.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys remembered at most; beyond it the keys whose failures have aged are forgotten
/// first, then every key.
const MAX_KEYS: usize = 100_000;

/// Failures per key.
pub struct Failures<K> {
    limit: usize,
    window: Duration,
    seen: Mutex<HashMap<K, Vec<Instant>>>,
}

/// An attempt counted as a failure until it is given back.
#[must_use = "give a successful attempt back with `Failures::release`"]
#[derive(Debug)]
pub struct Reservation<K> {
    key: K,
    at: Instant,
}

impl<K: Eq + Hash + Clone> Failures<K> {
    /// At most `limit` failures per key in the standard window.
    pub fn new(limit: usize) -> Failures<K> {
        Failures::with_window(limit, WINDOW)
    }

    /// At most `limit` failures per key within `window`.
    pub fn with_window(limit: usize, window: Duration) -> Failures<K> {
        Failures { limit: limit.max(1), window, seen: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Vec<Instant>>> {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// True when `key` has used up its failures at `now`.
    pub fn blocked(&self, key: &K, now: Instant) -> bool {
        let mut seen = self.lock();
        match seen.get_mut(key) {
            Some(times) => {
                times.retain(|t| now.saturating_duration_since(*t) < self.window);
                times.len() >= self.limit
            }
            None => false,
        }
    }

    /// Seconds until `key` may try again (0 when it may now).
    pub fn retry_after(&self, key: &K, now: Instant) -> u64 {
        let seen = self.lock();
        let Some(times) = seen.get(key) else { return 0 };
        let live: Vec<&Instant> = times.iter().filter(|t| now.saturating_duration_since(**t) < self.window).collect();
        if live.len() < self.limit {
            return 0;
        }
        // The oldest failures must age out until one place is free.
        let freeing = live[live.len() - self.limit];
        let wait = self.window.saturating_sub(now.saturating_duration_since(*freeing));
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    }

    /// Counts an attempt of `key` as a failure now, unless `key` has used up its
    /// failures (`None`: the attempt may not be made).
    pub fn reserve(&self, key: K, now: Instant) -> Option<Reservation<K>> {
        let mut seen = self.lock();
        if seen.len() >= MAX_KEYS && !seen.contains_key(&key) {
            let window = self.window;
            seen.retain(|_, times| times.last().is_some_and(|t| now.saturating_duration_since(*t) < window));
            if seen.len() >= MAX_KEYS {
                seen.clear();
            }
        }
        let times = seen.entry(key.clone()).or_default();
        times.retain(|t| now.saturating_duration_since(*t) < self.window);
        if times.len() >= self.limit {
            return None;
        }
        times.push(now);
        Some(Reservation { key, at: now })
    }

    /// Gives a successful attempt back: it was not a failure.
    pub fn release(&self, reservation: Reservation<K>) {
        let mut seen = self.lock();
        if let Some(times) = seen.get_mut(&reservation.key) {
            if let Some(i) = times.iter().position(|t| *t == reservation.at) {
                times.remove(i);
            }
            if times.is_empty() {
                seen.remove(&reservation.key);
            }
        }
    }

    /// Forgets every failure of `key` (an operator unlocked it).
    pub fn forget(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Forgets every key for which `f` holds.
    pub fn forget_where(&self, f: impl Fn(&K) -> bool) {
        self.lock().retain(|k, _| !f(k));
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
            let _kept = failures.reserve("a", start).unwrap();
        }
        assert!(failures.blocked(&"a", start) && !failures.blocked(&"b", start));
        assert!(failures.retry_after(&"a", start) > 0);
        assert!(!failures.blocked(&"a", start + WINDOW));
        assert_eq!(failures.retry_after(&"a", start + WINDOW), 0);
    }

    #[test]
    fn reservations_are_taken_before_the_check_and_given_back_on_success() {
        let failures = Failures::new(5);
        let now = Instant::now();
        let taken: Vec<_> = (0..30).filter_map(|_| failures.reserve("a", now)).collect();
        assert_eq!(taken.len(), 5, "thirty at once: only five may be checked");
        for r in taken {
            failures.release(r);
        }
        assert!(!failures.blocked(&"a", now), "successes cost nothing");
        let r = failures.reserve("a", now).unwrap();
        failures.forget(&"a");
        failures.release(r);
        assert!(!failures.blocked(&"a", now));
    }
}
