//! Rate limiting (docs/CONTRACT.md §2): a GCRA limiter per client with that client's quota,
//! and one keyed by IP address for public calls and failed token checks. Each client
//! has its own limiter, so one client's excess never delays another; idle IP keys are
//! pruned so memory stays bounded.

use std::{collections::HashMap, net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::{InMemoryState, NotKeyed, keyed::DefaultKeyedStateStore},
};

use crate::auth::clients::Clients;
use crate::config::file::RateSection;

type DirectLimiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;
type KeyedLimiter = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// The outcome of a check, with what the `RateLimit` headers report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Which policy applied (`client` or `ip`).
    pub policy: &'static str,
    /// Requests per window.
    pub quota: u32,
    /// Requests left in the current burst.
    pub remaining: u32,
    /// Seconds until the request would be allowed (0 when allowed).
    pub retry_after: u64,
}

impl Decision {
    /// True when the request may go on.
    pub fn allowed(&self) -> bool {
        self.retry_after == 0
    }

    /// `RateLimit-Policy` and `RateLimit` header values.
    pub fn headers(&self) -> [(&'static str, String); 2] {
        let reset = if self.remaining < self.quota { 1 } else { 0 };
        [
            ("ratelimit-policy", format!("\"{}\";q={};w=1", self.policy, self.quota)),
            ("ratelimit", format!("\"{}\";r={};t={}", self.policy, self.remaining, self.retry_after.max(reset))),
        ]
    }
}

fn quota(rate: RateSection) -> Quota {
    let per_second = NonZeroU32::new(rate.per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_second).allow_burst(burst)
}

/// All limiters of the gateway.
pub struct Limiters {
    clients: HashMap<String, (Arc<DirectLimiter>, u32)>,
    ip: KeyedLimiter,
    ip_quota: u32,
}

impl Limiters {
    /// One limiter per configured client, and the per-IP limiter.
    pub fn new(clients: &Clients, public_rate: RateSection) -> Limiters {
        let clients = clients
            .iter()
            .map(|c| {
                let limiter = RateLimiter::direct(quota(c.rate)).with_middleware::<StateInformationMiddleware>();
                (c.id.clone(), (Arc::new(limiter), c.rate.per_second))
            })
            .collect();
        Limiters {
            clients,
            ip: RateLimiter::keyed(quota(public_rate)).with_middleware::<StateInformationMiddleware>(),
            ip_quota: public_rate.per_second,
        }
    }

    fn decide<P: governor::clock::Reference>(
        policy: &'static str,
        quota: u32,
        outcome: Result<governor::middleware::StateSnapshot, governor::NotUntil<P>>,
        now: P,
    ) -> Decision {
        match outcome {
            Ok(snapshot) => Decision { policy, quota, remaining: snapshot.remaining_burst_capacity(), retry_after: 0 },
            Err(not_until) => {
                let wait: Duration = not_until.wait_time_from(now);
                Decision {
                    policy,
                    quota,
                    remaining: 0,
                    retry_after: (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1),
                }
            }
        }
    }

    /// Checks one request of `client_id`; an unknown client is allowed (it cannot
    /// have passed authentication).
    pub fn check_client(&self, client_id: &str) -> Option<Decision> {
        let (limiter, quota) = self.clients.get(client_id)?;
        let now = limiter.clock().now();
        Some(Self::decide("client", *quota, limiter.check(), now))
    }

    /// Checks one public request, or one failed token check, from `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Decision {
        let now = self.ip.clock().now();
        Self::decide("ip", self.ip_quota, self.ip.check_key(&ip), now)
    }

    /// Forgets IP keys whose limit has fully replenished.
    pub fn prune(&self) {
        self.ip.retain_recent();
        self.ip.shrink_to_fit();
    }

    /// Number of IP keys held.
    pub fn ip_keys(&self) -> usize {
        self.ip.len()
    }
}

/// Wrong answers to the public lookup, counted per dossier code (whether or not the
/// code exists, so the count tells nothing): once a code has had `max` wrong answers
/// within the window, every answer for it is "not found", right digits or not. Two
/// generations of counts bound both the window and the memory.
pub struct WrongAnswers {
    generations: std::sync::Mutex<Generations>,
    max: u32,
    window: Duration,
    capacity: usize,
}

struct Generations {
    current: HashMap<String, u32>,
    previous: HashMap<String, u32>,
    started: std::time::Instant,
}

impl WrongAnswers {
    /// At most `max` wrong answers per code in a window of `window` (counts live
    /// between half a window and a window), remembering at most `capacity` codes.
    pub fn new(max: u32, window: Duration, capacity: usize) -> WrongAnswers {
        let generations =
            Generations { current: HashMap::new(), previous: HashMap::new(), started: std::time::Instant::now() };
        WrongAnswers { generations: std::sync::Mutex::new(generations), max, window, capacity: capacity.max(2) }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Generations) -> R) -> R {
        let mut g = self.generations.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let age = g.started.elapsed();
        if age >= self.window {
            g.previous.clear();
            g.current.clear();
            g.started = std::time::Instant::now();
        } else if age >= self.window / 2 || g.current.len() >= self.capacity / 2 {
            g.previous = std::mem::take(&mut g.current);
            g.started = std::time::Instant::now();
        }
        f(&mut g)
    }

    /// True when `code` may not be answered any more in this window.
    pub fn exhausted(&self, code: &str) -> bool {
        self.with(|g| {
            let count =
                g.current.get(code).copied().unwrap_or(0).saturating_add(g.previous.get(code).copied().unwrap_or(0));
            count >= self.max
        })
    }

    /// Counts one wrong answer for `code`.
    pub fn record(&self, code: &str) {
        self.with(|g| {
            let count = g.current.entry(code.to_owned()).or_insert(0);
            *count = count.saturating_add(1);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_answers_lock_a_code_for_the_window() {
        let w = WrongAnswers::new(3, Duration::from_millis(200), 1000);
        for _ in 0..3 {
            assert!(!w.exhausted("A"));
            w.record("A");
        }
        assert!(w.exhausted("A"));
        assert!(!w.exhausted("B"), "another code is unaffected");
        std::thread::sleep(Duration::from_millis(220));
        assert!(!w.exhausted("A"), "the window passed");
    }

    fn limiters(per_second: u32, burst: u32) -> Limiters {
        let mut l = Limiters::new(&Clients::default(), RateSection { per_second, burst });
        for id in ["a", "b"] {
            let limiter = RateLimiter::direct(quota(RateSection { per_second, burst }))
                .with_middleware::<StateInformationMiddleware>();
            l.clients.insert(id.into(), (Arc::new(limiter), per_second));
        }
        l
    }

    #[test]
    fn a_client_over_its_burst_is_refused_and_another_is_not() {
        let l = limiters(1, 3);
        for remaining in [2, 1, 0] {
            let d = l.check_client("a").unwrap();
            assert!(d.allowed());
            assert_eq!(d.remaining, remaining);
        }
        let refused = l.check_client("a").unwrap();
        assert!(!refused.allowed());
        assert_eq!(refused.retry_after, 1);
        assert_eq!(refused.headers()[0].1, "\"client\";q=1;w=1");
        assert_eq!(refused.headers()[1].1, "\"client\";r=0;t=1");
        assert!(l.check_client("b").unwrap().allowed(), "another client is unaffected");
    }

    #[test]
    fn ip_keys_are_limited_separately_and_pruned() {
        let l = limiters(1000, 1);
        let (x, y): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(l.check_ip(x).allowed());
        assert!(!l.check_ip(x).allowed());
        assert!(l.check_ip(y).allowed());
        assert_eq!(l.ip_keys(), 2);
        std::thread::sleep(Duration::from_millis(5));
        l.prune();
        assert_eq!(l.ip_keys(), 0);
    }
}
